import { genericSignatureHeader } from '../../src/sources/kinds/generic';
import { hubspotSignature } from '../../src/sources/kinds/hubspot';
import { segmentSignature } from '../../src/sources/kinds/segment';
import { typeformSignature } from '../../src/sources/kinds/typeform';
import { demoScenario, type Scenario } from '../support/scenario';
import { startTestStack, type TestStack } from '../support/stack';
import hubspotWorkflow from '../fixtures/sources/hubspot/workflow-form-submission.json';
import hubspotEmailChange from '../fixtures/sources/hubspot/webhooks-email-change.json';
import hubspotDocumented from '../fixtures/sources/hubspot/webhooks-documented.json';
import typeformResponse from '../fixtures/sources/typeform/form-response.json';
import segmentIdentify from '../fixtures/sources/segment/identify-documented.json';
import marketoTemplate from '../fixtures/sources/marketo/suggested-template.json';
import genericLead from '../fixtures/sources/generic/lead-shaped.json';

/*
 * HubSpot, Typeform, Segment, Marketo and generic JSON sources over real HTTP with the real stack:
 * each provider's documented payload, signed as the provider signs it (HubSpot over the public URL
 * it was given, not the address the test calls), routes a lead end to end; a redelivery answers
 * 200 with the same lead and starts nothing; a forged signature is 401 and starts nothing.
 * GET /v1/sources counts it all and shows no secret; a published mapping override applies to the
 * next event without a restart.
 */
const SECRETS = {
  hubspot: 'hubspot-client-secret-integration',
  typeform: 'typeform-secret-integration',
  segment: 'segment-shared-secret-integration',
  marketo: 'marketo-token-integration-0001',
  generic: 'generic-secret-integration',
};
/** The URL HubSpot is given (behind a proxy that strips /relay): what it signs. */
const HUBSPOT_PUBLIC = 'https://leads.example.com/relay';

let t: TestStack;

function withSources(build: (url: string) => Scenario): (url: string) => Scenario {
  return (url) => {
    const s = build(url);
    s.tenant.sources = [
      { id: 'hubspot', kind: 'hubspot', name: 'HubSpot forms', secret: { value: SECRETS.hubspot }, publicUrl: HUBSPOT_PUBLIC },
      { id: 'typeform', kind: 'typeform', name: 'Demo request form', secret: { value: SECRETS.typeform } },
      { id: 'segment', kind: 'segment', name: 'Product sign-ups', secret: { value: SECRETS.segment } },
      { id: 'marketo', kind: 'marketo', name: 'Marketo contact sales', secret: { value: SECRETS.marketo } },
      { id: 'generic', kind: 'generic', name: 'Partner feed', secret: { value: SECRETS.generic } },
    ];
    return s;
  };
}

beforeAll(async () => {
  t = await startTestStack(withSources(demoScenario()));
});

afterAll(async () => {
  await t?.close();
});

const path = (sourceId: string) => `/v1/sources/src_${t.tenant.id}_${sourceId}/events`;

async function deliver(sourceId: string, rawBody: string, headers: Record<string, string>, query = ''): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.api}${path(sourceId)}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: rawBody });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function leadsByEmail(email: string): Promise<unknown[]> {
  const res = await t.request('GET', `/v1/leads?email=${encodeURIComponent(email)}`);
  expect(res.status).toBe(200);
  return (res.body as { leads: unknown[] }).leads;
}

/** Routes the delivery's lead end to end, then checks a redelivery answers 200 with the same lead. */
async function routesOnce(sourceId: string, rawBody: string, sign: () => Record<string, string>, email: string, source: string): Promise<string> {
  const first = await deliver(sourceId, rawBody, sign());
  expect(first).toMatchObject({ status: 202, body: { status: 'accepted' } });
  const leadId = first.body.leadId as string;
  const state = await t.routed(leadId);
  expect(state.status).toBe('routed');
  expect(state.lead?.email).toBe(email);
  expect(state.lead?.source).toBe(source);
  const again = await deliver(sourceId, rawBody, sign());
  expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', leadId } });
  return leadId;
}

const hubspotHeaders = (raw: string, secret = SECRETS.hubspot, ts = Date.now()) => ({
  'x-hubspot-signature-v3': hubspotSignature(secret, 'POST', `${HUBSPOT_PUBLIC}${path('hubspot')}`, raw, String(ts)),
  'x-hubspot-request-timestamp': String(ts),
});

