import { recordHistory } from '../support/fixtures';
import { eventually } from '../support/stack';
import { businessClock } from '../../src/clock';
import { buyerSecretPrefix } from '../../src/distribution/reach';
import { middayZone, startDistributionStack, uniqueLead, type DistributionStack } from '../support/distribution';

/*
 * Buyer distribution end to end: the real Temporal server, worker and API, and the marketplace
 * emulator's buyers over real HTTP. The demo buyer with operating hours (daytime) takes part only
 * in the hours test, with hours placed around the moment the test runs.
 */

let d: DistributionStack;

afterEach(async () => {
  await d?.close();
});

const CAMPAIGN = '/v1/campaigns/auto-insurance-us';
const leadState = async (leadId: string) => (await d.t.request('GET', `/v1/leads/${leadId}`)).body;
const postsTo = (buyerId: string) => d.market.requests({ buyerId, kind: 'post' });
const pingsTo = (buyerId: string) => d.market.requests({ buyerId, kind: 'ping' });
/** Saves the lead's history as a replay fixture (RECORD_FIXTURES=1); the dispute log's unit test reads it too. */
const record = (name: string, leadId: string) => recordHistory(name, d.t.stack.temporal.client.workflow.getHandle(`dlead:${d.t.tenant.id}:${leadId}`));
const buyer = async (id: string) => (await d.t.request('GET', `/v1/buyers/${id}`)).body;

