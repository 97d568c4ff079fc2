import { localTime } from '../../src/domain/calendar';
import { basicCredentials, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import type { SandboxState } from '../state';
import type { SandboxEmployee, SandboxTimeOff } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { dateParam, daysOffBetween, type DaysOff } from './bamboohr';
import { epochRateHeaders } from './okta';

/**
 * HiBob (Bob): Basic auth with the service user ID (the workspace ID) and token (the workspace
 * token); `POST /v1/people/search` with dot-notation field IDs, at most one `root.email`/`root.id`
 * filter and `showInactive`; `GET /v1/timeoff/whosout` in whole local days with portions, work
 * from home and business travel included unless `includeWorkingRequests=false`; `X-RateLimit-*`
 * headers with an epoch reset; `{ error, key }` errors.
 */
const ERROR_KEYS: Record<ErrorCode, string> = {
  VALIDATION: 'bad.request',
  UNAUTHORIZED: 'unauthorized',
  NOT_FOUND: 'not.found',
  RATE_LIMITED: 'too.many.requests',
  INTERNAL: 'internal.error',
};

function hibobErrorReply(err: HttpError): Reply {
  return { status: err.status, body: { error: err.message, key: err.providerCode ?? ERROR_KEYS[err.code] } };
}

function badRequest(message: string): HttpError {
  return new HttpError(400, 'VALIDATION', message);
}

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const credentials = basicCredentials(req.headers);
  const ws = credentials ? state.workspaceById(credentials.user) : undefined;
  if (!credentials || !ws || ws.seed.token !== credentials.password) {
    return { workspace: null, claimed: credentials?.user ?? null, error: new HttpError(401, 'UNAUTHORIZED', 'Invalid service user credentials') };
  }
  return { workspace: ws, claimed: ws.seed.id, error: null };
}

// ------------------------------------------------------------------------------------- people

/** Bob's lifecycle for the seed's status; INACTIVE people are on leave, still employees. */
const LIFECYCLE: Record<SandboxEmployee['status'], string> = { ACTIVE: 'employed', INACTIVE: 'leave', TERMINATED: 'terminated' };

const FIELDS: Record<string, (e: SandboxEmployee) => unknown> = {
  'root.id': (e) => e.id,
  'root.email': (e) => e.email,
  'root.displayName': (e) => e.name,
  'root.fullName': (e) => e.name,
  'root.firstName': (e) => e.name.split(' ')[0] ?? e.name,
  'root.surname': (e) => e.name.split(' ').slice(1).join(' '),
  'internal.lifecycleStatus': (e) => LIFECYCLE[e.status],
  'internal.status': (e) => (e.status === 'TERMINATED' ? 'Inactive' : 'Active'),
  'work.title': () => 'Account Executive',
  'work.reportsTo': (e) => e.managerId ?? null,
};
/** Without `fields`, Bob answers its root, about, employment and work fields. */
const DEFAULT_FIELDS = ['root.id', 'root.email', 'root.displayName', 'root.fullName', 'root.firstName', 'root.surname', 'work.title', 'work.reportsTo'];

/**
 * One employee as Bob answers it: every field twice, nested by category (`root` fields at the
 * top) and under its slash path wrapped in `{ value }`. Unknown field IDs are silently left out.
 */
function personWire(e: SandboxEmployee, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const read = FIELDS[field];
    const [category = '', name = ''] = field.split('.');
    if (!read || !name) continue;
    const value = read(e);
    if (category === 'root') {
      out[name] = value;
    } else {
      const nested = (out[category] ??= {}) as Record<string, unknown>;
      nested[name] = value;
    }
    out[`/${category}/${name}`] = { value };
  }
  return out;
}

interface SearchRequest {
  fields: string[];
  filter: { fieldPath: 'root.email' | 'root.id'; values: string[] } | null;
  showInactive: boolean;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function parseSearch(body: unknown): SearchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Request body must be a JSON object');
  const { fields, filters, showInactive } = body as Record<string, unknown>;
  if (fields !== undefined && !(isStrings(fields) && fields.length <= 400)) throw badRequest('fields must be an array of at most 400 field IDs');
  if (showInactive !== undefined && typeof showInactive !== 'boolean') throw badRequest('showInactive must be a boolean');
  let filter: SearchRequest['filter'] = null;
  if (filters !== undefined) {
    if (!Array.isArray(filters) || filters.length !== 1) throw badRequest('filters must hold exactly one filter');
    const { fieldPath, operator, values } = (filters[0] ?? {}) as Record<string, unknown>;
    if (fieldPath !== 'root.email' && fieldPath !== 'root.id') throw badRequest(`Unsupported filter fieldPath: ${String(fieldPath)}`);
    if (operator !== 'equals') throw badRequest(`Unsupported filter operator: ${String(operator)}`);
    if (!isStrings(values)) throw badRequest('filter values must be an array of strings');
    filter = { fieldPath, values };
  }
  return { fields: fields ?? DEFAULT_FIELDS, filter, showInactive: showInactive ?? false };
}

