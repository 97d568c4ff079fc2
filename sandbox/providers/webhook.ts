import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { webhookSignature } from '../../src/connectors/webhookSignature';
import { pathSegment, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator, type RouteContext } from '../emulator';
import { parseBody } from '../schemas';
import type { MessageRecord, SandboxState } from '../state';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { ietfRateHeaders } from './unified';

/**
 * A customer's signed webhook receiver (an SMS gateway, a buyer's endpoint) at
 * `/hooks/{workspace id}`. The workspace token is the shared secret: the receiver checks
 * `X-Leadrelay-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` over the body
 * exactly as sent, refuses timestamps more than 5 minutes off, and drops a repeated
 * `Idempotency-Key` (the shared pipeline replays the first answer). Errors are `{ error, message }`.
 */
const SIGNATURE_HEADER = 'x-leadrelay-signature';
const SIGNATURE_TOLERANCE_SECONDS = 300;

const CODES: Record<ErrorCode, string> = {
  VALIDATION: 'invalid_request',
  UNAUTHORIZED: 'invalid_signature',
  NOT_FOUND: 'not_found',
  RATE_LIMITED: 'rate_limited',
  INTERNAL: 'internal_error',
};

function webhookErrorReply(err: HttpError): Reply {
  return { status: err.status, body: { error: err.providerCode ?? CODES[err.code], message: err.message } };
}

/** The signature's timestamp and its v1 values (several during a secret rotation), or null if malformed. */
function parseSignature(header: string | undefined): { t: number; v1: string[] } | null {
  if (!header) return null;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const v1 = parts.filter(([k, v]) => k === 'v1' && v !== undefined).map(([, v]) => v ?? '');
  return Number.isInteger(t) && v1.length > 0 ? { t, v1 } : null;
}

/** Why a signature does not verify, or null when it does. */
function signatureProblem(secret: string, header: string | undefined, rawBody: string, nowMs: number): string | null {
  const sig = parseSignature(header);
  if (!sig) return `missing or malformed ${SIGNATURE_HEADER} header`;
  if (Math.abs(nowMs / 1000 - sig.t) > SIGNATURE_TOLERANCE_SECONDS) return 'signature timestamp is more than 5 minutes off';
  const expected = Buffer.from(webhookSignature(secret, sig.t, rawBody), 'hex');
  const matches = sig.v1.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? null : 'signature does not match the body';
}

/** The endpoint ID: the path segment after `/hooks`. */
function endpointId(path: string): string | null {
  return pathSegment(path, 2);
}

/** The endpoint's path names the workspace; its token is the secret the signature must verify with. */
function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const id = endpointId(req.path);
  const ws = id === null ? undefined : state.workspaceById(id);
  if (!ws) return { workspace: null, claimed: id, error: new HttpError(404, 'NOT_FOUND', `no webhook endpoint ${id ?? ''}`) };
  const problem = signatureProblem(ws.seed.token, req.headers[SIGNATURE_HEADER], req.rawBody, req.now);
  return { workspace: problem ? null : ws, claimed: id, error: problem ? new HttpError(401, 'UNAUTHORIZED', problem) : null };
}

const notificationBody = z.object({
  type: z.literal('lead.notification'),
  id: z.string().min(1),
  title: z.string().exactOptional(),
  text: z.string().min(1),
  recipient: z
    .object({ email: z.email().exactOptional(), channel: z.string().min(1).exactOptional() })
    .refine((r) => r.email !== undefined || r.channel !== undefined, 'one of email or channel is required'),
  acceptUrl: z.url().exactOptional(),
});

function receive({ ws, body, now }: RouteContext): Reply {
  const input = parseBody(notificationBody, body);
  const message: MessageRecord = {
    id: `whmsg_${ws.nextMessageNo++}`,
    channel_id: input.recipient.channel ?? input.recipient.email ?? '',
    recipient_email: input.recipient.email ?? null,
    text: input.text,
    blocks: null,
    created_at: new Date(now).toISOString(),
  };
  ws.messages.push(message);
  return { status: 202, body: { id: message.id, status: 'accepted' } };
}

export const WEBHOOK_EMULATORS: ProviderEmulator[] = [
  {
    provider: 'webhook',
    system: 'messaging',
    prefixes: ['/hooks'],
    authenticate,
    routes: [{ method: 'POST', pattern: '/hooks/:id', idempotent: true, handle: receive }],
    rateHeaders: ietfRateHeaders,
    rateLimited: (rate) => ({
      ...webhookErrorReply(new HttpError(429, 'RATE_LIMITED', 'too many deliveries, retry later')),
      headers: { 'Retry-After': String(rate.resetSeconds) },
    }),
    errorReply: webhookErrorReply,
  },
];
