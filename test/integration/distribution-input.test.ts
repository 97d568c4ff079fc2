import { randomBytes } from 'node:crypto';
import { distributedLeadId } from '../../src/api/routes/supplier-leads';
import { TRUSTEDFORM_PREFIX } from '../../src/distribution/leadSchema';
import { sha256Hex } from '../../src/tenants/registry';
import { startDistributionStack, uniqueLead, type DistributionStack } from '../support/distribution';
import { eventually } from '../support/stack';

/*
 * Bad input to the distribution routes: catalog documents that do not validate, and supplier
 * requests with bad leads or keys. Each is a 4xx in the error envelope naming the field at fault,
 * stores nothing, and starts no distributed lead (no workflow, no request to any buyer).
 */

const CAMPAIGN = 'auto-insurance-us';
const LEADS = `/v1/campaigns/${CAMPAIGN}/leads`;

let d: DistributionStack;
/** A supplier with its own key but in no campaign. */
let outsiderKey: string;

beforeAll(async () => {
  // Two buyers (fastbid bids, formbuyer has a fixed price), and a campaign that requires TCPA consent.
  d = await startDistributionStack({ buyers: ['fastbid', 'formbuyer'], adjust: ({ campaign }) => void (campaign.consent = { trustedForm: 'required' }) });
  outsiderKey = `sk.${d.t.tenant.id}.outsider.${randomBytes(12).toString('hex')}`;
  await d.put('suppliers', 'outsider', { name: 'Outsider', apiKey: outsiderKey, campaigns: [], payout: { type: 'fixed', amount: 1 } });
});
afterAll(async () => {
  await d?.close();
});

const certificate = () => `${TRUSTEDFORM_PREFIX}${randomBytes(20).toString('hex')}`;
/** A lead the campaign takes: unique person, consent certificate. */
const goodLead = (overrides: Record<string, unknown> = {}) => uniqueLead({ trustedform_cert_url: certificate(), ...overrides });
const without = (lead: Record<string, unknown>, field: string) => Object.fromEntries(Object.entries(lead).filter(([k]) => k !== field));

/** The 4xx's error envelope, checked: status, code, and (for a 400) the fields named. */
function expectError(res: { status: number; body: any }, status: number, code: string, fields: string[] = []) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  const named = (res.body.error.details ?? []).map((x: { field: string }) => x.field);
  for (const field of fields) expect(named).toContain(field);
  return res.body.error;
}

/** The current version of a catalog document. */
async function versionOf(plural: string, id: string): Promise<number | null> {
  const res = await d.t.request('GET', `/v1/${plural}/${id}`);
  return res.status === 404 ? null : (res.body.version as number);
}

/** The stored document, for a PUT with one change. */
async function stored(plural: string, id: string): Promise<Record<string, any>> {
  const res = await d.t.request('GET', `/v1/${plural}/${id}`);
  expect(res.status).toBe(200);
  return structuredClone(res.body.document);
}

/** PUT a document that must be refused with a 400 naming `field`; the stored version is unchanged. */
async function expectPutRefused(plural: string, id: string, doc: unknown, field: string, message?: RegExp) {
  const before = await versionOf(plural, id);
  const res = await d.t.request('PUT', `/v1/${plural}/${id}`, doc);
  const error = expectError(res, 400, 'invalid_request', [field]);
  if (message) expect(error.details.find((x: { field: string }) => x.field === field).message).toMatch(message);
  expect(await versionOf(plural, id)).toBe(before);
  return error;
}

/** The marketplace's record: nothing reached a buyer since `since`. */
const lastRequest = () => d.market.requests().at(-1)?.seq ?? 0;
const expectNothingSentSince = (since: number) => expect(d.market.requests({ since }).map((r) => `${r.kind} ${r.buyerId}`)).toEqual([]);

/** The lead a supplier's request with this Idempotency-Key would have started does not exist. */
async function expectNoLead(supplierId: string, idempotencyKey: string, mode: 'full' | 'ping' = 'full') {
  const leadId = distributedLeadId(d.t.tenant.id, supplierId, `${CAMPAIGN}:${mode}`, idempotencyKey);
  expect((await d.t.request('GET', `/v1/leads/${leadId}`)).status).toBe(404);
}

let keyCounter = 0;
const idempotencyKey = () => `input-${process.pid}-${keyCounter++}-${randomBytes(4).toString('hex')}`;

