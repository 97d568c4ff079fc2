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

/** A lead behind a new leadgen_id in the sandbox's Graph API, created as Meta's lead testing creates one. */
async function createGraphLead(email: string): Promise<string> {
  const fieldData = [
    { name: 'email', values: [email] },
    { name: 'first_name', values: ['Robin'] },
    { name: 'last_name', values: ['Meta'] },
  ];
  const created = await fetch(`${t.sandbox.url}/v26.0/${FORM_ID}/test_leads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${scenario.workspace.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ field_data: fieldData }),
  });
  expect(created.status).toBe(200);
  return ((await created.json()) as { id: string }).id;
}

/** Meta's documented leadgen notification, for this leadgen_id. */
function metaNotification(leadgenId: string): string {
  const body = structuredClone(metaDocumented.body);
  body.entry[0]!.changes[0]!.value.leadgen_id = Number(leadgenId);
  body.entry[0]!.changes[0]!.value.form_id = Number(FORM_ID);
  return JSON.stringify(body);
}

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
    // The redelivery found its lead by the leadgen_id before reading Graph again: one read in all.
    const reads = t.events('ads').filter((e) => e.method === 'GET' && e.path === `/v26.0/${leadgenId}`);
    expect(reads).toHaveLength(1);
  });

  it('answers 503 with Retry-After while Graph throttles or fails, so Meta redelivers; the redelivery routes the lead', async () => {
    const leadgenId = await createGraphLead('retry.meta@example.com');
    const path = `/v26.0/${leadgenId}`;
    // Throttling as Graph answers it (403, code 4, is_transient), then a server fault (500, code 2).
    t.sandbox.injectFault({
      system: 'ads',
      provider: 'meta',
      method: 'GET',
      pathPrefix: path,
      status: 403,
      body: { error: { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4, is_transient: true, fbtrace_id: 'AbCdEfGhIjK' } },
      times: 1,
    });
    t.sandbox.injectFault({ system: 'ads', provider: 'meta', method: 'GET', pathPrefix: path, status: 500, times: 1 });
    const raw = metaNotification(leadgenId);
    const sign = () => ({ 'x-hub-signature-256': metaSignature(APP_SECRET, raw) });
    for (const expected of [/rate limit.*code 4/, /HTTP 500.*code 2/]) {
      const res = await fetch(endpoint('meta'), { method: 'POST', headers: { 'content-type': 'application/json', ...sign() }, body: raw });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unavailable');
      expect(body.error.message).toMatch(expected);
    }
    expect(await leadsByEmail('retry.meta@example.com')).toEqual([]);
    // Meta redelivers; Graph answers now.
    const redelivered = await deliver('meta', raw, sign());
    expect(redelivered).toMatchObject({ status: 202, body: { status: 'accepted' } });
    const state = await t.routed(redelivered.body.leadId as string);
    expect(state.lead?.email).toBe('retry.meta@example.com');
    expect(t.events('ads').filter((e) => e.method === 'GET' && e.path === path)).toHaveLength(3);
  });

  it('quarantines a notification Graph will never answer (unknown lead, expired token), keeping its reference', async () => {
    // An unknown leadgen_id: Graph's 400, code 100 subcode 33.
    const unknownRaw = metaNotification('1999999999999997');
    const unknown = await deliver('meta', unknownRaw, { 'x-hub-signature-256': metaSignature(APP_SECRET, unknownRaw) });
    expect(unknown).toMatchObject({ status: 202, body: { status: 'quarantined', reason: 'source_read_failed', field: '(read)' } });
    const kept = await t.request('GET', `/v1/quarantine/${unknown.body.quarantineId as string}`);
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ sourceId: 'meta', kind: 'meta', eventId: '1999999999999997', status: 'held', event: { leadgen_id: '1999999999999997' } });
    expect(JSON.stringify((kept.body as { issues: unknown }).issues)).toMatch(/code 100.*subcode 33/);
    // Meta's redelivery of it is the same quarantine, not a second one.
    const again = await deliver('meta', unknownRaw, { 'x-hub-signature-256': metaSignature(APP_SECRET, unknownRaw) });
    expect(again).toMatchObject({ status: 202, body: { status: 'quarantined', quarantineId: unknown.body.quarantineId } });

    // An expired Page token: Graph's 400, code 190 subcode 463.
    const leadgenId = await createGraphLead('expired.token.meta@example.com');
    t.sandbox.injectFault({
      system: 'ads',
      provider: 'meta',
      method: 'GET',
      pathPrefix: `/v26.0/${leadgenId}`,
      status: 400,
      body: { error: { message: 'Error validating access token: Session has expired.', type: 'OAuthException', code: 190, error_subcode: 463, fbtrace_id: 'AbCdEfGhIjL' } },
      times: 1,
    });
    const raw = metaNotification(leadgenId);
    const expired = await deliver('meta', raw, { 'x-hub-signature-256': metaSignature(APP_SECRET, raw) });
    expect(expired).toMatchObject({ status: 202, body: { status: 'quarantined', reason: 'source_read_failed', field: '(read)' } });
    expect(await leadsByEmail('expired.token.meta@example.com')).toEqual([]);

    // The token renewed (the fault was once), a person replays it: the replay reads Graph again and routes it.
    const replay = await t.request('POST', `/v1/quarantine/${expired.body.quarantineId as string}/replay`, {});
    expect(replay.status).toBe(200);
    const routed = await t.routed(replay.body.leadId);
    expect(routed.lead?.email).toBe('expired.token.meta@example.com');
    // The unknown lead still cannot be read: its replay names the read as what fails.
    const stillUnknown = await t.request('POST', `/v1/quarantine/${unknown.body.quarantineId as string}/replay`, {});
    expect(stillUnknown.status).toBe(422);
    expect(stillUnknown.body.error.details).toEqual([expect.objectContaining({ field: '(read)' })]);
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
