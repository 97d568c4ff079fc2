import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { bearerToken, byAccessToken, matchRoute, type EmulatorRoute, type ProviderEmulator, type RouteContext } from '../emulator';
import { oauthTokenEndpoint } from '../oauth';
import type { LeadRecord, RateStatus, WorkspaceRuntime } from '../state';
import type { SandboxAccount, SandboxUser } from '../types';
import { HttpError, codeForStatus, type ErrorCode, type Reply } from '../wire';
import { executeSoql, SoqlError, type SObjectRow, type SObjectType, type SoqlSource } from './soql';

/**
 * Salesforce REST (`/services/data/vXX.X`): SOQL queries paged by `nextRecordsUrl`, Composite,
 * Lead upsert by external ID and owner updates, behind an OAuth 2.0 token endpoint. Errors are
 * arrays `[{ message, errorCode, fields? }]`; every answer carries `Sforce-Limit-Info`, and an
 * exhausted allowance is Salesforce's 403 REQUEST_LIMIT_EXCEEDED (it sends no Retry-After).
 */

const DATA = '/services/data';
/** Salesforce answers at most 2000 records a page; `Sforce-Query-Options: batchSize=N` asks for fewer. */
const MAX_BATCH = 2000;
const COMPOSITE_MAX_SUBREQUESTS = 25;
const COMPOSITE_MAX_QUERIES = 5;
/** The Lead external ID field Leadrelay upserts by (a custom field the tenant's org carries). */
const EXTERNAL_KEY_FIELD = 'Leadrelay_Key__c';

/** A Salesforce error: its own `errorCode`, and the fields it concerns for DML errors. */
class SalesforceError extends HttpError {
  constructor(
    status: number,
    errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(status, codeForStatus(status), message, undefined, errorCode);
  }
}

/** Codes for errors raised outside this emulator (the shared pipeline: bad JSON, no route, faults). */
const GENERIC_CODES: Record<ErrorCode, string> = {
  VALIDATION: 'JSON_PARSER_ERROR',
  UNAUTHORIZED: 'INVALID_SESSION_ID',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'REQUEST_LIMIT_EXCEEDED',
  INTERNAL: 'UNKNOWN_EXCEPTION',
};

function errorReply(err: HttpError): Reply {
  const fields = err instanceof SalesforceError && err.fields ? { fields: err.fields } : {};
  return { status: err.status, body: [{ message: err.message, errorCode: err.providerCode ?? GENERIC_CODES[err.code], ...fields }] };
}

function notFound(): SalesforceError {
  return new SalesforceError(404, 'NOT_FOUND', 'The requested resource does not exist');
}

/** The `vXX.X` path segment; anything else is a resource Salesforce does not have. */
function apiVersion(params: Record<string, string>): string {
  const version = params['version'] ?? '';
  if (!/^v\d+\.\d$/.test(version)) throw notFound();
  return version;
}

// ---------------------------------------------------------------------------------- identifiers

const ID_CHECKSUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 18-character form of a 15-character ID: one suffix letter per 5 characters, encoding their capitals. */
function withChecksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) if (/[A-Z]/.test(id15[chunk * 5 + i] ?? '')) bits |= 1 << i;
    suffix += ID_CHECKSUM[bits];
  }
  return id15 + suffix;
}

/** A record ID with its object's key prefix (`00Q` Lead, `00D` organization). */
function salesforceId(prefix: string, body: string): string {
  return withChecksum(`${prefix}${body.padStart(15 - prefix.length, '0')}`.slice(0, 15));
}

function orgId(ws: WorkspaceRuntime): string {
  return salesforceId('00D', createHash('sha1').update(ws.seed.id).digest('hex').slice(0, 12).toUpperCase());
}

/** The user the OAuth grant belongs to: records it creates without an owner are theirs. */
function apiUserId(ws: WorkspaceRuntime): string | null {
  return ws.seed.users[0]?.id ?? null;
}

/** Salesforce's datetime form: `2030-01-07T15:00:00.000+0000`. */
function sfDateTime(iso: string): string {
  return new Date(iso).toISOString().replace('Z', '+0000');
}

// -------------------------------------------------------------------------- describe and records

const USER_TYPE: SObjectType = { name: 'User', fields: ['Id', 'Email', 'Name', 'IsActive'], relationships: {} };

