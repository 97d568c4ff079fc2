import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generic, genericSignatureHeader } from '../../src/sources/kinds/generic';
import { hubspot, hubspotSignature, hubspotSignedUri } from '../../src/sources/kinds/hubspot';
import { marketo } from '../../src/sources/kinds/marketo';
import { segment, segmentSignature } from '../../src/sources/kinds/segment';
import { typeform, typeformSignature } from '../../src/sources/kinds/typeform';
import { SOURCE_KIND_REGISTRY } from '../../src/sources/kinds';
import { eventIdOf, mapSourceEvent } from '../../src/sources/intake';
import { applyMapping, mappingLayers, compileMapping, MappingSyntaxError } from '../../src/sources/mapping';
import { parsePublicSourceId, publicSourceId, sourceEndpoint } from '../../src/sources/config';
import type { SourceKind, SourceKindName, SourceRequest } from '../../src/sources/types';
import type { Tenant } from '../../src/tenants/schema';

const SECRET = 'source-secret-for-tests';
/** A fixed instant: every window is checked against the `nowMs` given, never the wall clock. */
const NOW = Date.parse('2024-06-03T16:00:00Z');
const URL_SIGNED = 'https://leads.example.com/v1/sources/src_acme_web/events';

function request(body: string, headers: Record<string, string> = {}, url = URL_SIGNED, query: Record<string, string> = {}): SourceRequest {
  return { method: 'POST', url, headers, rawBody: Buffer.from(body, 'utf8'), query };
}
const BODY = '{"email":"a@b.example","n":1}';
const FORGED = '{"email":"evil@b.example","n":1}';

describe('HubSpot X-HubSpot-Signature-v3', () => {
  const signed = (body: string, ts: number, secret = SECRET, url = URL_SIGNED) =>
    request(body, { 'x-hubspot-signature-v3': hubspotSignature(secret, 'POST', url, body, String(ts)), 'x-hubspot-request-timestamp': String(ts) }, url);

  it('accepts base64 HMAC-SHA256 of method + URI + body + timestamp (ms) within five minutes either way', () => {
    for (const ts of [NOW, NOW - 300_000, NOW + 300_000]) expect(hubspot.verify(signed(BODY, ts), SECRET, NOW)).toEqual({ ok: true });
  });
  it('refuses a forged body, a wrong secret, another URL and a stale or future timestamp', () => {
    const good = signed(BODY, NOW);
    expect(hubspot.verify({ ...good, rawBody: Buffer.from(FORGED) }, SECRET, NOW)).toEqual({ ok: false, reason: 'X-HubSpot-Signature-v3 does not match' });
    expect(hubspot.verify(signed(BODY, NOW, 'another-secret'), SECRET, NOW).ok).toBe(false);
    expect(hubspot.verify({ ...good, url: 'https://evil.example/v1/sources/src_acme_web/events' }, SECRET, NOW).ok).toBe(false);
    expect(hubspot.verify({ ...good, method: 'PUT' }, SECRET, NOW).ok).toBe(false);
    const stale = hubspot.verify(signed(BODY, NOW - 300_001), SECRET, NOW);
    expect(stale.ok).toBe(false);
    expect(!stale.ok && stale.reason).toMatch(/^stale/);
    expect(hubspot.verify(signed(BODY, NOW + 300_001), SECRET, NOW).ok).toBe(false);
    // A timestamp changed after signing is a forgery too.
    expect(hubspot.verify({ ...good, headers: { ...good.headers, 'x-hubspot-request-timestamp': String(NOW - 1) } }, SECRET, NOW).ok).toBe(false);
    expect(hubspot.verify(request(BODY), SECRET, NOW).ok).toBe(false);
  });
  it('decodes the characters HubSpot decodes before signing, and only those', () => {
    expect(hubspotSignedUri('https://x.example/hook?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%26#frag')).toBe("https://x.example/hook?a=:/?@!$'()*,;&b=%20%26");
    const url = 'https://x.example/v1/sources/src_acme_web/events?campaign=spring%2C2024';
    const ts = String(NOW);
    // HubSpot signs the decoded form; the request arrives encoded.
    const sig = hubspotSignature(SECRET, 'POST', 'https://x.example/v1/sources/src_acme_web/events?campaign=spring,2024', BODY, ts);
    expect(hubspot.verify(request(BODY, { 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts }, url), SECRET, NOW)).toEqual({ ok: true });
  });
  it('keeps lead events (a workflow contact, a contact email change) and keys each by the event', () => {
    const events = hubspot.events!([
      { subscriptionType: 'contact.creation', objectId: 1, eventId: 9, portalId: 33, occurredAt: 5 },
      { subscriptionType: 'contact.propertyChange', propertyName: 'email', propertyValue: 'a@b.example', objectId: 1, eventId: 10, portalId: 33, occurredAt: 6 },
      { subscriptionType: 'object.propertyChange', objectTypeId: '0-1', propertyName: 'email', propertyValue: 'c@d.example', objectId: 2, eventId: 11, portalId: 33, occurredAt: 7 },
      { subscriptionType: 'object.propertyChange', objectTypeId: '0-3', propertyName: 'email', objectId: 3, eventId: 12, portalId: 33, occurredAt: 8 },
    ]);
    expect(events).toHaveLength(2);
    expect(hubspot.eventId(events[0], request(''))).toBe('event:33:contact.propertyChange:1:10:6');
    expect(hubspot.events!({ vid: 7, 'portal-id': 1, properties: {} })).toHaveLength(1);
    expect(hubspot.eventId({ vid: 7, 'portal-id': 1, 'form-submissions': [{ 'conversion-id': 'old', timestamp: 1 }, { 'conversion-id': 'new', timestamp: 2 }] }, request(''))).toBe('form:new');
    expect(hubspot.eventId({ vid: 7, 'portal-id': 1 }, request(''))).toBe('contact:1:7');
  });
});

