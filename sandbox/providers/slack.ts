import { createHash } from 'node:crypto';
import { bearerToken, byToken, type EmulatorAuth, type EmulatorRequest, type EmulatorRoute, type ProviderEmulator, type RouteContext } from '../emulator';
import type { MessageRecord, SandboxState, WorkspaceRuntime } from '../state';
import type { SandboxUser } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { dmChannelId } from './unified';

/**
 * Slack Web API (bot token as bearer, or a `token` POST parameter); every method as GET with
 * query arguments or POST with a form or JSON body. Slack reports almost every error as HTTP 200
 * `{ "ok": false, "error": "<code>" }`; only its rate limit (429 + `Retry-After`, no window
 * headers) and its outages use the status line. IDs look like Slack's and are derived from the
 * seed (users from their email, the team from the workspace), never from CRM IDs.
 *
 * Posted messages keep their message metadata and can be read back: `conversations.open` names a
 * user's DM (the channel a post to their user ID lands in) and `conversations.history` lists a
 * channel's messages newest first, with metadata only when `include_all_metadata` is set.
 */
const MAX_TEXT = 40_000;
const MAX_BLOCKS = 50;
/** conversations.history's page size when none is asked for, and the most it returns. */
const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 999;
/** A channel ID reserved for the archived-channel case. */
export const ARCHIVED_CHANNEL_ID = 'C_ARCHIVED';
/** What a public (C) or private (G) channel ID looks like: any such ID is taken as an existing channel. */
const CHANNEL_ID = /^[CG][A-Z0-9]+$/;

const CODES: Record<ErrorCode, string> = {
  VALIDATION: 'invalid_arguments',
  UNAUTHORIZED: 'invalid_auth',
  NOT_FOUND: 'unknown_method',
  RATE_LIMITED: 'ratelimited',
  INTERNAL: 'internal_error',
};

/**
 * An `ok:false` answer: HTTP 200 unless it is a limit or an outage. A detail beyond the code
 * (block validation) goes where Slack puts it, `response_metadata.messages`.
 */
function slackErrorReply(err: HttpError): Reply {
  const error = err.providerCode ?? CODES[err.code];
  const detail = err.providerCode !== undefined && err.message !== err.providerCode ? { response_metadata: { messages: [err.message] } } : {};
  return { status: err.status === 429 || err.status >= 500 ? err.status : 200, body: { ok: false, error, ...detail } };
}

function slackError(code: string, status = 400, detail: string = code): HttpError {
  return new HttpError(status, status === 401 ? 'UNAUTHORIZED' : 'VALIDATION', detail, undefined, code);
}

/** The token as a bearer header or, as Slack also takes it, a `token` POST parameter. */
function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const posted = req.method === 'POST' && typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>)['token'] : undefined;
  const token = bearerToken(req.headers) ?? (typeof posted === 'string' && posted !== '' ? posted : null);
  if (token === null) return { workspace: null, claimed: null, error: slackError('not_authed', 401) };
  return byToken(state, token, () => slackError('invalid_auth', 401));
}

/** A Slack-looking ID: prefix plus 10 upper-case hex characters of a digest of `seed`. */
function slackId(prefix: string, seed: string): string {
  return `${prefix}${createHash('sha1').update(seed).digest('hex').slice(0, 10).toUpperCase()}`;
}

export function slackUserId(email: string): string {
  return slackId('U', `user:${email.toLowerCase()}`);
}

function teamId(ws: WorkspaceRuntime): string {
  return slackId('T', `team:${ws.seed.id}`);
}

/** The app's bot user and bot ID in a workspace: the author of every message the bot posts. */
function botOf(ws: WorkspaceRuntime): { user: string; bot_id: string } {
  return { user: slackId('U', `bot-user:${ws.seed.id}`), bot_id: slackId('B', `bot:${ws.seed.id}`) };
}

