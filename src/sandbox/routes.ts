import { createHash } from 'node:crypto';
import { createLeadBody, createMessageBody, parseBody, updateLeadBody } from './schemas';
import type { LeadRecord, MessageRecord, WorkspaceRuntime } from './state';
import type { SandboxAccount, SandboxCompany, SandboxEmployee, SandboxSystem } from './types';
import { HttpError, isoParam, listParam, paginate, type Reply } from './wire';

export interface RouteContext {
  ws: WorkspaceRuntime;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  /** Epoch ms of the request's arrival (the sandbox clock, which tests may fake). */
  now: number;
}

interface Route {
  system: SandboxSystem;
  method: string;
  /** Segments; a `:name` segment captures. */
  pattern: string;
  /** Whether an Idempotency-Key header makes a repeat return the first reply. */
  idempotent: boolean;
  handle(ctx: RouteContext): Reply;
}

/** Which system a path belongs to, by prefix; `null` for paths no emulator owns. */
const SYSTEM_PREFIXES: [string, SandboxSystem][] = [
  ['/unified/crm', 'crm'],
  ['/unified/hris', 'hris'],
  ['/unified/calendar', 'calendar'],
  ['/unified/instant-messaging', 'messaging'],
  ['/v2', 'enrichment'],
];

export function systemOf(path: string): SandboxSystem | null {
  const hit = SYSTEM_PREFIXES.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
  return hit ? hit[1] : null;
}

const ROUTES: Route[] = [
  { system: 'crm', method: 'GET', pattern: '/unified/crm/accounts', idempotent: false, handle: listAccounts },
  { system: 'crm', method: 'GET', pattern: '/unified/crm/users', idempotent: false, handle: listUsers },
  { system: 'crm', method: 'POST', pattern: '/unified/crm/leads', idempotent: true, handle: createLead },
  { system: 'crm', method: 'PATCH', pattern: '/unified/crm/leads/:id', idempotent: true, handle: updateLead },
  { system: 'hris', method: 'GET', pattern: '/unified/hris/employees', idempotent: false, handle: listEmployees },
  {
    system: 'calendar',
    method: 'GET',
    pattern: '/unified/calendar/availability',
    idempotent: false,
    handle: availability,
  },
  {
    system: 'messaging',
    method: 'POST',
    pattern: '/unified/instant-messaging/messages',
    idempotent: true,
    handle: postMessage,
  },
  { system: 'enrichment', method: 'GET', pattern: '/v2/companies/find', idempotent: false, handle: findCompany },
];

export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | null {
  const segments = path.split('/');
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const params = matchPattern(route.pattern.split('/'), segments);
    if (params) return { route, params };
  }
  return null;
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i] ?? '';
    if (part.startsWith(':')) {
      if (segment === '') return null;
      params[part.slice(1)] = safeDecode(segment);
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

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
function busyBetween(ws: WorkspaceRuntime, email: string, start: number, end: number): BusyWire[] {
  const wanted = email.toLowerCase();
  return ws.seed.busy
    .filter((b) => b.email.toLowerCase() === wanted && Date.parse(b.start) < end && Date.parse(b.end) > start)
    .map((b) => ({ start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString() }))
    .sort((a, b) => a.start.localeCompare(b.start));
}

// ---------------------------------------------------------------------------------------- Messaging

/** A stable Slack-looking DM channel id per recipient, so repeat DMs land in the same "channel". */
function dmChannelId(email: string): string {
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

// --------------------------------------------------------------------------------------- Enrichment

function companyWire(c: SandboxCompany): unknown {
  return {
    name: c.name,
    domain: c.domain,
    category: { sector: c.sector, industry: c.industry },
    geo: { country: c.country, countryCode: c.countryCode, state: c.state ?? null },
    metrics: { employees: c.employees, employeesRange: c.employeesRange, annualRevenue: c.annualRevenue ?? null },
  };
}

function findCompany({ ws, query }: RouteContext): Reply {
  const raw = query['domain']?.trim().toLowerCase();
  if (!raw) throw new HttpError(422, 'VALIDATION', 'domain: required', 'missing_parameter');
  const domain = raw.replace(/^www\./, '');
  const company = ws.seed.companies.find((c) => c.domain.toLowerCase() === domain);
  if (!company) throw new HttpError(404, 'NOT_FOUND', `no company is known for ${domain}`, 'unknown_record');
  return { status: 200, body: companyWire(company) };
}
