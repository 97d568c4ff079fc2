import { randomBytes } from 'node:crypto';
import { bearerToken, byToken, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import type { SandboxState, WorkspaceRuntime } from '../state';
import { HttpError, type ErrorCode, type Reply } from '../wire';

/**
 * Meta's Graph API for Lead Ads, as documented (Retrieving Leads, Handling Errors, Rate Limiting):
 * - `GET /v{version}/{lead-id}?fields=…` reads a lead: `{ id, created_time, field_data: [{ name,
 *   values }] }` by default; `fields` may also ask for `form_id`, `ad_id`, `platform`,
 *   `is_organic`. A field a Lead does not have is error 100.
 * - `POST /v{version}/{form-id}/test_leads` with `field_data` (a JSON array, in a JSON or form
 *   body) creates a test lead and answers `{ id }`, as Meta's lead testing does; this is how tests
 *   and the demo put a lead behind a leadgen_id.
 * - The Page access token comes as `Authorization: Bearer` (or `OAuth`) or `?access_token=`; the
 *   workspace token is the Page token here.
 * - Errors are `{ error: { message, type, code, error_subcode?, is_transient?, fbtrace_id } }`:
 *   no token 400 code 104, a bad token 400 code 190 with WWW-Authenticate, an unknown object 400
 *   code 100 subcode 33, throttling 403 code 4 (`(#4) Application request limit reached`,
 *   is_transient), a server fault 500 code 2. Every answer carries `X-App-Usage` (percentages of
 *   the window used), as Graph does once an app has made calls.
 * Leads live per workspace runtime, so replacing a workspace (its seed) forgets them.
 */
export const META_GRAPH_VERSIONS = ['v19.0', 'v20.0', 'v21.0', 'v22.0', 'v23.0', 'v24.0', 'v25.0', 'v26.0'] as const;

export interface GraphLead {
  id: string;
  created_time: string;
  form_id: string;
  field_data: Array<{ name: string; values: string[] }>;
  platform: string;
  is_organic: boolean;
}

const leadsByWorkspace = new WeakMap<WorkspaceRuntime, Map<string, GraphLead>>();
const nextIdByState = new WeakMap<SandboxState, number>();
/** 16-digit IDs, below 2^53 so a client that parses them as numbers still gets them exactly. */
const FIRST_LEAD_ID = 1_200_000_000_000_000;

function leadsOf(ws: WorkspaceRuntime): Map<string, GraphLead> {
  let leads = leadsByWorkspace.get(ws);
  if (!leads) {
    leads = new Map();
    leadsByWorkspace.set(ws, leads);
  }
  return leads;
}

function newLeadId(state: SandboxState): string {
  const n = nextIdByState.get(state) ?? FIRST_LEAD_ID;
  nextIdByState.set(state, n + 1);
  return String(n);
}

/** Graph's own timestamp format: `2024-06-03T16:00:00+0000`. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

// ------------------------------------------------------------------------------------ errors

/** An error in Graph's terms; thrown by handlers and rendered by graphErrorReply. */
interface GraphErrorShape {
  status: number;
  message: string;
  type: string;
  code: number;
  subcode?: number;
  transient?: boolean;
}

const BY_CODE: Record<ErrorCode, Omit<GraphErrorShape, 'message'>> = {
  VALIDATION: { status: 400, type: 'OAuthException', code: 100 },
  UNAUTHORIZED: { status: 400, type: 'OAuthException', code: 190 },
  NOT_FOUND: { status: 400, type: 'GraphMethodException', code: 100, subcode: 33 },
  RATE_LIMITED: { status: 403, type: 'OAuthException', code: 4, transient: true },
  INTERNAL: { status: 500, type: 'OAuthException', code: 2, transient: true },
};

/** Graph's `fbtrace_id`: an opaque 11-character support ID. */
function fbtraceId(): string {
  return randomBytes(9).toString('base64url').slice(0, 11);
}

function graphErrorReply(err: HttpError): Reply {
  const shape = BY_CODE[err.code];
  const code = err.providerCode !== undefined ? Number(err.providerCode) : shape.code;
  const status = err.status >= 500 || err.code === 'RATE_LIMITED' ? err.status : shape.status;
  const error: Record<string, unknown> = { message: err.message, type: err.enrichmentType ?? shape.type, code };
  if (shape.subcode !== undefined && err.providerCode === undefined) error['error_subcode'] = shape.subcode;
  if (shape.transient) error['is_transient'] = true;
  error['fbtrace_id'] = fbtraceId();
  const headers: Record<string, string> = code === 190 || code === 104 ? { 'WWW-Authenticate': `OAuth "Facebook Platform" "invalid_token" "${err.message}"` } : {};
  return { status, body: { error }, headers };
}

// ------------------------------------------------------------------------------------ auth

function accessToken(req: EmulatorRequest): string | null {
  const oauth = /^OAuth\s+(\S+)\s*$/i.exec(req.headers['authorization'] ?? '');
  return bearerToken(req.headers) ?? oauth?.[1] ?? req.query['access_token'] ?? null;
}

function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const token = accessToken(req);
  if (token === null || token === '') {
    return { workspace: null, claimed: null, error: new HttpError(400, 'UNAUTHORIZED', 'An access token is required to request this resource.', undefined, '104') };
  }
  return byToken(state, token, () => new HttpError(400, 'UNAUTHORIZED', 'Invalid OAuth access token - Cannot parse access token'));
}

