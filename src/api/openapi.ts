import type { Router } from 'express';
import { z } from 'zod';
import { DOC_SCHEMAS } from '../distribution/model';
import { policyJsonSchema } from '../domain/policy/jsonSchema';
import {
  AcceptBody,
  AccountStatsQuery,
  AuditQuery,
  AvailabilityAnswer,
  AvailabilityQuery,
  CatalogPutQuery,
  ErasureAnswer,
  ErasuresAnswer,
  ErasuresQuery,
  ErrorAnswer,
  LeadCreateBody,
  LeadsListAnswer,
  LeadsListQuery,
  PauseBody,
  PolicyVersionAnswer,
  PoolStatsQuery,
  PublishAnswer,
  PublishQuery,
  QuarantineAnswer,
  QuarantineDiscardBody,
  QuarantineListAnswer,
  QuarantineListQuery,
  QuarantineReplayAnswer,
  QuarantineReplayBody,
  ReassignBody,
  ReturnBody,
  ReturnDecisionBody,
  RollbackBody,
  SessionSignInBody,
  SimulateBody,
  SourceMappingBody,
} from './contracts';

/*
 * The API's OpenAPI 3.1 document, built from the same zod contracts the routes parse with
 * (src/api/contracts.ts), so it cannot drift from what the API accepts. Every route the app
 * serves is listed below, deliberately, by hand: test/unit/openapi.test.ts compares this list
 * with the routes the express app registers, so a new route without an entry here fails it.
 */

type Method = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call: `tenant` an API key or a console session (writes with the session's CSRF token);
 * `public` anyone; `supplier` a supplier's key; `signed` a signature in the request (accept
 * links, Slack callbacks).
 */
type Access = 'tenant' | 'public' | 'supplier' | 'signed';

type JsonSchema = Record<string, unknown>;

interface Answer {
  status: number;
  description: string;
  schema?: z.ZodType | JsonSchema;
  /** Default application/json. */
  contentType?: string;
}

export interface Operation {
  method: Method;
  /** As express has it (`/v1/leads/:leadId`). */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  query?: z.ZodType;
  body?: { schema: z.ZodType | JsonSchema; contentTypes?: string[]; description?: string };
  ok: Answer;
  /** Error statuses worth naming beyond the ones every operation of its access can give. */
  errors?: number[];
}

const json = 'application/json';
const free = (description: string): JsonSchema => ({ type: 'object', description, additionalProperties: true });
const leadState = free('The lead’s state (LeadState): status, the normalized lead, the decision trace with every rep’s eligibility, owner, SLA clock, escalations, reassignments, notifications, step timings and upstream calls; plus workflowId and webUiUrl.');
const catalogDoc = free('A stored catalog document: { id, kind, version, updatedAt, actor, note, document } (buyers and suppliers also their live account: caps, budget, breakers).');

