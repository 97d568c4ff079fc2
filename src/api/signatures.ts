import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual, requireSecret } from '../accept/hmac';
import { prototypeKeyPath } from '../domain/input';

/*
 * Slack request signing and interactive callbacks, kept free of express so the routes, the Slack
 * emulator and the tests share one implementation. Accept-link tokens and the Accept button's
 * value are in src/accept/tokens.ts. A Slack signing secret must not be empty (it throws).
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
