import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { bearerToken, byAccessToken, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import { oauthTokenEndpoint, type OAuthErrorCode } from '../oauth';
import { parseBody } from '../schemas';
import { DEFAULT_RATE_RULE, type LeadRecord, type RateRule, type RateStatus, type SandboxState, type WorkspaceRuntime } from '../state';
import type { SandboxAccount, SandboxUser } from '../types';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { websiteHost } from './unified';

/**
 * HubSpot CRM v3 over the shared workspace: companies are the seed's accounts, contacts are the
 * workspace's leads (upserted by email), owners are its users. OAuth access tokens come from the
 * `/oauth/v1/token` endpoint below. Errors are `{ status: "error", message, correlationId, category }`.
 * Limits: search five a second per account, everything else the ten-secondly window.
 */

// ------------------------------------------------------------------------------------ wire format

const CATEGORIES: Record<ErrorCode, string> = {
  VALIDATION: 'VALIDATION_ERROR',
  UNAUTHORIZED: 'INVALID_AUTHENTICATION',
  NOT_FOUND: 'OBJECT_NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITS',
  INTERNAL: 'INTERNAL_ERROR',
};

/** `providerCode` carries a specific category (EXPIRED_AUTHENTICATION) when the handler knows one. */
function hubspotErrorReply(err: HttpError): Reply {
  return {
    status: err.status,
    body: { status: 'error', message: err.message, correlationId: randomUUID(), category: err.providerCode ?? CATEGORIES[err.code] },
  };
}

/**
 * CRM search has its own limit, outside the ten-secondly window (HubSpot's spec marks the search
 * endpoints `x-hubspot-rate-limit-exemptions: ["ten-secondly"]`): five requests a second per
 * account. Every other call counts against the workspace's window, standing for the ten-secondly one.
 */
const SEARCH_WINDOW = 'search';
const SEARCH_PATH = /^\/crm\/v3\/objects\/[^/]+\/search$/;

function hubspotRateRules(req: EmulatorRequest): RateRule[] {
  return req.method === 'POST' && SEARCH_PATH.test(req.path) ? [{ name: SEARCH_WINDOW, limit: 5, windowSeconds: 1 }] : [DEFAULT_RATE_RULE];
}

/**
 * The ten-secondly window's headers. HubSpot's `Interval-Milliseconds` is its rolling window's
 * length; the sandbox's window is fixed and per workspace, so the header carries the time left in
 * it, which is what that length bounds. OAuth calls get no `Daily` headers (HubSpot sends none),
 * and search answers none at all: the ten-secondly window does not count them.
 */
function hubspotRateHeaders(rate: RateStatus): Record<string, string> {
  if (rate.window === SEARCH_WINDOW) return {};
  return {
    'X-HubSpot-RateLimit-Interval-Milliseconds': String(rate.resetSeconds * 1000),
    'X-HubSpot-RateLimit-Max': String(rate.limit),
    'X-HubSpot-RateLimit-Remaining': String(rate.remaining),
  };
}

/**
 * HubSpot's limit answers: a 429 without Retry-After. The ten-secondly one names its policy; the
 * search one only says "secondly limit", with the error category (as HubSpot answers it).
 */
function hubspotRateLimited(rate: RateStatus): Reply {
  if (rate.window === SEARCH_WINDOW) {
    return {
      status: 429,
      body: { status: 'error', message: 'You have reached your secondly limit.', correlationId: randomUUID(), category: 'RATE_LIMITS' },
    };
  }
  return {
    status: 429,
    body: {
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: 'TEN_SECONDLY_ROLLING',
    },
  };
}

/** HubSpot tells an expired token (EXPIRED_AUTHENTICATION) from one it does not know. */
function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const token = bearerToken(req.headers);
  const issued = token === null ? undefined : state.accessToken(token);
  const expired = issued?.provider === 'hubspot' && issued.expiresAt <= req.now;
  return byAccessToken(state, 'hubspot', token, req.now, () =>
    expired
      ? new HttpError(401, 'UNAUTHORIZED', 'The OAuth token used to make this call expired.', undefined, 'EXPIRED_AUTHENTICATION')
      : new HttpError(401, 'UNAUTHORIZED', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.'),
  );
}

/** HubSpot reports invalid property values as one message listing them. */
function invalidProperty(name: string, error: string, message: string): HttpError {
  const detail = JSON.stringify([{ isValid: false, message, error, name }]);
  return new HttpError(400, 'VALIDATION', `Property values were not valid: ${detail}`);
}

/** Offset paging with HubSpot's `after` (a stringified offset) and `paging.next`. */
function pageOf<T>(items: T[], limit: number, after: string | number | undefined): { results: T[]; paging?: unknown } {
  const offset = after === undefined || after === '' ? 0 : Number(after);
  if (!Number.isInteger(offset) || offset < 0) throw new HttpError(400, 'VALIDATION', `after: ${String(after)} is not a valid paging cursor`);
  const results = items.slice(offset, offset + limit);
  if (offset + limit >= items.length) return { results };
  const next = String(offset + limit);
  return { results, paging: { next: { after: next, link: `?after=${next}` } } };
}

// ---------------------------------------------------------------------------------------- owners

/** A stable integer standing for the owner's HubSpot user (seed users have no such number). */
function userIdOf(user: SandboxUser): number {
  return parseInt(createHash('sha1').update(user.id).digest('hex').slice(0, 7), 16);
}

function ownerWire(u: SandboxUser): unknown {
  const [firstName = '', ...rest] = u.name.split(' ');
  return { id: u.id, email: u.email, firstName, lastName: rest.join(' '), userId: userIdOf(u), archived: false };
}

const ownersQuery = z.object({
  email: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z.string().optional(),
});

function listOwners({ ws, query }: RouteContext): Reply {
  const q = parseBody(ownersQuery, query);
  const email = q.email?.toLowerCase();
  const owners = email === undefined ? ws.seed.users : ws.seed.users.filter((u) => u.email.toLowerCase() === email);
  const page = pageOf(owners, q.limit, q.after);
  return { status: 200, body: { ...page, results: page.results.map(ownerWire) } };
}

function requireOwner(ws: WorkspaceRuntime, ownerId: string): void {
  if (!ws.seed.users.some((u) => u.id === ownerId)) {
    throw invalidProperty('hubspot_owner_id', 'INVALID_OWNER_ID', `${ownerId} is not a valid owner id`);
  }
}

// ------------------------------------------------------------------------------------- companies

/** An account's domains as HubSpot holds them: registered ones, else the website's host (HubSpot derives `domain` from it). */
export function accountDomains(a: SandboxAccount): string[] {
  if (a.domains.length > 0) return a.domains.map((d) => d.toLowerCase());
  const host = a.website === undefined ? null : websiteHost(a.website);
  return host === null ? [] : [host];
}

/** Seed accounts have no history: every company reports this creation time. */
const SEEDED_AT = '2024-01-01T00:00:00.000Z';

function companyProperties(a: SandboxAccount): Record<string, string | null> {
  const [domain = null, ...more] = accountDomains(a);
  const custom = Object.fromEntries(Object.entries(a.custom ?? {}).map(([k, v]) => [k, v === null ? null : String(v)]));
  return {
    ...custom,
    name: a.name,
    domain,
    hs_additional_domains: more.length > 0 ? more.join(';') : null,
    website: a.website ?? null,
    hubspot_owner_id: a.ownerId,
    industry: a.industry ?? null,
    country: a.country ?? null,
    hs_object_id: a.id,
  };
}

const filterSchema = z.object({
  propertyName: z.string().min(1),
  operator: z.enum(['EQ', 'IN', 'CONTAINS_TOKEN']),
  value: z.union([z.string(), z.number()]).optional(),
  values: z.array(z.union([z.string(), z.number()])).optional(),
});

const searchSchema = z.object({
  filterGroups: z.array(z.object({ filters: z.array(filterSchema).max(6) })).max(5).default([]),
  properties: z.array(z.string()).optional(),
  limit: z.number().int().min(1).max(200).default(10),
  after: z.union([z.string(), z.number()]).optional(),
});

type Filter = z.infer<typeof filterSchema>;

/** CONTAINS_TOKEN: a whole word of the value, `*` as a wildcard. */
function containsToken(value: string, token: string): boolean {
  const pattern = new RegExp(`^${token.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return value.split(/[^\p{L}\p{N}.@_-]+/u).some((word) => pattern.test(word));
}

function filterMatches(properties: Record<string, string | null>, f: Filter): boolean {
  const actual = properties[f.propertyName]?.toLowerCase();
  if (f.operator === 'IN') {
    if (!f.values) throw new HttpError(400, 'VALIDATION', `filter on ${f.propertyName}: operator IN needs values`);
    return actual !== undefined && f.values.some((v) => String(v).toLowerCase() === actual);
  }
  if (f.value === undefined) throw new HttpError(400, 'VALIDATION', `filter on ${f.propertyName}: operator ${f.operator} needs a value`);
  const wanted = String(f.value).toLowerCase();
  if (actual === undefined) return false;
  return f.operator === 'EQ' ? actual === wanted : containsToken(actual, wanted);
}

/** Filter groups are OR'd, the filters in a group AND'd; no groups match everything. */
function searchMatches(properties: Record<string, string | null>, groups: Array<{ filters: Filter[] }>): boolean {
  return groups.length === 0 || groups.some((g) => g.filters.every((f) => filterMatches(properties, f)));
}

/** The requested properties (HubSpot's defaults otherwise) plus the ones it always returns. */
function selectProperties(all: Record<string, string | null>, requested: string[] | undefined): Record<string, string | null> {
  const names = new Set([...(requested ?? ['name', 'domain']), 'hs_object_id']);
  return Object.fromEntries([...names].map((n) => [n, all[n] ?? null]));
}

function searchCompanies({ ws, body }: RouteContext): Reply {
  const search = parseBody(searchSchema, body);
  const matches = ws.seed.accounts
    .map((a) => ({ id: a.id, properties: companyProperties(a) }))
    .filter((c) => searchMatches(c.properties, search.filterGroups));
  const page = pageOf(matches, search.limit, search.after);
  const results = page.results.map((c) => ({
    id: c.id,
    properties: selectProperties(c.properties, search.properties),
    createdAt: SEEDED_AT,
    updatedAt: SEEDED_AT,
    archived: false,
  }));
  return { status: 200, body: { total: matches.length, ...page, results } };
}

// -------------------------------------------------------------------------------------- contacts

type ContactField = 'first_name' | 'last_name' | 'company' | 'title' | 'phone';

/** Contact properties kept on the shared lead record, by HubSpot name (email and owner aside). */
const CONTACT_FIELDS = new Map<string, ContactField>([
  ['firstname', 'first_name'],
  ['lastname', 'last_name'],
  ['company', 'company'],
  ['jobtitle', 'title'],
  ['phone', 'phone'],
]);

/** Custom contact properties the portal has (Leadrelay's key), kept beside the shared lead record. */
const CUSTOM_CONTACT_PROPERTIES = new Set(['leadrelay_key']);
const customValues = new WeakMap<LeadRecord, Record<string, string | null>>();

const propertyValues = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullable());

type PropertyValues = z.infer<typeof propertyValues>;

/** Checks every property before anything is written, so a rejected request changes nothing. */
function validateProperties(ws: WorkspaceRuntime, properties: PropertyValues): void {
  for (const [name, value] of Object.entries(properties)) {
    if (name === 'hubspot_owner_id') {
      if (value !== null && value !== '') requireOwner(ws, String(value));
    } else if (name !== 'email' && !CONTACT_FIELDS.has(name) && !CUSTOM_CONTACT_PROPERTIES.has(name)) {
      throw invalidProperty(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`);
    }
  }
}

