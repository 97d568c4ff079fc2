import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import jsonata from 'jsonata';
import { DEMO_CAMPAIGN_ID, DEMO_MAPPINGS, DEMO_MARKETPLACE_BUYER_IDS, DEMO_SUPPLIER_KEYS, demoMarketplaceCatalog, demoMarketplaceLead } from '../../sandbox/demoMarketplace';
import { DEFAULT_MARKETPLACE_BUYERS, startMarketplace, type RunningMarketplace } from '../../sandbox/marketplace';
import { BuyerSchema, CampaignSchema, SupplierSchema, type Buyer, type Campaign, type HttpEndpoint, type MappedAnswer } from '../../src/distribution/model';
import { sha256Hex } from '../../src/tenants/registry';

let market: RunningMarketplace;
let campaign: Campaign;
let buyers: Map<string, Buyer>;

beforeAll(async () => {
  market = await startMarketplace();
  const catalog = demoMarketplaceCatalog(`${market.url}/`);
  campaign = CampaignSchema.parse(catalog.campaign);
  buyers = new Map(catalog.buyers.map((input) => [input.id, BuyerSchema.parse(input)]));
});

beforeEach(() => {
  market.reset();
  // No think time: these tests are about meaning, not timing.
  for (const { id } of market.buyers()) market.setBehaviour(id, { latency: { meanMs: 0 }, pingLatency: null });
});

afterAll(async () => {
  await market.close();
});

describe('the demo catalog documents', () => {
  it('pass the model schemas', () => {
    const catalog = demoMarketplaceCatalog('http://127.0.0.1:4010');
    const parsed = CampaignSchema.parse(catalog.campaign);
    expect(parsed).toMatchObject({ id: DEMO_CAMPAIGN_ID, method: 'auction', sale: { model: 'exclusive' }, marginPercent: 20, floorPrice: 2, pingTimeoutMs: 1000, deadlineMs: 5000 });
    expect(parsed.dedupe).toEqual({ fields: ['email', 'phone'], lookbackDays: 30, match: 'any' });
    expect(parsed.pingFields).toEqual(['state', 'zip', 'age', 'vehicle_year', 'insured']);
    for (const field of parsed.pingFields) expect(parsed.fields[field]?.pii).toBe(false);
    expect(parsed.fields['email']?.pii).toBe(true);
    expect(parsed.fields['phone']?.pii).toBe(true);
    expect(parsed.buyers).toEqual([...DEMO_MARKETPLACE_BUYER_IDS]);
    for (const supplier of catalog.suppliers) SupplierSchema.parse(supplier);
    for (const buyer of catalog.buyers) BuyerSchema.parse(buyer);
    expect(CampaignSchema.parse(demoMarketplaceCatalog('http://x.test', { method: 'waterfall' }).campaign).method).toBe('waterfall');
  });

  it('give each supplier the hash of its development key', () => {
    const { suppliers } = demoMarketplaceCatalog('http://127.0.0.1:4010');
    expect(suppliers.map((s) => s.id)).toEqual(['acme-leads', 'bright-media']);
    for (const supplier of suppliers) {
      const key = DEMO_SUPPLIER_KEYS[supplier.id as keyof typeof DEMO_SUPPLIER_KEYS];
      expect(SupplierSchema.parse(supplier).apiKeySha256).toEqual([sha256Hex(key)]);
      expect(supplier.campaigns).toEqual([DEMO_CAMPAIGN_ID]);
    }
  });

  it('have one buyer per emulated buyer, at the emulator price', () => {
    expect(DEFAULT_MARKETPLACE_BUYERS.map((b) => b.id)).toEqual([...DEMO_MARKETPLACE_BUYER_IDS]);
    expect([...buyers.keys()]).toEqual([...DEMO_MARKETPLACE_BUYER_IDS]);
    for (const behaviour of market.buyers()) {
      const buyer = buyers.get(behaviour.id)!;
      if (buyer.pricing.type === 'fixed') expect(buyer.pricing.price).toBe(behaviour.price);
      else expect(buyer.ping).toBeDefined();
      const post = buyer.post as HttpEndpoint;
      expect(post.url).toBe(`${market.url}/buyers/${behaviour.id}/post`);
      expect(post.format).toBe(behaviour.format);
    }
    expect(buyers.get('daytime')?.hours).toMatchObject({ open: '08:00', close: '18:00', outside: 'queue' });
  });

  it('compile every JSONata mapping', () => {
    for (const expression of Object.values(DEMO_MAPPINGS)) expect(() => jsonata(expression)).not.toThrow();
    for (const buyer of buyers.values()) {
      for (const endpoint of [buyer.ping, buyer.post as HttpEndpoint]) {
        if (!endpoint) continue;
        expect(endpoint.mapping).toBeDefined();
        expect(() => jsonata(endpoint.mapping!)).not.toThrow();
        expect(() => jsonata(endpoint.response.mapping)).not.toThrow();
      }
    }
  });

  it('hold a sample lead with every required field', () => {
    const lead = demoMarketplaceLead();
    for (const [name, spec] of Object.entries(campaign.fields)) if (spec.required) expect(lead[name]).toBeDefined();
    expect(campaign.fields['state']?.enum).toContain(lead['state']);
  });
});

