import { byToken, bearerToken, type ProviderEmulator, type RouteContext } from '../emulator';
import type { SandboxCompany } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { ietfRateHeaders } from './unified';

/** Clearbit-style company enrichment: API key as bearer token, `{ error: { type, message } }` errors. */
const ENRICHMENT_TYPES: Record<ErrorCode, string> = {
  VALIDATION: 'invalid_parameter',
  UNAUTHORIZED: 'auth_required',
  NOT_FOUND: 'not_found',
  RATE_LIMITED: 'rate_limit',
  INTERNAL: 'internal_error',
};

function clearbitErrorReply(err: HttpError): Reply {
  return { status: err.status, body: { error: { type: err.enrichmentType ?? ENRICHMENT_TYPES[err.code], message: err.message } } };
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

export const CLEARBIT_EMULATOR: ProviderEmulator = {
  provider: 'clearbit',
  system: 'enrichment',
  prefixes: ['/v2/companies'],
  authenticate: (req, state) => byToken(state, bearerToken(req.headers), () => new HttpError(401, 'UNAUTHORIZED', 'missing or invalid bearer token')),
  routes: [{ method: 'GET', pattern: '/v2/companies/find', handle: findCompany }],
  rateHeaders: ietfRateHeaders,
  rateLimited: (rate) => ({ ...clearbitErrorReply(new HttpError(429, 'RATE_LIMITED', 'Rate limit exceeded')), headers: { 'Retry-After': String(rate.resetSeconds) } }),
  errorReply: clearbitErrorReply,
};
