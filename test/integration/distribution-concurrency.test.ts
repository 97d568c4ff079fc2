import { businessClock } from '../../src/clock';
import { eventually } from '../support/stack';
import { marketplaceClient } from '../../sandbox/marketplace';
import { middayZone, startDistributionStack, uniqueLead, type DistributionStack } from '../support/distribution';

/*
 * Money and exclusivity under concurrency: many suppliers' requests at once through the API, the
 * real worker and the marketplace's buyers. Counts come from what the buyers received.
 */

let d: DistributionStack;

afterEach(async () => {
  await d?.close();
});

/** Waits until every lead is decided (sold, unsold, rejected or duplicate). */
async function settled(leadIds: string[]): Promise<any[]> {
  return eventually(
    async () => {
      const states = await Promise.all(leadIds.map(async (id) => (await d.t.request('GET', `/v1/leads/${id}`)).body));
      return states.every((s) => ['sold', 'unsold', 'rejected', 'duplicate'].includes(s.status)) ? states : undefined;
    },
    170_000,
    'every lead decided',
  );
}

/** Waits until the suppliers' statistics count `n` leads taken in (each lead counts once, when it is decided). */
async function submitted(n: number): Promise<void> {
  await eventually(
    async () => {
      const counts = await Promise.all(['acme-leads', 'bright-media'].map(async (id) => (await d.t.request('GET', `/v1/suppliers/${id}/stats?period=all`)).body.submitted as number));
      return counts[0]! + counts[1]! === n ? true : undefined;
    },
    400_000,
    `${n} leads decided`,
  );
}

/** The form buyer alone at a fixed $1.50 against a day budget, at midday in its zone (no day rolls over). */
function budgetBuyerStack(dayBudget: number, postTimeoutMs?: number) {
  return startDistributionStack({
    buyers: ['formbuyer'],
    adjust: ({ campaign, buyers }) => {
      campaign.floorPrice = 0;
      const b = buyers[0]!;
      b.timeZone = middayZone(businessClock.now());
      b.pricing = { type: 'fixed', price: 1.5 };
      b.budget = { day: dayBudget };
      b.filters = undefined as never;
      if (postTimeoutMs !== undefined) (b.post as { timeoutMs: number }).timeoutMs = postTimeoutMs;
    },
  });
}

it('never spends past a money budget: 300 leads at once against a $100 day budget at $1.50 sell exactly 66', async () => {
  d = await budgetBuyerStack(100);
  d.market.setBehaviour('formbuyer', { price: 1.5 });
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => d.post(uniqueLead(), { supplier: i % 2 ? 'acme-leads' : 'bright-media' })));
  expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)).toEqual([]);
  await submitted(300);
  expect(d.market.sales({ buyerId: 'formbuyer' })).toHaveLength(66);
  const states = await settled(answers.map((a) => a.body.leadId));
  expect(states.filter((s) => s.status === 'sold')).toHaveLength(66);
  const refused = states.filter((s) => s.status !== 'sold').map((s) => s.buyers[0]?.reason);
  expect(new Set(refused)).toEqual(new Set(['budget_reached']));
  const account = (await d.t.request('GET', '/v1/buyers/formbuyer')).body.account;
  expect(account.periods.day).toMatchObject({ sold: 66, held: 0, soldCents: 9900, remainingCents: 100 });
}, 600_000);

