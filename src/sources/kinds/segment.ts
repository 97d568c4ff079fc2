import type { SourceKind, SourceRequest, Verification } from '../types';
import { fail, field, header, hmac, idString, ok, sameSignature } from '../verify';

/**
 * Segment's Webhooks destinations (Classic and Actions): `identify` and `track` calls, signed when
 * a shared secret is set with `X-Signature: <hex HMAC-SHA1(shared secret, body)>`. No timestamp is
 * signed: a replay is caught by the message's `messageId`, the lead's idempotency key. Segment
 * signs only the first event of a batched (Actions) request, so batching must stay off.
 * https://segment.com/docs/connections/destinations/catalog/webhooks/#authentication
 */
export function segmentSignature(secret: string, rawBody: Buffer | string): string {
  return hmac('sha1', secret, [rawBody]).toString('hex');
}

function verify(req: SourceRequest, secret: string): Verification {
  const signature = header(req, 'x-signature');
  if (!signature) return fail('missing X-Signature');
  return sameSignature(signature.toLowerCase(), segmentSignature(secret, req.rawBody)) ? ok : fail('X-Signature does not match');
}

export const segment: SourceKind = {
  kind: 'segment',
  leadSource: 'product',
  verify,
  eventId(event) {
    const messageId = idString(field(event, 'messageId'));
    return messageId ? `message:${messageId}` : null;
  },
};
