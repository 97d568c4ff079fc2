import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { prototypeKeyPath } from '../domain/input';

/*
 * Request and link signing, kept free of express so the routes, the Slack emulator and the tests
 * share one implementation. Secrets are configuration: an empty one is a deployment error, so it
 * throws instead of quietly verifying against a guessable key.
 */

// ---------------------------------------------------------------------------------------------
// Slack request signing
// ---------------------------------------------------------------------------------------------

/** Slack's replay window: a request more than five minutes from our clock (either way) is refused. */
export const SLACK_REPLAY_WINDOW_SECONDS = 300;

export type SlackVerification =
  | { ok: true }
  | { ok: false; reason: 'missing_headers' | 'stale' | 'bad_signature' };

export interface SlackVerificationInput {
  signingSecret: string;
  /** X-Slack-Request-Timestamp (epoch seconds). */
  timestamp: string | undefined;
  /** X-Slack-Signature (`v0=<hex>`). */
  signature: string | undefined;
  /** The body exactly as received: re-serialising parsed form data would change the bytes signed. */
  rawBody: string | Buffer;
  nowMs: number;
}

/** `v0=` + hex(HMAC-SHA256(secret, `v0:{timestamp}:{rawBody}`)), as Slack computes it. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  requireSecret(signingSecret, 'Slack signing secret');
  // Two updates so a Buffer body is hashed byte for byte, never decoded and re-encoded.
  const mac = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`, 'utf8');
  mac.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Checks, in order: both headers present, timestamp within the replay window, signature equal in
 * constant time. Freshness is checked first so an old (possibly leaked) request is refused without
 * any HMAC work; a validly signed but stale request is still `stale`.
 */
export function verifySlackSignature(input: SlackVerificationInput): SlackVerification {
  const { signingSecret, timestamp, signature, rawBody, nowMs } = input;
  requireSecret(signingSecret, 'Slack signing secret');
  if (!timestamp || !signature) return { ok: false, reason: 'missing_headers' };

  // Slack sends whole epoch seconds; anything else cannot be shown to be fresh.
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'stale' };
  const skewSeconds = Math.abs(nowMs / 1000 - Number(timestamp));
  if (!(skewSeconds <= SLACK_REPLAY_WINDOW_SECONDS)) return { ok: false, reason: 'stale' };

  const expected = slackSignature(signingSecret, timestamp, rawBody);
  return constantTimeEqual(signature, expected) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

// ---------------------------------------------------------------------------------------------
// Slack interactive callbacks
// ---------------------------------------------------------------------------------------------

export type SlackInteractionFailure =
  | 'missing_payload'
  | 'bad_json'
  | 'unsupported_type'
  | 'invalid_payload';

export interface SlackAction {
  actionId: string;
  /** Buttons carry a value; other elements (selects, date pickers) may not. */
  value: string | null;
}

export type SlackInteraction =
  | {
      ok: true;
      type: 'block_actions';
      user: { id: string; username?: string; name?: string };
      teamId: string | null;
      responseUrl: string | null;
      actions: SlackAction[];
    }
  | { ok: false; reason: SlackInteractionFailure };

const interactionTypeSchema = z.object({ type: z.string() });

// Only the fields we act on; Slack adds fields freely, so unknown keys are ignored (not rejected).
const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({
    id: z.string().min(1),
    username: z.string().optional(),
    name: z.string().optional(),
  }),
  // Org-wide (Enterprise Grid) installs can send `team: null`.
  team: z.object({ id: z.string().min(1) }).nullish(),
  // Absent for actions inside modals: there is no message to respond to.
  response_url: z.url().nullish(),
  // Slack always sends the action that fired; an empty list means a payload we cannot act on.
  actions: z
    .array(z.object({ action_id: z.string().min(1), value: z.string().nullish() }))
    .min(1),
});

/** Parses the form-encoded `payload=<json>` body of an interactive callback (block_actions only). */
export function parseSlackInteraction(rawBody: string): SlackInteraction {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (payload === null || payload === '') return { ok: false, reason: 'missing_payload' };

  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'bad_json' };
  }

  // A prototype key anywhere is refused, not stripped with the other unknown keys.
  if (prototypeKeyPath(json) !== null) return { ok: false, reason: 'invalid_payload' };

  // Distinguish "valid, but a kind we do not handle" (view_submission, shortcut…) from "broken".
  const typed = interactionTypeSchema.safeParse(json);
  if (!typed.success) return { ok: false, reason: 'invalid_payload' };
  if (typed.data.type !== 'block_actions') return { ok: false, reason: 'unsupported_type' };

  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid_payload' };
  const { user, team, response_url, actions } = parsed.data;

  // exactOptionalPropertyTypes: add optional user fields only when present.
  const outUser: { id: string; username?: string; name?: string } = { id: user.id };
  if (user.username !== undefined) outUser.username = user.username;
  if (user.name !== undefined) outUser.name = user.name;

  return {
    ok: true,
    type: 'block_actions',
    user: outUser,
    teamId: team?.id ?? null,
    responseUrl: response_url ?? null,
    actions: actions.map((a) => ({ actionId: a.action_id, value: a.value ?? null })),
  };
}

// ---------------------------------------------------------------------------------------------
// Signed accept links (email / SMS / Teams)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------

/** timingSafeEqual throws on unequal lengths; a length mismatch is simply "not equal". */
function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function requireSecret(secret: string, what: string): void {
  if (secret.length === 0) throw new Error(`${what} must not be empty`);
}