/**
 * A method's arguments, wherever Slack takes them: the query string (GET), a form body or a JSON
 * body (POST); the body wins. A form body carries everything as strings, objects (blocks,
 * metadata) as JSON text: that is how Slack documents it and how its own client posts.
 */
function argsOf({ query, body }: Pick<RouteContext, 'query' | 'body'>): Record<string, unknown> {
  const fromBody = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...query, ...fromBody };
}

/** A scalar argument as the string a query or form would carry; undefined when absent or not a scalar. */
function textArg(args: Record<string, unknown>, name: string): string | undefined {
  const v = args[name];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** An object argument: as sent in a JSON body, or as JSON text in a form or query; `code` when the text is not JSON. */
function jsonArg(raw: unknown, code: string): unknown {
  if (typeof raw !== 'string') return raw;
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw slackError(code);
  }
}

// -------------------------------------------------------------------------------------- users

function userWire(ws: WorkspaceRuntime, u: SandboxUser): unknown {
  const tz = ws.seed.employees.find((e) => e.email.toLowerCase() === u.email.toLowerCase())?.timezone;
  const [first = '', ...rest] = u.name.split(' ');
  return {
    id: slackUserId(u.email),
    team_id: teamId(ws),
    name: u.email.split('@')[0],
    deleted: false,
    real_name: u.name,
    ...(tz === undefined ? {} : { tz }),
    is_bot: false,
    profile: { email: u.email, real_name: u.name, display_name: u.name, first_name: first, last_name: rest.join(' ') },
  };
}

function lookupByEmail({ ws, query, body }: RouteContext): Reply {
  const email = textArg(argsOf({ query, body }), 'email')?.trim().toLowerCase();
  if (!email) throw slackError('invalid_arguments');
  const user = ws.seed.users.find((u) => u.email.toLowerCase() === email);
  if (!user) throw slackError('users_not_found', 404);
  return { status: 200, body: { ok: true, user: userWire(ws, user) } };
}

// ----------------------------------------------------------------------------------- messages

/** Where a post lands: a user ID or their DM opens the DM; C/G IDs are taken as existing channels. */
function resolveChannel(ws: WorkspaceRuntime, channel: unknown): { channelId: string; recipientEmail: string | null } {
  if (channel === ARCHIVED_CHANNEL_ID) throw slackError('is_archived');
  if (typeof channel === 'string' && CHANNEL_ID.test(channel)) return { channelId: channel, recipientEmail: null };
  const user = typeof channel === 'string' ? (userById(ws, channel) ?? dmOwner(ws, channel)) : undefined;
  if (!user) throw slackError('channel_not_found', 404);
  return { channelId: dmChannelId(user.email), recipientEmail: user.email.toLowerCase() };
}

type Metadata = NonNullable<MessageRecord['metadata']>;

/** Message metadata: `{ event_type, event_payload }` as an object, or as a JSON string (form bodies). */
function checkMetadata(raw: unknown): Metadata | null {
  const value = jsonArg(raw, 'invalid_metadata_format');
  if (value === undefined || value === null) return null;
  const m = value as { event_type?: unknown; event_payload?: unknown } | null;
  const payload = m?.event_payload;
  if (typeof m !== 'object' || m === null || typeof m.event_type !== 'string' || m.event_type === '' || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw slackError('invalid_metadata_format');
  }
  return { event_type: m.event_type, event_payload: payload as Record<string, unknown> };
}

/** Blocks (an array, or its JSON text) must be at most 50 objects with a `type`. */
function checkBlocks(raw: unknown): unknown[] | null {
  const blocks = jsonArg(raw, 'invalid_blocks_format');
  if (blocks === undefined || blocks === null) return null;
  if (!Array.isArray(blocks) || blocks.some((b) => typeof b !== 'object' || b === null || typeof (b as { type?: unknown }).type !== 'string')) {
    throw slackError('invalid_blocks', 400, '[ERROR] must provide an array of blocks, each with a type [json-pointer:/blocks]');
  }
  if (blocks.length > MAX_BLOCKS) {
    throw slackError('invalid_blocks', 400, `[ERROR] no more than ${MAX_BLOCKS} items allowed [json-pointer:/blocks]`);
  }
  return blocks;
}

