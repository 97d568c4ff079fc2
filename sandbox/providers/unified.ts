import { createHash } from 'node:crypto';
import { bearerToken, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import { createLeadBody, createMessageBody, parseBody, updateLeadBody } from '../schemas';
import type { LeadRecord, MessageRecord, SandboxState, WorkspaceRuntime } from '../state';
import type { SandboxAccount, SandboxEmployee } from '../types';
import { HttpError, isoParam, listParam, paginate, type Reply } from '../wire';

/**
 * The unified-API style: one pass-through API in front of many CRMs, HRIS, calendars and
 * messaging tools. `integrated_account_id` names the workspace on every call and its token must
 * match; `{ result, next_cursor }` envelopes; IETF `ratelimit-*` headers; `Idempotency-Key` on writes.
 */
function unifiedErrorReply(err: HttpError): Reply {
  return { status: err.status, body: { status: err.status, error_code: err.code, message: err.message } };
}

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const token = bearerToken(req.headers);
  const id = req.query['integrated_account_id'] || null;
  const fail = (error: HttpError): EmulatorAuth => ({ workspace: null, claimed: id, error });
  if (token === null) return fail(unauthorized());
  if (id === null) return fail(new HttpError(400, 'VALIDATION', 'integrated_account_id: required'));
  const ws = state.workspaceById(id);
  if (!ws) return fail(new HttpError(404, 'NOT_FOUND', `no integrated account has the id ${id}`));
  if (ws.seed.token !== token) return fail(unauthorized());
  return { workspace: ws, claimed: id, error: null };
}

export function unauthorized(): HttpError {
  return new HttpError(401, 'UNAUTHORIZED', 'missing or invalid bearer token');
}

/** IETF draft `ratelimit-*` headers, reset in delay-seconds. */
export function ietfRateHeaders(rate: { limit: number; remaining: number; resetSeconds: number }): Record<string, string> {
  return {
    'ratelimit-limit': String(rate.limit),
    'ratelimit-remaining': String(rate.remaining),
    'ratelimit-reset': String(rate.resetSeconds),
  };
}

function unifiedEmulator(system: 'crm' | 'hris' | 'calendar' | 'messaging', prefix: string, routes: ProviderEmulator['routes']): ProviderEmulator {
  return {
    provider: 'unified',
    system,
    prefixes: [prefix],
    authenticate,
    routes,
    rateHeaders: ietfRateHeaders,
    rateLimited: (rate) => ({ ...unifiedErrorReply(new HttpError(429, 'RATE_LIMITED', 'Rate limit exceeded')), headers: { 'Retry-After': String(rate.resetSeconds) } }),
    errorReply: unifiedErrorReply,
  };
}

export const UNIFIED_EMULATORS: ProviderEmulator[] = [
  unifiedEmulator('crm', '/unified/crm', [
    { method: 'GET', pattern: '/unified/crm/accounts', handle: listAccounts },
    { method: 'GET', pattern: '/unified/crm/users', handle: listUsers },
    { method: 'POST', pattern: '/unified/crm/leads', idempotent: true, handle: createLead },
    { method: 'PATCH', pattern: '/unified/crm/leads/:id', idempotent: true, handle: updateLead },
  ]),
  unifiedEmulator('hris', '/unified/hris', [{ method: 'GET', pattern: '/unified/hris/employees', handle: listEmployees }]),
  unifiedEmulator('calendar', '/unified/calendar', [{ method: 'GET', pattern: '/unified/calendar/availability', handle: availability }]),
  unifiedEmulator('messaging', '/unified/instant-messaging', [{ method: 'POST', pattern: '/unified/instant-messaging/messages', idempotent: true, handle: postMessage }]),
];

// ---------------------------------------------------------------------------------------------- CRM

/** The bare host of a website ("https://www.Acme.com/about" → "acme.com"); `null` if unparsable. */
export function websiteHost(website: string): string | null {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(website) ? website : `https://${website}`;
  try {
    return new URL(withScheme).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return null;
  }
}

function accountMatchesDomain(account: SandboxAccount, domain: string): boolean {
  if (account.domains.some((d) => d.toLowerCase() === domain)) return true;
  return account.website !== undefined && websiteHost(account.website) === domain;
}

function accountWire(a: SandboxAccount): unknown {
  return {
    id: a.id,
    name: a.name,
    domains: a.domains,
    website: a.website ?? null,
    owner_id: a.ownerId,
    industry: a.industry ?? null,
    country: a.country ?? null,
    // Salesforce-shaped raw record: clients that reach into remote_data must cope with its casing.
    remote_data: { Id: a.id, Name: a.name, Website: a.website ?? null, OwnerId: a.ownerId },
  };
}

function listAccounts({ ws, query }: RouteContext): Reply {
  const domain = query['domain']?.trim().toLowerCase();
  const accounts = domain ? ws.seed.accounts.filter((a) => accountMatchesDomain(a, domain)) : ws.seed.accounts;
  const page = paginate(accounts, query);
  return { status: 200, body: { result: page.result.map(accountWire), next_cursor: page.next_cursor } };
}

