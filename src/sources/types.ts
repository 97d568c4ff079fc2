/**
 * Lead sources: the contract between the sources framework (registry, intake, mapping stack) and
 * each source kind (HubSpot, Typeform, Segment, Marketo, generic JSON, Meta Lead Ads, Calendly,
 * Cal.com). A kind verifies a delivery with its provider's own signature scheme, splits it into
 * events, names each event's ID (the lead's idempotency key) and, when the webhook carries only a
 * reference, reads the event's data through a pass-through fetch.
 */

export interface SourceRequest {
  method: string;
  /** The full URL the provider called (scheme, host, path, query), as it signs it. */
  url: string;
  headers: Record<string, string>; // lower-case names
  rawBody: Buffer;
  query: Record<string, string>;
}

export type Verification = { ok: true } | { ok: false; reason: string };

export type SourceKindName =
  | 'hubspot'
  | 'typeform'
  | 'segment'
  | 'meta'
  | 'marketo'
  | 'calendly'
  | 'calcom'
  | 'generic';

export interface SourceKind {
  kind: SourceKindName;
  /** Checks the signature (and its time window) with the source's secret; never logs the body. */
  verify(req: SourceRequest, secret: string, nowMs: number): Verification;
  /** Splits one delivery into events (HubSpot and Meta send arrays); default: the body is one event. */
  events?(body: unknown): unknown[];
  /** The provider's own event ID: the lead's idempotency key (null → a hash of the event). */
  eventId(event: unknown, req: SourceRequest): string | null;
  /** Providers whose webhook carries only a reference (Meta: leadgen_id): a pass-through read. */
  fetch?(event: unknown, io: SourceIo): Promise<unknown>;
  /** A verification handshake by GET (Meta's hub.challenge), answered without starting anything. */
  handshake?(query: Record<string, string>, verifyToken: string): { status: number; body: string; field?: string };
  /**
   * The lead's `source` field (src/domain/leadSchema.ts) for leads from this kind, e.g. `form` for
   * Typeform; the mapping may still set its own.
   */
  leadSource?: string;
}

export interface SourceIo {
  baseUrl: string;
  secret(name: 'accessToken' | 'verifyToken'): string;
  fetch: typeof fetch;
}