function postMessage({ ws, query, body, now }: RouteContext): Reply {
  const input = argsOf({ query, body });
  const blocks = checkBlocks(input['blocks']);
  const text = textArg(input, 'text') ?? '';
  if (text === '' && blocks === null) throw slackError('no_text');
  if (text.length > MAX_TEXT) throw slackError('msg_too_long');
  const metadata = checkMetadata(input['metadata']);
  const { channelId, recipientEmail } = resolveChannel(ws, input['channel']);

  // Slack's ts: epoch seconds and a per-workspace sequence, unique within the channel.
  const ts = `${Math.floor(now / 1000)}.${String(ws.nextMessageNo++ % 1_000_000).padStart(6, '0')}`;
  const message: MessageRecord = {
    id: ts,
    channel_id: channelId,
    recipient_email: recipientEmail,
    text,
    blocks,
    created_at: new Date(now).toISOString(),
    provider: 'slack',
    metadata,
  };
  ws.messages.push(message);
  const bot = botOf(ws);
  return {
    status: 200,
    body: {
      ok: true,
      channel: channelId,
      ts,
      message: { type: 'message', text, ...bot, ts, team: teamId(ws), ...(blocks === null ? {} : { blocks }) },
    },
  };
}

// ------------------------------------------------------------------------------ conversations

function userById(ws: WorkspaceRuntime, userId: string): SandboxUser | undefined {
  return ws.seed.users.find((u) => slackUserId(u.email) === userId);
}

/** The workspace member whose DM with the bot a D channel ID is. */
function dmOwner(ws: WorkspaceRuntime, channel: string): SandboxUser | undefined {
  return ws.seed.users.find((u) => dmChannelId(u.email) === channel);
}

/**
 * `users` (comma-separated user IDs) names the conversation: one user is their DM with the bot
 * (the same D channel a post to their user ID lands in), several a group DM. `channel` instead
 * reopens a DM by its ID.
 */
function conversationsOpen({ ws, body, query }: RouteContext): Reply {
  const input = argsOf({ query, body });
  const arg = (name: string): string => textArg(input, name)?.trim() ?? '';
  const channel = arg('channel');
  if (channel !== '') {
    if (!dmOwner(ws, channel)) throw slackError('channel_not_found');
    return { status: 200, body: { ok: true, channel: { id: channel } } };
  }
  const ids = arg('users')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) throw slackError('users_list_not_supplied');
  const users = ids.map((id) => userById(ws, id));
  if (users.some((u) => u === undefined)) throw slackError('user_not_found');
  const [only] = users;
  const id = users.length === 1 && only ? dmChannelId(only.email) : slackId('G', `mpim:${[...ids].sort().join(',')}`);
  return { status: 200, body: { ok: true, channel: { id } } };
}

/** A Slack ts (`<epoch seconds>.<6 digits>`) as microseconds, so ts compare exactly; null if malformed. */
function tsMicros(ts: string): bigint | null {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(ts);
  if (!m?.[1]) return null;
  return BigInt(m[1]) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'));
}

function tsParam(args: Record<string, unknown>, name: 'oldest' | 'latest'): bigint | null {
  const raw = textArg(args, name);
  if (raw === undefined || raw === '') return null;
  const micros = tsMicros(raw);
  if (micros === null) throw slackError(`invalid_ts_${name}`);
  return micros;
}

const truthy = (v: string | undefined) => v === 'true' || v === '1';

/** Opaque like Slack's: base64 of `next_ts:<ts>`, the newest message the next page starts with. */
function historyCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString('base64');
}

