import type { SourceKind, SourceRequest, Verification } from '../types';
import { fail, field, header, hmac, idString, ok, sameSignature } from '../verify';

/**
 * Typeform: `form_response` webhooks signed with `Typeform-Signature: sha256=<base64
 * HMAC-SHA256(webhook secret, raw body)>`. Typeform signs no timestamp: a replay is caught by the
 * response's own ID (its token), which is the lead's idempotency key.
 * https://www.typeform.com/developers/webhooks/secure-your-webhooks/
 */
export function typeformSignature(secret: string, rawBody: Buffer | string): string {
  return `sha256=${hmac('sha256', secret, [rawBody]).toString('base64')}`;
}

function verify(req: SourceRequest, secret: string): Verification {
  const signature = header(req, 'typeform-signature');
  if (!signature) return fail('missing Typeform-Signature');
  if (!signature.startsWith('sha256=')) return fail('Typeform-Signature is not sha256=');
  return sameSignature(signature, typeformSignature(secret, req.rawBody)) ? ok : fail('Typeform-Signature does not match');
}

export const typeform: SourceKind = {
  kind: 'typeform',
  leadSource: 'form',
  verify,
  eventId(event) {
    // The response's token names the submission; a redelivery (new event_id or not) is the same response.
    const response = field(event, 'form_response');
    const token = idString(field(response, 'token'));
    if (token) return `response:${idString(field(response, 'form_id')) ?? ''}:${token}`;
    const eventId = idString(field(event, 'event_id'));
    return eventId ? `event:${eventId}` : null;
  },
};