describe('HubSpot', () => {
  it('routes a workflow webhook’s form submission, signed v3 over the public URL it was given', async () => {
    const raw = JSON.stringify(hubspotWorkflow.body);
    await routesOnce('hubspot', raw, () => hubspotHeaders(raw), 'jordan.lee@northwind.example', 'form');
  });

  it('routes the email change in a batch of webhook events, and acknowledges a batch with no lead in it', async () => {
    const raw = JSON.stringify(hubspotEmailChange.body);
    await routesOnce('hubspot', raw, () => hubspotHeaders(raw), 'maria.garcia@acme.example', 'form');
    const none = await deliver('hubspot', JSON.stringify(hubspotDocumented.body), hubspotHeaders(JSON.stringify(hubspotDocumented.body)));
    expect(none).toMatchObject({ status: 200, body: { status: 'ignored', events: [] } });
  });

  it('refuses a forged, a stale and a wrongly addressed signature with 401, starting nothing', async () => {
    const body = structuredClone(hubspotWorkflow.body);
    body.properties.email.value = 'forged.hubspot@example.com';
    body['form-submissions'][0]!['conversion-id'] = 'forged-conversion';
    const raw = JSON.stringify(body);
    for (const headers of [
      hubspotHeaders(raw, 'not-the-secret'),
      hubspotHeaders(raw, SECRETS.hubspot, Date.now() - 6 * 60_000),
      // Signed for the address the test calls, not the public URL HubSpot was given.
      { ...hubspotHeaders(raw), 'x-hubspot-signature-v3': hubspotSignature(SECRETS.hubspot, 'POST', `${t.api}${path('hubspot')}`, raw, String(Date.now())) },
    ]) {
      const answer = await deliver('hubspot', raw, headers);
      expect(answer).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    }
    expect(await leadsByEmail('forged.hubspot@example.com')).toEqual([]);
  });
});

describe('Typeform', () => {
  it('routes a form_response signed sha256=<base64>', async () => {
    const raw = JSON.stringify(typeformResponse.body);
    await routesOnce('typeform', raw, () => ({ 'typeform-signature': typeformSignature(SECRETS.typeform, raw) }), 'laura.diaz@globex.example', 'form');
  });

  it('refuses a forged signature with 401, starting nothing', async () => {
    const body = structuredClone(typeformResponse.body);
    body.form_response.token = 'forgedtoken';
    body.form_response.answers[2]!.email = 'forged.typeform@example.com';
    const raw = JSON.stringify(body);
    const signedOther = typeformSignature(SECRETS.typeform, JSON.stringify(typeformResponse.body));
    expect(await deliver('typeform', raw, { 'typeform-signature': signedOther })).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect((await deliver('typeform', raw, { 'typeform-signature': typeformSignature('not-the-secret', raw) })).status).toBe(401);
    expect(await leadsByEmail('forged.typeform@example.com')).toEqual([]);
  });
});

describe('Segment', () => {
  it('routes the documented identify, signed X-Signature (hex HMAC-SHA1)', async () => {
    const raw = JSON.stringify(segmentIdentify.body);
    await routesOnce('segment', raw, () => ({ 'x-signature': segmentSignature(SECRETS.segment, raw) }), 'achilles@segment.com', 'product');
  });

  it('refuses a forged signature with 401, starting nothing', async () => {
    const raw = JSON.stringify({ ...segmentIdentify.body, traits: { email: 'forged.segment@example.com' } });
    expect(await deliver('segment', raw, { 'x-signature': segmentSignature('not-the-secret', raw) })).toMatchObject({ status: 401 });
    expect(await deliver('segment', raw, {})).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await leadsByEmail('forged.segment@example.com')).toEqual([]);
  });
});

describe('Marketo', () => {
  it('routes the suggested template with the token in the header, and again by query token as a redelivery', async () => {
    const raw = JSON.stringify(marketoTemplate.body);
    const leadId = await routesOnce('marketo', raw, () => ({ 'x-leadrelay-token': SECRETS.marketo }), 'sam.okafor@initech.example', 'webhook');
    const byQuery = await deliver('marketo', raw, {}, `?token=${SECRETS.marketo}`);
    expect(byQuery).toMatchObject({ status: 200, body: { leadId } });
  });

  it('refuses a wrong token with 401, starting nothing', async () => {
    const raw = JSON.stringify({ ...marketoTemplate.body, leadId: 9999, email: 'forged.marketo@example.com' });
    expect(await deliver('marketo', raw, { 'x-leadrelay-token': 'marketo-token-integration-0002' })).toMatchObject({ status: 401 });
    expect(await deliver('marketo', raw, {}, '?token=wrong')).toMatchObject({ status: 401 });
    expect(await leadsByEmail('forged.marketo@example.com')).toEqual([]);
  });
});

