/**
 * One ping or post to a buyer's HTTP endpoint, and the record of it. The request body is the
 * endpoint's JSONata mapping (or template) over the delivery context, serialized as JSON, form
 * fields or XML; the buyer's answer (JSON, XML, form or text) goes through the endpoint's response
 * mapping to `{ outcome, price?, reason?, reference? }`. Every HTTP outcome is a record, never an
 * exception: only a missing secret throws (DeliveryConfigError), because nothing can be sent
 * until someone configures it.
 *
 * The record goes into workflow history: auth values are redacted, secrets never appear. Contact
 * details do (the request as sent settles disputes); views mask them with `maskText`.
 */
import { createHmac } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { FieldIssue } from '../api/errors';
import { parseRetryAfter } from '../connectors/ratelimit';
import type { SecretRef } from '../tenants/schema';
import { describeSecret, resolveSecret } from '../tenants/secrets';
import { OUTCOMES, type EndpointAuth, type HttpEndpoint, type MappedAnswer, type Outcome, type PostEndpoint } from './model';
import { compileJsonata, jsonataError } from './jsonata';
import { PLATFORM_TEMPLATES, requestMapping, type TemplateMap } from './templates';

export { compileJsonata };

/** What a request mapping sees. For a ping, `lead` holds only the campaign's ping fields. */
export interface DeliveryContext {
  kind: 'ping' | 'post';
  leadId: string;
  lead: Record<string, unknown>;
  campaign: { id: string; name: string; currency: string };
  buyer: { id: string; name: string };
  bid: { id: string; price: number } | null;
}

export type DeliveryErrorType = 'timeout' | 'connection' | 'mapping' | 'config';

/** One ping or post as it happened. Goes into history: no secrets. */
export interface DeliveryRecord {
  kind: 'ping' | 'post';
  buyerId: string;
  /** ISO instant the delivery began. */
  startedAt: string;
  latencyMs: number;
  /** Auth header values are '[redacted]'. */
  request: { method: 'POST'; url: string; headers: Record<string, string>; body: string };
  /** Headers kept: content-type, retry-after, x-request-id, location, ratelimit-*; the body's first 2000 characters. */
  response: { status: number; headers: Record<string, string>; bodyExcerpt: string } | null;
  error: { type: DeliveryErrorType; message: string } | null;
  answer: MappedAnswer;
  retryAfterMs: number | null;
  /** True when the request never left (connection refused before sending): safe to send again. */
  notSent: boolean;
}

/** An endpoint's secret is not configured: nothing can be sent until it is. */
export class DeliveryConfigError extends Error {
  override readonly name = 'DeliveryConfigError';
}

export interface DeliverOptions {
  /** Where `{ env: NAME }` secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Templates visible to the tenant (resolveTemplates); default the platform's. */
  templates?: TemplateMap;
  /** Caps the endpoint's own timeout (a ping: the campaign's ping timeout). */
  maxTimeoutMs?: number;
  /** Cancels the request (the activity's cancellation): then the abort is thrown, not recorded. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  now?: () => number;
}

export const REDACTED = '[redacted]';
export const BODY_EXCERPT_CHARS = 2000;
const CONTENT_TYPES = { json: 'application/json', form: 'application/x-www-form-urlencoded', xml: 'application/xml' } as const;
/** Endpoint headers whose values are credentials even when typed in as plain headers. */
const SENSITIVE_HEADER = /authorization|cookie|api-?key|token|secret|password|signature/i;
/** Failures before a connection existed: the buyer cannot have seen the request. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// ------------------------------------------------------------------------------ validation

/**
 * Every problem with an endpoint's mappings, as API field issues under `path` ('ping', 'post'):
 * JSONata that does not compile, a template no layer defines (or whose source does not compile).
 */
export function validateEndpoint(endpoint: PostEndpoint | HttpEndpoint, path: string, templates: TemplateMap = PLATFORM_TEMPLATES): FieldIssue[] {
  if (endpoint.kind !== 'http') return [];
  const field = (name: string) => (path ? `${path}.${name}` : name);
  const issues: FieldIssue[] = [];
  const check = (name: string, source: string, what: string) => {
    try {
      compileJsonata(source);
    } catch (err) {
      issues.push({ field: field(name), message: `${what} is not valid JSONata: ${jsonataError(err)}` });
    }
  };
  const request = requestMapping(endpoint, templates);
  if (endpoint.mapping !== undefined) check('mapping', endpoint.mapping, 'the mapping');
  else if (request.source === null) issues.push({ field: field('template'), message: `is not a known template: ${request.template ?? ''}` });
  else check('template', request.source, `template ${request.template ?? ''}`);
  check('response.mapping', endpoint.response.mapping, 'the response mapping');
  return issues;
}

// ------------------------------------------------------------------------------ masking

function mask(value: string): string {
  return `${Array.from(value)[0] ?? ''}***`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * `text` with every value (contact details) replaced by a mask keeping its first character
 * ("jane@x.io" → "j***"), in every spelling a request carries it: as is, URL-encoded,
 * form-encoded, JSON-escaped and XML-escaped; case-insensitively. Values under 2 characters are
 * left alone (masking every "a" would hide the text, not the person).
 */
export function maskText(text: string, values: string[]): string {
  const replacements = new Map<string, string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length < 2) continue;
    const masked = mask(value);
    const forms = [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), JSON.stringify(value).slice(1, -1), xmlEscape(value)];
    for (const form of forms) if (form.length >= 2 && !replacements.has(form.toLowerCase())) replacements.set(form.toLowerCase(), masked);
  }
  if (replacements.size === 0) return text;
  // Longest first: a value inside another is not replaced before the longer one.
  const keys = [...replacements.keys()].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(keys.map(escapeRegExp).join('|'), 'gi');
  return text.replace(pattern, (match) => replacements.get(match.toLowerCase()) ?? match);
}