// ------------------------------------------------------------------------------------ routes

const DEFAULT_FIELDS = ['id', 'created_time', 'field_data'];
const LEAD_FIELDS: ReadonlySet<string> = new Set(['id', 'created_time', 'field_data', 'form_id', 'ad_id', 'adset_id', 'campaign_id', 'platform', 'is_organic']);

function unknownObject(id: string): HttpError {
  return new HttpError(
    400,
    'NOT_FOUND',
    `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  );
}

function readLead({ ws, params, query }: RouteContext): Reply {
  const id = params['id'] ?? '';
  const lead = leadsOf(ws).get(id);
  if (!lead) throw unknownObject(id);
  const fields = query['fields'] ? query['fields'].split(',').map((f) => f.trim()).filter((f) => f !== '') : DEFAULT_FIELDS;
  const unknown = fields.find((f) => !LEAD_FIELDS.has(f));
  if (unknown) throw new HttpError(400, 'VALIDATION', `(#100) Tried accessing nonexisting field (${unknown}) on node type (Lead)`);
  const wire: Record<string, unknown> = { id: lead.id };
  for (const field of fields) {
    if (field === 'id') continue;
    const value = (lead as unknown as Record<string, unknown>)[field];
    // Ad fields are absent on organic and test leads, as Graph leaves them out.
    if (value !== undefined) wire[field] = value;
  }
  return { status: 200, body: wire };
}

function fieldDataOf(body: unknown): Array<{ name: string; values: string[] }> {
  const raw = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['field_data'] : undefined;
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every((f) => {
      const field = f as { name?: unknown; values?: unknown };
      return typeof field.name === 'string' && field.name !== '' && Array.isArray(field.values) && field.values.every((v) => typeof v === 'string');
    });
  if (!ok) throw new HttpError(400, 'VALIDATION', '(#100) The parameter field_data is required and must be an array of { name, values }');
  return (parsed as Array<{ name: string; values: string[] }>).map((f) => ({ name: f.name, values: [...f.values] }));
}

function createTestLead({ ws, params, body, now, state }: RouteContext): Reply {
  const formId = params['formId'] ?? '';
  if (!/^\d{1,30}$/.test(formId)) throw unknownObject(formId);
  const lead: GraphLead = { id: newLeadId(state), created_time: graphTime(now), form_id: formId, field_data: fieldDataOf(body), platform: 'fb', is_organic: false };
  leadsOf(ws).set(lead.id, lead);
  return { status: 200, body: { id: lead.id } };
}

/** `X-App-Usage`: the share of the window used, in percent, as Graph reports it. */
function appUsage(rate: { limit: number; remaining: number }): Record<string, string> {
  const used = rate.limit > 0 ? Math.min(100, Math.round(((rate.limit - rate.remaining) / rate.limit) * 100)) : 100;
  return { 'X-App-Usage': JSON.stringify({ call_count: used, total_cputime: Math.round(used / 4), total_time: Math.round(used / 3) }) };
}

export const META_GRAPH_EMULATOR: ProviderEmulator = {
  provider: 'meta',
  system: 'ads',
  prefixes: [...META_GRAPH_VERSIONS.map((v) => `/${v}`)],
  authenticate,
  routes: META_GRAPH_VERSIONS.flatMap((v) => [
    { method: 'GET', pattern: `/${v}/:id`, handle: readLead },
    { method: 'POST', pattern: `/${v}/:formId/test_leads`, handle: createTestLead },
  ]),
  rateHeaders: appUsage,
  rateLimited: (rate) => ({ ...graphErrorReply(new HttpError(403, 'RATE_LIMITED', '(#4) Application request limit reached')), headers: appUsage({ limit: rate.limit, remaining: 0 }) }),
  errorReply: graphErrorReply,
};