/** Writes validated properties; an empty value clears one (the email, the contact's key, stays). */
function applyProperties(lead: LeadRecord, properties: PropertyValues, at: string): void {
  const custom = { ...customValues.get(lead) };
  for (const [name, raw] of Object.entries(properties)) {
    const value = raw === null || raw === '' ? null : String(raw);
    const field = CONTACT_FIELDS.get(name);
    if (field !== undefined) lead[field] = value;
    else if (name === 'hubspot_owner_id') lead.owner_id = value ?? '';
    else if (name === 'email') lead.email = value ?? lead.email;
    else custom[name] = value;
  }
  customValues.set(lead, custom);
  lead.updated_at = at;
}

function contactWire(lead: LeadRecord, extra: Record<string, unknown> = {}): unknown {
  const properties = {
    ...customValues.get(lead),
    email: lead.email,
    firstname: lead.first_name,
    lastname: lead.last_name,
    company: lead.company,
    jobtitle: lead.title,
    phone: lead.phone,
    hubspot_owner_id: lead.owner_id === '' ? null : lead.owner_id,
    createdate: lead.created_at,
    lastmodifieddate: lead.updated_at,
    hs_object_id: lead.id,
  };
  return { id: lead.id, properties, createdAt: lead.created_at, updatedAt: lead.updated_at, archived: false, ...extra };
}