/** Lead fields a request may write (the external ID is set by the upsert path only). */
const LEAD_FIELDS = ['FirstName', 'LastName', 'Company', 'Email', 'Title', 'Phone', 'LeadSource', 'OwnerId'] as const;
type LeadField = (typeof LEAD_FIELDS)[number];
type LeadValues = Record<LeadField, string | null>;

const LEAD_TYPE: SObjectType = {
  name: 'Lead',
  fields: ['Id', ...LEAD_FIELDS, EXTERNAL_KEY_FIELD, 'CreatedDate', 'LastModifiedDate'],
  relationships: { Owner: 'User' },
};

/** Account's standard fields plus the custom fields (`Territory__c`) this org's accounts carry. */
function accountType(ws: WorkspaceRuntime): SObjectType {
  const custom = new Set(ws.seed.accounts.flatMap((a) => Object.keys(a.custom ?? {})));
  return { name: 'Account', fields: ['Id', 'Name', 'Website', 'OwnerId', 'Industry', 'BillingCountry', ...custom], relationships: { Owner: 'User' } };
}

function userRow(u: SandboxUser): SObjectRow {
  return { Id: u.id, Email: u.email, Name: u.name, IsActive: true };
}

function ownerRow(ws: WorkspaceRuntime, id: string): SObjectRow | null {
  const user = ws.seed.users.find((u) => u.id === id);
  return user ? userRow(user) : null;
}

function accountRow(ws: WorkspaceRuntime, a: SandboxAccount): SObjectRow {
  return {
    ...a.custom,
    Id: a.id,
    Name: a.name,
    Website: a.website ?? null,
    OwnerId: a.ownerId,
    Industry: a.industry ?? null,
    BillingCountry: a.country ?? null,
    Owner: ownerRow(ws, a.ownerId),
  };
}

function leadValues(l: LeadRecord): LeadValues {
  return {
    FirstName: l.first_name,
    LastName: l.last_name,
    Company: l.company,
    // The shared record keeps a missing email as '' (other providers require one); Salesforce has none.
    Email: l.email || null,
    Title: l.title,
    Phone: l.phone,
    LeadSource: l.source,
    OwnerId: l.owner_id,
  };
}

function leadRow(ws: WorkspaceRuntime, l: LeadRecord): SObjectRow {
  return {
    Id: l.id,
    ...leadValues(l),
    [EXTERNAL_KEY_FIELD]: l.external_key ?? null,
    CreatedDate: sfDateTime(l.created_at),
    LastModifiedDate: sfDateTime(l.updated_at),
    Owner: ownerRow(ws, l.owner_id),
  };
}

function soqlSource(ws: WorkspaceRuntime, version: string): SoqlSource {
  return {
    types: [accountType(ws), LEAD_TYPE, USER_TYPE],
    rows: (object) => {
      if (object === 'Account') return ws.seed.accounts.map((a) => accountRow(ws, a));
      if (object === 'Lead') return [...ws.leads.values()].map((l) => leadRow(ws, l));
      return ws.seed.users.map(userRow);
    },
    attributes: (type, row) => ({ type, url: `${DATA}/${version}/sobjects/${type}/${String(row['Id'])}` }),
  };
}

// ---------------------------------------------------------------------------------------- query

/** What a query locator remembers: the query and the page size it was asked with. */
interface QueryCursor {
  soql: string;
  batch: number;
}

const cursorSchema = z.object({ soql: z.string().min(1), batch: z.number().int().min(1).max(MAX_BATCH) });

function runQuery(ws: WorkspaceRuntime, version: string, soql: string): SObjectRow[] {
  try {
    return executeSoql(soql, soqlSource(ws, version));
  } catch (err) {
    if (err instanceof SoqlError) throw new SalesforceError(400, err.errorCode, err.message);
    throw err;
  }
}

/** `Sforce-Query-Options: batchSize=N` (Salesforce honours 200..2000; any N ≥ 1 here, so tests can page). */
function batchSize(header: string | undefined): number {
  const n = Number(/batchSize\s*=\s*(\d+)/i.exec(header ?? '')?.[1] ?? MAX_BATCH);
  return Math.min(Math.max(1, n), MAX_BATCH);
}

/**
 * A locator is opaque to clients; this one carries its query, so a later page re-runs it and
 * slices (the emulated data only changes through leads, which no paged query here depends on).
 */
function locatorUrl(version: string, cursor: QueryCursor, offset: number): string {
  return `${DATA}/${version}/query/01g${Buffer.from(JSON.stringify(cursor)).toString('base64url')}-${offset}`;
}

