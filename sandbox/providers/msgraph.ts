import { randomUUID } from 'node:crypto';
import { bearerToken, byAccessToken, type ProviderEmulator, type RouteContext } from '../emulator';
import { oauthTokenEndpoint, type OAuthErrorCode } from '../oauth';
import type { WorkspaceRuntime } from '../state';
import type { SandboxEmployee } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { busyBetween } from './unified';

/**
 * Microsoft Graph v1.0 calendar: `POST /v1.0/users/{id}/calendar/getSchedule` with an access
 * token from the Microsoft identity platform (`/{tenant}/oauth2/v2.0/token`). Errors are
 * `{ error: { code, message, innerError } }`; the limit signal is 429 `TooManyRequests` with
 * `Retry-After`, and Graph sends no rate-limit headers for calendar calls.
 */
const CODES: Record<ErrorCode, string> = {
  VALIDATION: 'ErrorInvalidRequest',
  UNAUTHORIZED: 'InvalidAuthenticationToken',
  NOT_FOUND: 'ResourceNotFound',
  RATE_LIMITED: 'TooManyRequests',
  INTERNAL: 'generalException',
};

const AUTH_MESSAGES: Record<string, string> = {
  'missing bearer token': 'Access token is empty.',
  'access token expired': 'Access token has expired or is not yet valid.',
};

