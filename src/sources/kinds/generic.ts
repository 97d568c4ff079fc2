import type { SourceKind, SourceRequest, Verification } from '../types';
import { fail, field, header, hmac, idString, ok, sameSignature, SIGNATURE_WINDOW_MS } from '../verify';

/**
 * Generic JSON: any system that can sign its body. `X-Leadrelay-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<raw body>")>`, refused more than five minutes off; several `v1=` may
 * be sent while a secret is rotated (any one matching is enough). The event's ID comes from an
 * `X-Leadrelay-Event-Id` header or the body's `eventId`; without either, a hash of the event.
 * The mapping is the tenant's (the platform's default takes a body already in the lead's shape).
 */
export const GENERIC_SIGNATURE_HEADER = 'x-leadrelay-signature';

export function genericSignature(secret: string, timestampSeconds: number | string, rawBody: Buffer | string): string {
  return hmac('sha256', secret, [`${timestampSeconds}.`, rawBody]).toString('hex');
}

/** The header value a sender puts on a body: `t=<unix>,v1=<hex>`. */
export function genericSignatureHeader(secret: string, timestampSeconds: number, rawBody: Buffer | string): string {
  return `t=${timestampSeconds},v1=${genericSignature(secret, timestampSeconds, rawBody)}`;
}

function verify(req: SourceRequest, secret: string, nowMs: number): Verification {
  const value = header(req, GENERIC_SIGNATURE_HEADER);
  if (!value) return fail('missing X-Leadrelay-Signature');
  const pairs = value.split(',').map((p) => p.trim().split('='));
  const t = pairs.find(([k]) => k === 't')?.[1];
  const signatures = pairs.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v as string);
  if (!t || !/^\d{1,12}$/.test(t) || signatures.length === 0) return fail('X-Leadrelay-Signature is not t=<unix>,v1=<hex>');
  if (Math.abs(nowMs - Number(t) * 1000) > SIGNATURE_WINDOW_MS) return fail('stale: the signature timestamp is more than 5 minutes off');
  const expected = genericSignature(secret, t, req.rawBody);
  // Every candidate is compared, so the time taken does not say which one matched.
  const matches = signatures.map((s) => sameSignature(s.toLowerCase(), expected));
  return matches.includes(true) ? ok : fail('X-Leadrelay-Signature does not match');
}

export const generic: SourceKind = {
  kind: 'generic',
  leadSource: 'webhook',
  verify,
  eventId(event, req) {
    const id = idString(req.headers['x-leadrelay-event-id']) ?? idString(field(event, 'eventId'));
    return id ? `event:${id}` : null;
  },
};