function contactByEmail(ws: WorkspaceRuntime, email: string): LeadRecord | undefined {
  const wanted = email.toLowerCase();
  for (const lead of ws.leads.values()) if (lead.email.toLowerCase() === wanted) return lead;
  return undefined;
}

function newContact(ws: WorkspaceRuntime, email: string, at: string): LeadRecord {
  const lead: LeadRecord = {
    id: String(ws.nextLeadNo++),
    email,
    first_name: null,
    last_name: null,
    company: null,
    title: null,
    phone: null,
    source: null,
    owner_id: '',
    created_at: at,
    updated_at: at,
    external_key: email,
  };
  ws.leads.set(lead.id, lead);
  return lead;
}

const upsertSchema = z.object({
  inputs: z
    .array(z.object({ idProperty: z.literal('email'), id: z.email(), properties: propertyValues }))
    .min(1)
    .max(100),
});

/** Batch upsert by email: an existing contact is updated (`new: false`), never duplicated. */
function upsertContacts({ ws, body, now }: RouteContext): Reply {
  const { inputs } = parseBody(upsertSchema, body);
  for (const input of inputs) validateProperties(ws, input.properties);
  const at = new Date(now).toISOString();
  const results = inputs.map((input) => {
    const existing = contactByEmail(ws, input.id);
    const lead = existing ?? newContact(ws, input.id.toLowerCase(), at);
    applyProperties(lead, input.properties, at);
    return contactWire(lead, { new: existing === undefined });
  });
  return { status: 200, body: { status: 'COMPLETE', results, startedAt: at, completedAt: at } };
}