/** A supplier's POST with an Idempotency-Key (so the lead it would start can be looked for). */
async function send(path: string, body: unknown, options: { authorization?: string | null; key?: string } = {}) {
  const key = options.key ?? idempotencyKey();
  const headers: Record<string, string> = { 'idempotency-key': key };
  if (options.authorization !== undefined) headers['authorization'] = options.authorization ?? '';
  const res = options.authorization === undefined ? await d.supplier('POST', path, body, { headers }) : await d.t.request('POST', path, body, headers);
  return { res, key };
}

describe('catalog documents that do not validate', () => {
  it('refuses a buyer whose response mapping is not JSONata with 400 naming post.response.mapping, and stores nothing', async () => {
    const buyer = await stored('buyers', 'formbuyer');
    buyer['post'].response.mapping = '$word = "ACCEPTED" ? { "outcome": "accepted" ';
    const error = await expectPutRefused('buyers', 'formbuyer', buyer, 'post.response.mapping', /not valid JSONata/);
    expect(error.message).toContain('post.response.mapping');
    // A new buyer is not created either.
    await expectPutRefused('buyers', 'newbuyer', { ...buyer, id: 'newbuyer' }, 'post.response.mapping');
    expect(await versionOf('buyers', 'newbuyer')).toBeNull();
    // The request mapping is checked the same way.
    const request = await stored('buyers', 'fastbid');
    request['ping'].mapping = '$merge([lead, ';
    await expectPutRefused('buyers', 'fastbid', request, 'ping.mapping', /not valid JSONata/);
  });

  it('refuses a filter with a bad regex with 400 naming its path in the filters', async () => {
    const buyer = await stored('buyers', 'formbuyer');
    buyer['filters'] = { all: [{ field: 'lead.age', gte: 21 }, { field: 'lead.zip', regex: '^(9[0-6' }] };
    await expectPutRefused('buyers', 'formbuyer', buyer, 'filters.all.1.regex', /regular expression/i);
    buyer['filters'] = { field: 'lead.zip', regex: '^9', flags: 'q' };
    await expectPutRefused('buyers', 'formbuyer', buyer, 'filters.flags');
    // A filter reads lead fields only.
    buyer['filters'] = { field: 'account.tier', equals: 'gold' };
    await expectPutRefused('buyers', 'formbuyer', buyer, 'filters.field', /lead\.<field>/);
  });

  it('refuses bid pricing without a ping endpoint with 400 naming ping', async () => {
    const buyer = await stored('buyers', 'fastbid');
    delete buyer['ping'];
    await expectPutRefused('buyers', 'fastbid', buyer, 'ping', /pricing\.type is "bid"/);
  });

  it('refuses a campaign naming an unknown buyer with 400 naming buyers.N', async () => {
    const campaign = await stored('campaigns', CAMPAIGN);
    campaign['buyers'] = ['fastbid', 'formbuyer', 'ghost-buyer'];
    await expectPutRefused('campaigns', CAMPAIGN, campaign, 'buyers.2', /"ghost-buyer" is not a buyer/);
    campaign['buyers'] = ['fastbid', 'fastbid'];
    await expectPutRefused('campaigns', CAMPAIGN, campaign, 'buyers.1', /listed twice/);
  });

  it('refuses ping fields that name contact details (pii) or no field, with 400 naming pingFields.N', async () => {
    const campaign = await stored('campaigns', CAMPAIGN);
    campaign['pingFields'] = ['state', 'zip', 'email'];
    await expectPutRefused('campaigns', CAMPAIGN, campaign, 'pingFields.2', /pii/);
    campaign['pingFields'] = ['state', 'credit_score'];
    await expectPutRefused('campaigns', CAMPAIGN, campaign, 'pingFields.1', /not a field/);
  });

  it('refuses consent without the certificate field, with 400 naming consent.trustedForm', async () => {
    const campaign = await stored('campaigns', CAMPAIGN);
    delete campaign['fields'].trustedform_cert_url;
    await expectPutRefused('campaigns', CAMPAIGN, campaign, 'consent.trustedForm');
  });

  it("refuses a supplier's malformed apiKey, or one for another tenant or supplier, with 400 naming apiKey; the old key still works", async () => {
    const supplier = await stored('suppliers', 'acme-leads');
    const secret = randomBytes(12).toString('hex');
    for (const apiKey of ['not-a-key', `sk.${d.t.tenant.id}.acme-leads.short`, `sk.${d.t.tenant.id}.acme-leads.${secret}!`, 42, null, `sk.someone-else.acme-leads.${secret}`, `sk.${d.t.tenant.id}.bright-media.${secret}`]) {
      const error = await expectPutRefused('suppliers', 'acme-leads', { ...supplier, apiKey }, 'apiKey', /sk\./);
      // The plain key is never echoed.
      expect(JSON.stringify(error)).not.toContain(secret);
    }
    // A supplier document must hold key hashes, not keys.
    await expectPutRefused('suppliers', 'acme-leads', { ...supplier, apiKeySha256: ['NOT-A-HASH'] }, 'apiKeySha256.0');
    await expectPutRefused('suppliers', 'acme-leads', { ...supplier, apiKeySha256: [] }, 'apiKeySha256');
    const res = await d.sell(goodLead());
    expect(res.body.status).toBe('sold');
  });

  it('refuses an id in the body other than the path with 400 naming id', async () => {
    const buyer = await stored('buyers', 'formbuyer');
    await expectPutRefused('buyers', 'formbuyer', { ...buyer, id: 'fastbid' }, 'id', /"formbuyer"/);
    const campaign = await stored('campaigns', CAMPAIGN);
    await expectPutRefused('campaigns', CAMPAIGN, { ...campaign, id: 'other-campaign' }, 'id');
    const supplier = await stored('suppliers', 'acme-leads');
    await expectPutRefused('suppliers', 'acme-leads', { ...supplier, id: 'bright-media' }, 'id');
    expect(await versionOf('campaigns', 'other-campaign')).toBeNull();
  });

  it('refuses constructor and prototype as ids with 400 naming id, and the catalog keeps answering', async () => {
    const buyer = await stored('buyers', 'formbuyer');
    for (const id of ['constructor', 'prototype']) {
      expectError(await d.t.request('PUT', `/v1/buyers/${id}`, { ...buyer, id }), 400, 'invalid_request', ['id']);
      expectError(await d.t.request('GET', `/v1/buyers/${id}/versions`), 400, 'invalid_request', ['id']);
      expectError(await d.t.request('GET', `/v1/campaigns/${id}`), 400, 'invalid_request', ['id']);
    }
    expect((await d.t.request('GET', '/v1/buyers')).body.buyers.map((b: { id: string }) => b.id)).toEqual(['fastbid', 'formbuyer']);
    expect(await versionOf('buyers', 'formbuyer')).toBe(1);
  });

  it('keeps the version for the same content, increments it for a change, and lists versions with actor and note', async () => {
    const buyer = await stored('buyers', 'formbuyer');
    const path = '/v1/buyers/formbuyer';
    // The same content (as stored, or as first given without defaults) keeps version 1.
    const same = await d.t.request('PUT', `${path}?note=${encodeURIComponent('no change')}`, buyer, { 'x-actor': 'ops@demo' });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ version: 1, actor: `api-key:${d.t.tenant.id}`, note: null });
    // A change is version 2, with its actor and note.
    const changed = await d.t.request('PUT', `${path}?note=${encodeURIComponent('price up to $6.50')}`, { ...buyer, pricing: { type: 'fixed', price: 6.5 } }, { 'x-actor': 'pricing@demo' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ version: 2, actor: 'pricing@demo', note: 'price up to $6.50', document: { pricing: { type: 'fixed', price: 6.5 } } });
    // Putting it again keeps version 2 and its first actor and note.
    const again = await d.t.request('PUT', `${path}?note=again`, { ...buyer, pricing: { type: 'fixed', price: 6.5 } }, { 'x-actor': 'someone@demo' });
    expect(again.body).toMatchObject({ version: 2, actor: 'pricing@demo', note: 'price up to $6.50' });

    const versions = await d.t.request('GET', `${path}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.id).toBe('formbuyer');
    expect(versions.body.versions.map((v: any) => ({ version: v.version, actor: v.actor, note: v.note }))).toEqual([
      { version: 1, actor: `api-key:${d.t.tenant.id}`, note: null },
      { version: 2, actor: 'pricing@demo', note: 'price up to $6.50' },
    ]);
    for (const v of versions.body.versions) expect(Number.isNaN(Date.parse(v.updatedAt))).toBe(false);
    // A bad note or actor is refused before anything is stored.
    expectError(await d.t.request('PUT', `${path}?note=${encodeURIComponent('a\u0000b')}`, { ...buyer, pricing: { type: 'fixed', price: 7 } }), 400, 'invalid_request', ['query.note']);
    expectError(await d.t.request('PUT', path, { ...buyer, pricing: { type: 'fixed', price: 7 } }, { 'x-actor': '' }), 400, 'invalid_request', ['X-Actor']);
    expect(await versionOf('buyers', 'formbuyer')).toBe(2);
    expectError(await d.t.request('GET', '/v1/buyers/nobody/versions'), 404, 'not_found');
  });
});

describe("a supplier's bad lead", () => {
  it('sells a good lead (the requests below fail for their fault alone)', async () => {
    const res = await d.sell(goodLead());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'sold' });
  });

  it('refuses a missing required field, a wrong type, a value outside the enum and an unknown field with 400 naming each, and starts nothing', async () => {
    const since = lastRequest();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [without(goodLead(), 'email'), 'email', /expected string/],
      [without(goodLead(), 'age'), 'age', /expected number/],
      [goodLead({ age: 'x' }), 'age', /expected number, received string/],
      [goodLead({ age: 17 }), 'age', />=18/],
      [goodLead({ age: 35.5 }), 'age', /expected int/],
      [goodLead({ insured: 'yes' }), 'insured', /expected boolean/],
      [goodLead({ state: 'ZZ' }), 'state', /US state|one of/],
      [goodLead({ zip: '941' }), 'zip', /ZIP/],
      [goodLead({ email: 'jane@' }), 'email', /email/],
      [goodLead({ phone: 'call me' }), 'phone', /phone/],
      [goodLead({ first_name: 'Ja\u0000ne' }), 'first_name', /control characters/],
      [goodLead({ credit_score: 700 }), 'credit_score', /not a recognized field/],
    ];
    for (const [lead, field, message] of cases) {
      const { res, key } = await send(LEADS, lead);
      const error = expectError(res, 400, 'invalid_request', [field]);
      expect(error.details.find((x: { field: string }) => x.field === field).message).toMatch(message);
      await expectNoLead('acme-leads', key);
    }
    // Several faults at once: each is named.
    const { res } = await send(LEADS, { ...without(goodLead(), 'email'), age: 'x', state: 'ZZ', nickname: 'JD' });
    expectError(res, 400, 'invalid_request', ['email', 'age', 'state', 'nickname']);
    expectNothingSentSince(since);
  });

  it('refuses a TrustedForm certificate that is missing, of another host, or not a URL within limits when the campaign requires consent', async () => {
    const since = lastRequest();
    for (const [lead, message] of [
      [goodLead({ trustedform_cert_url: 'https://consent.example.com/cert/123' }), /TrustedForm certificate URL/],
      [goodLead({ trustedform_cert_url: 'http://cert.trustedform.com/123' }), /TrustedForm certificate URL/],
      [without(goodLead(), 'trustedform_cert_url'), /expected string/],
      [goodLead({ trustedform_cert_url: `${TRUSTEDFORM_PREFIX}${'a'.repeat(2000)}` }), /2000/],
      [goodLead({ trustedform_cert_url: `${TRUSTEDFORM_PREFIX}ab\u0000cd` }), /control characters/],
    ] as Array<[Record<string, unknown>, RegExp]>) {
      const { res, key } = await send(LEADS, lead);
      const error = expectError(res, 400, 'invalid_request', ['trustedform_cert_url']);
      expect(error.details.find((x: { field: string }) => x.field === 'trustedform_cert_url').message).toMatch(message);
      await expectNoLead('acme-leads', key);
    }
    expectNothingSentSince(since);
  });

  it('refuses a ping with contact details, and a post whose lead is bad with 400 naming lead.<field>', async () => {
    const since = lastRequest();
    const ping = { state: 'CA', zip: '94105', age: 35, vehicle_year: 2019, insured: true };
    const withEmail = await send(`/v1/campaigns/${CAMPAIGN}/ping`, { ...ping, email: 'jane@example.com' });
    expectError(withEmail.res, 400, 'invalid_request', ['email']);
    await expectNoLead('acme-leads', withEmail.key, 'ping');
    const badAge = await send(`/v1/campaigns/${CAMPAIGN}/ping`, { ...ping, age: 'old' });
    expectError(badAge.res, 400, 'invalid_request', ['age']);
    await expectNoLead('acme-leads', badAge.key, 'ping');
    expectNothingSentSince(since);

    // A real bid, then posts against it with a bad lead: nothing is posted to a buyer.
    const bid = await d.supplier('POST', `/v1/campaigns/${CAMPAIGN}/ping`, ping);
    expect(bid.status).toBe(200);
    const bidId = bid.body.leadId as string;
    // Every buyer's ping has arrived once the bid is made (a busy machine may have answered pending).
    await eventually(async () => ((await d.t.request('GET', `/v1/leads/${bidId}`)).body.answer?.status === 'bid' ? true : undefined), 60_000, 'the bid');
    const afterPing = lastRequest();
    for (const [lead, field] of [
      [goodLead({ age: 'x' }), 'lead.age'],
      [without(goodLead(), 'email'), 'lead.email'],
      [goodLead({ trustedform_cert_url: 'https://example.com/cert' }), 'lead.trustedform_cert_url'],
      [goodLead({ extra: 1 }), 'lead.extra'],
    ] as Array<[Record<string, unknown>, string]>) {
      expectError(await d.supplier('POST', `/v1/campaigns/${CAMPAIGN}/post`, { bidId, lead }), 400, 'invalid_request', [field]);
    }
    expectError(await d.supplier('POST', `/v1/campaigns/${CAMPAIGN}/post`, { bidId: 'bid-1', lead: goodLead() }), 400, 'invalid_request', ['bidId']);
    expectError(await d.supplier('POST', `/v1/campaigns/${CAMPAIGN}/post`, { bidId: `dl_${'0'.repeat(24)}`, lead: goodLead() }), 404, 'not_found', ['bidId']);
    expectNothingSentSince(afterPing);
    expect((await d.t.request('GET', `/v1/leads/${bidId}`)).body.status).not.toBe('sold');
  });
});

describe("a supplier's bad key or campaign", () => {
  it('answers a missing, unknown or wrong supplier key, and a tenant key, with 401, and starts nothing', async () => {
    const since = lastRequest();
    const acmeSecret = d.keys['acme-leads'].split('.').at(-1)!;
    const wrongSecret = `sk.${d.t.tenant.id}.acme-leads.${randomBytes(12).toString('hex')}`;
    for (const authorization of [
      null,
      'Bearer',
      wrongSecret,
      `sk.${d.t.tenant.id}.acme-leads.${d.keys['bright-media'].split('.').at(-1)!}`,
      `sk.${d.t.tenant.id}.nobody.${acmeSecret}`,
      `sk.no-such-tenant.acme-leads.${acmeSecret}`,
      d.t.apiKey,
    ]) {
      const { res, key } = await send(LEADS, goodLead(), { authorization: authorization === null ? null : authorization.startsWith('Bearer') ? authorization : `Bearer ${authorization}` });
      expectError(res, 401, 'unauthorized');
      await expectNoLead('acme-leads', key);
    }
    expectNothingSentSince(since);
  });

  it("answers a supplier's GET of its lead with 401 for a wrong secret, 404 for another supplier", async () => {
    const sold = await d.sell(goodLead());
    expect(sold.body.status).toBe('sold');
    const path = `${LEADS}/${sold.body.leadId}`;
    expect((await d.supplier('GET', path)).status).toBe(200);
    const wrong = await d.t.request('GET', path, undefined, { authorization: `Bearer sk.${d.t.tenant.id}.acme-leads.${randomBytes(12).toString('hex')}` });
    expectError(wrong, 401, 'unauthorized');
    expect(JSON.stringify(wrong.body)).not.toContain('soldTo');
    expectError(await d.supplier('GET', path, undefined, { supplier: 'bright-media' }), 404, 'not_found');
  });

  it('answers a supplier not enrolled in the campaign, and an unknown campaign, with 404, and starts nothing', async () => {
    const since = lastRequest();
    const outsider = await send(LEADS, goodLead(), { authorization: `Bearer ${outsiderKey}` });
    expectError(outsider.res, 404, 'not_found');
    await expectNoLead('outsider', outsider.key);
    const unknown = await send('/v1/campaigns/home-insurance-us/leads', goodLead());
    expectError(unknown.res, 404, 'not_found');
    expect((await d.t.request('GET', `/v1/leads/${distributedLeadId(d.t.tenant.id, 'acme-leads', 'home-insurance-us:full', unknown.key)}`)).status).toBe(404);
    expectNothingSentSince(since);
  });

  it('keeps a supplier key of the right form for its supplier: a valid new key is added, and both keys work', async () => {
    const supplier = await stored('suppliers', 'acme-leads');
    const newKey = `sk.${d.t.tenant.id}.acme-leads.${randomBytes(16).toString('hex')}`;
    const res = await d.t.request('PUT', '/v1/suppliers/acme-leads', { ...supplier, apiKey: newKey });
    expect(res.status).toBe(200);
    expect(res.body.document.apiKeySha256).toEqual([...supplier['apiKeySha256'], sha256Hex(newKey)]);
    expect(JSON.stringify(res.body)).not.toContain(newKey);
    const withNew = await d.t.request('POST', LEADS, goodLead(), { authorization: `Bearer ${newKey}` });
    expect(withNew.status).toBe(200);
    expect((await d.sell(goodLead())).status).toBe(200);
  });
});