describe('generic JSON', () => {
  const sign = (raw: string, secret = SECRETS.generic, at = Date.now()) => ({ 'x-leadrelay-signature': genericSignatureHeader(secret, Math.floor(at / 1000), raw) });

  it('routes a lead-shaped event signed t=,v1=; a replay of the same signed request starts nothing', async () => {
    const raw = JSON.stringify(genericLead.body);
    const headers = sign(raw);
    await routesOnce('generic', raw, () => headers, 'kim.park@umbrella.example', 'webhook');
  });

  it('refuses a forged and a stale signature with 401, starting nothing', async () => {
    const raw = JSON.stringify({ ...genericLead.body, eventId: 'evt_forged', email: 'forged.generic@example.com' });
    expect(await deliver('generic', raw, sign(raw, 'not-the-secret'))).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await deliver('generic', raw, sign(raw, SECRETS.generic, Date.now() - 6 * 60_000))).toMatchObject({ status: 401 });
    expect(await leadsByEmail('forged.generic@example.com')).toEqual([]);
  });

  it('quarantines an event its mapping cannot read; a published tenant mapping applies to the next event, no restart', async () => {
    const partner = (id: string, email: string) => JSON.stringify({ id, contact: { mail: email, given: 'Ines', family: 'Moreau' }, org: 'Stark Industries' });
    const raw1 = partner('p-1', 'ines.moreau@stark.example');
    const first = await deliver('generic', raw1, sign(raw1));
    expect(first).toMatchObject({ status: 202, body: { status: 'quarantined', field: 'email' } });
    expect(first.body.quarantineId).toEqual(expect.any(String));

    const mapping = '{ "externalId": "partner:" & id, "email": contact.mail, "firstName": contact.given, "lastName": contact.family, "company": org }';
    const refused = await t.request('PUT', `/v1/sources/generic/mapping`, { mapping: '{ "email": ' });
    expect(refused.status).toBe(422);
    const published = await t.request('PUT', `/v1/sources/src_${t.tenant.id}_generic/mapping`, { mapping, note: 'partner feed shape' });
    expect(published).toMatchObject({ status: 200, body: { version: 1, withdrawn: false } });

    const raw2 = partner('p-2', 'ines.moreau2@stark.example');
    const second = await deliver('generic', raw2, sign(raw2));
    expect(second).toMatchObject({ status: 202, body: { status: 'accepted' } });
    const state = await t.routed(second.body.leadId);
    expect(state.lead).toMatchObject({ email: 'ines.moreau2@stark.example', firstName: 'Ines', company: 'Stark Industries', source: 'webhook' });

    const stack = await t.request('GET', `/v1/sources/generic/mapping`);
    expect(stack.body.layers.map((l: { layer: string }) => l.layer)).toEqual(['platform', 'tenant']);
    expect(stack.body.versions).toHaveLength(1);
  });
});

describe('GET /v1/sources', () => {
  it('lists every source with its endpoint, mapping layers and counts, and never a secret', async () => {
    const res = await t.request('GET', '/v1/sources');
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    const byId = Object.fromEntries((res.body.sources as Array<{ sourceId: string }>).map((s) => [s.sourceId, s])) as Record<string, any>;
    expect(Object.keys(byId).sort()).toEqual(['generic', 'hubspot', 'marketo', 'segment', 'typeform']);
    expect(byId['hubspot']).toMatchObject({
      id: `src_${t.tenant.id}_hubspot`,
      kind: 'hubspot',
      name: 'HubSpot forms',
      endpoint: `${HUBSPOT_PUBLIC}/v1/sources/src_${t.tenant.id}_hubspot/events`,
      counts: { accepted: 2, duplicate: 2, rejected: 3, quarantined: 0 },
    });
    expect(byId['hubspot'].lastEventAt).toEqual(expect.any(String));
    expect(byId['hubspot'].lastRejection.reason).toEqual(expect.any(String));
    expect(byId['marketo'].counts).toEqual({ accepted: 1, duplicate: 2, rejected: 2, quarantined: 0 });
    expect(byId['generic'].counts).toEqual({ accepted: 2, duplicate: 1, rejected: 2, quarantined: 1 });
    expect(byId['generic'].mapping.published).toMatchObject({ version: 1 });
  });

  it('answers an unknown source 404 and needs no API key for deliveries but does for the list', async () => {
    expect((await fetch(`${t.api}/v1/sources/src_${t.tenant.id}_nope/events`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${t.api}/v1/sources`)).status).toBe(401);
  });
});