function parseLocator(raw: string): { cursor: QueryCursor; offset: number } {
  const match = /^01g([A-Za-z0-9_-]+)-(\d+)$/.exec(raw);
  try {
    const cursor = cursorSchema.parse(JSON.parse(Buffer.from(match?.[1] ?? '', 'base64url').toString('utf8')));
    return { cursor, offset: Number(match?.[2]) };
  } catch {
    throw new SalesforceError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  }
}

function queryPage(records: SObjectRow[], version: string, cursor: QueryCursor, offset: number): unknown {
  const end = offset + cursor.batch;
  const done = end >= records.length;
  return {
    totalSize: records.length,
    done,
    ...(done ? {} : { nextRecordsUrl: locatorUrl(version, cursor, end) }),
    records: records.slice(offset, end),
  };
}

function query({ ws, params, query: q, headers }: RouteContext): Reply {
  const version = apiVersion(params);
  const soql = q['q'];
  if (!soql) throw new SalesforceError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const cursor = { soql, batch: batchSize(headers['sforce-query-options']) };
  return { status: 200, body: queryPage(runQuery(ws, version, soql), version, cursor, 0) };
}

function queryMore({ ws, params }: RouteContext): Reply {
  const version = apiVersion(params);
  const { cursor, offset } = parseLocator(params['locator'] ?? '');
  return { status: 200, body: queryPage(runQuery(ws, version, cursor.soql), version, cursor, offset) };
}

// ---------------------------------------------------------------------------------------- leads

function requireLeadObject(params: Record<string, string>): void {
  if (params['object']?.toLowerCase() !== 'lead') throw notFound();
}

/** The body's field changes by canonical name; names and values are checked as Salesforce does. */
function leadChanges(body: unknown): Partial<LeadValues> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SalesforceError(400, 'JSON_PARSER_ERROR', 'The HTTP entity body is required, but this request has no entity body.');
  }
  const changes: Partial<LeadValues> = {};
  for (const [name, value] of Object.entries(body)) {
    const field = LEAD_FIELDS.find((f) => f.toLowerCase() === name.toLowerCase());
    if (field === undefined) {
      if (LEAD_TYPE.fields.some((f) => f.toLowerCase() === name.toLowerCase())) {
        throw new SalesforceError(
          400,
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          [name],
        );
      }
      throw new SalesforceError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type Lead`);
    }
    if (value !== null && typeof value !== 'string') {
      throw new SalesforceError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of string from ${Array.isArray(value) ? 'array' : typeof value} value ${JSON.stringify(value)}`);
    }
    // Salesforce stores an empty text value as null.
    changes[field] = value === '' ? null : value;
  }
  return changes;
}

/** A lead's values once required fields, the email and the owner are known to be valid. */
type ValidLead = LeadValues & { LastName: string; Company: string; OwnerId: string };

function validated(ws: WorkspaceRuntime, values: LeadValues): ValidLead {
  const missing = (['LastName', 'Company', 'OwnerId'] as const).filter((f) => !values[f]);
  if (missing.length > 0) {
    throw new SalesforceError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, [...missing]);
  }
  if (values.Email !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.Email)) {
    throw new SalesforceError(400, 'INVALID_EMAIL_ADDRESS', `Email: invalid email address: ${values.Email}`, ['Email']);
  }
  if (!ws.seed.users.some((u) => u.id === values.OwnerId)) {
    throw new SalesforceError(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['OwnerId']);
  }
  return values as ValidLead;
}

/** Where the shared lead record keeps a lead's Salesforce values. */
function recordFields(v: ValidLead): Pick<LeadRecord, 'first_name' | 'last_name' | 'company' | 'email' | 'title' | 'phone' | 'source' | 'owner_id'> {
  return {
    first_name: v.FirstName,
    last_name: v.LastName,
    company: v.Company,
    email: v.Email ?? '',
    title: v.Title,
    phone: v.Phone,
    source: v.LeadSource,
    owner_id: v.OwnerId,
  };
}

/**
 * The emulated org has an active lead assignment rule, as most orgs do: it gives every lead
 * created or updated through the API to the integration user unless the request says
 * `Sforce-Auto-Assign: FALSE` (the header defaults to TRUE).
 */