describe('Typeform-Signature', () => {
  const signed = (body: string, secret = SECRET) => request(body, { 'typeform-signature': typeformSignature(secret, body) });
  it('accepts sha256=<base64 HMAC-SHA256 of the raw body>', () => {
    // Cross-checked with Python's hmac module.
    expect(typeformSignature('abc', 'hello')).toBe('sha256=8xZqOkBFmdIEbtKq5HmzfVS1HS6FJZyeMUBCdTvn2BM=');
    expect(typeform.verify(signed(BODY), SECRET, NOW)).toEqual({ ok: true });
  });
  it('refuses a forged body, a wrong secret, a hex digest and a missing header', () => {
    expect(typeform.verify({ ...signed(BODY), rawBody: Buffer.from(FORGED) }, SECRET, NOW)).toEqual({ ok: false, reason: 'Typeform-Signature does not match' });
    expect(typeform.verify(signed(BODY, 'another-secret'), SECRET, NOW).ok).toBe(false);
    expect(typeform.verify(request(BODY, { 'typeform-signature': `sha256=${'0'.repeat(64)}` }), SECRET, NOW).ok).toBe(false);
    expect(typeform.verify(request(BODY), SECRET, NOW)).toEqual({ ok: false, reason: 'missing Typeform-Signature' });
  });
  it('has no time to be stale by: a replay is the same response token, the same lead', () => {
    const event = { event_id: 'E1', form_response: { form_id: 'F', token: 'T' } };
    expect(typeform.eventId(event, request(''))).toBe('response:F:T');
    expect(typeform.eventId({ ...event, event_id: 'E2' }, request(''))).toBe('response:F:T');
  });
});

describe('Segment X-Signature', () => {
  it('accepts hex HMAC-SHA1 of the raw body (either case)', () => {
    const sig = segmentSignature(SECRET, BODY);
    expect(sig).toMatch(/^[0-9a-f]{40}$/);
    // Cross-checked with Python's hmac module.
    expect(segmentSignature('abc', 'hello')).toBe('d373670db3c99ebfa96060e993c340ccf6dd079e');
    expect(segment.verify(request(BODY, { 'x-signature': sig }), SECRET, NOW)).toEqual({ ok: true });
    expect(segment.verify(request(BODY, { 'x-signature': sig.toUpperCase() }), SECRET, NOW)).toEqual({ ok: true });
  });
  it('refuses a forged body, a wrong secret and a missing header', () => {
    expect(segment.verify(request(FORGED, { 'x-signature': segmentSignature(SECRET, BODY) }), SECRET, NOW).ok).toBe(false);
    expect(segment.verify(request(BODY, { 'x-signature': segmentSignature('another-secret', BODY) }), SECRET, NOW).ok).toBe(false);
    expect(segment.verify(request(BODY), SECRET, NOW)).toEqual({ ok: false, reason: 'missing X-Signature' });
  });
  it('keys an event by its messageId', () => {
    expect(segment.eventId({ messageId: 'ajs-1' }, request(''))).toBe('message:ajs-1');
    expect(segment.eventId({ type: 'identify' }, request(''))).toBeNull();
  });
});

describe('Marketo shared token', () => {
  it('accepts the token in X-Leadrelay-Token or in the token query parameter', () => {
    expect(marketo.verify(request(BODY, { 'x-leadrelay-token': SECRET }), SECRET, NOW)).toEqual({ ok: true });
    expect(marketo.verify(request(BODY, {}, `${URL_SIGNED}?token=${SECRET}`, { token: SECRET }), SECRET, NOW)).toEqual({ ok: true });
  });
  it('refuses a wrong token, a prefix of it and none', () => {
    expect(marketo.verify(request(BODY, { 'x-leadrelay-token': 'another-secret' }), SECRET, NOW).ok).toBe(false);
    expect(marketo.verify(request(BODY, { 'x-leadrelay-token': SECRET.slice(0, -1) }), SECRET, NOW).ok).toBe(false);
    expect(marketo.verify(request(BODY), SECRET, NOW).ok).toBe(false);
  });
});

