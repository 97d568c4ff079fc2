import { constantTimeEqual } from '../../accept/hmac';
import type { SourceIo, SourceKind, SourceRequest, Verification } from '../types';
import { hexDigestMatches, hmacSha256Hex } from './hmacHex';

/**
 * Meta Lead Ads (Facebook and Instagram lead forms), as Meta documents its Webhooks and the Graph
 * API:
 * - Every notification is signed: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`
 *   keyed with the app secret (the source's `secret`). Meta sends no timestamp, so there is no
 *   time window; a replayed notification carries a leadgen_id already seen, and the lead's
 *   idempotency key (the leadgen_id) makes it start nothing.
 * - Subscribing sends `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: the challenge
 *   is echoed when the token matches the source's `verifyToken`, else 403.
 * - A `page` notification batches `entry[].changes[]`; each `leadgen` change is one lead carrying
 *   only references (`leadgen_id`, `page_id`, `form_id`, `ad_id`, `adgroup_id`, `created_time`).
 *   The answers are read from the Graph API with the Page access token (`accessToken`):
 *   `GET /v{version}/{leadgen_id}?fields=id,created_time,field_data`, answer
 *   `{ id, created_time, field_data: [{ name, values: [] }] }`. Nothing is stored: the read's
 *   answer goes straight to the mapping.
 */

/** The Graph API version leads are read with, unless the source's baseUrl names one (`…/v23.0`). */
export const META_GRAPH_VERSION = 'v26.0';
export const META_GRAPH_BASE_URL = 'https://graph.facebook.com';
/** The documented default fields of a Lead, asked for explicitly. */
export const META_LEAD_FIELDS = 'id,created_time,field_data';
const GRAPH_TIMEOUT_MS = 10_000;