function assigned(ws: WorkspaceRuntime, headers: Record<string, string>, values: ValidLead): ValidLead {
  const rule = (headers['sforce-auto-assign'] ?? 'TRUE').trim().toUpperCase() !== 'FALSE';
  const ruleOwner = apiUserId(ws);
  return rule && ruleOwner !== null ? { ...values, OwnerId: ruleOwner } : values;
}

/**
 * `PATCH /sobjects/Lead/Leadrelay_Key__c/{key}`: Salesforce's upsert by external ID. The key
 * finds the record a retried call created, so a retry updates it (200, `created: false`)
 * instead of creating a second lead (201, `created: true`).
 */
function upsertLead({ ws, params, headers, body, now }: RouteContext): Reply {
  apiVersion(params);
  requireLeadObject(params);
  const field = params['field'] ?? '';
  if (field.toLowerCase() !== EXTERNAL_KEY_FIELD.toLowerCase()) {
    throw new SalesforceError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field}`);
  }
  const key = params['value'] ?? '';
  const changes = leadChanges(body);
  const at = new Date(now).toISOString();
  const existing = [...ws.leads.values()].find((l) => l.external_key === key);
  if (existing) {
    Object.assign(existing, recordFields(assigned(ws, headers, validated(ws, { ...leadValues(existing), ...changes }))), { updated_at: at });
    return { status: 200, body: { id: existing.id, success: true, errors: [], created: false } };
  }
  const blank: LeadValues = { FirstName: null, LastName: null, Company: null, Email: null, Title: null, Phone: null, LeadSource: null, OwnerId: null };
  const values = assigned(ws, headers, validated(ws, { ...blank, ...changes, OwnerId: changes.OwnerId ?? apiUserId(ws) }));
  const lead: LeadRecord = { id: salesforceId('00Q', String(ws.nextLeadNo++)), ...recordFields(values), created_at: at, updated_at: at, external_key: key };
  ws.leads.set(lead.id, lead);
  return { status: 201, body: { id: lead.id, success: true, errors: [], created: true } };
}

/** `PATCH /sobjects/Lead/{id}`: updates the given fields; 204 without a body. */
function updateLead({ ws, params, headers, body, now }: RouteContext): Reply {
  apiVersion(params);
  requireLeadObject(params);
  const lead = ws.leads.get(params['id'] ?? '');
  if (!lead) throw notFound();
  const values = assigned(ws, headers, validated(ws, { ...leadValues(lead), ...leadChanges(body) }));
  Object.assign(lead, recordFields(values), { updated_at: new Date(now).toISOString() });
  return { status: 204, body: undefined };
}

// ------------------------------------------------------------------------------------ composite

/** What a composite subrequest may call: everything but composite itself. */
const API_ROUTES: EmulatorRoute[] = [
  { method: 'GET', pattern: `${DATA}/:version/query`, handle: query },
  { method: 'GET', pattern: `${DATA}/:version/query/:locator`, handle: queryMore },
  { method: 'PATCH', pattern: `${DATA}/:version/sobjects/:object/:id`, handle: updateLead },
  { method: 'PATCH', pattern: `${DATA}/:version/sobjects/:object/:field/:value`, handle: upsertLead },
];

const compositeSchema = z.object({
  allOrNone: z.boolean().default(false),
  compositeRequest: z
    .array(
      z.object({
        method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
        url: z.string().startsWith(`${DATA}/`),
        referenceId: z.string().regex(/^[A-Za-z0-9_]+$/),
        body: z.unknown().optional(),
        httpHeaders: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
});
type Subrequest = z.infer<typeof compositeSchema>['compositeRequest'][number];

interface SubResponse {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string | null;
}

function subResponse(reply: Reply, referenceId: string | null): SubResponse {
  return { body: reply.body ?? null, httpHeaders: reply.headers ?? {}, httpStatusCode: reply.status, referenceId };
}

/** Composite refuses a request over its limits as a 200 with one failed entry (referenceId null). */
function compositeLimit(message: string): Reply {
  return { status: 200, body: { compositeResponse: [subResponse(errorReply(new SalesforceError(400, 'LIMIT_EXCEEDED', message)), null)] } };
}

function runSubrequest(ctx: RouteContext, sub: Subrequest): SubResponse {
  const url = new URL(sub.url, 'http://subrequest.invalid');
  const match = matchRoute(API_ROUTES, sub.method, url.pathname.replace(/\/+$/, ''));
  if (!match) return subResponse(errorReply(notFound()), sub.referenceId);
  const headers = { ...ctx.headers, ...Object.fromEntries(Object.entries(sub.httpHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v])) };
  try {
    const reply = match.route.handle({ ...ctx, params: match.params, query: Object.fromEntries(url.searchParams), headers, body: sub.body ?? null, rawBody: JSON.stringify(sub.body ?? null) });
    return subResponse(reply, sub.referenceId);
  } catch (err) {
    if (err instanceof HttpError) return subResponse(errorReply(err), sub.referenceId);
    throw err;
  }
}

function isQuery(sub: Subrequest): boolean {
  return /^\/services\/data\/[^/]+\/query(\/|$|\?)/.test(sub.url);
}

/**
 * `POST /composite`: up to 25 subrequests (5 of them queries) in one call that counts once
 * against the allowance, each answered with its own status. With `allOrNone`, one failure
 * rolls every write back and the others answer PROCESSING_HALTED.
 */
function composite(ctx: RouteContext): Reply {
  apiVersion(ctx.params);
  const parsed = compositeSchema.safeParse(ctx.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SalesforceError(400, 'JSON_PARSER_ERROR', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid composite request'}`);
  }
  const { allOrNone, compositeRequest } = parsed.data;
  if (compositeRequest.length > COMPOSITE_MAX_SUBREQUESTS) return compositeLimit(`The request can’t contain more than ${COMPOSITE_MAX_SUBREQUESTS} operations.`);
  if (compositeRequest.filter(isQuery).length > COMPOSITE_MAX_QUERIES) return compositeLimit(`The request can’t contain more than ${COMPOSITE_MAX_QUERIES} query operations.`);

  const { ws } = ctx;
  const before = allOrNone ? { leads: new Map([...ws.leads].map(([id, l]) => [id, { ...l }])), nextLeadNo: ws.nextLeadNo } : null;
  const results = compositeRequest.map((sub) => runSubrequest(ctx, sub));
  if (!before || results.every((r) => r.httpStatusCode < 400)) return { status: 200, body: { compositeResponse: results } };

  ws.leads.clear();
  for (const [id, lead] of before.leads) ws.leads.set(id, lead);
  ws.nextLeadNo = before.nextLeadNo;
  const halted = new SalesforceError(400, 'PROCESSING_HALTED', 'The transaction was rolled back since another operation in the same transaction failed.');
  return { status: 200, body: { compositeResponse: results.map((r) => (r.httpStatusCode >= 400 ? r : subResponse(errorReply(halted), r.referenceId))) } };
}

