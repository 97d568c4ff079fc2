import type { SourceKind, SourceRequest, Verification } from '../types';
import { hexDigestMatches, hmacSha256Hex } from './hmacHex';

/**
 * Calendly webhook subscriptions (API v2), as Calendly documents them:
 * - `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
 *   keyed with the subscription's signing key (the source's `secret`). Calendly's guide rejects
 *   a timestamp older than three minutes to stop replays; a timestamp that far ahead of our
 *   clock is refused too.
 * - A delivery is `{ event, created_at, created_by, payload }`; only `invitee.created` (someone
 *   booked) is a lead. `invitee.canceled` and the other events yield nothing. The invitee's URI
 *   (`payload.uri`) is the event ID: a redelivery, or a reschedule's second `invitee.created` for
 *   the same invitee, starts nothing new (a reschedule creates a new invitee with a new URI).
 */

/** Calendly's documented tolerance: three minutes either side of our clock. */
export const CALENDLY_TOLERANCE_SECONDS = 180;

/** `t=<t>,v1=<hex>` for `rawBody` signed at `timestampSeconds`, as Calendly builds the header. */
export function calendlySignature(signingKey: string, rawBody: Buffer | string, timestampSeconds: number): string {
  const t = String(Math.floor(timestampSeconds));
  return `t=${t},v1=${hmacSha256Hex(signingKey, rawBody, `${t}.`)}`;
}

/** The header's `t` and every `v1` (a key rotation may list more than one). */
function parseHeader(header: string): { t: string | null; v1: string[] } {
  let t: string | null = null;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (name === 't') t = value;
    else if (name === 'v1') v1.push(value);
  }
  return { t, v1 };
}

export function verifyCalendlySignature(req: SourceRequest, signingKey: string, nowMs: number): Verification {
  const header = req.headers['calendly-webhook-signature'];
  if (!header) return { ok: false, reason: 'missing Calendly-Webhook-Signature header' };
  const { t, v1 } = parseHeader(header);
  if (t === null || v1.length === 0) return { ok: false, reason: 'Calendly-Webhook-Signature lacks t= or v1=' };
  // Whole epoch seconds only: anything else cannot be shown to be fresh.
  if (!/^\d{1,15}$/.test(t)) return { ok: false, reason: 'signature timestamp is not epoch seconds' };
  const skew = Math.abs(nowMs / 1000 - Number(t));
  if (!(skew <= CALENDLY_TOLERANCE_SECONDS)) return { ok: false, reason: `signature timestamp outside the ${CALENDLY_TOLERANCE_SECONDS} s tolerance` };
  const expected = hmacSha256Hex(signingKey, req.rawBody, `${t}.`);
  return v1.some((given) => hexDigestMatches(given, expected)) ? { ok: true } : { ok: false, reason: 'signature does not match the body' };
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** A booking is a lead; cancellations, no-shows and the rest are not. */
export function calendlyEvents(body: unknown): unknown[] {
  return record(body)?.['event'] === 'invitee.created' ? [body] : [];
}

/** The invitee's URI (`https://api.calendly.com/scheduled_events/…/invitees/…`), unique per booking. */
export function calendlyEventId(event: unknown): string | null {
  const uri = record(record(event)?.['payload'])?.['uri'];
  return typeof uri === 'string' && uri.length > 0 && uri.length <= 500 ? uri : null;
}

export const calendlyKind: SourceKind = {
  kind: 'calendly',
  leadSource: 'event',
  verify: verifyCalendlySignature,
  events: calendlyEvents,
  eventId: calendlyEventId,
};
