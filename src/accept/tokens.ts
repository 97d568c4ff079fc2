import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual, requireSecret } from './hmac';

/*
 * What a notification carries so its owner can accept the lead, made and read here only: the
 * signed accept-link token (email / SMS / Teams, and Slack's "Accept by link" button), and the
 * value of Slack's Accept button. The notify activity makes them; the accept routes read them.
 */

// ---------------------------------------------------------------------------------------------
// Signed accept links
// ---------------------------------------------------------------------------------------------

/** How long an accept link works after its notification was sent. */
export const ACCEPT_LINK_TTL_MS = 7 * 86_400_000;

export interface AcceptClaims {
  leadId: string;
  ownerId: string;
  tenantId: string;
  expiresAtMs: number;
}

export type AcceptTokenVerification =
  | { ok: true; leadId: string; ownerId: string; tenantId: string }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

// Short keys keep the token small enough for SMS links.
const acceptClaimsSchema = z.object({
  l: z.string().min(1),
  o: z.string().min(1),
  t: z.string().min(1),
  e: z.number().int().positive(),
});

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function acceptMac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64url');
}

/** `base64url(JSON {l,o,t,e}) + '.' + base64url(HMAC-SHA256(secret, first part))`; `e` in epoch seconds. */
export function signAcceptToken(secret: string, claims: AcceptClaims): string {
  requireSecret(secret, 'accept-link secret');
  // Round down so the link never outlives the requested expiry.
  const e = Math.floor(claims.expiresAtMs / 1000);
  const body = acceptClaimsSchema.parse({ l: claims.leadId, o: claims.ownerId, t: claims.tenantId, e });
  const encoded = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${encoded}.${acceptMac(secret, encoded)}`;
}

/**
 * Checks shape, then signature, then expiry. The signature is checked before the claims are
 * decoded, so attacker-chosen JSON is never parsed; the MAC is compared in its canonical encoded
 * form, which also refuses alternative base64 spellings of the same bytes.
 */
export function verifyAcceptToken(secret: string, token: string, nowMs: number): AcceptTokenVerification {
  requireSecret(secret, 'accept-link secret');
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [encoded, mac] = parts as [string, string];
  if (!BASE64URL.test(encoded) || !BASE64URL.test(mac)) return { ok: false, reason: 'malformed' };

  if (!constantTimeEqual(mac, acceptMac(secret, encoded))) return { ok: false, reason: 'bad_signature' };

  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const claims = acceptClaimsSchema.safeParse(json);
  if (!claims.success) return { ok: false, reason: 'malformed' };

  if (nowMs >= claims.data.e * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, leadId: claims.data.l, ownerId: claims.data.o, tenantId: claims.data.t };
}

/** The tenant a token claims (unverified: only to find the secret that verifies it). */
export function unverifiedTokenTenant(token: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { t?: unknown };
    return typeof claims.t === 'string' ? claims.t : null;
  } catch {
    return null;
  }
}

/** The accept link for a lead's owner, valid for `ACCEPT_LINK_TTL_MS` from `nowMs`, on the API's public URL. */
export function acceptLinkUrl(publicUrl: string, secret: string, claims: { tenantId: string; leadId: string; ownerId: string }, nowMs: number): string {
  const token = signAcceptToken(secret, { ...claims, expiresAtMs: nowMs + ACCEPT_LINK_TTL_MS });
  return `${publicUrl.replace(/\/$/, '')}/v1/accept?token=${encodeURIComponent(token)}`;
}

// ---------------------------------------------------------------------------------------------
// Slack's Accept button
// ---------------------------------------------------------------------------------------------

/** The Accept button's action ID: the interactions route acts on this action only. */
export const ACCEPT_BUTTON_ACTION_ID = 'accept_lead';

export interface AcceptButtonValue {
  tenantId: string;
  leadId: string;
  /** The owner the notification went to; null in a value that names none. */
  ownerId: string | null;
}

/** `tenant|lead|owner`: not signed, since Slack's request signature vouches for the callback carrying it. */
export function encodeAcceptButtonValue(value: { tenantId: string; leadId: string; ownerId: string }): string {
  return `${value.tenantId}|${value.leadId}|${value.ownerId}`;
}

/** The parts of a button value, unchecked (the route checks tenant and lead ID); null for a button without a value. */
export function decodeAcceptButtonValue(value: string | null): AcceptButtonValue | null {
  if (value === null) return null;
  const [tenantId = '', leadId = '', ownerId] = value.split('|');
  return { tenantId, leadId, ownerId: ownerId || null };
}