describe('auction (ping-post)', () => {
  it('sells to the best net bid after a parallel ping, and the dispute log holds each buyer answer', async () => {
    d = await startDistributionStack({ buyers: ['fastbid', 'slowbid', 'xmlbuyer', 'formbuyer'] });
    const res = await d.sell(uniqueLead());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'sold', soldTo: ['fastbid'], payout: 3, currency: 'USD' });
    const leadId = res.body.leadId as string;
    const audit = await d.t.request('GET', `/v1/leads/${leadId}/audit`);
    expect(audit.status).toBe(200);
    const kinds = audit.body.entries.map((e: any) => `${e.kind}:${e.buyerId ?? ''}`);
    expect(kinds).toEqual(expect.arrayContaining(['ping:fastbid', 'ping:xmlbuyer', 'post:fastbid']));
    // The slow bidder's late answer is ignored, and the log says so.
    expect(audit.body.buyers.find((b: any) => b.buyerId === 'slowbid')).toMatchObject({ status: 'skipped', reason: 'ping_timeout' });
    // The XML bidder's raw answer is in the log as it came.
    const xmlPing = audit.body.entries.find((e: any) => e.kind === 'ping' && e.buyerId === 'xmlbuyer');
    expect(xmlPing.delivery.response.headers['content-type']).toMatch(/xml/);
    expect(xmlPing.delivery.response.bodyExcerpt).toContain('<price>9.50</price>');
    expect(xmlPing.delivery).toMatchObject({ outcome: 'accepted', price: 9.5 });
    // The post as sent, contact details masked in the log view (the buyer got them in full).
    const post = audit.body.entries.find((e: any) => e.kind === 'post');
    expect(post.delivery.response.status).toBe(200);
    const email = JSON.parse(postsTo('fastbid')[0]!.body).email as string;
    expect(email).toMatch(/@example\.com$/);
    expect(post.delivery.request.body).not.toContain(email);
    expect(post.delivery.request.headers['idempotency-key'] ?? post.delivery.request.headers['Idempotency-Key']).toBe(`${leadId}:fastbid:post`);
    // The ping carried no contact details.
    for (const ping of d.market.requests({ kind: 'ping' })) expect(ping.body).not.toMatch(/example\.com|first_name|phone/);
    // CSV of the same log.
    const csv = await d.t.request('GET', `/v1/leads/${leadId}/audit?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(String(csv.body)).toMatch(/^at,kind,buyer,outcome,latency_ms,http_status,summary\r\n/);
    expect(String(csv.body)).toContain('post,fastbid,accepted');
    await record('distribution-auction-sold', leadId);
  });

  it('falls through to the next best bid when the winner rejects the post', async () => {
    d = await startDistributionStack({ buyers: ['fastbid', 'xmlbuyer', 'formbuyer'] });
    d.market.setBehaviour('fastbid', { post: 'reject', rejectReason: 'out of area' });
    const res = await d.sell(uniqueLead());
    expect(res.body).toMatchObject({ status: 'sold', soldTo: ['xmlbuyer'] });
    const state = await leadState(res.body.leadId);
    expect(state.buyers.find((b: any) => b.buyerId === 'fastbid')).toMatchObject({ status: 'rejected', detail: 'out of area' });
    expect(state.sales).toEqual([expect.objectContaining({ buyerId: 'xmlbuyer', priceCents: 950 })]);
    // fastbid's reservation was released: nothing held, nothing spent.
    const fastbid = (await d.t.request('GET', '/v1/buyers/fastbid')).body;
    expect(fastbid.account.periods.day).toMatchObject({ sold: 0, held: 0, soldCents: 0 });
  });

  it('answers a ping with a bid and sells the full lead posted against it', async () => {
    d = await startDistributionStack({ buyers: ['fastbid', 'formbuyer'] });
    const { email: _e, phone: _p, first_name: _f, last_name: _l, ...pingFields } = uniqueLead();
    const ping = await d.supplier('POST', `${CAMPAIGN}/ping`, pingFields);
    expect(ping.body).toMatchObject({ status: 'bid', payout: 3 });
    expect(ping.body.bidId).toMatch(/^dl_/);
    expect(postsTo('fastbid')).toHaveLength(0);
    const post = await d.supplier('POST', `${CAMPAIGN}/post`, { bidId: ping.body.bidId, lead: uniqueLead(pingFields) });
    expect(post.body).toMatchObject({ status: 'sold', soldTo: ['fastbid'] });
    await record('distribution-ping-post', ping.body.bidId);
    // The buyer gets the bid ID it gave with the ping.
    const sent = JSON.parse(postsTo('fastbid')[0]!.body);
    expect(sent.bid_id).toMatch(/^fastbid-bid/);
    // Another supplier cannot post against this bid.
    const stranger = await d.supplier('POST', `${CAMPAIGN}/post`, { bidId: ping.body.bidId, lead: uniqueLead(pingFields) }, { supplier: 'bright-media' });
    expect(stranger.status).toBe(404);
  });

  it('answers within the deadline with pending when a buyer hangs, and the lead is decided later', async () => {
    d = await startDistributionStack({
      buyers: ['flaky', 'formbuyer'],
      method: 'waterfall',
      adjust: ({ campaign, buyers }) => {
        campaign.deadlineMs = 1000;
        const flaky = buyers.find((b) => b.id === 'flaky')!;
        (flaky.post as { timeoutMs: number }).timeoutMs = 3000;
      },
    });
    d.market.setBehaviour('flaky', { failing: true, failure: 'hang' });
    const lead = uniqueLead();
    const res = await d.supplier('POST', `${CAMPAIGN}/leads`, lead);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'pending' });
    // The hanging post times out (never retried; the buyer may have taken it, so its price stays
    // spent) and the next buyer takes the lead.
    const state = await eventually(async () => {
      const s = await leadState(res.body.leadId);
      return s.status === 'sold' ? s : undefined;
    }, 30_000, 'sold after the hang');
    expect(state.sales.map((s: any) => s.buyerId)).toEqual(['formbuyer']);
    expect(state.buyers.find((b: any) => b.buyerId === 'flaky')).toMatchObject({ status: 'unknown', reason: 'timeout' });
    expect(postsTo('flaky')).toHaveLength(1);
    // Sent again with the same body: the same lead and its answer now, nothing posted again.
    const again = await d.supplier('POST', `${CAMPAIGN}/leads`, lead);
    expect(again.body).toMatchObject({ leadId: res.body.leadId, status: 'sold', soldTo: ['formbuyer'] });
    expect(postsTo('formbuyer')).toHaveLength(1);
  });
});

describe('refusals', () => {
  it('refuses an Idempotency-Key reused for another lead, a post against an expired bid, and a return of a closed lead', async () => {
    d = await startDistributionStack({
      buyers: ['formbuyer'],
      adjust: ({ campaign }) => {
        campaign.bidTtlSeconds = 5;
      },
    });
    const first = await d.sell(uniqueLead(), { headers: { 'idempotency-key': 'k-1' } });
    expect(first.body.status).toBe('sold');
    const reused = await d.supplier('POST', `${CAMPAIGN}/leads`, uniqueLead(), { headers: { 'idempotency-key': 'k-1' } });
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({ code: 'idempotency_key_reused', details: { leadId: first.body.leadId } });

    const { email: _e, phone: _p, first_name: _f, last_name: _l, ...pingFields } = uniqueLead();
    const ping = await d.supplier('POST', `${CAMPAIGN}/ping`, pingFields);
    expect(ping.body.status).toBe('bid');
    await eventually(async () => ((await leadState(ping.body.bidId)).status === 'expired' ? true : undefined), 30_000, 'bid expired');
    const late = await d.supplier('POST', `${CAMPAIGN}/post`, { bidId: ping.body.bidId, lead: uniqueLead(pingFields) });
    expect(late.status).toBe(409);
    expect(late.body.error.details).toEqual([{ field: 'bidId', message: 'has expired' }]);
    expect(postsTo('formbuyer')).toHaveLength(1);

    // Unsold: the run ends at once, and a return of it is refused.
    d.market.setBehaviour('formbuyer', { post: 'reject' });
    const unsold = await d.sell(uniqueLead());
    expect(unsold.body.status).toBe('rejected');
    await eventually(async () => ((await leadState(unsold.body.leadId)).status === 'unsold' ? true : undefined), 30_000, 'unsold');
    const ret = await eventually(async () => {
      const r = await d.t.request('POST', `/v1/leads/${unsold.body.leadId}/returns`, { buyerId: 'formbuyer', reason: 'bad' });
      return r.status === 409 ? r : undefined;
    }, 30_000, 'return refused');
    expect(ret.body.error.code).toBe('lead_closed');
  });
});

describe('waterfall', () => {
  it('goes on to the next buyer when a post cannot be made (a secret not configured), with the reason in the log', async () => {
    d = await startDistributionStack({ buyers: ['flaky', 'formbuyer'], method: 'waterfall' });
    // A secret of the tenant's own (LEADRELAY_BUYER_<TENANT>_…) that the operator has not set.
    const missing = `${buyerSecretPrefix(d.t.tenant.id)}NOT_SET`;
    const flaky = (await buyer('flaky')).document;
    await d.put('buyers', 'flaky', { ...flaky, post: { ...flaky.post, auth: { type: 'header', name: 'X-Api-Key', secret: { env: missing } } } });
    d.market.setBehaviour('flaky', { failing: false });
    const res = await d.sell(uniqueLead());
    expect(res.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'] });
    expect(postsTo('flaky')).toHaveLength(0);
    const state = await leadState(res.body.leadId);
    expect(state.buyers.find((b: any) => b.buyerId === 'flaky')).toMatchObject({ status: 'error', reason: 'config' });
    const audit = await d.t.request('GET', `/v1/leads/${res.body.leadId}/audit`);
    expect(audit.body.entries.find((e: any) => e.kind === 'failure').summary).toContain(missing);
    // Its reservation was given back.
    expect((await buyer('flaky')).account.periods.day).toMatchObject({ sold: 0, held: 0 });
  });
  it('offers buyers in priority order, and a reject or error goes on to the next', async () => {
    d = await startDistributionStack({ buyers: ['flaky', 'dupes', 'ratelimited', 'formbuyer'], method: 'waterfall' });
    d.market.setBehaviour('ratelimited', { post: 'reject', rejectReason: 'not today' });
    const res = await d.sell(uniqueLead());
    expect(res.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'], payout: 3 });
    const order = d.market.requests({ kind: 'post' }).filter((r) => r.status !== 429).map((r) => r.buyerId);
    expect(order).toEqual(['flaky', 'dupes', 'ratelimited', 'formbuyer']);
    const state = await leadState(res.body.leadId);
    const statuses = Object.fromEntries(state.buyers.map((b: any) => [b.buyerId, b.status]));
    // The buyer's own 503 is a failure: not sold, its price freed.
    expect(statuses).toEqual({ flaky: 'error', dupes: 'duplicate', ratelimited: 'rejected', formbuyer: 'sold' });
  });

  it("waits out a buyer's 429 Retry-After on a durable timer and posts again", async () => {
    d = await startDistributionStack({ buyers: ['ratelimited'], method: 'waterfall' });
    d.market.setBehaviour('ratelimited', { rateLimit: { type: 'cycle', every: 1_000_000, retryAfterSeconds: 1 } });
    const res = await d.sell(uniqueLead());
    expect(res.body).toMatchObject({ status: 'sold', soldTo: ['ratelimited'] });
    const posts = postsTo('ratelimited');
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    const audit = await d.t.request('GET', `/v1/leads/${res.body.leadId}/audit`);
    const kinds = audit.body.entries.filter((e: any) => ['post', 'wait'].includes(e.kind)).map((e: any) => e.kind);
    expect(kinds).toEqual(['post', 'wait', 'post']);
    await record('distribution-rate-limited-waited', res.body.leadId);
  });
});

describe('circuit breaker', () => {
  it('opens after N failures in a row, skips the buyer, lets one probe through after the cool-down and closes on success', async () => {
    d = await startDistributionStack({
      buyers: ['flaky', 'formbuyer'],
      method: 'waterfall',
      adjust: ({ buyers }) => {
        buyers.find((b) => b.id === 'flaky')!.breaker = { consecutiveFailures: 3, errorRate: 0.9, windowSeconds: 60, minCalls: 100, coolDownSeconds: 2 };
      },
    });
    for (let i = 0; i < 3; i++) {
      const res = await d.sell(uniqueLead());
      expect(res.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'] });
    }
    expect(postsTo('flaky').map((p) => p.status)).toEqual([503, 503, 503]);
    const opened = await eventually(async () => {
      const b = await buyer('flaky');
      return b.account?.breakers.post.state === 'open' ? b : undefined;
    }, 20_000, 'breaker open');
    expect(opened.account.breakers.post.consecutiveFailures).toBe(3);
    const metrics = await fetch(`${d.t.api}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`leadrelay_buyer_breaker_state\\{[^}]*buyer="flaky"[^}]*endpoint="post"[^}]*\\} 2`));

    // Open: skipped without a call.
    const skipped = await d.sell(uniqueLead());
    expect(skipped.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'] });
    expect((await leadState(skipped.body.leadId)).buyers.find((b: any) => b.buyerId === 'flaky')).toMatchObject({ status: 'skipped', reason: 'breaker_open' });
    expect(postsTo('flaky')).toHaveLength(3);

    // The endpoint recovers; after the cool-down one lead probes it, and success closes the breaker.
    d.market.setBehaviour('flaky', { failing: false });
    await eventually(async () => ((await buyer('flaky')).account?.breakers.post.probeAvailable ? true : undefined), 20_000, 'probe available');
    const probe = await d.sell(uniqueLead());
    expect(probe.body).toMatchObject({ status: 'sold', soldTo: ['flaky'] });
    const closed = await eventually(async () => {
      const b = await buyer('flaky');
      return b.account?.breakers.post.state === 'closed' ? b : undefined;
    }, 20_000, 'breaker closed');
    expect(closed.account.transitions.map((t: any) => `${t.from}>${t.to}`)).toEqual(['closed>open', 'open>half_open', 'half_open>closed']);
    const audit = await d.t.request('GET', `/v1/leads/${probe.body.leadId}/audit`);
    expect(audit.body.entries.some((e: any) => /half-open probe/.test(e.summary))).toBe(true);
    await record('distribution-breaker-probe', probe.body.leadId);
  });
});