// ----------------------------------------------------------------- the mappings against the emulator

/** Serializes a mapping's result as the delivery does: JSON, form fields, or XML under the endpoint's root. */
function serialize(endpoint: HttpEndpoint, body: unknown): { contentType: string; text: string } {
  switch (endpoint.format) {
    case 'json':
      return { contentType: 'application/json', text: JSON.stringify(body) };
    case 'form': {
      const fields = Object.entries(body as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null);
      return { contentType: 'application/x-www-form-urlencoded', text: new URLSearchParams(fields.map(([k, v]): [string, string] => [k, String(v)])).toString() };
    }
    case 'xml':
      return { contentType: 'application/xml', text: new XMLBuilder({}).build({ [endpoint.xmlRoot]: body }) as string };
  }
}

/** Reads an answer as the delivery does: by the endpoint's response format, else the Content-Type. */
function readAnswer(endpoint: HttpEndpoint, status: number, headers: Headers, text: string): { status: number; headers: Record<string, string>; body: unknown; text: string } {
  const contentType = headers.get('content-type') ?? '';
  const format =
    endpoint.response.format !== 'auto'
      ? endpoint.response.format
      : /json/i.test(contentType)
        ? 'json'
        : /xml/i.test(contentType)
          ? 'xml'
          : /x-www-form-urlencoded/i.test(contentType)
            ? 'form'
            : 'text';
  const body =
    format === 'json'
      ? (JSON.parse(text) as unknown)
      : format === 'xml'
        ? (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' }).parse(text) as unknown)
        : format === 'form'
          ? Object.fromEntries(new URLSearchParams(text))
          : text.trim();
  const lower: Record<string, string> = {};
  headers.forEach((value, name) => (lower[name.toLowerCase()] = value));
  return { status, headers: lower, body, text };
}

interface Exchange {
  status: number;
  requestBody: string;
  answer: MappedAnswer;
}

/** Maps, sends and reads one ping or post of the sample lead, the way the delivery will. */
async function exchange(buyerId: string, kind: 'ping' | 'post', leadId = 'lead-0001', leadOverrides: Record<string, unknown> = {}): Promise<Exchange> {
  const buyer = buyers.get(buyerId)!;
  const endpoint = (kind === 'ping' ? buyer.ping : buyer.post) as HttpEndpoint;
  const full = demoMarketplaceLead(leadOverrides);
  const lead = kind === 'ping' ? Object.fromEntries(campaign.pingFields.map((f) => [f, full[f]])) : full;
  const context = {
    kind,
    leadId,
    lead,
    campaign: { id: campaign.id, name: campaign.name, currency: campaign.currency },
    buyer: { id: buyer.id, name: buyer.name },
    bid: kind === 'post' && buyer.pricing.type === 'bid' ? { id: 'bid-123', price: 12 } : null,
  };
  const body: unknown = await jsonata(endpoint.mapping!).evaluate(context);
  const request = serialize(endpoint, body);
  const res = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': request.contentType, 'idempotency-key': `${leadId}:${buyerId}:${kind}` },
    body: request.text,
  });
  const text = await res.text();
  const answer = (await jsonata(endpoint.response.mapping).evaluate(readAnswer(endpoint, res.status, res.headers, text))) as MappedAnswer;
  return { status: res.status, requestBody: request.text, answer };
}