describe('generic X-Leadrelay-Signature', () => {
  const t = NOW / 1000;
  const signed = (body: string, ts = t, secret = SECRET) => request(body, { 'x-leadrelay-signature': genericSignatureHeader(secret, ts, body) });
  it('accepts t=<unix>,v1=<hex HMAC-SHA256 of "t.body"> within five minutes, and any one v1 of several', () => {
    for (const ts of [t, t - 300, t + 300]) expect(generic.verify(signed(BODY, ts), SECRET, NOW)).toEqual({ ok: true });
    const header = signed(BODY).headers['x-leadrelay-signature']!.replace(/^t=(\d+),/, `t=$1,v1=${'a'.repeat(64)},`);
    expect(generic.verify(request(BODY, { 'x-leadrelay-signature': header }), SECRET, NOW)).toEqual({ ok: true });
  });
  it('refuses a forged body, a wrong secret, a stale or retimed signature and malformed headers', () => {
    expect(generic.verify({ ...signed(BODY), rawBody: Buffer.from(FORGED) }, SECRET, NOW).ok).toBe(false);
    expect(generic.verify(signed(BODY, t, 'another-secret'), SECRET, NOW).ok).toBe(false);
    const stale = generic.verify(signed(BODY, t - 301), SECRET, NOW);
    expect(!stale.ok && stale.reason).toMatch(/^stale/);
    const retimed = signed(BODY).headers['x-leadrelay-signature']!.replace(`t=${t}`, `t=${t - 1}`);
    expect(generic.verify(request(BODY, { 'x-leadrelay-signature': retimed }), SECRET, NOW).ok).toBe(false);
    for (const h of ['v1=abc', `t=${t}`, 'garbage', `t=${t}.5,v1=${'0'.repeat(64)}`]) expect(generic.verify(request(BODY, { 'x-leadrelay-signature': h }), SECRET, NOW).ok).toBe(false);
  });
  it('keys an event by X-Leadrelay-Event-Id, else the body eventId', () => {
    expect(generic.eventId({ eventId: 'b' }, request('', { 'x-leadrelay-event-id': 'h' }))).toBe('event:h');
    expect(generic.eventId({ eventId: 'b' }, request(''))).toBe('event:b');
  });
});

describe('event IDs and source IDs', () => {
  it('hashes an event without an ID of its own, the same event to the same ID', () => {
    const a = eventIdOf(segment, { type: 'identify', userId: 'u', traits: { email: 'a@b.example' } }, request(''));
    expect(a).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(eventIdOf(segment, { traits: { email: 'a@b.example' }, userId: 'u', type: 'identify' }, request(''))).toBe(a);
  });
  it('names a source src_<tenant>_<id> and reads it back', () => {
    expect(publicSourceId('demo-hubspot', 'web-form')).toBe('src_demo-hubspot_web-form');
    expect(parsePublicSourceId('src_demo-hubspot_web-form')).toEqual({ tenantId: 'demo-hubspot', sourceId: 'web-form' });
    expect(parsePublicSourceId('src_demo')).toBeNull();
    expect(parsePublicSourceId('src_a_b_c')).toBeNull();
    expect(sourceEndpoint('https://leads.example.com/relay/', 'acme', 'web')).toBe('https://leads.example.com/relay/v1/sources/src_acme_web/events');
  });
});

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'sources');
const CORE_KINDS: SourceKindName[] = ['hubspot', 'typeform', 'segment', 'marketo', 'generic'];
interface Fixture {
  body: unknown;
  expected: unknown[];
  expectedFailure?: { reason: string; field: string };
}

describe('golden fixtures: each documented payload maps to the expected lead input', () => {
  const cases = CORE_KINDS.flatMap((kind) => readdirSync(path.join(FIXTURES, kind)).map((file) => [kind, file] as const));
  it('has fixtures for every core kind', () => {
    for (const kind of CORE_KINDS) expect(cases.some(([k]) => k === kind)).toBe(true);
  });
  it.each(cases)('%s/%s', async (kind, file) => {
    const fixture = JSON.parse(readFileSync(path.join(FIXTURES, kind, file), 'utf8')) as Fixture;
    const sourceKind = SOURCE_KIND_REGISTRY[kind] as SourceKind;
    const tenant = { id: 'acme', sources: [{ id: 'web', kind, secret: { value: SECRET } }] } as unknown as Tenant;
    const events = sourceKind.events?.(fixture.body) ?? [fixture.body];
    const results = await Promise.all(events.map((e) => mapSourceEvent(tenant, 'web', e)));
    if (fixture.expectedFailure) {
      expect(results).toHaveLength(1);
      const [only] = results;
      expect(only).toMatchObject({ ok: false, reason: fixture.expectedFailure.reason });
      expect(only!.ok === false && only!.issues.map((i) => i.field)).toContain(fixture.expectedFailure.field);
      return;
    }
    expect(results.map((r) => (r.ok ? r.lead : r))).toEqual(fixture.expected);
  });
});