function contactById(ws: WorkspaceRuntime, id: string): LeadRecord {
  const lead = ws.leads.get(id);
  if (!lead) throw new HttpError(404, 'NOT_FOUND', 'resource not found');
  return lead;
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  after: z.string().optional(),
});

function listContacts({ ws, query }: RouteContext): Reply {
  const q = parseBody(listQuery, query);
  const page = pageOf([...ws.leads.values()], q.limit, q.after);
  return { status: 200, body: { ...page, results: page.results.map((lead) => contactWire(lead)) } };
}

function getContact({ ws, params }: RouteContext): Reply {
  return { status: 200, body: contactWire(contactById(ws, params['id'] ?? '')) };
}

const updateSchema = z.object({ properties: propertyValues });

function updateContact({ ws, params, body, now }: RouteContext): Reply {
  const lead = contactById(ws, params['id'] ?? '');
  const { properties } = parseBody(updateSchema, body);
  validateProperties(ws, properties);
  applyProperties(lead, properties, new Date(now).toISOString());
  return { status: 200, body: contactWire(lead) };
}

// ------------------------------------------------------------------------------------- emulators

/** HubSpot's token endpoint bodies: `{ status, message }` codes instead of RFC 6749's `error`. */
const OAUTH_STATUS: Record<OAuthErrorCode, string> = {
  invalid_grant: 'BAD_REFRESH_TOKEN',
  invalid_client: 'BAD_CLIENT_ID',
  unsupported_grant_type: 'BAD_GRANT_TYPE',
  invalid_request: 'BAD_REQUEST',
};

export const HUBSPOT_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'hubspot',
    system: 'crm',
    prefixes: ['/crm/v3'],
    authenticate,
    routes: [
      { method: 'POST', pattern: '/crm/v3/objects/companies/search', handle: searchCompanies },
      { method: 'POST', pattern: '/crm/v3/objects/contacts/batch/upsert', handle: upsertContacts },
      { method: 'GET', pattern: '/crm/v3/objects/contacts', handle: listContacts },
      { method: 'GET', pattern: '/crm/v3/objects/contacts/:id', handle: getContact },
      { method: 'PATCH', pattern: '/crm/v3/objects/contacts/:id', handle: updateContact },
      { method: 'GET', pattern: '/crm/v3/owners', handle: listOwners },
    ],
    rateRules: hubspotRateRules,
    rateHeaders: hubspotRateHeaders,
    rateLimited: hubspotRateLimited,
    errorReply: hubspotErrorReply,
  },
  oauthTokenEndpoint({
    provider: 'hubspot',
    prefix: '/oauth/v1',
    path: '/oauth/v1/token',
    success: ({ accessToken, expiresIn, refreshToken }) => ({
      token_type: 'bearer',
      refresh_token: refreshToken,
      access_token: accessToken,
      expires_in: expiresIn,
    }),
    error: (code, description) => ({
      status: OAUTH_STATUS[code],
      message: code === 'invalid_grant' ? 'missing or unknown refresh token' : description,
      correlationId: randomUUID(),
    }),
  }),
];