/** Every route the app serves, grouped as the README describes them. */
export const OPERATIONS: Operation[] = [
  // Operations
  { method: 'get', path: '/healthz', summary: 'Health of the API, Temporal, the worker and the connections', tag: 'operations', access: 'public', ok: { status: 200, description: 'healthy (503 when not), with each check', schema: free('{ ok, checks }') } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', tag: 'operations', access: 'public', ok: { status: 200, description: 'Prometheus text exposition', contentType: 'text/plain', schema: { type: 'string' } } },
  { method: 'get', path: '/v1/openapi.json', summary: 'This document (no tenant data, so no credentials needed)', tag: 'operations', access: 'public', ok: { status: 200, description: 'OpenAPI 3.1', schema: free('OpenAPI 3.1 document') } },
  { method: 'post', path: '/codec/decode', summary: 'Codec server (Temporal codec-server protocol): decrypts the caller’s tenant’s payloads; another tenant’s come back still encrypted. API key or console session cookie; CORS for the Web UI; no CSRF token (it changes nothing)', tag: 'operations', access: 'tenant', body: { schema: free('{ payloads: [{ metadata: { name: base64 }, data: base64 }] }') }, ok: { status: 200, description: 'the payloads, decoded where the caller may', schema: free('{ payloads: [...] }') }, errors: [400] },
  { method: 'post', path: '/codec/encode', summary: 'Codec server: encrypts payloads with the caller’s tenant’s active key', tag: 'operations', access: 'tenant', body: { schema: free('{ payloads: [{ metadata: { name: base64 }, data: base64 }] }') }, ok: { status: 200, description: 'the payloads, encrypted', schema: free('{ payloads: [...] }') }, errors: [400] },

  // Console
  { method: 'get', path: '/console', summary: 'Redirects to /console/', tag: 'console', access: 'public', ok: { status: 301, description: 'to /console/', contentType: 'text/html', schema: { type: 'string' } } },
  { method: 'get', path: '/console/', summary: 'The operations console (a single page; its data comes from this API)', tag: 'console', access: 'public', ok: { status: 200, description: 'the console page', contentType: 'text/html', schema: { type: 'string' } } },
  { method: 'get', path: '/console/assets/:file', summary: 'The console’s hashed script and style files', tag: 'console', access: 'public', ok: { status: 200, description: 'a static file, cached as immutable', contentType: 'application/octet-stream', schema: { type: 'string' } } },
  { method: 'post', path: '/v1/session', summary: 'Sign in to the console (sets the lr_session cookie)', tag: 'console', access: 'public', body: { schema: SessionSignInBody }, ok: { status: 200, description: 'the user, their tenant and the CSRF token for writes', schema: free('{ user: { email, name, role }, tenant: { id, name, timezone }, csrfToken }') }, errors: [401, 429] },
  { method: 'get', path: '/v1/session', summary: 'The signed-in user', tag: 'console', access: 'tenant', ok: { status: 200, description: 'as sign-in answers', schema: free('{ user, tenant, csrfToken }') } },
  { method: 'delete', path: '/v1/session', summary: 'Sign out', tag: 'console', access: 'tenant', ok: { status: 204, description: 'signed out; the cookie is cleared' } },

  // Leads
  { method: 'post', path: '/v1/leads', summary: 'Accept a lead and start routing it (Idempotency-Key header optional)', tag: 'leads', access: 'tenant', body: { schema: LeadCreateBody }, ok: { status: 202, description: 'accepted', schema: free('{ leadId, workflowId, statusUrl, webUiUrl }') }, errors: [409, 410] },
  { method: 'get', path: '/v1/leads', summary: 'The routing log: leads by email, company, source, owner, status, domain, rule or start time, newest first, a page at a time', tag: 'leads', access: 'tenant', query: LeadsListQuery, ok: { status: 200, description: 'one page of leads', schema: LeadsListAnswer } },
  { method: 'get', path: '/v1/leads/:leadId', summary: 'A lead’s state: decision trace, owner, SLA, timings', tag: 'leads', access: 'tenant', ok: { status: 200, description: 'the lead', schema: leadState }, errors: [404] },
  { method: 'get', path: '/v1/leads/:leadId/audit', summary: 'A lead’s audit timeline (JSON or CSV)', tag: 'leads', access: 'tenant', query: AuditQuery, ok: { status: 200, description: 'the timeline', schema: free('{ leadId, workflowId, timeline, durations } (CSV with format=csv)') }, errors: [404] },
  { method: 'post', path: '/v1/leads/:leadId/reassign', summary: 'Reassign a lead (also after its run closed)', tag: 'leads', access: 'tenant', body: { schema: ReassignBody }, ok: { status: 202, description: 'taken', schema: free('{ leadId, requestId, ownerId, run }') }, errors: [404, 409, 410] },
  { method: 'post', path: '/v1/leads/:leadId/accept', summary: 'Accept a lead for its owner (stops the SLA clock)', tag: 'leads', access: 'tenant', body: { schema: AcceptBody }, ok: { status: 202, description: 'taken', schema: free('{ leadId, accepted: true }') }, errors: [404, 409] },
  { method: 'delete', path: '/v1/leads/:leadId', summary: 'Erase a closed lead: delete every run of it from Temporal (history and visibility) and record who did it, when (admin). A lead still in flight is refused (409, naming its status); erasing again answers the logged record', tag: 'leads', access: 'tenant', ok: { status: 200, description: 'what was erased, when and by whom (IDs only); 202 with the same body while Temporal is still deleting the runs (send it again)', schema: ErasureAnswer }, errors: [404, 409] },
  { method: 'get', path: '/v1/erasures', summary: 'The tenant’s erasure log, newest first: lead and run IDs, who, when (no personal data)', tag: 'leads', access: 'tenant', query: ErasuresQuery, ok: { status: 200, description: 'one page of the log', schema: ErasuresAnswer } },
  { method: 'post', path: '/v1/leads/:leadId/returns', summary: 'Return a distributed lead to a buyer’s supplier', tag: 'distribution', access: 'tenant', body: { schema: ReturnBody }, ok: { status: 200, description: 'the sale with its return', schema: free('the sale') }, errors: [404, 409] },
  { method: 'post', path: '/v1/leads/:leadId/returns/:buyerId/decision', summary: 'Approve or deny a buyer’s return', tag: 'distribution', access: 'tenant', body: { schema: ReturnDecisionBody }, ok: { status: 200, description: 'the sale with the decision', schema: free('the sale') }, errors: [404, 409] },

  // Policy
  { method: 'get', path: '/v1/policy', summary: 'The published policy (or the built-in default)', tag: 'policy', access: 'tenant', ok: { status: 200, description: 'the current version', schema: free('{ version, policy, publishedAt, actor }') } },
  { method: 'put', path: '/v1/policy', summary: 'Publish a policy (JSON or YAML) as the next version', tag: 'policy', access: 'tenant', query: PublishQuery, body: { schema: { $ref: '#/components/schemas/Policy' }, contentTypes: [json, 'application/yaml'] }, ok: { status: 200, description: 'the version it became, with rules that can never match', schema: PublishAnswer } },
  { method: 'get', path: '/v1/policy/schema', summary: 'The policy’s JSON Schema (for editors)', tag: 'policy', access: 'tenant', ok: { status: 200, description: 'JSON Schema draft 2020-12', schema: { $ref: '#/components/schemas/Policy' } } },
  { method: 'get', path: '/v1/policy/versions', summary: 'Every stored version: who published it, when, why', tag: 'policy', access: 'tenant', ok: { status: 200, description: 'versions, oldest first', schema: free('{ versions: [{ version, hash, publishedAt, actor, note }] }') } },
  { method: 'get', path: '/v1/policy/versions/:version', summary: 'One stored version with its policy (`v3` or `3`)', tag: 'policy', access: 'tenant', ok: { status: 200, description: 'the version', schema: PolicyVersionAnswer }, errors: [404] },
  { method: 'post', path: '/v1/policy/rollback', summary: 'Publish an earlier version’s policy again, as a new version', tag: 'policy', access: 'tenant', body: { schema: RollbackBody }, ok: { status: 200, description: 'as PUT /v1/policy answers', schema: PublishAnswer }, errors: [404] },
  { method: 'post', path: '/v1/policy/simulate', summary: 'Who would get a lead now, and why, with the published policy or a draft (writes nothing)', tag: 'policy', access: 'tenant', body: { schema: SimulateBody }, ok: { status: 200, description: 'the decision trace and who would be assigned', schema: free('{ decision, wouldAssign, enrichment, account, upstream, warnings? }') } },
  { method: 'get', path: '/v1/pools/:pool/stats', summary: 'A pool’s assignments per member against target shares, and caps', tag: 'policy', access: 'tenant', query: PoolStatsQuery, ok: { status: 200, description: 'the period’s statistics', schema: free('{ pool, strategy, policyVersion, period, key, total, members: [{ repId, assigned, share, targetShare, weight, paused, cap }] }') }, errors: [404] },
  { method: 'get', path: '/v1/availability', summary: 'Every rep now: available, on leave, in a meeting, outside hours, capped or paused; until when', tag: 'policy', access: 'tenant', query: AvailabilityQuery, ok: { status: 200, description: 'the availability board', schema: AvailabilityAnswer } },

  // Quarantine (source events that failed their mapping or the lead schema)
  { method: 'get', path: '/v1/quarantine', summary: 'Quarantined source events by status and source: held ones newest first, then resolved ones', tag: 'quarantine', access: 'tenant', query: QuarantineListQuery, ok: { status: 200, description: 'one page of quarantined events', schema: QuarantineListAnswer } },
  { method: 'get', path: '/v1/quarantine/:id', summary: 'A quarantined event: the payload as received, why it failed, what was done with it', tag: 'quarantine', access: 'tenant', ok: { status: 200, description: 'the quarantined event', schema: QuarantineAnswer }, errors: [404] },
  { method: 'post', path: '/v1/quarantine/:id/replay', summary: 'Map the event again with the current mapping stack and route it (idempotent; ops)', tag: 'quarantine', access: 'tenant', body: { schema: QuarantineReplayBody }, ok: { status: 200, description: 'the lead it started (or had started)', schema: QuarantineReplayAnswer }, errors: [404, 409, 422] },
  { method: 'post', path: '/v1/quarantine/:id/discard', summary: 'Discard the event, recording who and why (ops)', tag: 'quarantine', access: 'tenant', body: { schema: QuarantineDiscardBody }, ok: { status: 200, description: 'the quarantined event, discarded', schema: QuarantineAnswer }, errors: [404, 409] },

  // Lead sources (signed webhooks from form tools, marketing automation and ad platforms)
  { method: 'post', path: '/v1/sources/:sourceId/events', summary: 'A source’s delivery (HubSpot, Typeform, Segment, Marketo, generic JSON, …), verified by its own signature; the raw body is what is verified', tag: 'sources', access: 'signed', body: { schema: free('the provider’s own payload') }, ok: { status: 202, description: 'the lead started ({ leadId, status: accepted }) or the payload quarantined ({ quarantineId, status: quarantined, reason, field }); 200 with the same leadId for a redelivery', schema: free('{ status, leadId? , quarantineId?, reason?, field?, events? }') }, errors: [401, 404, 410] },
  { method: 'get', path: '/v1/sources/:sourceId/events', summary: 'A source’s verification handshake (Meta’s hub.challenge); starts nothing', tag: 'sources', access: 'signed', ok: { status: 200, description: 'the challenge echoed', contentType: 'text/plain', schema: { type: 'string' } }, errors: [403, 404] },
  { method: 'get', path: '/v1/sources', summary: 'The tenant’s sources: kind, endpoint, mapping layers, last event and counts (never a secret)', tag: 'sources', access: 'tenant', ok: { status: 200, description: 'the sources', schema: free('{ sources: [{ id, sourceId, kind, name, endpoint, mapping, lastEventAt, counts: { accepted, duplicate, rejected, quarantined }, lastRejection }], countsSince }') } },
  { method: 'get', path: '/v1/sources/:sourceId/mapping', summary: 'A source’s mapping stack (platform, environment, tenant) and its published versions', tag: 'sources', access: 'tenant', ok: { status: 200, description: 'the stack and the versions', schema: free('{ id, kind, layers: [{ layer, mapping }], configured, versions }') }, errors: [404] },
  { method: 'put', path: '/v1/sources/:sourceId/mapping', summary: 'Publish the tenant’s mapping override for a source (admin); applies from the next event, no restart', tag: 'sources', access: 'tenant', body: { schema: SourceMappingBody }, ok: { status: 200, description: 'the version published', schema: free('{ id, version, publishedAt, actor, note, withdrawn }') }, errors: [404, 422] },

  // Connections
  { method: 'get', path: '/v1/connections', summary: 'Each connection’s provider, OAuth state, rate-limit state and last refusal', tag: 'connections', access: 'tenant', ok: { status: 200, description: 'the connections', schema: free('{ connections: [...] }') } },
  { method: 'get', path: '/v1/connections/:category/mapping', summary: 'A connection’s effective field mapping and its layers', tag: 'connections', access: 'tenant', ok: { status: 200, description: 'the mapping', schema: free('the mapping') }, errors: [404] },
  { method: 'post', path: '/v1/connections/:category/reauthorize', summary: 'Try a connection’s credentials again after a refusal', tag: 'connections', access: 'tenant', ok: { status: 202, description: 'the next call asks for a new access token', schema: free('{ category, provider, state, detail }') }, errors: [404] },

  // Distribution catalog and accounts
  ...(['campaigns', 'suppliers', 'buyers'] as const).flatMap((plural): Operation[] => {
    const kind = plural.slice(0, -1) as keyof typeof DOC_SCHEMAS;
    return [
      { method: 'get', path: `/v1/${plural}`, summary: `Every ${kind}`, tag: 'distribution', access: 'tenant', ok: { status: 200, description: `the ${plural}`, schema: free(`{ ${plural}: [...] }`) } },
      { method: 'get', path: `/v1/${plural}/:id`, summary: `One ${kind}`, tag: 'distribution', access: 'tenant', ok: { status: 200, description: `the ${kind}`, schema: catalogDoc }, errors: [404] },
      { method: 'get', path: `/v1/${plural}/:id/versions`, summary: `A ${kind}’s stored versions`, tag: 'distribution', access: 'tenant', ok: { status: 200, description: 'the versions', schema: free('{ id, versions: [...] }') }, errors: [404] },
      { method: 'put', path: `/v1/${plural}/:id`, summary: `Create or change a ${kind} (validated, versioned)`, tag: 'distribution', access: 'tenant', query: CatalogPutQuery, body: { schema: DOC_SCHEMAS[kind] }, ok: { status: 200, description: 'the stored version', schema: catalogDoc } },
    ];
  }),
  { method: 'post', path: '/v1/buyers/:id/pause', summary: 'Pause a buyer', tag: 'distribution', access: 'tenant', body: { schema: PauseBody }, ok: { status: 200, description: 'the stored version', schema: catalogDoc }, errors: [404] },
  { method: 'post', path: '/v1/buyers/:id/resume', summary: 'Resume a buyer', tag: 'distribution', access: 'tenant', body: { schema: PauseBody }, ok: { status: 200, description: 'the stored version', schema: catalogDoc }, errors: [404] },
  { method: 'get', path: '/v1/buyers/:id/stats', summary: 'A buyer’s counts, revenue and payout per day', tag: 'distribution', access: 'tenant', query: AccountStatsQuery, ok: { status: 200, description: 'the statistics', schema: free('{ buyer, timeZone, from, to, ..., revenue, payout, margin, days }') }, errors: [404] },
  { method: 'get', path: '/v1/suppliers/:id/stats', summary: 'A supplier’s counts, revenue and payout per day', tag: 'distribution', access: 'tenant', query: AccountStatsQuery, ok: { status: 200, description: 'the statistics', schema: free('{ supplier, timeZone, from, to, ..., revenue, payout, margin, days }') }, errors: [404] },

  // Suppliers (their own keys)
  { method: 'post', path: '/v1/campaigns/:campaignId/leads', summary: 'A supplier sends a lead to a campaign', tag: 'suppliers', access: 'supplier', body: { schema: free('the campaign’s lead fields') }, ok: { status: 200, description: 'the outcome', schema: free('{ leadId, status, ... }') }, errors: [404, 409] },
  { method: 'post', path: '/v1/campaigns/:campaignId/ping', summary: 'A supplier pings a campaign with a partial lead for a bid', tag: 'suppliers', access: 'supplier', body: { schema: free('the campaign’s ping fields') }, ok: { status: 200, description: 'the bid', schema: free('{ bidId, price, ... }') }, errors: [404] },
  { method: 'post', path: '/v1/campaigns/:campaignId/post', summary: 'A supplier posts the full lead for a bid', tag: 'suppliers', access: 'supplier', body: { schema: free('{ bidId, lead }') }, ok: { status: 200, description: 'the outcome', schema: free('{ leadId, status, ... }') }, errors: [404, 409] },
  { method: 'get', path: '/v1/campaigns/:campaignId/leads/:leadId', summary: 'A supplier reads the outcome of its lead', tag: 'suppliers', access: 'supplier', ok: { status: 200, description: 'the outcome', schema: free('the lead’s outcome') }, errors: [404] },

  // Signed callbacks
  { method: 'get', path: '/v1/accept', summary: 'An accept link from a notification (a signed token in the query): a confirmation page', tag: 'callbacks', access: 'signed', ok: { status: 200, description: 'a page with a button', contentType: 'text/html', schema: { type: 'string' } } },
  { method: 'post', path: '/v1/accept', summary: 'The accept link’s confirmation (form post with the signed token)', tag: 'callbacks', access: 'signed', body: { schema: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] }, contentTypes: ['application/x-www-form-urlencoded'] }, ok: { status: 200, description: 'accepted', schema: free('{ leadId, accepted: true }') } },
  { method: 'post', path: '/v1/integrations/slack/:tenantId/interactions', summary: 'Slack’s interactivity callback (signed with the Slack signing secret)', tag: 'callbacks', access: 'signed', body: { schema: { type: 'object', properties: { payload: { type: 'string' } } }, contentTypes: ['application/x-www-form-urlencoded'] }, ok: { status: 200, description: 'acknowledged', schema: free('a Slack response') } },
];