describe('the mappings against the emulated buyers', () => {
  it.each([
    ['fastbid', 12],
    ['slowbid', 30],
    ['xmlbuyer', 9.5],
  ])('a %s ping reads as a bid of %d and carries no contact details', async (buyerId, price) => {
    const { status, requestBody, answer } = await exchange(buyerId, 'ping');
    expect(status).toBe(200);
    expect(answer).toEqual({ outcome: 'accepted', price, reference: `${buyerId}-bid000001` });
    expect(requestBody).toContain('94105');
    expect(requestBody).not.toContain('jane');
    expect(requestBody).not.toContain('4155550123');
  });

  it.each(['fastbid', 'xmlbuyer'])('a %s ping without a bid reads as no bid', async (buyerId) => {
    market.setBehaviour(buyerId, { price: null });
    expect((await exchange(buyerId, 'ping')).answer).toEqual({ outcome: 'rejected', reason: 'no_bid' });
  });

  it.each([
    ['fastbid', 12],
    ['slowbid', 30],
    ['xmlbuyer', 9.5],
    ['daytime', 8],
    ['formbuyer', 6],
  ])('a %s post reads as accepted at %d with the buyer reference', async (buyerId, price) => {
    const { status, answer } = await exchange(buyerId, 'post');
    expect(status).toBe(200);
    expect(answer).toEqual({ outcome: 'accepted', price, reference: `${buyerId}-L000001` });
    expect(market.sales({ buyerId })).toEqual([expect.objectContaining({ email: 'jane.doe@example.com', idempotencyKey: `lead-0001:${buyerId}:post` })]);
  });

  it.each(['fastbid', 'xmlbuyer', 'formbuyer', 'daytime'])('a %s rejection reads as rejected with its reason', async (buyerId) => {
    market.setBehaviour(buyerId, { post: 'reject', rejectReason: 'state not served' });
    expect((await exchange(buyerId, 'post')).answer).toEqual({ outcome: 'rejected', reason: 'state not served' });
  });

  it.each(['dupes', 'fastbid', 'xmlbuyer', 'formbuyer'])('a %s duplicate reads as duplicate', async (buyerId) => {
    if (buyerId !== 'dupes') market.setBehaviour(buyerId, { acceptedEmails: ['jane.doe@example.com'] });
    expect((await exchange(buyerId, 'post')).answer).toEqual({ outcome: 'duplicate', reason: 'already purchased' });
  });

  it('flaky answers 503 (an error before any mapping) until it recovers', async () => {
    expect((await exchange('flaky', 'post')).status).toBe(503);
    market.setBehaviour('flaky', { failing: false });
    expect((await exchange('flaky', 'post')).answer).toEqual({ outcome: 'accepted', price: 10, reference: 'flaky-L000001' });
  });

  it('ratelimited answers 429 with Retry-After first, then accepts the retry of the same post', async () => {
    const first = await exchange('ratelimited', 'post');
    expect(first.status).toBe(429);
    expect(market.requests({ buyerId: 'ratelimited' })[0]?.status).toBe(429);
    const retry = await exchange('ratelimited', 'post');
    expect(retry.answer).toEqual({ outcome: 'accepted', price: 7, reference: 'ratelimited-L000001' });
  });

  it('an error answer in the buyer format reads as an error', async () => {
    // A body the XML buyer cannot read: its 400 answer goes through the mapping.
    const endpoint = buyers.get('xmlbuyer')!.post as HttpEndpoint;
    const res = await fetch(endpoint.url, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<lead>' });
    const answer = (await jsonata(endpoint.response.mapping).evaluate(readAnswer(endpoint, res.status, res.headers, await res.text()))) as MappedAnswer;
    expect(answer).toEqual({ outcome: 'error', reason: 'HTTP 400: malformed XML' });
    const json = buyers.get('fastbid')!.post as HttpEndpoint;
    const bad = await fetch(json.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    const jsonAnswer = (await jsonata(json.response.mapping).evaluate(readAnswer(json, bad.status, bad.headers, await bad.text()))) as MappedAnswer;
    expect(jsonAnswer).toEqual({ outcome: 'error', reason: 'HTTP 400: malformed JSON' });
  });

  it('the XML and form posts carry the lead under the buyer field names', async () => {
    const xml = await exchange('xmlbuyer', 'post');
    expect(xml.requestBody).toMatch(/^<lead><lead_id>lead-0001<\/lead_id>.*<contact>.*<email>jane\.doe@example\.com<\/email>.*<\/contact>.*<\/lead>$/);
    const form = await exchange('formbuyer', 'post', 'lead-0002');
    expect(Object.fromEntries(new URLSearchParams(form.requestBody))).toMatchObject({ lead_id: 'lead-0002', fname: 'Jane', email: 'jane.doe@example.com', insured: 'Y' });
  });
});
