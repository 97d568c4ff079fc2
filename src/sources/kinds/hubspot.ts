import type { SourceKind, SourceRequest, Verification } from '../types';
import { fail, field, fresh, header, hmac, idString, ok, sameSignature } from '../verify';

/**
 * HubSpot: webhook subscriptions (an array of events per request) and the workflow "Send a
 * webhook" action (the contact, with its form submissions), signed with `X-HubSpot-Signature-v3`:
 * base64(HMAC-SHA256(app client secret, method + URI + body + X-HubSpot-Request-Timestamp)), the
 * timestamp in milliseconds, refused when more than five minutes off. The URI is the one HubSpot
 * called, with the characters HubSpot decodes before signing decoded (see hubspotSignedUri).
 * https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
 */

/** The percent-encodings HubSpot's v3 validation decodes in the request URI before signing. */
const DECODED: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$',
  '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

/** The URI as HubSpot signs it: no fragment, and the listed percent-encodings decoded. */
export function hubspotSignedUri(url: string): string {
  const uri = url.split('#')[0] ?? url;
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()] ?? m);
}

export function hubspotSignature(secret: string, method: string, url: string, rawBody: Buffer | string, timestampMs: string): string {
  return hmac('sha256', secret, [method.toUpperCase(), hubspotSignedUri(url), rawBody, timestampMs]).toString('base64');
}

function verify(req: SourceRequest, secret: string, nowMs: number): Verification {
  const signature = header(req, 'x-hubspot-signature-v3');
  const timestamp = header(req, 'x-hubspot-request-timestamp');
  if (!signature || !timestamp) return fail('missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp');
  if (!/^\d{1,16}$/.test(timestamp) || !fresh(Number(timestamp), nowMs)) return fail('stale: X-HubSpot-Request-Timestamp is more than 5 minutes off');
  const expected = hubspotSignature(secret, req.method, req.url, req.rawBody, timestamp);
  return sameSignature(signature, expected) ? ok : fail('X-HubSpot-Signature-v3 does not match');
}

/**
 * Whether an event can be a lead: a workflow webhook's contact (no subscriptionType), or a
 * subscription's change of a contact's `email` (classic `contact.propertyChange`, or the
 * `object.propertyChange` of object type 0-1). Other subscription events (contact.creation,
 * deal changes) carry no email: they are acknowledged and ignored, not quarantined.
 */
function isLeadEvent(event: unknown): boolean {
  const type = field(event, 'subscriptionType');
  if (type === undefined) return typeof event === 'object' && event !== null;
  if (field(event, 'propertyName') !== 'email') return false;
  return type === 'contact.propertyChange' || (type === 'object.propertyChange' && field(event, 'objectTypeId') === '0-1');
}

export const hubspot: SourceKind = {
  kind: 'hubspot',
  leadSource: 'form',
  verify,
  events: (body) => (Array.isArray(body) ? body : [body]).filter(isLeadEvent),
  eventId(event) {
    // A webhook subscription's event: HubSpot says eventId alone is not guaranteed unique.
    const eventId = idString(field(event, 'eventId'));
    if (eventId) {
      const parts = ['portalId', 'subscriptionType', 'objectId', 'occurredAt'].map((k) => idString(field(event, k)) ?? '');
      return `event:${parts[0]}:${parts[1]}:${parts[2]}:${eventId}:${parts[3]}`;
    }
    // A workflow webhook: the newest form submission's conversion ID, else the contact itself.
    const submissions = field(event, 'form-submissions');
    if (Array.isArray(submissions) && submissions.length > 0) {
      const newest = [...submissions].sort((a, b) => Number(field(b, 'timestamp') ?? 0) - Number(field(a, 'timestamp') ?? 0))[0];
      const conversion = idString(field(newest, 'conversion-id'));
      if (conversion) return `form:${conversion}`;
    }
    const vid = idString(field(event, 'canonical-vid')) ?? idString(field(event, 'vid'));
    return vid ? `contact:${idString(field(event, 'portal-id')) ?? ''}:${vid}` : null;
  },
};
