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
 */
const MAX_TEXT = 40_000;
const MAX_BLOCKS = 50;
/** A channel ID reserved for the archived-channel case. */
export const ARCHIVED_CHANNEL_ID = 'C_ARCHIVED';

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
  if (typeof channel === 'string' && /^[CG][A-Z0-9]+$/.test(channel)) return { channelId: channel, recipientEmail: null };
  const user =
    typeof channel === 'string' ? ws.seed.users.find((u) => slackUserId(u.email) === channel || dmChannelId(u.email) === channel) : undefined;
  if (!user) throw slackError('channel_not_found', 404);
  return { channelId: dmChannelId(user.email), recipientEmail: user.email.toLowerCase() };
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
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const blocks = checkBlocks(input['blocks']);
  const text = typeof input['text'] === 'string' ? input['text'] : '';
  if (text === '' && blocks === null) throw slackError('no_text');
  if (text.length > MAX_TEXT) throw slackError('msg_too_long');
  const { channelId, recipientEmail } = resolveChannel(ws, input['channel']);

  // Slack's ts: epoch seconds and a per-workspace sequence, unique within the channel.
  const ts = `${Math.floor(now / 1000)}.${String(ws.nextMessageNo++ % 1_000_000).padStart(6, '0')}`;
  const message: MessageRecord = { id: ts, channel_id: channelId, recipient_email: recipientEmail, text, blocks, created_at: new Date(now).toISOString() };
  ws.messages.push(message);
  const bot = { user: slackId('U', `bot-user:${ws.seed.id}`), bot_id: slackId('B', `bot:${ws.seed.id}`) };
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

export const SLACK_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'slack',
    system: 'messaging',
    // Method-level prefixes: `/api` itself is shared with other providers' paths (Pipedrive, BambooHR).
    prefixes: ['/api/chat.postMessage', '/api/users.lookupByEmail'],
    authenticate,
    routes: [
      { method: 'POST', pattern: '/api/chat.postMessage', handle: postMessage },
      { method: 'GET', pattern: '/api/users.lookupByEmail', handle: lookupByEmail },
    ],
    // Slack sends no window headers, only Retry-After on a 429.
    rateHeaders: () => ({}),
    rateLimited: (rate) => ({ ...slackErrorReply(slackError('ratelimited', 429)), headers: { 'Retry-After': String(rate.resetSeconds) } }),
    errorReply: slackErrorReply,
  },
];
