import { localDate } from '../../src/domain/calendar';
import { basicCredentials, pathSegment, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import type { SandboxState } from '../state';
import type { SandboxEmployee, SandboxTimeOff } from '../types';
import { HttpError, type Reply } from '../wire';

/**
 * BambooHR: `/api/gateway.php/{company}/v1/...`, the company being the workspace ID and the API
 * key (the workspace token) the Basic user name. Errors have empty bodies and carry their detail
 * in `X-BambooHR-Error-Message`; no rate-limit headers; over the limit a 429 with `Retry-After`
 * (BambooHR's limit answer since 2026-09-16). A 503 means the API is unavailable: only an
 * injected fault gives one here.
 */
const ERROR_HEADER = 'X-BambooHR-Error-Message';

function bamboohrErrorReply(err: HttpError): Reply {
  return { status: err.status, body: undefined, headers: { [ERROR_HEADER]: err.message } };
}

/** The company named in the path (`/api/gateway.php/{company}/...`). */
function companyOf(path: string): string | null {
  return pathSegment(path, 3);
}

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const company = companyOf(req.path);
  const ws = company === null ? undefined : state.workspaceById(company);
  if (!ws) return { workspace: null, claimed: company, error: new HttpError(404, 'NOT_FOUND', `Company ${company ?? ''} not found`) };
  const credentials = basicCredentials(req.headers);
  if (credentials?.user !== ws.seed.token) {
    return { workspace: null, claimed: company, error: new HttpError(401, 'UNAUTHORIZED', 'Invalid API key') };
  }
  return { workspace: ws, claimed: company, error: null };
}

// ------------------------------------------------------------------- dates (shared with HiBob)

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A YYYY-MM-DD query parameter that names a real date; `fallback` when absent. */
export function dateParam(query: Record<string, string>, name: string, fallback: string, invalid: (message: string) => HttpError): string {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  // Date.parse rolls 2026-02-30 over to March: a real date formats back to itself.
  const ms = DATE.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== raw) throw invalid(`Invalid ${name} date: ${raw} (expected YYYY-MM-DD)`);
  return raw;
}

/** A date `days` after a YYYY-MM-DD date. */
function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** A span of seed time: instants, end exclusive (time off, or a working request). */
interface Span {
  start: string;
  end: string;
}

export interface DaysOff<T extends Span = SandboxTimeOff> {
  employee: SandboxEmployee;
  timeOff: T;
  /** First and last local day out (end inclusive), in the employee's own time zone. */
  start: string;
  end: string;
}

/**
 * Seed spans (time off unless `spans` picks others) as the whole local days a date-only HRIS
 * stores, keeping the ones that overlap [from, to] (inclusive dates), in start order.
 */
export function daysOffBetween(employees: SandboxEmployee[], from: string, to: string): DaysOff[];
export function daysOffBetween<T extends Span>(employees: SandboxEmployee[], from: string, to: string, spans: (e: SandboxEmployee) => T[]): Array<DaysOff<T>>;
export function daysOffBetween(
  employees: SandboxEmployee[],
  from: string,
  to: string,
  spans: (e: SandboxEmployee) => Span[] = (e) => e.timeOff,
): Array<DaysOff<Span>> {
  return employees
    .flatMap((employee) =>
      spans(employee).map((timeOff) => ({
        employee,
        timeOff,
        start: localDate(Date.parse(timeOff.start), employee.timezone),
        end: localDate(Date.parse(timeOff.end) - 1, employee.timezone),
      })),
    )
    .filter((d) => d.start <= to && d.end >= from)
    .sort((a, b) => a.start.localeCompare(b.start) || a.employee.id.localeCompare(b.employee.id));
}

// ------------------------------------------------------------------------------------- routes

const DIRECTORY_FIELDS = [
  { id: 'displayName', type: 'text', name: 'Display name' },
  { id: 'firstName', type: 'text', name: 'First name' },
  { id: 'lastName', type: 'text', name: 'Last name' },
  { id: 'jobTitle', type: 'list', name: 'Job title' },
  { id: 'workEmail', type: 'email', name: 'Work Email' },
  { id: 'department', type: 'list', name: 'Department' },
  { id: 'location', type: 'list', name: 'Location' },
  { id: 'supervisor', type: 'employee', name: 'Supervisor' },
];

function directoryEntry(e: SandboxEmployee, all: SandboxEmployee[]): unknown {
  const [firstName = e.name, ...rest] = e.name.split(' ');
  return {
    id: e.id,
    displayName: e.name,
    firstName,
    lastName: rest.join(' ') || null,
    preferredName: null,
    jobTitle: 'Account Executive',
    workPhone: null,
    mobilePhone: null,
    workEmail: e.email,
    department: 'Sales',
    location: e.timezone,
    division: null,
    linkedIn: null,
    pronouns: null,
    workPhoneExtension: null,
    // The directory names the supervisor, it does not link to them.
    supervisor: all.find((m) => m.id === e.managerId)?.name ?? null,
    photoUploaded: false,
    canUploadPhoto: 0,
  };
}

/** The directory lists active employees only. */
function directory({ ws }: RouteContext): Reply {
  const employees = ws.seed.employees.filter((e) => e.status === 'ACTIVE').map((e) => directoryEntry(e, ws.seed.employees));
  return { status: 200, body: { fields: DIRECTORY_FIELDS, employees } };
}

/** Who's out between `start` (default today) and `end` (default two weeks later). */
function whosOut({ ws, query, now }: RouteContext): Reply {
  const invalid = (message: string) => new HttpError(400, 'VALIDATION', message);
  const start = dateParam(query, 'start', new Date(now).toISOString().slice(0, 10), invalid);
  const end = dateParam(query, 'end', addDays(start, 14), invalid);
  if (end < start) throw invalid(`Invalid date range: end ${end} is before start ${start}`);
  const body = daysOffBetween(ws.seed.employees, start, end).map((d, i) => ({
    id: i + 1,
    type: 'timeOff',
    employeeId: d.employee.id,
    name: d.employee.name,
    start: d.start,
    end: d.end,
  }));
  return { status: 200, body };
}

export const BAMBOOHR_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'bamboohr',
    system: 'hris',
    prefixes: ['/api/gateway.php'],
    authenticate,
    routes: [
      { method: 'GET', pattern: '/api/gateway.php/:company/v1/employees/directory', handle: directory },
      // The trailing slash of `whos_out/` is gone by the time routes are matched.
      { method: 'GET', pattern: '/api/gateway.php/:company/v1/time_off/whos_out', handle: whosOut },
    ],
    rateHeaders: () => ({}),
    rateLimited: (rate) => ({
      status: 429,
      body: undefined,
      headers: { 'Retry-After': String(rate.resetSeconds), [ERROR_HEADER]: 'API rate limit exceeded' },
    }),
    errorReply: bamboohrErrorReply,
  },
];
