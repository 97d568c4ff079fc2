import { z } from 'zod';
import { byToken, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import { parseBody } from '../schemas';
import { DEFAULT_RATE_RULE, type LeadRecord, type RateRule, type RateStatus, type SandboxState, type WorkspaceRuntime } from '../state';
import type { SandboxAccount } from '../types';
import { HttpError, paginate, type Reply } from '../wire';
import { accountDomains } from './hubspot';

/**
 * Pipedrive API v2 over the shared workspace: organizations are the seed's accounts (the domain in
 * a custom field), persons are the workspace's leads, users its users. The API token (the
 * workspace token) comes in `x-api-token` or `api_token`; every answer is a `{ success, data,
 * additional_data }` envelope, errors `{ success: false, error, error_info }`.
 *
 * Pipedrive IDs are integers, so a Pipedrive workspace's seed must use numeric strings for its
 * account and user IDs; the emulator refuses to invent numbers for others (persons get numbers
 * from the workspace's lead counter). Persons are not deduplicated: Pipedrive does not either.
 */

// ------------------------------------------------------------------------------------ wire format

const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

function pipedriveErrorReply(err: HttpError): Reply {
  return {
    status: err.status,
    body: {
      success: false,
      error: err.message,
      ...(err.status === 401 ? { errorCode: 401 } : {}),
      error_info: ERROR_INFO,
      data: null,
      additional_data: null,
    },
  };
}

// ---------------------------------------------------------------------------------------- limits

/**
 * Pipedrive's limits, per API token: the burst window (the workspace's own window here, 2 s at
 * Pipedrive, 20 to 120 requests by plan), the Search API's own window (10 requests per 2 s on
 * every plan), and the company's daily token budget (30,000 base tokens × plan multiplier ×
 * seats; the workspace's `rateLimit.dailyBudget`, else 30,000 × its users, the Lite multiplier),
 * reset at midnight UTC. Token costs follow Pipedrive's rate-limiting page by kind of call.
 */
const SEARCH_WINDOW = 'search';
const DAILY_WINDOW = 'daily';
const SEARCH_PATHS = new Set(['/api/v2/organizations/search', '/api/v2/persons/search', '/api/v2/itemSearch']);
const BASE_DAILY_TOKENS = 30_000;

function tokenCost(req: EmulatorRequest): number {
  if (SEARCH_PATHS.has(req.path)) return 40;
  if (req.method !== 'GET') return 10;
  return /\/\d+$/.test(req.path) ? 2 : 20;
}

function pipedriveRateRules(req: EmulatorRequest, ws: WorkspaceRuntime | null): RateRule[] {
  const budget = ws?.seed.rateLimit?.dailyBudget ?? BASE_DAILY_TOKENS * Math.max(1, ws?.seed.users.length ?? 1);
  return [
    DEFAULT_RATE_RULE,
    ...(SEARCH_PATHS.has(req.path) ? [{ name: SEARCH_WINDOW, limit: 10, windowSeconds: 2 }] : []),
    { name: DAILY_WINDOW, limit: budget, daily: true, cost: tokenCost(req) },
  ];
}

/**
 * `x-ratelimit-*` describe a 2-second window, reset in seconds: the one that refused the request,
 * else the tighter of the burst and search windows. The daily budget goes in
 * `x-daily-ratelimit-token-limit/-remaining` (what Pipedrive's API answers; its documentation
 * names only the `x-ratelimit-*` headers and `x-daily-requests-left`, a POST/PUT count not kept here).
 */
function pipedriveRateHeaders(rate: RateStatus, _now: number, all: readonly RateStatus[]): Record<string, string> {
  const refused = rate.exceeded && rate.window !== DAILY_WINDOW ? rate : null;
  // The burst window is always counted first, so there is one to show.
  const shown = refused ?? all.filter((r) => r.window !== DAILY_WINDOW).reduce((a, b) => (b.remaining < a.remaining ? b : a));
  const daily = all.find((r) => r.window === DAILY_WINDOW);
  return {
    'x-ratelimit-limit': String(shown.limit),
    'x-ratelimit-remaining': String(shown.remaining),
    'x-ratelimit-reset': String(shown.resetSeconds),
    ...(daily ? { 'x-daily-ratelimit-token-limit': String(daily.limit), 'x-daily-ratelimit-token-remaining': String(daily.remaining) } : {}),
  };
}

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const token = req.headers['x-api-token'] ?? req.query['api_token'] ?? null;
  return byToken(state, token, () => new HttpError(401, 'UNAUTHORIZED', 'unauthorized access'));
}

function ok(data: unknown, additional: unknown = null): Reply {
  return { status: 200, body: { success: true, data, additional_data: additional } };
}