// ------------------------------------------------------------------------------------- emulators

/** `Sforce-Limit-Info: api-usage=<used>/<limit>`, on every answer. */
function limitInfo(rate: RateStatus): Record<string, string> {
  return { 'Sforce-Limit-Info': `api-usage=${rate.limit - rate.remaining}/${rate.limit}` };
}

const API_EMULATOR: ProviderEmulator = {
  provider: 'salesforce',
  system: 'crm',
  prefixes: [DATA],
  authenticate: (req, state) =>
    byAccessToken(state, 'salesforce', bearerToken(req.headers), req.now, () => new SalesforceError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')),
  routes: [...API_ROUTES, { method: 'POST', pattern: `${DATA}/:version/composite`, handle: composite }],
  rateHeaders: limitInfo,
  rateLimited: () => errorReply(new SalesforceError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.')),
  errorReply,
};

/**
 * Salesforce's token endpoint: no `expires_in` (a session lasts as the org's policy says),
 * `instance_url` for the API calls, the identity URL as `id`, and `signature` =
 * base64(HMAC-SHA256(client secret, id + issued_at)).
 */
function oauthEmulator(): ProviderEmulator {
  return oauthTokenEndpoint({
    provider: 'salesforce',
    prefix: '/services/oauth2',
    path: '/services/oauth2/token',
    success: ({ accessToken, ws, now, clientSecret, origin }) => {
      const id = `${origin}/id/${orgId(ws)}/${apiUserId(ws) ?? ''}`;
      const issuedAt = String(now);
      const signature = createHmac('sha256', clientSecret).update(id + issuedAt).digest('base64');
      return { access_token: accessToken, signature, scope: 'api refresh_token', instance_url: origin, id, token_type: 'Bearer', issued_at: issuedAt };
    },
    error: (code, description) => ({ error: code, error_description: description }),
  });
}

export const SALESFORCE_EMULATORS: ProviderEmulator[] = [API_EMULATOR, oauthEmulator()];