describe('the mapping stack', () => {
  const ctx = { kind: 'typeform' as const, sourceId: 'web', leadSource: 'form' as const };
  const event = JSON.parse(readFileSync(path.join(FIXTURES, 'typeform', 'form-response.json'), 'utf8')).body as unknown;

  it('lets a tenant override build on the level below as $base', async () => {
    const layers = mappingLayers('typeform', undefined, { mapping: '$merge([$base, { "company": "Globex Corp", "attributes": $merge([$base.attributes, { "teamSize": form_response.answers[field.ref = "team_size"].choice.label }]) }])' });
    expect(layers.map((l) => l.layer)).toEqual(['platform', 'tenant']);
    const out = await applyMapping(layers, event, ctx);
    expect(out.ok && out.lead.company).toBe('Globex Corp');
    expect(out.ok && out.lead.firstName).toBe('Laura');
    expect(out.ok && out.lead.attributes?.['teamSize']).toBe('11-50');
  });
  it('stacks platform → environment → tenant, the tenant on top', async () => {
    const layers = mappingLayers('typeform', { mapping: '$merge([$base, { "title": "from environment" }])' }, { mapping: '$merge([$base, { "country": "Spain" }])' });
    expect(layers.map((l) => l.layer)).toEqual(['platform', 'environment', 'tenant']);
    const out = await applyMapping(layers, event, ctx);
    expect(out.ok && [out.lead.title, out.lead.country, out.lead.email]).toEqual(['from environment', 'Spain', 'laura.diaz@globex.example']);
  });
  it('names the failing field, a mapping error, or a result that is not a lead', async () => {
    const bad = await applyMapping(mappingLayers('typeform', undefined, { mapping: '{ "email": "not-an-email" }' }), event, ctx);
    expect(bad).toMatchObject({ ok: false, reason: 'invalid_lead', issues: [{ field: 'email' }] });
    const unknown = await applyMapping(mappingLayers('typeform', undefined, { mapping: '{ "email": "a@b.example", "favouriteColour": "red" }' }), event, ctx);
    expect(unknown).toMatchObject({ ok: false, reason: 'invalid_lead', issues: [{ field: 'favouriteColour' }] });
    const thrown = await applyMapping(mappingLayers('typeform', undefined, { mapping: '$error("no")' }), event, ctx);
    expect(thrown).toMatchObject({ ok: false, reason: 'mapping_failed', issues: [{ field: '(mapping)' }] });
    const array = await applyMapping(mappingLayers('typeform', undefined, { mapping: '[1, 2]' }), event, ctx);
    expect(array).toMatchObject({ ok: false, reason: 'mapping_failed' });
  });
  it('refuses a mapping that does not compile, naming the position', () => {
    expect(() => compileMapping('{ "email": ', 'tenant mapping')).toThrow(MappingSyntaxError);
  });
});

describe('the sandbox demo tenant’s sources', () => {
  it('has one source of each core kind, and npm start’s printed curl is signed as Typeform signs and maps to a lead', async () => {
    const { demoSources, demoSourceCurl, DEMO_SOURCE_SECRETS } = await import('../../sandbox/demoSources');
    const sources = demoSources();
    for (const kind of CORE_KINDS) expect(sources.some((s) => s.kind === kind)).toBe(true);
    const lines = demoSourceCurl('http://127.0.0.1:3000');
    expect(lines[0]).toContain('http://127.0.0.1:3000/v1/sources/src_demo_typeform/events');
    const signature = /Typeform-Signature: (\S+)'/.exec(lines.join('\n'))?.[1];
    const body = /-d '(.*)'$/.exec(lines[2]!)?.[1];
    expect(signature && body).toBeTruthy();
    expect(typeform.verify(request(body!, { 'typeform-signature': signature! }), DEMO_SOURCE_SECRETS.typeform, NOW)).toEqual({ ok: true });
    const tenant = { id: 'demo', sources } as unknown as Tenant;
    const mapped = await mapSourceEvent(tenant, 'typeform', JSON.parse(body!));
    expect(mapped).toMatchObject({ ok: true, lead: { email: 'priya.shah@acme.com', firstName: 'Priya', company: 'Acme', source: 'form' } });
  });
});
