import type { SourceKind, SourceRequest, Verification } from '../types';
import { hexDigestMatches, hmacSha256Hex } from './hmacHex';

/**
 * Cal.com webhooks, as Cal.com sends them (packages/features/webhooks/lib/sendPayload.ts):
 * - `X-Cal-Signature-256: <hex HMAC-SHA256 of the raw body>` keyed with the webhook's secret (the
 *   source's `secret`). Without a secret Cal.com sends the literal `no-secret-provided`, which
 *   never verifies here. Cal.com signs no timestamp, so there is no time window: a replay carries
 *   a booking already seen, and the lead's idempotency key (booking uid + trigger) starts nothing.
 * - A delivery is `{ triggerEvent, createdAt, payload }`; only `BOOKING_CREATED` is a lead.
 *   Cancellations, reschedules, meeting and recording events yield nothing.
 */

export function calcomSignature(secret: string, rawBody: Buffer | string): string {
  return hmacSha256Hex(secret, rawBody);
}

export function verifyCalcomSignature(req: SourceRequest, secret: string): Verification {
  const header = req.headers['x-cal-signature-256'];
  if (!header) return { ok: false, reason: 'missing X-Cal-Signature-256 header' };
  if (header === 'no-secret-provided') return { ok: false, reason: 'the Cal.com webhook has no secret set' };
  const expected = hmacSha256Hex(secret, req.rawBody);
  return hexDigestMatches(header.trim(), expected) ? { ok: true } : { ok: false, reason: 'signature does not match the body' };
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

export const CALCOM_LEAD_TRIGGER = 'BOOKING_CREATED';

export function calcomEvents(body: unknown): unknown[] {
  return record(body)?.['triggerEvent'] === CALCOM_LEAD_TRIGGER ? [body] : [];
}

/** `<booking uid>:<trigger>`: the booking's own ID, qualified by what happened to it. */
export function calcomEventId(event: unknown): string | null {
  const e = record(event);
  const uid = record(e?.['payload'])?.['uid'];
  const trigger = e?.['triggerEvent'];
  if (typeof uid !== 'string' || !/^[\w-]{1,200}$/.test(uid) || typeof trigger !== 'string') return null;
  return `${uid}:${trigger}`;
}

export const calcomKind: SourceKind = {
  kind: 'calcom',
  leadSource: 'event',
  verify: (req, secret) => verifyCalcomSignature(req, secret),
  events: calcomEvents,
  eventId: calcomEventId,
};
