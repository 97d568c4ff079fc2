import { CALENDLY_TOLERANCE_SECONDS, calendlyKind, calendlySignature } from '../../src/sources/kinds/calendly';
import { calcomKind, calcomSignature } from '../../src/sources/kinds/calcom';
import type { SourceRequest } from '../../src/sources/types';
import calendlyDocumented from '../fixtures/sources/calendly/invitee-created-documented.json';
import calendlyCanceled from '../fixtures/sources/calendly/invitee-canceled.json';
import calcomDocumented from '../fixtures/sources/calcom/booking-created-documented.json';
import calcomCancelled from '../fixtures/sources/calcom/booking-cancelled.json';

const KEY = 'calendly-signing-key-for-tests';
const SECRET = 'calcom-webhook-secret-for-tests';
/** A fixed instant: the window is checked against the `nowMs` each call is given, never the wall clock. */
const NOW = Date.parse('2024-06-03T16:00:00Z');
const NOW_S = NOW / 1000;

function request(body: unknown, headers: Record<string, string> = {}): SourceRequest {
  return { method: 'POST', url: 'https://leads.example/v1/sources/src_acme_book/events', headers, rawBody: Buffer.from(JSON.stringify(body)), query: {} };
}

function calendlyRequest(body: unknown, t: number, key = KEY): SourceRequest {
  const req = request(body);
  req.headers['calendly-webhook-signature'] = calendlySignature(key, req.rawBody, t);
  return req;
}

describe('Calendly-Webhook-Signature', () => {
  it('accepts t=<unix>,v1=<hex HMAC of "t.body"> within three minutes either way', () => {
    expect(CALENDLY_TOLERANCE_SECONDS).toBe(180);
    for (const t of [NOW_S, NOW_S - 180, NOW_S + 180]) expect(calendlyKind.verify(calendlyRequest(calendlyDocumented.body, t), KEY, NOW)).toEqual({ ok: true });
  });

  it('refuses a stale or far-future timestamp even when the signature is right', () => {
    const stale = calendlyKind.verify(calendlyRequest(calendlyDocumented.body, NOW_S - 181), KEY, NOW);
    expect(stale).toEqual({ ok: false, reason: 'signature timestamp outside the 180 s tolerance' });
    expect(calendlyKind.verify(calendlyRequest(calendlyDocumented.body, NOW_S + 181), KEY, NOW).ok).toBe(false);
  });

  it('refuses a forged body, a changed timestamp, a wrong key and malformed headers', () => {
    const req = calendlyRequest(calendlyDocumented.body, NOW_S);
    const forged = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('test@example.com', 'evil@example.com')) };
    expect(calendlyKind.verify(forged, KEY, NOW)).toEqual({ ok: false, reason: 'signature does not match the body' });
    const retimed = { ...req, headers: { 'calendly-webhook-signature': req.headers['calendly-webhook-signature']!.replace(`t=${NOW_S}`, `t=${NOW_S - 1}`) } };
    expect(calendlyKind.verify(retimed, KEY, NOW).ok).toBe(false);
    expect(calendlyKind.verify(calendlyRequest(calendlyDocumented.body, NOW_S, 'another-key'), KEY, NOW).ok).toBe(false);
    expect(calendlyKind.verify(request(calendlyDocumented.body), KEY, NOW)).toEqual({ ok: false, reason: 'missing Calendly-Webhook-Signature header' });
    for (const header of ['v1=abc', `t=${NOW_S}`, `t=${NOW_S}.5,v1=${'0'.repeat(64)}`, 'garbage']) {
      expect(calendlyKind.verify(request(calendlyDocumented.body, { 'calendly-webhook-signature': header }), KEY, NOW).ok).toBe(false);
    }
  });

  it('accepts any one of several v1 signatures (a key rotation)', () => {
    const req = calendlyRequest(calendlyDocumented.body, NOW_S);
    req.headers['calendly-webhook-signature'] = `${req.headers['calendly-webhook-signature']!.replace(/^t=\d+/, `t=${NOW_S},v1=${'f'.repeat(64)}`)}`;
    expect(calendlyKind.verify(req, KEY, NOW)).toEqual({ ok: true });
  });

  it('keeps invitee.created and names it by the invitee URI; a cancellation yields nothing', () => {
    const [event] = calendlyKind.events!(calendlyDocumented.body);
    expect(calendlyKind.eventId(event, request(event))).toBe('https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA');
    expect(calendlyKind.events!(calendlyCanceled.body)).toEqual([]);
    expect(calendlyKind.events!(null)).toEqual([]);
    expect(calendlyKind.eventId({ event: 'invitee.created', payload: {} }, request({}))).toBeNull();
  });
});

describe('X-Cal-Signature-256', () => {
  function calcomRequest(body: unknown, secret = SECRET): SourceRequest {
    const req = request(body);
    req.headers['x-cal-signature-256'] = calcomSignature(secret, req.rawBody);
    return req;
  }

  it('accepts the hex HMAC-SHA256 of the raw body with the webhook secret', () => {
    expect(calcomKind.verify(calcomRequest(calcomDocumented.body), SECRET, NOW)).toEqual({ ok: true });
  });

  it('refuses a forged body, a wrong secret, no header and the unsigned "no-secret-provided"', () => {
    const req = calcomRequest(calcomDocumented.body);
    const forged = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('john.doe@', 'jane.doe@')) };
    expect(calcomKind.verify(forged, SECRET, NOW)).toEqual({ ok: false, reason: 'signature does not match the body' });
    expect(calcomKind.verify(calcomRequest(calcomDocumented.body, 'another-secret'), SECRET, NOW).ok).toBe(false);
    expect(calcomKind.verify(request(calcomDocumented.body), SECRET, NOW)).toEqual({ ok: false, reason: 'missing X-Cal-Signature-256 header' });
    expect(calcomKind.verify(request(calcomDocumented.body, { 'x-cal-signature-256': 'no-secret-provided' }), SECRET, NOW)).toEqual({ ok: false, reason: 'the Cal.com webhook has no secret set' });
  });

  it('signs no timestamp, so an old delivery verifies and is stopped by its booking event ID instead', () => {
    expect(calcomKind.verify(calcomRequest(calcomDocumented.body), SECRET, NOW + 365 * 24 * 3600_000)).toEqual({ ok: true });
  });

  it('keeps BOOKING_CREATED, named by booking uid and trigger; a cancellation yields nothing', () => {
    const [event] = calcomKind.events!(calcomDocumented.body);
    expect(calcomKind.eventId(event, request(event))).toBe('bFJeNb2uX8ANpT3JL5EfXw:BOOKING_CREATED');
    expect(calcomKind.events!(calcomCancelled.body)).toEqual([]);
    expect(calcomKind.eventId({ triggerEvent: 'BOOKING_CREATED', payload: { uid: '../x' } }, request({}))).toBeNull();
  });
});