// ------------------------------------------------------------------------------ request

/** Form fields from a nested value: `a[b]=…`, arrays as `a[0]=…`; null is empty, undefined left out. */
function formFields(value: unknown, prefix: string, out: URLSearchParams): void {
  if (value === undefined) return;
  if (value === null) {
    out.append(prefix, '');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => formFields(item, `${prefix}[${i}]`, out));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) formFields(v, prefix ? `${prefix}[${k}]` : k, out);
  } else {
    out.append(prefix, String(value));
  }
}

const xmlBuilder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The mapping's result as the endpoint's format. Throws (a mapping problem) when it cannot be. */
export function serializeBody(value: unknown, format: HttpEndpoint['format'], xmlRoot: string): string {
  if (value === undefined) throw new Error('the request mapping gave no value');
  if (format === 'json') return JSON.stringify(value);
  if (!isPlainObject(value)) throw new Error(`a ${format} body needs an object, the request mapping gave ${Array.isArray(value) ? 'an array' : typeof value}`);
  if (format === 'form') {
    const params = new URLSearchParams();
    formFields(value, '', params);
    return params.toString();
  }
  return `<?xml version="1.0" encoding="UTF-8"?>${xmlBuilder.build({ [xmlRoot]: value }) as string}`;
}

/** A prefix that ends in a letter or digit ("Bearer") is followed by a space; "sha256=" is not. */
function withPrefix(prefix: string | undefined, value: string): string {
  if (!prefix) return value;
  return /[A-Za-z0-9]$/.test(prefix) ? `${prefix} ${value}` : `${prefix}${value}`;
}

function secretOf(ref: SecretRef, env: Record<string, string | undefined>, what: string): string {
  const secret = resolveSecret(ref, env);
  if (secret === null) throw new DeliveryConfigError(`${what} is not set (${describeSecret(ref)})`);
  return secret;
}

/** The auth header for a body, by name and value. */
export function authHeader(auth: EndpointAuth, body: Buffer, env: Record<string, string | undefined>): [string, string] {
  switch (auth.type) {
    case 'header':
      return [auth.name, withPrefix(auth.prefix, secretOf(auth.secret, env, `the endpoint's ${auth.name} secret`))];
    case 'basic': {
      const password = secretOf(auth.password, env, "the endpoint's basic-auth password");
      return ['Authorization', `Basic ${Buffer.from(`${auth.username}:${password}`).toString('base64')}`];
    }
    case 'hmac': {
      const secret = secretOf(auth.secret, env, "the endpoint's HMAC secret");
      return [auth.header, withPrefix(auth.prefix, createHmac(auth.algorithm, secret).update(body).digest('hex'))];
    }
  }
}

/** Headers by case-insensitive name, keeping the spelling of the last one set. */
class HeaderSet {
  private readonly byName = new Map<string, { name: string; value: string; redact: boolean }>();
  set(name: string, value: string, redact = SENSITIVE_HEADER.test(name)): void {
    this.byName.set(name.toLowerCase(), { name, value, redact });
  }
  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }
  toSend(): Record<string, string> {
    return Object.fromEntries([...this.byName.values()].map((h) => [h.name, h.value]));
  }
  toRecord(): Record<string, string> {
    return Object.fromEntries([...this.byName.values()].map((h) => [h.name, h.redact ? REDACTED : h.value]));
  }
}

