import { randomBytes } from 'node:crypto';
import { byToken, type ProviderEmulator, type RouteContext } from '../emulator';
import type { RateStatus } from '../state';
import type { SandboxEmployee } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';

/**
 * Okta's Users API: `Authorization: SSWS <token>` (the workspace token), a `search` expression
 * (the `profile.email eq "..."` clauses joined with `or` that a directory lookup needs), `limit`
 * and `after` paging with `Link` headers, `X-Rate-Limit-*` headers with an epoch reset, and
 * `{ errorCode, errorSummary, errorLink, errorId, errorCauses }` errors.
 */
const ERRORS: Record<ErrorCode, { code: string; summary: string }> = {
  VALIDATION: { code: 'E0000001', summary: 'Api validation failed' },
  UNAUTHORIZED: { code: 'E0000011', summary: 'Invalid token provided' },
  NOT_FOUND: { code: 'E0000007', summary: 'Not found' },
  RATE_LIMITED: { code: 'E0000047', summary: 'API call exceeded rate limit due to too many requests.' },
  INTERNAL: { code: 'E0000009', summary: 'Internal Server Error' },
};

function oktaError(code: string, summary: string, causes: string[] = []): unknown {
  return {
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: `oae${randomBytes(16).toString('base64url').slice(0, 22)}`,
    errorCauses: causes.map((errorSummary) => ({ errorSummary })),
  };
}

/** Handlers that know Okta's own code put it in `providerCode`; the rest get the closest standard one. */
function oktaErrorReply(err: HttpError): Reply {
  const standard = ERRORS[err.code];
  if (err.providerCode) return { status: err.status, body: oktaError(err.providerCode, err.message) };
  const detail = err.message === standard.summary ? [] : [err.message];
  return { status: err.status, body: oktaError(standard.code, standard.summary, detail) };
}

function invalidSearch(): HttpError {
  return new HttpError(400, 'VALIDATION', 'Invalid search criteria.', undefined, 'E0000031');
}

/**
 * `<prefix>-Limit`, `-Remaining` and `-Reset`, the reset being the window's end in UTC epoch
 * seconds, not a delay (Okta's `X-Rate-Limit-*`, HiBob's `X-RateLimit-*`).
 */
export function epochRateHeaders(prefix: string): ProviderEmulator['rateHeaders'] {
  return (rate: RateStatus, now: number) => ({
    [`${prefix}-Limit`]: String(rate.limit),
    [`${prefix}-Remaining`]: String(rate.remaining),
    [`${prefix}-Reset`]: String(Math.floor(now / 1000) + rate.resetSeconds),
  });
}

// ------------------------------------------------------------------------------------- search

const QUOTED = String.raw`"(?:[^"\\]|\\.)*"`;
const CLAUSE = String.raw`profile\.email\s+eq\s+${QUOTED}`;
const SEARCH = new RegExp(String.raw`^\s*${CLAUSE}(?:\s+or\s+${CLAUSE})*\s*$`, 'i');

/** The emails of a `profile.email eq "a" or profile.email eq "b"` search: the subset emulated. */
export function searchEmails(search: string): string[] {
  if (!SEARCH.test(search)) throw invalidSearch();
  return [...search.matchAll(new RegExp(QUOTED, 'g'))].map((m) => m[0].slice(1, -1).replace(/\\(.)/g, '$1'));
}

// -------------------------------------------------------------------------------------- users

const OKTA_STATUS: Record<SandboxEmployee['status'], string> = {
  ACTIVE: 'ACTIVE',
  INACTIVE: 'SUSPENDED',
  TERMINATED: 'DEPROVISIONED',
};

/** A fixed creation time keeps answers stable; Okta's own timestamps carry no meaning here. */
const CREATED = '2024-01-15T09:00:00.000Z';

function userWire(e: SandboxEmployee, origin: string): unknown {
  const [firstName = e.name, ...rest] = e.name.split(' ');
  const status = OKTA_STATUS[e.status];
  return {
    id: e.id,
    status,
    created: CREATED,
    activated: status === 'DEPROVISIONED' ? null : CREATED,
    statusChanged: status === 'ACTIVE' ? null : CREATED,
    lastLogin: null,
    lastUpdated: CREATED,
    passwordChanged: CREATED,
    type: { id: 'oty1defaultusertype' },
    profile: {
      firstName,
      lastName: rest.join(' ') || null,
      mobilePhone: null,
      secondEmail: null,
      login: e.email,
      email: e.email,
      timezone: e.timezone,
    },
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: `${origin}/api/v1/users/${encodeURIComponent(e.id)}` } },
  };
}

function pageLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 200;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new HttpError(400, 'VALIDATION', `limit: not a positive integer: ${raw}`);
  // Okta caps a search page at 200 rather than rejecting a larger limit.
  return Math.min(n, 200);
}

/**
 * `GET /api/v1/users`: with `search`, users of any status matching it; without, everyone but
 * DEPROVISIONED users. `after` is the ID of the previous page's last user.
 */
function listUsers({ ws, query, headers }: RouteContext): Reply {
  const search = query['search'];
  const wanted = search === undefined ? null : searchEmails(search).map((e) => e.toLowerCase());
  const users = ws.seed.employees.filter((e) =>
    wanted === null ? e.status !== 'TERMINATED' : wanted.includes(e.email.toLowerCase()),
  );
  const limit = pageLimit(query['limit']);
  const after = query['after'];
  const from = after === undefined ? 0 : users.findIndex((u) => u.id === after) + 1;
  if (after !== undefined && from === 0) throw new HttpError(400, 'VALIDATION', `after: not a cursor this API issued: ${after}`);
  const page = users.slice(from, from + limit);

  // The org's own origin: Okta's Link headers are absolute URLs.
  const origin = `http://${headers['host'] ?? 'localhost'}`;
  const link = (params: Record<string, string>) => `<${origin}/api/v1/users?${new URLSearchParams(params).toString()}>`;
  const base: Record<string, string> = { ...(search === undefined ? {} : { search }), limit: String(limit) };
  const links = [`${link(base)}; rel="self"`];
  const last = page[page.length - 1];
  if (last && from + limit < users.length) links.push(`${link({ ...base, after: last.id })}; rel="next"`);
  return { status: 200, body: page.map((e) => userWire(e, origin)), headers: { Link: links.join(', ') } };
}

export const OKTA_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'okta',
    system: 'hris',
    prefixes: ['/api/v1/users'],
    authenticate: (req, state) => {
      const token = /^SSWS\s+(\S+)\s*$/i.exec(req.headers['authorization'] ?? '')?.[1] ?? null;
      return byToken(state, token, () => new HttpError(401, 'UNAUTHORIZED', ERRORS.UNAUTHORIZED.summary, undefined, ERRORS.UNAUTHORIZED.code));
    },
    routes: [{ method: 'GET', pattern: '/api/v1/users', handle: listUsers }],
    rateHeaders: epochRateHeaders('X-Rate-Limit'),
    // Okta sends no Retry-After: the epoch X-Rate-Limit-Reset (on every answer) says when to retry.
    rateLimited: () => ({ status: 429, body: oktaError(ERRORS.RATE_LIMITED.code, ERRORS.RATE_LIMITED.summary) }),
    errorReply: oktaErrorReply,
  },
];