it('never frees the price of a post the buyer may have taken: a buyer that accepts but answers after the post timeout gets at most its budget', async () => {
  // What a loaded machine does by chance, made certain: the buyer records the sale when it reads
  // the post, then answers after the engine stopped waiting. Leads go one after another, so a
  // released hold would be free for the next lead (five posts, five sales, $7.50 of a $3 budget).
  d = await budgetBuyerStack(3, 200);
  await marketplaceClient(d.market.url).setBehaviour('formbuyer', { price: 1.5, latency: { meanMs: 1500 } });
  const leadIds: string[] = [];
  for (let i = 0; i < 5; i++) leadIds.push((await d.sell(uniqueLead())).body.leadId);
  const states = await settled(leadIds);

  expect(d.market.sales({ buyerId: 'formbuyer' })).toHaveLength(2);
  expect(d.market.requests({ buyerId: 'formbuyer', kind: 'post' })).toHaveLength(2);
  expect(states.map((s) => s.status)).toEqual(['unsold', 'unsold', 'unsold', 'unsold', 'unsold']);
  expect(states.map((s) => `${s.buyers[0]?.status} ${s.buyers[0]?.reason}`)).toEqual(['unknown timeout', 'unknown timeout', 'skipped budget_reached', 'skipped budget_reached', 'skipped budget_reached']);
  const account = (await d.t.request('GET', '/v1/buyers/formbuyer')).body.account;
  expect(account.periods.day).toMatchObject({ sold: 2, held: 0, soldCents: 300, remainingCents: 0 });

  // The dispute log shows the post without an answer and the price kept, never a release.
  const audit = (await d.t.request('GET', `/v1/leads/${leadIds[0]}/audit`)).body;
  expect(audit.entries.find((e: any) => e.kind === 'post').delivery).toMatchObject({ outcome: 'error', error: { type: 'timeout' } });
  expect(audit.entries.find((e: any) => e.kind === 'unknown')).toMatchObject({ buyerId: 'formbuyer', reason: 'unknown' });
  expect(audit.entries.some((e: any) => e.kind === 'released' || e.kind === 'sold')).toBe(false);
  expect(audit.buyers[0]).toMatchObject({ buyerId: 'formbuyer', status: 'unknown', reason: 'timeout' });
  const stats = await eventually(async () => {
    const s = (await d.t.request('GET', '/v1/buyers/formbuyer/stats?period=all')).body;
    return s.unknown === 2 ? s : undefined;
  }, 20_000, 'buyer stats count the unknown outcomes');
  expect(stats).toMatchObject({ unknown: 2, accepted: 0, errors: 0, revenue: 0 });
}, 120_000);

it('sells an exclusive lead once and a shared lead to at most N buyers, never twice to one, however many arrive at once', async () => {
  // Fixed-price buyers (no pings): on a loaded machine a bidder's ping may miss its timeout, and
  // this test is about how many sales a lead gets, not about bids.
  d = await startDistributionStack({
    buyers: ['flaky', 'dupes', 'formbuyer'],
    adjust: ({ campaign }) => {
      campaign.sale = { model: 'shared', maxBuyers: 2 };
    },
  });
  d.market.setBehaviour('flaky', { failing: false });
  d.market.setBehaviour('dupes', { post: 'accept' });
  const leads = Array.from({ length: 40 }, () => uniqueLead());
  const answers = await Promise.all(leads.map((lead) => d.post(lead)));
  const states = await settled(answers.map((a) => a.body.leadId));
  const sales = d.market.sales();
  for (const [i, lead] of leads.entries()) {
    const mine = sales.filter((s) => s.email === lead['email']);
    expect(mine).toHaveLength(2);
    expect(new Set(mine.map((s) => s.buyerId)).size).toBe(2);
    expect(states[i].sales).toHaveLength(2);
  }

  // The same lead sent 20 times at once (one Idempotency-Key): one workflow, one answer, one sale per buyer.
  await d.put('campaigns', 'auto-insurance-us', { ...(await d.t.request('GET', '/v1/campaigns/auto-insurance-us')).body.document, sale: { model: 'exclusive' } });
  const lead = uniqueLead();
  const burst = await Promise.all(Array.from({ length: 20 }, () => d.post(lead, { headers: { 'idempotency-key': 'burst-1' } })));
  expect(new Set(burst.map((b) => b.body.leadId)).size).toBe(1);
  const [final] = await settled([burst[0]!.body.leadId]);
  expect(final.sales).toHaveLength(1);
  expect(d.market.sales().filter((s) => s.email === lead['email'])).toHaveLength(1);
  expect(d.market.requests({ kind: 'post' }).filter((r) => r.body.includes(String(lead['email'])))).toHaveLength(1);
});