/** The key a buyer can drop a repeated delivery by: one per lead, buyer and kind. */
export function idempotencyKey(context: Pick<DeliveryContext, 'leadId' | 'buyer' | 'kind'>): string {
  return `${context.leadId}:${context.buyer.id}:${context.kind}`;
}

// ------------------------------------------------------------------------------ response

/** A response body read as `format` (auto: by Content-Type). Unparseable JSON/XML is read as text when auto. */
export function parseResponseBody(text: string, contentType: string, format: HttpEndpoint['response']['format']): unknown {
  const type = contentType.toLowerCase();
  const effective =
    format !== 'auto' ? format : type.includes('json') ? 'json' : type.includes('xml') ? 'xml' : type.includes('x-www-form-urlencoded') ? 'form' : 'text';
  const trimmed = text.trim();
  if (effective === 'text') return trimmed;
  if (effective === 'form') {
    const fields: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(trimmed)) fields[k] = v;
    return fields;
  }
  if (trimmed === '') return null;
  try {
    if (effective === 'json') return JSON.parse(trimmed) as unknown;
    return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' }).parse(trimmed) as unknown;
  } catch (err) {
    if (format === 'auto') return trimmed;
    throw new Error(`the response is not valid ${effective.toUpperCase()}: ${(err as Error).message}`);
  }
}

const KEPT_RESPONSE_HEADERS = new Set(['content-type', 'retry-after', 'x-request-id', 'location']);

function keptHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => KEPT_RESPONSE_HEADERS.has(k) || k.startsWith('ratelimit')));
}