/** Pipedrive's integer ID for a seed ID; a non-numeric seed ID is a sandbox set-up error. */
function integerId(id: string, what: string): number {
  if (!/^\d+$/.test(id)) {
    throw new HttpError(500, 'INTERNAL', `sandbox seed: Pipedrive ${what} IDs are integers, got "${id}"; give this workspace numeric IDs`);
  }
  return Number(id);
}

/** Timestamps as Pipedrive writes them: UTC, whole seconds. */
function pipedriveTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------- search

const searchQuery = z.object({
  term: z.string().trim().min(1),
  fields: z.string().optional(),
  exact_match: z.enum(['true', 'false']).default('false'),
});

interface Searchable {
  /** The values of each searchable field. */
  fields: Record<string, string[]>;
  item: unknown;
}

/**
 * Pipedrive's item search: the term in the requested fields (all by default), exactly
 * (case-insensitive) or as a substring of at least two characters. The score says how much of
 * the best field value the term covers.
 */
function search(query: Record<string, string>, candidates: Searchable[], allowedFields: string[]): Reply {
  const q = parseBody(searchQuery, query);
  const exact = q.exact_match === 'true';
  if (!exact && q.term.length < 2) throw new HttpError(400, 'VALIDATION', 'term: must be at least 2 characters long');
  const fields = q.fields === undefined ? allowedFields : q.fields.split(',').map((f) => f.trim());
  const unknown = fields.find((f) => !allowedFields.includes(f));
  if (unknown !== undefined) throw new HttpError(400, 'VALIDATION', `fields: ${unknown} is not one of ${allowedFields.join(', ')}`);
  const term = q.term.toLowerCase();
  const scored = candidates.flatMap((c) => {
    const values = fields.flatMap((f) => c.fields[f] ?? []).map((v) => v.toLowerCase());
    const hits = values.filter((v) => (exact ? v === term : v.includes(term)));
    if (hits.length === 0) return [];
    const score = Math.max(...hits.map((v) => term.length / v.length));
    return [{ result_score: Math.round(score * 10_000) / 10_000, item: c.item }];
  });
  const page = paginate(scored, query);
  return ok({ items: page.result }, { next_cursor: page.next_cursor });
}

// --------------------------------------------------------------------------------- organizations

/**
 * An organization keeps the company's primary domain (its first registered one, else its
 * website's host) in one custom text field; search items list custom field values bare.
 */
function organizationSearchable(a: SandboxAccount): Searchable {
  const domain = accountDomains(a)[0];
  const customFields = domain === undefined ? [] : [domain];
  return {
    fields: { name: [a.name], custom_fields: customFields },
    item: {
      id: integerId(a.id, 'organization'),
      type: 'organization',
      name: a.name,
      address: null,
      visible_to: 3,
      owner: { id: integerId(a.ownerId, 'user') },
      custom_fields: customFields,
      notes: [],
    },
  };
}

function searchOrganizations({ ws, query }: RouteContext): Reply {
  return search(query, ws.seed.accounts.map(organizationSearchable), ['address', 'custom_fields', 'notes', 'name']);
}

// --------------------------------------------------------------------------------------- persons

/** Persons are the leads with Pipedrive (integer) IDs; other emulators' leads are not theirs. */
function persons(ws: WorkspaceRuntime): LeadRecord[] {
  return [...ws.leads.values()].filter((l) => /^\d+$/.test(l.id));
}

function personName(lead: LeadRecord): string {
  return [lead.first_name, lead.last_name].filter((n) => n !== null).join(' ') || lead.email;
}

function contactList(value: string | null): Array<{ value: string; primary: boolean; label: string }> {
  return value === null || value === '' ? [] : [{ value, primary: true, label: 'work' }];
}

function personWire(lead: LeadRecord): unknown {
  return {
    id: Number(lead.id),
    name: personName(lead),
    first_name: lead.first_name,
    last_name: lead.last_name,
    owner_id: integerId(lead.owner_id, 'user'),
    org_id: null,
    add_time: pipedriveTime(lead.created_at),
    update_time: pipedriveTime(lead.updated_at),
    emails: contactList(lead.email),
    phones: contactList(lead.phone),
    is_deleted: false,
    visible_to: 3,
  };
}

function searchPersons({ ws, query }: RouteContext): Reply {
  const candidates = persons(ws).map((lead) => ({
    fields: { name: [personName(lead)], email: lead.email ? [lead.email] : [], phone: lead.phone ? [lead.phone] : [] },
    item: {
      id: Number(lead.id),
      type: 'person',
      name: personName(lead),
      phones: lead.phone ? [lead.phone] : [],
      emails: lead.email ? [lead.email] : [],
      visible_to: 3,
      owner: { id: integerId(lead.owner_id, 'user') },
      organization: null,
      custom_fields: [],
      notes: [],
      update_time: pipedriveTime(lead.updated_at),
    },
  }));
  return search(query, candidates, ['custom_fields', 'email', 'notes', 'phone', 'name']);
}

