import { createHash } from 'node:crypto';
import type { EmulatorAuth, EmulatorRequest, ProviderEmulator, RouteContext } from '../emulator';
import type { RateStatus, SandboxState } from '../state';
import type { SandboxCompany } from '../types';
import { HttpError, type Reply } from '../wire';
import { websiteHost } from './unified';

/**
 * People Data Labs Company Enrichment: `X-Api-Key` (or `api_key`), flat company records in PDL's
 * lower-case vocabulary (`inferred_revenue` as one of PDL's documented range strings, never a
 * figure), `{ status, error: { type, message } }` errors, dict-like
 * `x-ratelimit-limit/-remaining` (`{'minute': 100}`) and `x-ratelimit-reset` as a UTC timestamp.
 * 402 (credits used up) is only reachable through an injected fault.
 */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'payment_required',
  404: 'not_found',
  405: 'invalid_request_error',
  429: 'rate_limit_error',
};

function pdlErrorReply(err: HttpError): Reply {
  const type = ERROR_TYPES[err.status] ?? (err.status >= 500 ? 'api_error' : 'invalid_request_error');
  return { status: err.status, body: { status: err.status, error: { type, message: err.message } } };
}

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const key = req.headers['x-api-key'] ?? req.query['api_key'] ?? null;
  const ws = key === null ? undefined : state.workspaceByToken(key);
  if (ws) return { workspace: ws, claimed: ws.seed.id, error: null };
  const message = key === null ? 'No API key was provided' : 'The API key provided is invalid';
  return { workspace: null, claimed: null, error: new HttpError(401, 'UNAUTHORIZED', message) };
}

/** PDL's timestamps carry no fractional seconds. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Limit headers in PDL's forms, and a `Date` from the sandbox clock so that reset minus Date is
 * the window's remaining time even when tests fake the clock.
 */
function pdlRateHeaders(rate: RateStatus, now: number): Record<string, string> {
  return {
    'x-ratelimit-limit': `{'minute': ${rate.limit}}`,
    'x-ratelimit-remaining': `{'minute': ${rate.remaining}}`,
    'x-ratelimit-reset': isoSeconds(now + rate.resetSeconds * 1000),
    Date: new Date(now).toUTCString(),
  };
}

// ------------------------------------------------------------------------------------- records

const SIZES: Array<[number, string]> = [
  [10, '1-10'],
  [50, '11-50'],
  [200, '51-200'],
  [500, '201-500'],
  [1000, '501-1000'],
  [5000, '1001-5000'],
  [10_000, '5001-10000'],
];

function sizeBucket(employees: number): string {
  return SIZES.find(([max]) => employees <= max)?.[1] ?? '10001+';
}

const REVENUES: Array<[number, string]> = [
  [1e6, '$0-$1M'],
  [1e7, '$1M-$10M'],
  [2.5e7, '$10M-$25M'],
  [5e7, '$25M-$50M'],
  [1e8, '$50M-$100M'],
  [2.5e8, '$100M-$250M'],
  [5e8, '$250M-$500M'],
  [1e9, '$500M-$1B'],
  [1e10, '$1B-$10B'],
];

function revenueBucket(revenue: number): string {
  return REVENUES.find(([max]) => revenue < max)?.[1] ?? '$10B+';
}

/** Region names for the seed's state codes; PDL spells regions out in lower case. */
const REGIONS: Record<string, string> = { NY: 'new york', CA: 'california', BE: 'berlin', ENG: 'england' };

function companyWire(c: SandboxCompany, likelihood: number): unknown {
  const region = c.state === undefined ? null : (REGIONS[c.state] ?? c.state.toLowerCase());
  const country = c.country.toLowerCase();
  const name = c.name.toLowerCase();
  return {
    status: 200,
    likelihood,
    id: createHash('sha1').update(c.domain).digest('base64url').slice(0, 22),
    name,
    display_name: c.name,
    website: c.domain,
    linkedin_url: `linkedin.com/company/${name.replace(/[^a-z0-9]+/g, '-')}`,
    size: sizeBucket(c.employees),
    employee_count: c.employees,
    industry: c.industry.toLowerCase(),
    location: { name: [region, country].filter(Boolean).join(', '), locality: null, region, country },
    ...(c.annualRevenue === undefined ? {} : { inferred_revenue: revenueBucket(c.annualRevenue) }),
  };
}

/** A website match is near-certain; a name match less so (PDL's likelihood is 1 to 10). */
function match(companies: SandboxCompany[], query: Record<string, string>): { company: SandboxCompany; likelihood: number } | null {
  const website = query['website']?.trim();
  if (website) {
    const host = websiteHost(website);
    const company = companies.find((c) => c.domain.toLowerCase() === host);
    return company ? { company, likelihood: 8 } : null;
  }
  const name = query['name']?.trim().toLowerCase();
  const company = companies.find((c) => c.name.toLowerCase() === name);
  return company ? { company, likelihood: 6 } : null;
}

function enrichCompany({ ws, query }: RouteContext): Reply {
  if (!query['website']?.trim() && !query['name']?.trim()) {
    throw new HttpError(400, 'VALIDATION', 'Missing required parameter: one of website or name (this sandbox supports those two)');
  }
  const minLikelihood = query['min_likelihood'] === undefined ? 2 : Number(query['min_likelihood']);
  if (!Number.isInteger(minLikelihood) || minLikelihood < 0 || minLikelihood > 10) {
    throw new HttpError(400, 'VALIDATION', 'min_likelihood must be an integer between 0 and 10');
  }
  const found = match(ws.seed.companies, query);
  if (!found || found.likelihood < minLikelihood) throw new HttpError(404, 'NOT_FOUND', 'No records were found matching your request');
  return {
    status: 200,
    body: companyWire(found.company, found.likelihood),
    headers: { 'x-call-credits-spent': '1', 'x-call-credits-type': 'enrich_company' },
  };
}

export const PDL_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'pdl',
    system: 'enrichment',
    prefixes: ['/v5/company'],
    authenticate,
    routes: [{ method: 'GET', pattern: '/v5/company/enrich', handle: enrichCompany }],
    rateHeaders: pdlRateHeaders,
    rateLimited: () => pdlErrorReply(new HttpError(429, 'RATE_LIMITED', 'An error occurred due to requests hitting the API too quick')),
    errorReply: pdlErrorReply,
  },
];