function listUsers({ ws }: RouteContext): Reply {
  const result = ws.seed.users.map((u) => ({ id: u.id, email: u.email, name: u.name }));
  return { status: 200, body: { result, next_cursor: null } };
}

function requireKnownOwner(ws: WorkspaceRuntime, ownerId: string): void {
  if (!ws.seed.users.some((u) => u.id === ownerId)) {
    throw new HttpError(400, 'VALIDATION', `owner_id: no CRM user has the id ${ownerId}`);
  }
}

function createLead({ ws, body, now }: RouteContext): Reply {
  const input = parseBody(createLeadBody, body);
  requireKnownOwner(ws, input.owner_id);
  const at = new Date(now).toISOString();
  const lead: LeadRecord = {
    id: `lead_${ws.nextLeadNo++}`,
    email: input.email,
    first_name: input.first_name ?? null,
    last_name: input.last_name ?? null,
    company: input.company ?? null,
    title: input.title ?? null,
    phone: input.phone ?? null,
    source: input.source ?? null,
    owner_id: input.owner_id,
    created_at: at,
    updated_at: at,
  };
  ws.leads.set(lead.id, lead);
  return { status: 201, body: { result: { ...lead } } };
}

function updateLead({ ws, body, params, now }: RouteContext): Reply {
  const input = parseBody(updateLeadBody, body);
  const id = params['id'] ?? '';
  const lead = ws.leads.get(id);
  if (!lead) throw new HttpError(404, 'NOT_FOUND', `no lead has the id ${id}`);
  requireKnownOwner(ws, input.owner_id);
  lead.owner_id = input.owner_id;
  lead.updated_at = new Date(now).toISOString();
  return { status: 200, body: { result: { ...lead } } };
}

// --------------------------------------------------------------------------------------------- HRIS

function employeeWire(e: SandboxEmployee): unknown {
  return {
    id: e.id,
    name: e.name,
    emails: [{ email: e.email, type: 'WORK' }],
    employment_status: e.status,
    timezone: e.timezone,
    ...(e.managerId !== undefined ? { manager_id: e.managerId } : {}),
    time_off: e.timeOff.map((t) => ({ start_at: t.start, end_at: t.end, type: t.type, status: 'APPROVED' })),
  };
}

function listEmployees({ ws, query }: RouteContext): Reply {
  const emails = listParam(query['emails'])?.map((e) => e.toLowerCase());
  const employees = emails
    ? ws.seed.employees.filter((e) => emails.includes(e.email.toLowerCase()))
    : ws.seed.employees;
  const page = paginate(employees, query);
  return { status: 200, body: { result: page.result.map(employeeWire), next_cursor: page.next_cursor } };
}

// ----------------------------------------------------------------------------------------- Calendar

function availability({ ws, query }: RouteContext): Reply {
  const emails = listParam(query['emails']);
  if (!emails || emails.length === 0) throw new HttpError(400, 'VALIDATION', 'emails: required, comma-separated');
  const start = isoParam(query, 'start');
  const end = isoParam(query, 'end');
  if (end <= start) throw new HttpError(400, 'VALIDATION', 'end: must be after start');
  const result = emails.map((email) => ({ email, busy: busyBetween(ws, email, start, end) }));
  return { status: 200, body: { result, next_cursor: null } };
}

interface BusyWire {
  start: string;
  end: string;
}

/** Busy blocks of `email` overlapping [start, end), in start order. */
export function busyBetween(ws: WorkspaceRuntime, email: string, start: number, end: number): BusyWire[] {
  const wanted = email.toLowerCase();
  return ws.seed.busy
    .filter((b) => b.email.toLowerCase() === wanted && Date.parse(b.start) < end && Date.parse(b.end) > start)
    .map((b) => ({ start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString() }))
    .sort((a, b) => a.start.localeCompare(b.start));
}

// ---------------------------------------------------------------------------------------- Messaging

/** A stable Slack-looking DM channel id per recipient, so repeat DMs land in the same "channel". */
export function dmChannelId(email: string): string {
  return `D${createHash('sha1').update(email.toLowerCase()).digest('hex').slice(0, 10).toUpperCase()}`;
}

function postMessage({ ws, body, now }: RouteContext): Reply {
  const input = parseBody(createMessageBody, body);
  const recipient = input.recipient_email ?? null;
  const message: MessageRecord = {
    id: `msg_${ws.nextMessageNo++}`,
    channel_id: input.channel_id ?? dmChannelId(recipient ?? ''),
    recipient_email: recipient,
    text: input.text,
    blocks: input.blocks ?? null,
    created_at: new Date(now).toISOString(),
  };
  ws.messages.push(message);
  const { id, channel_id, recipient_email, text, created_at } = message;
  return { status: 201, body: { result: { id, channel_id, recipient_email, text, created_at } } };
}

