import { createHash } from 'node:crypto';
import type { SourceKind, SourceRequest, Verification } from '../types';
import { fail, field, header, idString, ok, sameSignature } from '../verify';

/**
 * Marketo: a webhook (Admin → Webhooks) called from a trigger campaign's "Call Webhook" step,
 * with a payload template the tenant writes from lead tokens. Marketo does not sign requests; the
 * webhook carries a shared token instead, set either as a custom header (Webhooks Actions → Set
 * Custom Header: `X-Leadrelay-Token: <token>`) or in the URL (`…/events?token=<token>`; Marketo
 * sends URL characters as written). The header is preferred: a URL ends up in more logs.
 * https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/webhooks/webhooks
 */
export const MARKETO_TOKEN_HEADER = 'x-leadrelay-token';

const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');

function verify(req: SourceRequest, secret: string): Verification {
  const token = header(req, MARKETO_TOKEN_HEADER) ?? (req.query['token'] || undefined);
  if (!token) return fail('missing X-Leadrelay-Token header or token query parameter');
  // Compared as digests: equal lengths whatever was sent, so the time taken says nothing of the token's length.
  return sameSignature(digest(token), digest(secret)) ? ok : fail('the Marketo token does not match');
}

export const marketo: SourceKind = {
  kind: 'marketo',
  leadSource: 'webhook',
  verify,
  // The template decides: an `eventId` field when it has one (say, {{lead.Id}} with a campaign token), else a hash of the event.
  eventId: (event) => {
    const id = idString(field(event, 'eventId'));
    return id ? `event:${id}` : null;
  },
};