describe('returns, caps and budget', () => {
  it('an approved return gives back the cap and the budget and reverses the revenue; a pending one waits for a person', async () => {
    d = await startDistributionStack({
      buyers: ['formbuyer'],
      adjust: ({ campaign, buyers }) => {
        campaign.returns = { windowDays: 7, autoApprove: ['invalid phone'], autoDeny: ['changed mind'] };
        const b = buyers.find((x) => x.id === 'formbuyer')!;
        b.timeZone = middayZone(businessClock.now());
        b.caps = { day: 1 };
        b.budget = { day: 6 };
      },
    });
    const first = await d.sell(uniqueLead());
    expect(first.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'] });
    const second = await d.sell(uniqueLead());
    expect(second.body).toMatchObject({ status: 'rejected' });
    expect((await leadState(second.body.leadId)).buyers[0]).toMatchObject({ buyerId: 'formbuyer', status: 'skipped', reason: 'cap_reached' });

    const denied = await d.t.request('POST', `/v1/leads/${first.body.leadId}/returns`, { buyerId: 'formbuyer', reason: 'changed mind' });
    expect(denied.body.return).toMatchObject({ status: 'denied', decidedBy: 'rule' });
    expect((await d.t.request('POST', `/v1/leads/${first.body.leadId}/returns`, { buyerId: 'formbuyer', reason: 'invalid phone' })).status).toBe(409);
    expect((await buyer('formbuyer')).account.periods.day).toMatchObject({ sold: 1, soldCents: 600 });

    const none = await d.t.request('POST', `/v1/leads/${first.body.leadId}/returns/formbuyer/decision`, { decision: 'approve' });
    expect(none.status).toBe(409);

    // With room for a second sale, a return whose reason no rule knows waits for a person.
    await d.put('buyers', 'formbuyer', { ...(await buyer('formbuyer')).document, caps: { day: 2 }, budget: { day: 12 } });
    const sold = await d.sell(uniqueLead());
    expect(sold.body).toMatchObject({ status: 'sold' });
    expect((await buyer('formbuyer')).account.periods.day).toMatchObject({ sold: 2, soldCents: 1200, remainingCents: 0 });
    const pending = await d.t.request('POST', `/v1/leads/${sold.body.leadId}/returns`, { buyerId: 'formbuyer', reason: 'not interested', }, { 'x-actor': 'buyer-portal' });
    expect(pending.body.return).toMatchObject({ status: 'pending', actor: 'buyer-portal' });
    const approved = await d.t.request('POST', `/v1/leads/${sold.body.leadId}/returns/formbuyer/decision`, { decision: 'approve', note: 'checked the recording' }, { 'x-actor': 'ops@acme' });
    expect(approved.body.return).toMatchObject({ status: 'approved', decidedBy: 'ops@acme', note: 'checked the recording' });
    const restored = await eventually(async () => {
      const b = await buyer('formbuyer');
      return b.account.periods.day.sold === 1 ? b : undefined;
    }, 20_000, 'cap and budget given back');
    expect(restored.account.periods.day).toMatchObject({ soldCents: 600, remainingCents: 600, remaining: 1 });
    const again = await d.sell(uniqueLead());
    expect(again.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'] });
    await record('distribution-returned-approved', sold.body.leadId);

    const stats = await eventually(async () => {
      const s = (await d.t.request('GET', '/v1/buyers/formbuyer/stats?period=all')).body;
      return s.returned === 1 && s.accepted === 3 ? s : undefined;
    }, 20_000, 'buyer stats');
    expect(stats).toMatchObject({ accepted: 3, returned: 1, revenue: 12 });
    const supplierStats = await eventually(async () => {
      const s = (await d.t.request('GET', '/v1/suppliers/acme-leads/stats?period=all')).body;
      return s.returned === 1 ? s : undefined;
    }, 20_000, 'supplier stats');
    expect(supplierStats).toMatchObject({ sold: 3, revenue: 12, payout: 6, margin: 6 });
  });

  it("never offers a buyer the same person again within the buyer's own window", async () => {
    d = await startDistributionStack({
      buyers: ['fastbid', 'formbuyer'],
      adjust: ({ campaign }) => {
        delete campaign.dedupe;
      },
    });
    const person = uniqueLead();
    const first = await d.sell(person);
    expect(first.body).toMatchObject({ status: 'sold', soldTo: ['fastbid'] });
    const second = await d.sell({ ...person, zip: '94107' });
    expect(second.body).toMatchObject({ status: 'sold', soldTo: ['formbuyer'] });
    expect(second.body.leadId).not.toBe(first.body.leadId);
    expect((await leadState(second.body.leadId)).buyers.find((b: any) => b.buyerId === 'fastbid')).toMatchObject({ status: 'skipped', reason: 'duplicate_for_buyer' });
    expect(pingsTo('fastbid')).toHaveLength(1);
  });

  it('rejects a person the campaign already took within its dedupe window', async () => {
    d = await startDistributionStack({ buyers: ['formbuyer'] });
    const person = uniqueLead();
    const first = await d.sell(person);
    expect(first.body.status).toBe('sold');
    const again = await d.sell({ ...person, email: `other.${person['email']}` }, { supplier: 'bright-media' });
    expect(again.body).toMatchObject({ status: 'duplicate' });
    expect(postsTo('formbuyer')).toHaveLength(1);
  });
});

describe('round robin, pauses and supplier caps', () => {
  it('takes turns among buyers through the pool entity, skips a paused buyer, and refuses leads past a supplier cap', async () => {
    d = await startDistributionStack({
      buyers: ['flaky', 'dupes', 'formbuyer'],
      method: 'round_robin',
      adjust: ({ campaign }) => {
        campaign.floorPrice = 0;
      },
    });
    d.market.setBehaviour('flaky', { failing: false });
    d.market.setBehaviour('dupes', { post: 'accept' });
    const sold: string[] = [];
    for (let i = 0; i < 6; i++) sold.push(...(await d.sell(uniqueLead())).body.soldTo);
    // Each buyer twice, in turns.
    expect([...sold].sort()).toEqual(['dupes', 'dupes', 'flaky', 'flaky', 'formbuyer', 'formbuyer']);
    expect(sold.slice(0, 3).sort()).toEqual(['dupes', 'flaky', 'formbuyer']);

    const paused = await d.t.request('POST', '/v1/buyers/flaky/pause', { reason: 'invoice overdue' }, { 'x-actor': 'ops@acme' });
    expect(paused.body).toMatchObject({ version: 2, actor: 'ops@acme', note: 'invoice overdue', document: { paused: true } });
    for (let i = 0; i < 2; i++) {
      const res = await d.sell(uniqueLead());
      expect(res.body.soldTo).not.toContain('flaky');
      expect((await leadState(res.body.leadId)).buyers.find((b: any) => b.buyerId === 'flaky')).toMatchObject({ status: 'skipped', reason: 'paused' });
    }
    const versions = await d.t.request('GET', '/v1/buyers/flaky/versions');
    expect(versions.body.versions.map((v: any) => [v.version, v.actor])).toEqual([
      [1, `api-key:${d.t.tenant.id}`],
      [2, 'ops@acme'],
    ]);
    expect((await d.t.request('POST', '/v1/buyers/flaky/resume', {})).body).toMatchObject({ version: 3, document: { paused: false } });

    // A supplier's own cap: its 2nd lead of the day is refused, without any buyer being asked.
    const supplier = (await d.t.request('GET', '/v1/suppliers/bright-media')).body.document;
    await d.put('suppliers', 'bright-media', { ...supplier, timeZone: middayZone(businessClock.now()), caps: { day: 1 } });
    expect((await d.sell(uniqueLead(), { supplier: 'bright-media' })).body.status).toBe('sold');
    const before = d.market.requests().length;
    const refused = await d.sell(uniqueLead(), { supplier: 'bright-media' });
    expect(refused.body).toMatchObject({ status: 'rejected' });
    expect(refused.body.reason).toMatch(/^supplier cap_reached: day cap 1/);
    expect(d.market.requests()).toHaveLength(before);
  });
});