function cursorTs(raw: string | undefined): bigint | null {
  if (raw === undefined || raw === '') return null;
  const m = /^next_ts:(.+)$/.exec(Buffer.from(raw, 'base64').toString('utf8'));
  const micros = m?.[1] ? tsMicros(m[1]) : null;
  if (micros === null) throw slackError('invalid_cursor');
  return micros;
}

/** Channels history can read: any C/G ID (as chat.postMessage takes them) or a workspace member's DM. */
function knownChannel(ws: WorkspaceRuntime, channel: string | undefined): string {
  if (channel && (CHANNEL_ID.test(channel) || dmOwner(ws, channel))) return channel;
  throw slackError('channel_not_found');
}

/**
 * Messages the bot posted to a channel, newest first. `oldest`/`latest` bound them by ts
 * (exclusive unless `inclusive`); `limit` (default 100, at most 999) pages them with `has_more`
 * and `response_metadata.next_cursor` (empty on the last page). Metadata only with `include_all_metadata`.
 */
function conversationsHistory({ ws, query, body }: RouteContext): Reply {
  const args = argsOf({ query, body });
  const channel = knownChannel(ws, textArg(args, 'channel'));
  const oldest = tsParam(args, 'oldest');
  const latest = tsParam(args, 'latest');
  const inclusive = truthy(textArg(args, 'inclusive'));
  const requested = Number.parseInt(textArg(args, 'limit') ?? '', 10);
  const limit = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_HISTORY_LIMIT) : DEFAULT_HISTORY_LIMIT;
  const before = cursorTs(textArg(args, 'cursor'));
  const withMetadata = truthy(textArg(args, 'include_all_metadata'));

  const inRange = ws.messages
    .filter((m) => m.provider === 'slack' && m.channel_id === channel)
    .map((m) => ({ m, at: tsMicros(m.id) ?? 0n }))
    .filter(({ at }) => {
      if (oldest !== null && (inclusive ? at < oldest : at <= oldest)) return false;
      if (latest !== null && (inclusive ? at > latest : at >= latest)) return false;
      return before === null || at <= before;
    })
    .sort((a, b) => (a.at === b.at ? 0 : a.at > b.at ? -1 : 1));
  const page = inRange.slice(0, limit);
  const next = inRange[limit];
  const bot = botOf(ws);
  const messages = page.map(({ m }) => ({
    type: 'message',
    text: m.text,
    ...bot,
    ts: m.id,
    team: teamId(ws),
    ...(m.blocks === null ? {} : { blocks: m.blocks }),
    ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
  }));
  return {
    status: 200,
    body: { ok: true, messages, has_more: next !== undefined, pin_count: 0, response_metadata: { next_cursor: next ? historyCursor(next.m.id) : '' } },
  };
}

function methods(pattern: string, handle: EmulatorRoute['handle']): EmulatorRoute[] {
  return [
    { method: 'GET', pattern, handle },
    { method: 'POST', pattern, handle },
  ];
}

export const SLACK_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'slack',
    system: 'messaging',
    // Method-level prefixes: `/api` itself is shared with other providers' paths (Pipedrive, BambooHR).
    prefixes: ['/api/chat.postMessage', '/api/users.lookupByEmail', '/api/conversations.open', '/api/conversations.history'],
    authenticate,
    // Slack takes every method as a GET with query arguments or a POST with a form or JSON body.
    routes: [
      ...methods('/api/chat.postMessage', postMessage),
      ...methods('/api/users.lookupByEmail', lookupByEmail),
      ...methods('/api/conversations.open', conversationsOpen),
      ...methods('/api/conversations.history', conversationsHistory),
    ],
    // Slack sends no window headers, only Retry-After on a 429.
    rateHeaders: () => ({}),
    rateLimited: (rate) => ({ ...slackErrorReply(slackError('ratelimited', 429)), headers: { 'Retry-After': String(rate.resetSeconds) } }),
    errorReply: slackErrorReply,
  },
];
