import { bearerToken, byAccessToken, type ProviderEmulator, type RouteContext } from '../emulator';
import { oauthTokenEndpoint } from '../oauth';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { busyBetween } from './unified';

/**
 * Google Calendar API v3: `POST /calendar/v3/freeBusy` with an OAuth access token from
 * Google's token endpoint (`/token`, on oauth2.googleapis.com in production, same host here).
 * Errors are `{ error: { errors: [{ domain, reason, message }], code, message } }`; Google sends
 * no rate-limit headers, and its limit signal is a 403 `rateLimitExceeded`.
 */
const REASONS: Record<ErrorCode, string> = {
  VALIDATION: 'badRequest',
  UNAUTHORIZED: 'authError',
  NOT_FOUND: 'notFound',
  RATE_LIMITED: 'rateLimitExceeded',
  INTERNAL: 'backendError',
};

const USAGE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);
const MAX_CALENDARS = 50;

function googleErrorReply(err: HttpError): Reply {
  if (err.status === 401) {
    return {
      status: 401,
      body: {
        error: {
          code: 401,
          message:
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          errors: [{ domain: 'global', reason: 'authError', message: 'Invalid Credentials', locationType: 'header', location: 'Authorization' }],
          status: 'UNAUTHENTICATED',
        },
      },
    };
  }
  const reason = err.providerCode ?? REASONS[err.code];
  const domain = USAGE_LIMIT_REASONS.has(reason) ? 'usageLimits' : reason === 'timeRangeEmpty' ? 'calendar' : 'global';
  return { status: err.status, body: { error: { errors: [{ domain, reason, message: err.message }], code: err.status, message: err.message } } };
}

/** Google's RFC 3339 form for UTC times: `Z`, and no fraction when the seconds are whole. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

function instantField(body: Record<string, unknown>, name: 'timeMin' | 'timeMax'): number {
  const raw = body[name];
  if (typeof raw !== 'string' || raw === '') throw new HttpError(400, 'VALIDATION', `Missing ${name} parameter.`, undefined, 'required');
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new HttpError(400, 'VALIDATION', `Invalid value for ${name}: ${raw}`, undefined, 'invalid');
  return ms;
}

function calendarIds(body: Record<string, unknown>): string[] {
  const items = body['items'];
  if (!Array.isArray(items)) throw new HttpError(400, 'VALIDATION', 'Missing items parameter.', undefined, 'required');
  if (items.length > MAX_CALENDARS) throw new HttpError(400, 'VALIDATION', 'The number of calendars requested is too large.', undefined, 'tooManyCalendarsRequested');
  return items.map((item) => {
    const id = (item as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || id === '') throw new HttpError(400, 'VALIDATION', 'Missing items.id parameter.', undefined, 'required');
    return id;
  });
}

/**
 * Busy periods per requested calendar, clipped to the window as Google clips them. A calendar
 * that is not one of the workspace's employees is `notFound`: unknown, not free.
 */
function freeBusy({ ws, body }: RouteContext): Reply {
  const query = (body ?? {}) as Record<string, unknown>;
  const timeMin = instantField(query, 'timeMin');
  const timeMax = instantField(query, 'timeMax');
  if (timeMax <= timeMin) throw new HttpError(400, 'VALIDATION', 'The specified time range is empty.', undefined, 'timeRangeEmpty');
  const known = new Set(ws.seed.employees.map((e) => e.email.toLowerCase()));
  const calendars: Record<string, unknown> = {};
  for (const id of calendarIds(query)) {
    calendars[id] = known.has(id.toLowerCase())
      ? {
          busy: busyBetween(ws, id, timeMin, timeMax).map((b) => ({
            start: rfc3339(Math.max(Date.parse(b.start), timeMin)),
            end: rfc3339(Math.min(Date.parse(b.end), timeMax)),
          })),
        }
      : { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
  }
  return { status: 200, body: { kind: 'calendar#freeBusy', timeMin: query['timeMin'], timeMax: query['timeMax'], calendars } };
}

const GOOGLE_TOKEN_ENDPOINT = oauthTokenEndpoint({
  provider: 'google',
  prefix: '/token',
  path: '/token',
  success: ({ accessToken, expiresIn }) => ({
    access_token: accessToken,
    expires_in: expiresIn,
    scope: 'https://www.googleapis.com/auth/calendar.freebusy',
    token_type: 'Bearer',
  }),
  error: (code, description) => ({
    error: code,
    error_description: code === 'invalid_grant' ? 'Token has been expired or revoked.' : description,
  }),
});

const GOOGLE_CALENDAR: ProviderEmulator = {
  provider: 'google',
  system: 'calendar',
  prefixes: ['/calendar/v3'],
  authenticate: (req, state) =>
    byAccessToken(state, 'google', bearerToken(req.headers), req.now, (reason) => new HttpError(401, 'UNAUTHORIZED', reason)),
  routes: [{ method: 'POST', pattern: '/calendar/v3/freeBusy', handle: freeBusy }],
  rateHeaders: () => ({}),
  // Google's calendar usage-limit answer: a 403, not a 429, and no hint of when to come back.
  rateLimited: () => googleErrorReply(new HttpError(403, 'RATE_LIMITED', 'Rate Limit Exceeded', undefined, 'rateLimitExceeded')),
  errorReply: googleErrorReply,
};

export const GOOGLE_EMULATORS: ProviderEmulator[] = [GOOGLE_TOKEN_ENDPOINT, GOOGLE_CALENDAR];