/** The seed user a Pipedrive owner ID names (400 when there is none). */
function ownerOf(ws: WorkspaceRuntime, ownerId: number): string {
  const user = ws.seed.users.find((u) => /^\d+$/.test(u.id) && Number(u.id) === ownerId);
  if (!user) throw new HttpError(400, 'VALIDATION', `owner_id: user ${ownerId} does not exist`);
  return user.id;
}

const contactValues = z.array(z.object({ value: z.string(), primary: z.boolean().optional(), label: z.string().optional() }));

const createPersonBody = z.object({
  name: z.string().trim().min(1),
  owner_id: z.number().int().optional(),
  emails: contactValues.optional(),
  phones: contactValues.optional(),
});

const updatePersonBody = z.object({
  name: z.string().trim().min(1).optional(),
  owner_id: z.number().int().optional(),
});

/** The primary value of an emails/phones list, else the first. */
function primaryValue(list: z.infer<typeof contactValues> | undefined): string | null {
  return (list?.find((e) => e.primary) ?? list?.[0])?.value ?? null;
}

function splitName(lead: LeadRecord, name: string): void {
  const [first = name, ...rest] = name.split(' ');
  lead.first_name = first;
  lead.last_name = rest.length > 0 ? rest.join(' ') : null;
}

/** Without `owner_id`, the person belongs to the token's user: the workspace's first user here. */
function defaultOwner(ws: WorkspaceRuntime): string {
  const user = ws.seed.users[0];
  if (!user) throw new HttpError(400, 'VALIDATION', 'owner_id: the workspace has no users');
  return user.id;
}

function createPerson({ ws, body, now }: RouteContext): Reply {
  const input = parseBody(createPersonBody, body);
  const owner = input.owner_id === undefined ? defaultOwner(ws) : ownerOf(ws, input.owner_id);
  const at = new Date(now).toISOString();
  const lead: LeadRecord = {
    id: String(ws.nextLeadNo++),
    email: primaryValue(input.emails) ?? '',
    first_name: null,
    last_name: null,
    company: null,
    title: null,
    phone: primaryValue(input.phones),
    source: null,
    owner_id: owner,
    created_at: at,
    updated_at: at,
  };
  splitName(lead, input.name);
  ws.leads.set(lead.id, lead);
  return ok(personWire(lead));
}

function personById(ws: WorkspaceRuntime, id: string): LeadRecord {
  if (!/^\d+$/.test(id)) throw new HttpError(400, 'VALIDATION', 'id: must be an integer');
  const lead = ws.leads.get(id);
  if (!lead) throw new HttpError(404, 'NOT_FOUND', 'Person not found');
  return lead;
}

function getPerson({ ws, params }: RouteContext): Reply {
  return ok(personWire(personById(ws, params['id'] ?? '')));
}

function updatePerson({ ws, params, body, now }: RouteContext): Reply {
  const lead = personById(ws, params['id'] ?? '');
  const input = parseBody(updatePersonBody, body);
  if (input.owner_id !== undefined) lead.owner_id = ownerOf(ws, input.owner_id);
  if (input.name !== undefined) splitName(lead, input.name);
  lead.updated_at = new Date(now).toISOString();
  return ok(personWire(lead));
}

// -------------------------------------------------------------------------------------- emulator

export const PIPEDRIVE_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'pipedrive',
    system: 'crm',
    prefixes: ['/api/v2/organizations', '/api/v2/persons'],
    authenticate,
    routes: [
      { method: 'GET', pattern: '/api/v2/organizations/search', handle: searchOrganizations },
      { method: 'GET', pattern: '/api/v2/persons/search', handle: searchPersons },
      { method: 'POST', pattern: '/api/v2/persons', handle: createPerson },
      { method: 'GET', pattern: '/api/v2/persons/:id', handle: getPerson },
      { method: 'PATCH', pattern: '/api/v2/persons/:id', handle: updatePerson },
    ],
    rateRules: pipedriveRateRules,
    rateHeaders: pipedriveRateHeaders,
    // Pipedrive's 429 carries the window's headers (added to every answer) and no Retry-After;
    // a spent daily budget shows as x-daily-ratelimit-token-remaining: 0.
    rateLimited: () => pipedriveErrorReply(new HttpError(429, 'RATE_LIMITED', 'Request over limit')),
    errorReply: pipedriveErrorReply,
  },
];
