import { createHash } from 'node:crypto';
import { bearerToken, byToken, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import type { MessageRecord, SandboxState, WorkspaceRuntime } from '../state';
import type { SandboxUser } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { dmChannelId } from './unified';

/**
 * Slack Web API (bot token as bearer). Slack reports almost every error as HTTP 200
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

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const token = bearerToken(req.headers);
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

/** A JSON body, or a form body (which Slack also takes); empty when there is none. */
function argsOf(body: unknown): Record<string, unknown> {
  return (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
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

function lookupByEmail({ ws, query }: RouteContext): Reply {
  const email = query['email']?.trim().toLowerCase();
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
  if (raw === undefined || raw === null || raw === '') return null;
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw slackError('invalid_metadata_format');
    }
  }
  const m = value as { event_type?: unknown; event_payload?: unknown } | null;
  const payload = m?.event_payload;
  if (typeof m !== 'object' || m === null || typeof m.event_type !== 'string' || m.event_type === '' || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw slackError('invalid_metadata_format');
  }
  return { event_type: m.event_type, event_payload: payload as Record<string, unknown> };
}

/** Blocks must be an array of at most 50 objects with a `type`. */
function checkBlocks(blocks: unknown): unknown[] | null {
  if (blocks === undefined || blocks === null) return null;
  if (!Array.isArray(blocks) || blocks.some((b) => typeof b !== 'object' || b === null || typeof (b as { type?: unknown }).type !== 'string')) {
    throw slackError('invalid_blocks', 400, '[ERROR] must provide an array of blocks, each with a type [json-pointer:/blocks]');
  }
  if (blocks.length > MAX_BLOCKS) {
    throw slackError('invalid_blocks', 400, `[ERROR] no more than ${MAX_BLOCKS} items allowed [json-pointer:/blocks]`);
  }
  return blocks;
}

function postMessage({ ws, body, now }: RouteContext): Reply {
  const input = argsOf(body);
  const blocks = checkBlocks(input['blocks']);
  const text = typeof input['text'] === 'string' ? input['text'] : '';
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
  const input = argsOf(body);
  const arg = (name: string): string => {
    const v = input[name] ?? query[name];
    return typeof v === 'string' ? v.trim() : '';
  };
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

function tsParam(query: Record<string, string>, name: 'oldest' | 'latest'): bigint | null {
  const raw = query[name];
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
function conversationsHistory({ ws, query }: RouteContext): Reply {
  const channel = knownChannel(ws, query['channel']);
  const oldest = tsParam(query, 'oldest');
  const latest = tsParam(query, 'latest');
  const inclusive = truthy(query['inclusive']);
  const requested = Number.parseInt(query['limit'] ?? '', 10);
  const limit = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_HISTORY_LIMIT) : DEFAULT_HISTORY_LIMIT;
  const before = cursorTs(query['cursor']);
  const withMetadata = truthy(query['include_all_metadata']);

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

export const SLACK_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'slack',
    system: 'messaging',
    // Method-level prefixes: `/api` itself is shared with other providers' paths (Pipedrive, BambooHR).
    prefixes: ['/api/chat.postMessage', '/api/users.lookupByEmail', '/api/conversations.open', '/api/conversations.history'],
    authenticate,
    routes: [
      { method: 'POST', pattern: '/api/chat.postMessage', handle: postMessage },
      { method: 'GET', pattern: '/api/users.lookupByEmail', handle: lookupByEmail },
      { method: 'POST', pattern: '/api/conversations.open', handle: conversationsOpen },
      { method: 'GET', pattern: '/api/conversations.history', handle: conversationsHistory },
    ],
    // Slack sends no window headers, only Retry-After on a 429.
    rateHeaders: () => ({}),
    rateLimited: (rate) => ({ ...slackErrorReply(slackError('ratelimited', 429)), headers: { 'Retry-After': String(rate.resetSeconds) } }),
    errorReply: slackErrorReply,
  },
];