function matches(e: SandboxEmployee, filter: SearchRequest['filter']): boolean {
  if (!filter) return true;
  if (filter.fieldPath === 'root.id') return filter.values.includes(e.id);
  return filter.values.some((v) => v.toLowerCase() === e.email.toLowerCase());
}

/** Every match in one answer: people search has no paging. Former employees only with showInactive. */
function searchPeople({ ws, body }: RouteContext): Reply {
  const search = parseSearch(body);
  const employees = ws.seed.employees
    .filter((e) => search.showInactive || e.status !== 'TERMINATED')
    .filter((e) => matches(e, search.filter))
    .map((e) => personWire(e, search.fields));
  return { status: 200, body: { employees } };
}

// ------------------------------------------------------------------------------------ who's out

const POLICY_TYPES: Record<SandboxTimeOff['type'], string> = { PTO: 'Vacation', SICK: 'Sick', HOLIDAY: 'Public holiday', OTHER: 'Other' };
type WorkingRequest = NonNullable<SandboxEmployee['workingRequests']>[number];
/** Policies whose activity is work time: Bob lists their requests unless told not to. */
const WORKING_POLICY_TYPES: Record<WorkingRequest['type'], string> = { WORK_FROM_HOME: 'Work from home', BUSINESS_TRAVEL: 'Business travel' };
const NOON = 12 * 60;

/** Leave starting after noon is an afternoon off; leave ending by noon took only the morning. */
function portions(t: { start: string; end: string }, timeZone: string): { startPortion: string; endPortion: string } {
  const start = localTime(Date.parse(t.start), timeZone).minutes;
  const end = localTime(Date.parse(t.end), timeZone).minutes;
  return { startPortion: start >= NOON ? 'afternoon' : 'all_day', endPortion: end > 0 && end <= NOON ? 'morning' : 'all_day' };
}

/** An optional `true`/`false` query parameter. */
function booleanParam(query: Record<string, string>, name: string, fallback: boolean): boolean {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw badRequest(`${name} must be true or false`);
  return raw === 'true';
}

/**
 * Who's out between `from` and `to`. Requests under working-type policies (work from home,
 * business travel: activity workTime) are listed too unless `includeWorkingRequests=false`,
 * as Bob does: the parameter defaults to true.
 */
function whosOut({ ws, query }: RouteContext): Reply {
  const from = dateParam(query, 'from', '', badRequest);
  const to = dateParam(query, 'to', '', badRequest);
  if (!from || !to) throw badRequest('from and to are required (YYYY-MM-DD)');
  if (to < from) throw badRequest(`to (${to}) is before from (${from})`);
  const includeWorking = booleanParam(query, 'includeWorkingRequests', true);
  const out = (d: DaysOff<{ start: string; end: string }>, policy: string) => ({
    employeeId: d.employee.id,
    employeeDisplayName: d.employee.name,
    employeeEmail: d.employee.email,
    policyTypeDisplayName: policy,
    type: 'days',
    startDate: d.start,
    endDate: d.end,
    ...portions(d.timeOff, d.employee.timezone),
  });
  const absences = daysOffBetween(ws.seed.employees, from, to).map((d) => ({ at: d.start, entry: out(d, POLICY_TYPES[d.timeOff.type]) }));
  const working = includeWorking
    ? daysOffBetween(ws.seed.employees, from, to, (e) => e.workingRequests ?? []).map((d) => ({ at: d.start, entry: out(d, WORKING_POLICY_TYPES[d.timeOff.type]) }))
    : [];
  const outs = [...absences, ...working].sort((a, b) => a.at.localeCompare(b.at)).map((o) => o.entry);
  return { status: 200, body: { outs } };
}

export const HIBOB_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'hibob',
    system: 'hris',
    prefixes: ['/v1/people', '/v1/timeoff'],
    authenticate,
    routes: [
      { method: 'POST', pattern: '/v1/people/search', handle: searchPeople },
      { method: 'GET', pattern: '/v1/timeoff/whosout', handle: whosOut },
    ],
    rateHeaders: epochRateHeaders('X-RateLimit'),
    // Retry-After on the 429 is an assumption (Bob documents the X-RateLimit-* headers, sent on every answer).
    rateLimited: (rate) => ({
      ...hibobErrorReply(new HttpError(429, 'RATE_LIMITED', 'Too many requests')),
      headers: { 'Retry-After': String(rate.resetSeconds) },
    }),
    errorReply: hibobErrorReply,
  },
];