function graphErrorReply(err: HttpError): Reply {
  const code = err.providerCode ?? CODES[err.code];
  const message = err.status === 401 ? (AUTH_MESSAGES[err.message] ?? 'IDX14100: JWT is not well formed, there are no dots (.).') : err.message;
  const innerError = { date: new Date().toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': randomUUID(), 'client-request-id': randomUUID() };
  return { status: err.status, body: { error: { code, message, innerError } } };
}

// ------------------------------------------------------------------------------- token endpoint

/** The identity platform's AADSTS codes for the standard OAuth errors. */
const AADSTS: Record<OAuthErrorCode, { code: number; text: string }> = {
  invalid_grant: { code: 70000, text: 'The provided value for the input parameter \'refresh_token\' or \'assertion\' is not valid.' },
  invalid_client: { code: 7000215, text: 'Invalid client secret provided.' },
  invalid_request: { code: 900144, text: 'The request body must contain the following parameter: \'refresh_token\'.' },
  unsupported_grant_type: { code: 70003, text: 'The app requested an unsupported grant type.' },
};

function identityError(code: OAuthErrorCode): unknown {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  const { code: number, text } = AADSTS[code];
  return {
    error: code,
    error_description: `AADSTS${number}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [number],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  };
}

/**
 * The sandbox cannot route on an arbitrary tenant segment (emulator prefixes are literal), so
 * it serves the multi-tenant authorities: `/organizations/oauth2/v2.0/token` and `/common/...`.
 */
const MSGRAPH_TOKEN_ENDPOINT: ProviderEmulator = {
  ...oauthTokenEndpoint({
    provider: 'msgraph',
    prefix: '/organizations/oauth2',
    path: '/:tenant/oauth2/v2.0/token',
    success: ({ accessToken, expiresIn, refreshToken }) => ({
      token_type: 'Bearer',
      scope: 'https://graph.microsoft.com/Calendars.Read.Shared https://graph.microsoft.com/User.Read',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: accessToken,
      refresh_token: refreshToken,
    }),
    error: (code) => identityError(code),
  }),
  prefixes: ['/organizations/oauth2', '/common/oauth2'],
};

// ------------------------------------------------------------------------------------ calendar

/** The Windows zone names Exchange keeps for the sandbox's zones (IANA names otherwise). */
const WINDOWS_NAMES: Record<string, string> = {
  'America/New_York': 'Eastern Standard Time',
  'America/Chicago': 'Central Standard Time',
  'America/Denver': 'Mountain Standard Time',
  'America/Los_Angeles': 'Pacific Standard Time',
  'Europe/London': 'GMT Standard Time',
  'Europe/Berlin': 'W. Europe Standard Time',
  'Europe/Paris': 'Romance Standard Time',
  'Asia/Singapore': 'Singapore Standard Time',
  'Asia/Tokyo': 'Tokyo Standard Time',
  'Australia/Sydney': 'AUS Eastern Standard Time',
};

/** Graph's dayOfWeek names by ISO weekday - 1. */
const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MINUTE = 60_000;

/** Graph's dateTimeTimeZone as UTC: 7-digit fractions, no offset. */
function graphDateTime(ms: number): { dateTime: string; timeZone: string } {
  return { dateTime: `${new Date(ms).toISOString().slice(0, 23)}0000`, timeZone: 'UTC' };
}

/** A request's `{ dateTime, timeZone }` as epoch ms; the sandbox only reads UTC. */
function utcField(body: Record<string, unknown>, name: 'startTime' | 'endTime'): number {
  const field = body[name] as { dateTime?: unknown; timeZone?: unknown } | undefined;
  if (typeof field?.dateTime !== 'string') throw new HttpError(400, 'VALIDATION', `${name}.dateTime is required.`);
  if (field.timeZone !== 'UTC') throw new HttpError(400, 'VALIDATION', `${name}.timeZone: the sandbox reads UTC only, got ${String(field.timeZone)}.`);
  const ms = Date.parse(`${field.dateTime.replace(/Z$/, '')}Z`);
  if (Number.isNaN(ms)) throw new HttpError(400, 'VALIDATION', `${name}.dateTime is not a date: ${field.dateTime}`);
  return ms;
}

function scheduleRequest(body: unknown): { schedules: string[]; start: number; end: number; interval: number } {
  const b = (body ?? {}) as Record<string, unknown>;
  const schedules = b['schedules'];
  if (!Array.isArray(schedules) || schedules.length === 0 || !schedules.every((s) => typeof s === 'string')) {
    throw new HttpError(400, 'VALIDATION', 'schedules: a non-empty list of SMTP addresses is required.');
  }
  const start = utcField(b, 'startTime');
  const end = utcField(b, 'endTime');
  if (end <= start) throw new HttpError(400, 'VALIDATION', 'The end time must be after the start time.');
  const interval = Number(b['availabilityViewInterval'] ?? 30);
  if (!Number.isInteger(interval) || interval < 5 || interval > 1440) {
    throw new HttpError(400, 'VALIDATION', 'availabilityViewInterval must be between 5 and 1440 minutes.');
  }
  return { schedules: schedules as string[], start, end, interval };
}

/** One character per interval: 2 where a busy block overlaps it, 0 otherwise. */
function availabilityView(busy: Array<{ start: string; end: string }>, start: number, end: number, interval: number): string {
  const slots = Math.ceil((end - start) / (interval * MINUTE));
  return Array.from({ length: slots }, (_, i) => {
    const from = start + i * interval * MINUTE;
    const to = from + interval * MINUTE;
    return busy.some((b) => Date.parse(b.start) < to && Date.parse(b.end) > from) ? '2' : '0';
  }).join('');
}

/** The employee's working hours as their mailbox settings state them (the scenario's data); undefined when they state none. */
function workingHours(employee: SandboxEmployee): unknown {
  const hours = employee.workingHours;
  if (!hours) return undefined;
  return {
    daysOfWeek: hours.days.map((d) => WEEKDAY_NAMES[d - 1]),
    startTime: `${hours.start}:00.0000000`,
    endTime: `${hours.end}:00.0000000`,
    timeZone: { name: WINDOWS_NAMES[employee.timezone] ?? employee.timezone },
  };
}

function scheduleInformation(ws: WorkspaceRuntime, id: string, start: number, end: number, interval: number): unknown {
  const employee = ws.seed.employees.find((e) => e.email.toLowerCase() === id.toLowerCase());
  if (!employee) {
    return { scheduleId: id, availabilityView: '', error: { message: `The requested user '${id}' is invalid.`, responseCode: 'UserNotFound' } };
  }
  // Time off shows in Outlook as out-of-office blocks: that is how Graph tells a calendar reader about PTO.
  const away = employee.timeOff
    .filter((t) => Date.parse(t.start) < end && Date.parse(t.end) > start)
    .map((t) => ({ start: t.start, end: t.end, status: 'oof', subject: 'Out of office' }));
  const items = [...busyBetween(ws, id, start, end).map((b) => ({ ...b, status: 'busy', subject: 'Busy' })), ...away];
  return {
    scheduleId: id,
    availabilityView: availabilityView(items, start, end, interval),
    scheduleItems: items.map((b) => ({
      isPrivate: false,
      status: b.status,
      subject: b.subject,
      location: '',
      start: graphDateTime(Date.parse(b.start)),
      end: graphDateTime(Date.parse(b.end)),
    })),
    workingHours: workingHours(employee),
  };
}

/** Each workspace's directory has a scheduling service account, the mailbox sandbox connections read as. */
export function schedulingMailbox(workspaceId: string): string {
  return `scheduler@${workspaceId}.example`;
}

/** The mailbox the app reads as must be in the directory: an employee, a CRM user or the scheduling account. */
function requireMailbox(ws: WorkspaceRuntime, id: string): void {
  const wanted = id.toLowerCase();
  const known =
    wanted === schedulingMailbox(ws.seed.id).toLowerCase() ||
    [...ws.seed.employees, ...ws.seed.users].some((p) => p.email.toLowerCase() === wanted || p.id === id);
  if (!known) throw new HttpError(404, 'NOT_FOUND', `The requested user '${id}' is invalid.`, undefined, 'ErrorInvalidUser');
}

function getSchedule({ ws, params, body }: RouteContext): Reply {
  requireMailbox(ws, params['user'] ?? '');
  const { schedules, start, end, interval } = scheduleRequest(body);
  return {
    status: 200,
    body: {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)',
      value: schedules.map((id) => scheduleInformation(ws, id, start, end, interval)),
    },
  };
}

const MSGRAPH_CALENDAR: ProviderEmulator = {
  provider: 'msgraph',
  system: 'calendar',
  prefixes: ['/v1.0/users'],
  authenticate: (req, state) =>
    byAccessToken(state, 'msgraph', bearerToken(req.headers), req.now, (reason) => new HttpError(401, 'UNAUTHORIZED', reason)),
  routes: [{ method: 'POST', pattern: '/v1.0/users/:user/calendar/getSchedule', handle: getSchedule }],
  rateHeaders: () => ({}),
  rateLimited: (rate) => ({
    ...graphErrorReply(new HttpError(429, 'RATE_LIMITED', 'Too many requests. Retry after the number of seconds Retry-After gives.')),
    headers: { 'Retry-After': String(rate.resetSeconds) },
  }),
  errorReply: graphErrorReply,
};

export const MSGRAPH_EMULATORS: ProviderEmulator[] = [MSGRAPH_TOKEN_ENDPOINT, MSGRAPH_CALENDAR];
