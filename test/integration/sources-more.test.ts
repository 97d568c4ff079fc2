import { calcomSignature } from '../../src/sources/kinds/calcom';
import { calendlySignature } from '../../src/sources/kinds/calendly';
import { metaSignature } from '../../src/sources/kinds/meta';
import { demoScenario, type Scenario } from '../support/scenario';
import { startTestStack, type TestStack } from '../support/stack';
import calendlyDocumented from '../fixtures/sources/calendly/invitee-created-documented.json';
import calcomDocumented from '../fixtures/sources/calcom/booking-created-documented.json';
import metaDocumented from '../fixtures/sources/meta/leadgen-documented.json';

/*
 * Meta Lead Ads, Calendly and Cal.com sources over real HTTP with the real stack: each provider's
 * documented payload, signed as the provider signs it, routes a lead end to end (Meta's answers
 * read from the sandbox's Graph API); a redelivery answers the same lead; a forged signature is
 * 401 and starts nothing; Meta's subscription handshake echoes its challenge and starts nothing.
 */
const APP_SECRET = 'meta-app-secret-integration';
const VERIFY_TOKEN = 'meta-verify-token-integration';
const CALENDLY_KEY = 'calendly-signing-key-integration';
const CALCOM_SECRET = 'calcom-secret-integration';
const FORM_ID = '700000000000001';

let t: TestStack;
let scenario: Scenario;

function withSources(build: (url: string) => Scenario): (url: string) => Scenario {
  return (url) => {
    const s = build(url);
    s.tenant.sources = [
      { id: 'meta', kind: 'meta', name: 'Meta lead form', secret: { value: APP_SECRET }, verifyToken: { value: VERIFY_TOKEN }, accessToken: { value: s.workspace.token }, baseUrl: url },
      { id: 'calendly', kind: 'calendly', name: 'Demo bookings', secret: { value: CALENDLY_KEY } },
      { id: 'calcom', kind: 'calcom', name: 'Cal.com bookings', secret: { value: CALCOM_SECRET } },
    ];
    return s;
  };
}

beforeAll(async () => {
  t = await startTestStack(withSources(demoScenario()));
  scenario = t.scenarios[0]!;
});

afterAll(async () => {
  await t?.close();
});

function endpoint(sourceId: string): string {
  return `${t.api}/v1/sources/src_${t.tenant.id}_${sourceId}/events`;
}

async function deliver(sourceId: string, rawBody: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(endpoint(sourceId), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: rawBody });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function leadsByEmail(email: string): Promise<unknown[]> {
  const res = await t.request('GET', `/v1/leads?email=${encodeURIComponent(email)}`);
  expect(res.status).toBe(200);
  return (res.body as { leads: unknown[] }).leads;
}

/** Routes the delivery's lead end to end, then checks a redelivery answers 200 with the same lead. */
async function routesOnce(sourceId: string, rawBody: string, sign: () => Record<string, string>, email: string): Promise<string> {
  const first = await deliver(sourceId, rawBody, sign());
  expect(first).toMatchObject({ status: 202, body: { status: 'accepted' } });
  const leadId = first.body.leadId as string;
  const state = await t.routed(leadId);
  expect(state.status).toBe('routed');
  expect(state.lead?.email).toBe(email);
  const again = await deliver(sourceId, rawBody, sign());
  expect(again.status).toBe(200);
  expect(again.body.leadId).toBe(leadId);
  return leadId;
}

describe('Calendly invitee.created', () => {
  it('routes the documented payload, signed t=,v1= at the current second', async () => {
    const raw = JSON.stringify(calendlyDocumented.body);
    await routesOnce('calendly', raw, () => ({ 'calendly-webhook-signature': calendlySignature(CALENDLY_KEY, raw, Date.now() / 1000) }), 'test@example.com');
  });

  it('refuses a forged and a stale signature with 401, starting nothing', async () => {
    const body = structuredClone(calendlyDocumented.body);
    body.payload.email = 'forged.calendly@example.com';
    body.payload.uri = 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/FORGEDFORGEDFORG';
    const raw = JSON.stringify(body);
    const forged = await deliver('calendly', raw, { 'calendly-webhook-signature': calendlySignature('not-the-key', raw, Date.now() / 1000) });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    const stale = await deliver('calendly', raw, { 'calendly-webhook-signature': calendlySignature(CALENDLY_KEY, raw, Date.now() / 1000 - 600) });
    expect(stale.status).toBe(401);
    expect(await leadsByEmail('forged.calendly@example.com')).toEqual([]);
  });
});

describe('Cal.com BOOKING_CREATED', () => {
  it('routes the documented payload, signed with X-Cal-Signature-256', async () => {
    const raw = JSON.stringify(calcomDocumented.body);
    await routesOnce('calcom', raw, () => ({ 'x-cal-signature-256': calcomSignature(CALCOM_SECRET, raw) }), 'john.doe@example.com');
  });

  it('refuses a forged signature with 401, starting nothing', async () => {
    const body = structuredClone(calcomDocumented.body);
    body.payload.uid = 'forgedBookingUid000001';
    body.payload.responses.email.value = 'forged.calcom@example.com';
    body.payload.attendees[0]!.email = 'forged.calcom@example.com';
    const raw = JSON.stringify(body);
    const forged = await deliver('calcom', raw, { 'x-cal-signature-256': calcomSignature('not-the-secret', raw) });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await leadsByEmail('forged.calcom@example.com')).toEqual([]);
  });
});

describe('Meta Lead Ads', () => {
  it('answers the subscription handshake without starting anything', async () => {
    const query = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': VERIFY_TOKEN });
    const ok = await fetch(`${endpoint('meta')}?${query}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('1158201444');
    query.set('hub.verify_token', 'wrong-token');
    expect((await fetch(`${endpoint('meta')}?${query}`)).status).toBe(403);
  });

  it('routes the documented notification, reading the lead from the Graph API with the Page token', async () => {
    // The lead behind the leadgen_id, created as Meta's lead testing creates one.
    const fieldData = (metaDocumented.graph as Record<string, { field_data: unknown }>)['123123123123']!.field_data;
    const created = await fetch(`${t.sandbox.url}/v26.0/${FORM_ID}/test_leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scenario.workspace.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ field_data: fieldData }),
    });
    expect(created.status).toBe(200);
    const { id: leadgenId } = (await created.json()) as { id: string };
    const body = structuredClone(metaDocumented.body);
    body.entry[0]!.changes[0]!.value.leadgen_id = Number(leadgenId);
    body.entry[0]!.changes[0]!.value.form_id = Number(FORM_ID);
    const raw = JSON.stringify(body);
    const leadId = await routesOnce('meta', raw, () => ({ 'x-hub-signature-256': metaSignature(APP_SECRET, raw) }), 'joe@example.com');
    const state = await t.leadState(leadId);
    expect(state.lead).toMatchObject({ firstName: 'Joe', lastName: 'Example' });
    const reads = t.events('ads').filter((e) => e.method === 'GET');
    expect(reads.map((e) => e.path)).toContain(`/v26.0/${leadgenId}`);
  });

  it('refuses a forged signature with 401 before reading anything from Graph', async () => {
    const before = t.events('ads').length;
    const body = structuredClone(metaDocumented.body);
    body.entry[0]!.changes[0]!.value.leadgen_id = 1999999999999998;
    const raw = JSON.stringify(body);
    const forged = await deliver('meta', raw, { 'x-hub-signature-256': metaSignature('not-the-app-secret', raw) });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(t.events('ads').length).toBe(before);
  });
});