function excerpt(text: string): string {
  if (text.length <= BODY_EXCERPT_CHARS) return text;
  const cut = text.slice(0, BODY_EXCERPT_CHARS);
  // Never end on half a surrogate pair.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** A response mapping's result checked against `{ outcome, price?, reason?, reference? }`; a string names what is wrong. */
export function toAnswer(value: unknown): MappedAnswer | string {
  if (!isPlainObject(value)) return `the response mapping must give an object, it gave ${value === undefined ? 'nothing' : Array.isArray(value) ? 'an array' : typeof value}`;
  const outcome = value['outcome'];
  if (typeof outcome !== 'string' || !(OUTCOMES as readonly string[]).includes(outcome)) {
    return `outcome must be one of ${OUTCOMES.join(', ')}, the response mapping gave ${JSON.stringify(outcome) ?? 'nothing'}`;
  }
  const answer: MappedAnswer = { outcome: outcome as Outcome };
  const price = value['price'];
  if (price !== undefined && price !== null && price !== '') {
    const n = typeof price === 'string' ? Number(price.trim()) : price;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return `price must be a non-negative number, the response mapping gave ${JSON.stringify(price)}`;
    answer.price = n;
  }
  for (const name of ['reason', 'reference'] as const) {
    const v = value[name];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' && typeof v !== 'number') return `${name} must be a string, the response mapping gave ${typeof v}`;
    answer[name] = String(v);
  }
  return answer;
}

// ------------------------------------------------------------------------------ delivery

function failureCode(err: unknown): { codes: string[]; message: string } {
  const e = err as Error & { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
  const cause = e.cause;
  const codes = cause?.errors?.length ? cause.errors.map((x) => x.code ?? '') : [cause?.code ?? ''];
  const detail = cause?.message && cause.message !== e.message ? `: ${cause.message}` : '';
  return { codes, message: `${e.message}${detail}${cause?.code ? ` (${cause.code})` : ''}` };
}

/**
 * Builds, signs and sends one request, reads the answer and maps it. Never throws for an HTTP
 * outcome; throws DeliveryConfigError when a secret is missing, and the abort reason when
 * `options.signal` cancels it.
 */
export async function deliver(endpoint: HttpEndpoint, context: DeliveryContext, options: DeliverOptions = {}): Promise<DeliveryRecord> {
  const now = options.now ?? Date.now;
  const env = options.env ?? process.env;
  const startedMs = now();
  const headers = new HeaderSet();
  let body = '';
  const record = (rest: Pick<DeliveryRecord, 'response' | 'error' | 'answer' | 'retryAfterMs' | 'notSent'>): DeliveryRecord => ({
    kind: context.kind,
    buyerId: context.buyer.id,
    startedAt: new Date(startedMs).toISOString(),
    latencyMs: Math.max(0, now() - startedMs),
    request: { method: 'POST', url: endpoint.url, headers: headers.toRecord(), body },
    ...rest,
  });
  const failed = (type: DeliveryErrorType, message: string, notSent: boolean, response: DeliveryRecord['response'] = null): DeliveryRecord =>
    record({ response, error: { type, message }, answer: { outcome: 'error', reason: type === 'mapping' ? `mapping: ${message}` : type }, retryAfterMs: null, notSent });

  // The body.
  const mapping = requestMapping(endpoint, options.templates ?? PLATFORM_TEMPLATES);
  if (mapping.source === null) return failed('config', `template ${mapping.template ?? ''} is not defined`, true);
  try {
    const value: unknown = await compileJsonata(mapping.source).evaluate(context);
    body = serializeBody(value, endpoint.format, endpoint.xmlRoot);
  } catch (err) {
    return failed('mapping', `request mapping${mapping.template ? ` (template ${mapping.template})` : ''} failed: ${jsonataError(err)}`, true);
  }
  const bytes = Buffer.from(body, 'utf8');

  // The headers: the endpoint's own (its Content-Type wins), then the key and the auth.
  for (const [name, value] of Object.entries(endpoint.headers)) headers.set(name, value);
  if (!headers.has('content-type')) headers.set('Content-Type', CONTENT_TYPES[endpoint.format]);
  headers.set('Idempotency-Key', idempotencyKey(context), false);
  if (endpoint.auth) {
    const [name, value] = authHeader(endpoint.auth, bytes, env);
    headers.set(name, value, true);
  }

  // The exchange.
  const timeoutMs = Math.min(endpoint.timeoutMs, options.maxTimeoutMs ?? Number.POSITIVE_INFINITY);
  // One controller with its own timer, not AbortSignal.any over AbortSignal.timeout: on Node 20 the
  // composite holds its sources weakly, and a collected timeout signal never fires (a ping then
  // waited for a slow buyer's answer however long it took). Listeners are removed when done.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const cancel = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', cancel, { once: true });
  const fetchImpl = options.fetch ?? fetch;
  let response: Response | null = null;
  let text: string;
  try {
    // A redirect is an answer to record, not a reason to send the lead somewhere else.
    response = await fetchImpl(endpoint.url, { method: 'POST', headers: headers.toSend(), body: bytes, signal: controller.signal, redirect: 'manual' });
    text = await response.text();
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason ?? err;
    const partial = response ? { status: response.status, headers: keptHeaders(Object.fromEntries(response.headers)), bodyExcerpt: '' } : null;
    if ((err as Error).name === 'TimeoutError') return failed('timeout', `no answer within ${timeoutMs} ms`, false, partial);
    const failure = failureCode(err);
    const notSent = response === null && failure.codes.length > 0 && failure.codes.every((code) => NOT_SENT_CODES.has(code));
    return failed('connection', failure.message, notSent, partial);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
  }

  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => (responseHeaders[name.toLowerCase()] = value));
  const raw = { status: response.status, headers: keptHeaders(responseHeaders), bodyExcerpt: excerpt(text) };
  const retryAfter = parseRetryAfter(responseHeaders['retry-after'], now());
  const retryAfterMs = retryAfter === null ? null : Math.round(retryAfter * 1000);

  // Rules before the mapping: overload and server failures are errors whatever the body says.
  if (response.status === 429) return record({ response: raw, error: null, answer: { outcome: 'error', reason: 'rate_limited' }, retryAfterMs, notSent: false });
  if (response.status >= 500) return record({ response: raw, error: null, answer: { outcome: 'error', reason: `http_${response.status}` }, retryAfterMs, notSent: false });

  let mapped: unknown;
  try {
    const parsed = parseResponseBody(text, responseHeaders['content-type'] ?? '', endpoint.response.format);
    mapped = await compileJsonata(endpoint.response.mapping).evaluate({ status: response.status, headers: responseHeaders, body: parsed, text });
  } catch (err) {
    return failed('mapping', `response mapping failed: ${jsonataError(err)}`, false, raw);
  }
  const answer = toAnswer(mapped);
  if (typeof answer === 'string') return failed('mapping', answer, false, raw);
  return record({ response: raw, error: null, answer, retryAfterMs: null, notSent: false });
}
