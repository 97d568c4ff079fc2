import { XMLParser } from 'fast-xml-parser';
import {
  DEFAULT_MARKETPLACE_BUYERS,
  drawLatency,
  marketplaceClient,
  seededRandom,
  startMarketplace,
  type MarketplaceBuyerBehaviour,
  type MarketplaceRequest,
  type RunningMarketplace,
} from '../../sandbox/marketplace';

/** Arrival times and rate windows run on this clock; only latency is real. */
const START = Date.parse('2030-01-07T15:00:00.000Z');
let clock = START;
let market: RunningMarketplace;

beforeAll(async () => {
  market = await startMarketplace({ now: () => clock });
});

afterEach(() => {
  clock = START;
  market.reset();
});

afterAll(async () => {
  await market.close();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(buyerId: string, kind: 'ping' | 'post', body: string, opts: { contentType?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  const res = await fetch(`${market.url}/buyers/${buyerId}/${kind}`, {
    method: 'POST',
    headers: { 'content-type': opts.contentType ?? 'application/json', ...opts.headers },
    body,
    ...(opts.timeoutMs !== undefined ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const json = (value: unknown) => JSON.stringify(value);
const PING = json({ lead_id: 'L1', state: 'CA', zip: '94105', age: 35, vehicle_year: 2019, insured: true });
const post = (email: string, extra: Record<string, unknown> = {}) => json({ lead_id: 'L1', first_name: 'Jane', email, phone: '+14155550123', state: 'CA', ...extra });

/** No latency, so tests do not wait for the emulated buyers' think time. */
function instant(...ids: string[]): void {
  for (const id of ids) market.setBehaviour(id, { latency: { meanMs: 0 }, pingLatency: null });
}

describe('default buyers', () => {
  it('serves the documented buyer IDs', () => {
    expect(market.buyers().map((b) => b.id)).toEqual(['fastbid', 'slowbid', 'flaky', 'dupes', 'xmlbuyer', 'daytime', 'ratelimited', 'formbuyer']);
    expect(DEFAULT_MARKETPLACE_BUYERS).toHaveLength(8);
    expect(market.behaviour('flaky')).toMatchObject({ failing: true, failure: 503 });
  });

  it('fastbid bids $12.00 in JSON and accepts the post', async () => {
    const ping = await send('fastbid', 'ping', PING);
    expect(ping.status).toBe(200);
    expect(ping.headers.get('content-type')).toMatch(/application\/json/);
    expect(JSON.parse(ping.text)).toEqual({ status: 'bid', price: 12, id: 'fastbid-bid000001' });
    expect(ping.text).toContain('"price":12.00');
    const sold = await send('fastbid', 'post', post('jane@example.com'));
    expect(JSON.parse(sold.text)).toEqual({ status: 'accepted', price: 12, id: 'fastbid-L000002' });
    expect(market.sales()).toEqual([expect.objectContaining({ buyerId: 'fastbid', reference: 'fastbid-L000002', price: 12, email: 'jane@example.com' })]);
  });

  it('slowbid does not answer a ping within a 1 s timeout (and answers posts promptly)', async () => {
    await expect(send('slowbid', 'ping', PING, { timeoutMs: 1000 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const sold = await send('slowbid', 'post', post('jane@example.com'));
    expect(JSON.parse(sold.text)).toMatchObject({ status: 'accepted', price: 30 });
  });

  it('flaky answers 503 while failing and accepts once it recovers', async () => {
    instant('flaky');
    const down = await send('flaky', 'post', post('jane@example.com'));
    expect(down.status).toBe(503);
    expect(JSON.parse(down.text)).toEqual({ status: 'error', reason: 'service unavailable' });
    market.setBehaviour('flaky', { failing: false });
    const up = await send('flaky', 'post', post('jane@example.com'));
    expect(up.status).toBe(200);
    expect(JSON.parse(up.text)).toMatchObject({ status: 'accepted', price: 10 });
  });

  it('dupes answers every post "duplicate" and buys nothing', async () => {
    instant('dupes');
    const answer = await send('dupes', 'post', post('new-person@example.com'));
    expect(JSON.parse(answer.text)).toEqual({ status: 'duplicate', reason: 'already purchased' });
    expect(market.sales()).toEqual([]);
  });

  it('xmlbuyer reads XML and answers XML', async () => {
    instant('xmlbuyer');
    const xml = (root: string, inner: string) => `<?xml version="1.0"?><${root}>${inner}</${root}>`;
    const ping = await send('xmlbuyer', 'ping', xml('ping', '<lead_id>L1</lead_id><risk><state>CA</state></risk>'), { contentType: 'application/xml' });
    expect(ping.headers.get('content-type')).toMatch(/application\/xml/);
    expect(ping.text).toContain('<response><status>bid</status><price>9.50</price><id>xmlbuyer-bid000001</id></response>');
    const sold = await send('xmlbuyer', 'post', xml('lead', '<lead_id>L1</lead_id><contact><email>Jane@Example.com</email></contact>'), { contentType: 'application/xml' });
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' }).parse(sold.text) as { response: Record<string, unknown> };
    expect(parsed.response).toEqual({ status: 'accepted', price: 9.5, id: 'xmlbuyer-L000002' });
    expect(market.sales()[0]).toMatchObject({ email: 'jane@example.com' });
    const bad = await send('xmlbuyer', 'post', '<lead><unclosed></lead>', { contentType: 'application/xml' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<reason>malformed XML</reason>');
  });

  it('formbuyer reads a form and answers plain text', async () => {
    instant('formbuyer');
    const form = { contentType: 'application/x-www-form-urlencoded' };
    const sold = await send('formbuyer', 'post', new URLSearchParams({ lead_id: 'L1', email: 'jane@example.com', state: 'CA' }).toString(), form);
    expect(sold.headers.get('content-type')).toMatch(/text\/plain/);
    expect(sold.text.trim()).toBe('ACCEPTED|ref=formbuyer-L000001|price=6.00');
    market.setBehaviour('formbuyer', { post: 'reject', rejectReason: 'outside our states' });
    const refused = await send('formbuyer', 'post', 'lead_id=L2&email=other%40example.com', form);
    expect(refused.text.trim()).toBe('REJECTED|reason=outside our states');
  });

  it('ratelimited refuses the first of every 3 requests with 429 and Retry-After: 1', async () => {
    instant('ratelimited');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await send('ratelimited', 'post', post(`p${i}@example.com`));
      statuses.push(answer.status);
      if (answer.status === 429) expect(answer.headers.get('retry-after')).toBe('1');
    }
    expect(statuses).toEqual([429, 200, 200, 429, 200, 200]);
    expect(market.sales({ buyerId: 'ratelimited' })).toHaveLength(4);
  });

  it('refuses a body that is not in its format', async () => {
    instant('fastbid');
    expect((await send('fastbid', 'post', '{"email":', {})).status).toBe(400);
    const wrongType = await send('fastbid', 'post', 'email=a%40b.c', { contentType: 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.text)).toMatchObject({ status: 'error' });
  });

  it('answers 404 for an unknown buyer', async () => {
    const answer = await send('nobody', 'post', post('a@example.com'));
    expect(answer.status).toBe(404);
  });
});

describe('behaviours', () => {
  it('a buyer that has bought an email answers "duplicate" for it', async () => {
    instant('daytime');
    market.setBehaviour('daytime', { acceptedEmails: ['Seen@Example.com'] });
    expect(JSON.parse((await send('daytime', 'post', post('seen@example.com'))).text)).toMatchObject({ status: 'duplicate' });
    expect(JSON.parse((await send('daytime', 'post', post('fresh@example.com'))).text)).toMatchObject({ status: 'accepted' });
    expect(JSON.parse((await send('daytime', 'post', post('FRESH@example.com'))).text)).toMatchObject({ status: 'duplicate' });
    expect(market.behaviour('daytime')!.acceptedEmails).toEqual(['seen@example.com', 'fresh@example.com']);
  });

  it('replays the stored answer for a repeated Idempotency-Key, byte for byte, without a second sale', async () => {
    instant('fastbid');
    const headers = { 'idempotency-key': 'L1:fastbid:post' };
    const first = await send('fastbid', 'post', post('jane@example.com'), { headers });
    const again = await send('fastbid', 'post', post('jane@example.com'), { headers });
    expect(again.status).toBe(first.status);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(JSON.parse(again.text)).toMatchObject({ status: 'accepted' });
    expect(market.sales()).toHaveLength(1);
    expect(market.requests({ buyerId: 'fastbid' }).map((r) => r.replayed)).toEqual([false, true]);
    // Another key is another request: this buyer has now seen the email.
    const other = await send('fastbid', 'post', post('jane@example.com'), { headers: { 'idempotency-key': 'L2:fastbid:post' } });
    expect(JSON.parse(other.text)).toMatchObject({ status: 'duplicate' });
  });

  it('concurrent requests with one key make one sale', async () => {
    instant('fastbid');
    const headers = { 'idempotency-key': 'L9:fastbid:post' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => send('fastbid', 'post', post('same@example.com'), { headers })));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(market.sales()).toHaveLength(1);
  });

  it('a 429 or 503 is not stored: the retry with the same key gets a fresh answer', async () => {
    instant('ratelimited');
    const headers = { 'idempotency-key': 'L1:ratelimited:post' };
    expect((await send('ratelimited', 'post', post('jane@example.com'), { headers })).status).toBe(429);
    const retried = await send('ratelimited', 'post', post('jane@example.com'), { headers });
    expect(retried.status).toBe(200);
    expect(JSON.parse(retried.text)).toMatchObject({ status: 'accepted', price: 7 });
  });

  it('no bid when the price is null', async () => {
    instant('fastbid');
    market.setBehaviour('fastbid', { price: null });
    expect(JSON.parse((await send('fastbid', 'ping', PING)).text)).toEqual({ status: 'no_bid' });
  });

  it('failure 500, hang and close', async () => {
    instant('fastbid');
    market.setBehaviour('fastbid', { failing: true, failure: 500 });
    expect((await send('fastbid', 'post', post('a@example.com'))).status).toBe(500);
    market.setBehaviour('fastbid', { failure: 'hang' });
    await expect(send('fastbid', 'ping', PING, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'TimeoutError' });
    market.setBehaviour('fastbid', { failure: 'close' });
    await expect(send('fastbid', 'ping', PING, { timeoutMs: 5000 })).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(market.requests({ buyerId: 'fastbid' }).map((r) => r.status)).toEqual([500, null, null]);
  });

  it('a window rate limit counts requests in a fixed window on the marketplace clock', async () => {
    instant('daytime');
    market.setBehaviour('daytime', { rateLimit: { type: 'window', limit: 2, windowSeconds: 10 } });
    expect((await send('daytime', 'ping', PING)).status).toBe(200);
    clock += 3000;
    expect((await send('daytime', 'ping', PING)).status).toBe(200);
    const refused = await send('daytime', 'ping', PING);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('7');
    clock = START + 10_000;
    expect((await send('daytime', 'ping', PING)).status).toBe(200);
  });

  it('refuses an invalid behaviour and leaves the buyer as it was', () => {
    expect(() => market.setBehaviour('fastbid', { format: 'yaml' as never })).toThrow();
    expect(() => market.setBehaviour('fastbid', { price: -1 })).toThrow();
    expect(market.behaviour('fastbid')).toMatchObject({ format: 'json', price: 12 });
  });

  it('adds a buyer with the defaults when an unknown ID is configured', async () => {
    const added = market.setBehaviour('bench-01', { latency: { meanMs: 0 }, price: 4.25 });
    expect(added).toMatchObject({ id: 'bench-01', name: 'bench-01', format: 'json', post: 'accept', failing: false });
    expect(JSON.parse((await send('bench-01', 'ping', PING)).text)).toMatchObject({ status: 'bid', price: 4.25 });
    market.reset();
    expect(market.behaviour('bench-01')).toBeUndefined();
  });

  it('seeded latency draws the same sequence every time, within mean ± jitter', () => {
    const latency = { meanMs: 50, jitterMs: 25, seed: 42 };
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 20 }, () => drawLatency(latency, a));
    expect(Array.from({ length: 20 }, () => drawLatency(latency, b))).toEqual(first);
    for (const ms of first) expect(ms).toBeGreaterThanOrEqual(25);
    for (const ms of first) expect(ms).toBeLessThanOrEqual(75);
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(drawLatency({ meanMs: 10, jitterMs: 50 }, () => 0)).toBe(0);
  });
});

describe('request record and control API', () => {
  it('records each request with lower-case headers, the raw body and the status answered', async () => {
    instant('fastbid');
    const body = post('jane@example.com');
    await send('fastbid', 'post', body, { headers: { 'X-Custom-Header': 'Yes', 'Idempotency-Key': 'K1' } });
    const [request] = market.requests({ buyerId: 'fastbid', kind: 'post' });
    expect(request).toMatchObject<Partial<MarketplaceRequest>>({
      seq: 1,
      buyerId: 'fastbid',
      kind: 'post',
      method: 'POST',
      path: '/buyers/fastbid/post',
      at: new Date(START).toISOString(),
      body,
      status: 200,
      replayed: false,
      latencyMs: 0,
    });
    expect(request!.headers).toMatchObject({ 'x-custom-header': 'Yes', 'idempotency-key': 'K1', 'content-type': 'application/json' });
    market.clearRequests();
    expect(market.requests()).toEqual([]);
  });

  it('another process drives the marketplace over HTTP', async () => {
    const client = marketplaceClient(market.url);
    const changed = await client.setBehaviour('fastbid', { latency: { meanMs: 0 }, price: 15.5 });
    expect(changed).toMatchObject<Partial<MarketplaceBuyerBehaviour>>({ id: 'fastbid', price: 15.5 });
    expect(market.behaviour('fastbid')).toMatchObject({ price: 15.5 });
    await send('fastbid', 'ping', PING);
    await send('fastbid', 'post', post('jane@example.com'));
    await send('dupes', 'ping', PING);
    expect((await client.requests({ buyerId: 'fastbid' })).map((r) => r.kind)).toEqual(['ping', 'post']);
    expect((await client.requests({ kind: 'ping' })).map((r) => r.buyerId)).toEqual(['fastbid', 'dupes']);
    expect((await client.requests({ since: 2 })).map((r) => r.seq)).toEqual([3]);
    expect(await client.sales()).toEqual([expect.objectContaining({ buyerId: 'fastbid', price: 15.5 })]);
    expect((await client.buyers()).map((b) => b.id)).toContain('formbuyer');
    await client.clearRequests();
    expect(await client.requests()).toEqual([]);
    await client.reset();
    expect(market.behaviour('fastbid')).toMatchObject({ price: 12 });
  });

  it('answers 400 to a bad behaviour or filter and 404 to an unknown buyer', async () => {
    const put = await fetch(`${market.url}/_marketplace/buyers/fastbid/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: json({ failure: 418 }) });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { reason: string }).reason).toMatch(/failure/);
    const unknownField = await fetch(`${market.url}/_marketplace/buyers/fastbid/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: json({ colour: 'red' }) });
    expect(unknownField.status).toBe(400);
    expect((await fetch(`${market.url}/_marketplace/requests?kind=bid`)).status).toBe(400);
    expect((await fetch(`${market.url}/_marketplace/buyers/nobody`)).status).toBe(404);
    const healthz = await fetch(`${market.url}/_marketplace/healthz`);
    expect(await healthz.json()).toEqual({ ok: true });
  });
});