/** A zod schema as JSON Schema for the request side (or the answer side), without its `$schema` line. */
function toSchema(schema: z.ZodType | JsonSchema, io: 'input' | 'output'): JsonSchema {
  if (!(schema instanceof z.ZodType)) return schema;
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** `/v1/leads/:leadId` → `/v1/leads/{leadId}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid request: every bad field is named in `details`',
  401: 'not authenticated',
  403: 'not allowed: another role is needed, or the CSRF token is missing',
  404: 'not found',
  409: 'conflict with the current state',
  410: 'the lead was erased (DELETE /v1/leads/:leadId): it is never started, routed or reassigned again',
  422: 'the request is understood but its content fails: every failing field is named in `details`',
  415: 'the body is not JSON',
  429: 'too many attempts; retry after the Retry-After header',
  503: 'Temporal did not answer in time; retry after the Retry-After header',
};

function security(op: Operation): Array<Record<string, string[]>> {
  switch (op.access) {
    case 'public':
    case 'signed':
      return [];
    case 'supplier':
      return [{ supplierKey: [] }];
    case 'tenant':
      // A console session's writes also carry the session's CSRF token.
      return op.method === 'get' ? [{ apiKey: [] }, { session: [] }] : [{ apiKey: [] }, { session: [], csrfToken: [] }];
  }
}

function operationObject(op: Operation): JsonSchema {
  const parameters: JsonSchema[] = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (op.query) {
    const query = toSchema(op.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: (query.required ?? []).includes(name), ...(typeof schema['description'] === 'string' ? { description: schema['description'] } : {}), schema });
    }
  }
  const errors = new Set<number>(op.errors ?? []);
  if (op.query || op.body || op.path.includes(':')) errors.add(400);
  if (op.access === 'tenant') [401, 403].forEach((s) => errors.add(s));
  if (op.access === 'supplier') errors.add(401);
  if (op.path.startsWith('/v1/') && op.access !== 'public') errors.add(503);
  const responses: Record<string, JsonSchema> = {
    [String(op.ok.status)]: {
      description: op.ok.description,
      ...(op.ok.schema ? { content: { [op.ok.contentType ?? json]: { schema: toSchema(op.ok.schema, 'output') } } } : {}),
    },
  };
  for (const status of [...errors].sort()) {
    responses[String(status)] = { description: STATUS_TEXT[status] ?? 'error', content: { [json]: { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return {
    operationId: `${op.method}${openApiPath(op.path).replace(/\/$/, '/index').replace(/[{}]/g, '').split(/[/.-]/).filter(Boolean).map((s) => s[0]!.toUpperCase() + s.slice(1)).join('')}`,
    summary: op.summary,
    tags: [op.tag],
    security: security(op),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries((op.body.contentTypes ?? [json]).map((type) => [type, { schema: toSchema(op.body!.schema, 'input') }])),
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of everything the app serves. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  const { $schema: _dialect, ...policy } = policyJsonSchema() as JsonSchema;
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Leadrelay API',
      version: '1',
      description:
        'Real-time lead routing on Temporal. Tenants call it with an API key (`Authorization: Bearer …`); the operations console calls the same API with a session cookie and, on every write, the session’s CSRF token. Errors are always `{ error: { code, message, details? } }`.',
    },
    servers: [{ url: '/' }],
    tags: ['leads', 'policy', 'sources', 'quarantine', 'connections', 'distribution', 'suppliers', 'console', 'callbacks', 'operations'].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: toSchema(ErrorAnswer, 'output'), Policy: policy },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant’s API key: `Authorization: Bearer <key>`. Acts as an admin; `X-Actor` names who for the audit.' },
        session: { type: 'apiKey', in: 'cookie', name: 'lr_session', description: 'A console session from POST /v1/session (HttpOnly, SameSite=Strict); its role limits what it may do.' },
        csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The session’s CSRF token (from the sign-in answer), required with the session cookie on every request that is not GET or HEAD.' },
        supplierKey: { type: 'http', scheme: 'bearer', bearerFormat: 'sk.<tenant>.<supplier>.<secret>', description: 'A supplier’s own key, for its campaign routes only.' },
      },
    },
  };
}

/**
 * GET /v1/openapi.json — served without credentials: it describes the API, holds no tenant data,
 * and a client needs it before it has a key. Built once per process.
 */
export function openApiRoute(router: Router): void {
  let document: JsonSchema | null = null;
  router.get('/v1/openapi.json', (_req, res) => {
    document ??= openApiDocument();
    res.set('Cache-Control', 'no-cache').json(document);
  });
}