/** `sha256=` + hex(HMAC-SHA256(appSecret, rawBody)), as Meta signs a notification. */
export function metaSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${hmacSha256Hex(appSecret, rawBody)}`;
}

export function verifyMetaSignature(req: SourceRequest, appSecret: string): Verification {
  const header = req.headers['x-hub-signature-256'];
  if (!header) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  const match = /^sha256=(.*)$/i.exec(header.trim());
  if (!match?.[1]) return { ok: false, reason: 'X-Hub-Signature-256 is not sha256=<hex>' };
  const expected = hmacSha256Hex(appSecret, req.rawBody);
  return hexDigestMatches(match[1], expected) ? { ok: true } : { ok: false, reason: 'signature does not match the body' };
}

// ------------------------------------------------------------------------------ notifications

/** One `leadgen` change of a Page notification, its IDs as strings (null when absent or unusable). */
export interface MetaLeadgenEvent {
  leadgen_id: string | null;
  page_id: string | null;
  form_id: string | null;
  ad_id: string | null;
  adgroup_id: string | null;
  /** Epoch seconds the lead was submitted. */
  created_time: number | null;
}

/**
 * Graph IDs as strings. Meta's own examples show them as JSON numbers; a number beyond 2^53 has
 * already lost digits in any JSON parser, so it is treated as absent rather than trusted.
 */
function graphId(value: unknown): string | null {
  if (typeof value === 'string') return /^\d{1,30}$/.test(value) ? value : null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return null;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The `leadgen` changes of a Page notification, in order; anything else (other objects or fields) yields none. */
export function metaLeadgenEvents(body: unknown): MetaLeadgenEvent[] {
  const root = record(body);
  if (!root || root['object'] !== 'page' || !Array.isArray(root['entry'])) return [];
  const events: MetaLeadgenEvent[] = [];
  for (const entry of root['entry']) {
    const changes = record(entry)?.['changes'];
    if (!Array.isArray(changes)) continue;
    for (const change of changes) {
      const c = record(change);
      const value = record(c?.['value']);
      if (!c || c['field'] !== 'leadgen' || !value) continue;
      const created = value['created_time'];
      events.push({
        leadgen_id: graphId(value['leadgen_id']),
        page_id: graphId(value['page_id']),
        form_id: graphId(value['form_id']),
        ad_id: graphId(value['ad_id']),
        adgroup_id: graphId(value['adgroup_id']),
        created_time: typeof created === 'number' && Number.isFinite(created) ? created : null,
      });
    }
  }
  return events;
}

function asLeadgenEvent(event: unknown): MetaLeadgenEvent | null {
  const e = record(event);
  return e && 'leadgen_id' in e ? (e as unknown as MetaLeadgenEvent) : null;
}

// ------------------------------------------------------------------------------ Graph API read

/** A Graph API error envelope `{ error: { message, type, code, error_subcode, fbtrace_id } }`, surfaced. */
export class MetaGraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | null,
    readonly subcode: number | null,
    readonly type: string | null,
    readonly fbtraceId: string | null,
    /** Throttling (4, 17, 32, 613, 80001…) or a transient failure: worth retrying later. */
    readonly retryable: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'MetaGraphError';
  }
}

/** Error codes Meta documents as throttling: app (4), user (17), page (32), custom (613), BUC (80000–80014). */
export const META_RATE_LIMIT_CODES: ReadonlySet<number> = new Set([4, 17, 32, 613]);
/** Temporary Graph failures Meta says to retry: unknown (1), service (2), app limit reached (341). */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2, 341]);

export function isMetaRateLimit(code: number | null): boolean {
  return code !== null && (META_RATE_LIMIT_CODES.has(code) || (code >= 80000 && code <= 80014));
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** The error a Graph answer carries, in one line naming its code, subcode, type and trace ID. */
export function metaGraphError(status: number, body: unknown): MetaGraphError {
  const error = record(record(body)?.['error']);
  const code = numberOrNull(error?.['code']);
  const subcode = numberOrNull(error?.['error_subcode']);
  const type = stringOrNull(error?.['type']);
  const trace = stringOrNull(error?.['fbtrace_id']);
  const rateLimited = isMetaRateLimit(code);
  const retryable = rateLimited || (code !== null && TRANSIENT_CODES.has(code)) || error?.['is_transient'] === true || status >= 500;
  const what = error ? (stringOrNull(error['message']) ?? 'no message') : 'no Graph error envelope';
  const details = [
    code !== null ? `code ${code}` : null,
    subcode !== null ? `subcode ${subcode}` : null,
    type,
    trace !== null ? `fbtrace_id ${trace}` : null,
  ].filter((part) => part !== null);
  const prefix = rateLimited ? 'Graph API rate limit' : 'Graph API error';
  return new MetaGraphError(status, code, subcode, type, trace, retryable, `${prefix} (HTTP ${status}): ${what}${details.length ? ` [${details.join(', ')}]` : ''}`);
}

/** `{baseUrl}/v<version>` unless the base URL already ends in a version segment. */
export function graphRoot(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return /\/v\d+\.\d+$/.test(base) ? base : `${base}/${META_GRAPH_VERSION}`;
}

export interface MetaLead {
  id: string;
  created_time: string;
  field_data: Array<{ name: string; values: string[] }>;
  [more: string]: unknown;
}

function isLead(value: unknown): value is MetaLead {
  const v = record(value);
  return (
    !!v &&
    typeof v['id'] === 'string' &&
    Array.isArray(v['field_data']) &&
    v['field_data'].every((f) => {
      const field = record(f);
      return !!field && typeof field['name'] === 'string' && Array.isArray(field['values']);
    })
  );
}

/**
 * Reads one lead from the Graph API with the Page access token (as a bearer token, so it never
 * sits in a URL a proxy might log) and returns its answer with the notification's references
 * (page, form, ad) added where the Graph answer has none.
 */
export async function fetchMetaLead(event: unknown, io: SourceIo): Promise<MetaLead & { page_id: string | null }> {
  const e = asLeadgenEvent(event);
  if (!e?.leadgen_id) throw new MetaGraphError(0, null, null, null, null, false, 'leadgen change without a usable leadgen_id');
  const url = `${graphRoot(io.baseUrl || META_GRAPH_BASE_URL)}/${encodeURIComponent(e.leadgen_id)}?fields=${encodeURIComponent(META_LEAD_FIELDS)}`;
  let response: Response;
  try {
    response = await io.fetch(url, {
      headers: { Authorization: `Bearer ${io.secret('accessToken')}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(GRAPH_TIMEOUT_MS),
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new MetaGraphError(0, null, null, null, null, true, `Graph API unreachable: ${why}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) throw metaGraphError(response.status, body);
  if (!isLead(body)) throw new MetaGraphError(response.status, null, null, null, null, false, 'Graph API answered without a lead (id and field_data)');
  return {
    ...body,
    form_id: typeof body['form_id'] === 'string' ? body['form_id'] : e.form_id,
    ad_id: typeof body['ad_id'] === 'string' ? body['ad_id'] : e.ad_id,
    adgroup_id: e.adgroup_id,
    page_id: e.page_id,
  };
}

// ------------------------------------------------------------------------------ handshake

/** Meta sends a number; anything beyond a short token is not echoed (the answer is reflected text). */
const CHALLENGE = /^[A-Za-z0-9._~-]{1,256}$/;

export function metaHandshake(query: Record<string, string>, verifyToken: string): { status: number; body: string; field?: string } {
  if (query['hub.mode'] !== 'subscribe') return { status: 400, body: 'hub.mode must be subscribe', field: 'query.hub.mode' };
  const token = query['hub.verify_token'] ?? '';
  if (verifyToken === '' || !constantTimeEqual(token, verifyToken)) return { status: 403, body: 'verify token does not match' };
  const challenge = query['hub.challenge'] ?? '';
  if (!CHALLENGE.test(challenge)) return { status: 400, body: 'hub.challenge missing or malformed', field: 'query.hub.challenge' };
  return { status: 200, body: challenge };
}

export const metaKind: SourceKind = {
  kind: 'meta',
  leadSource: 'form',
  verify: (req, secret) => verifyMetaSignature(req, secret),
  events: metaLeadgenEvents,
  eventId: (event) => asLeadgenEvent(event)?.leadgen_id ?? null,
  fetch: fetchMetaLead,
  handshake: metaHandshake,
};
