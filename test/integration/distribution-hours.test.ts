import { businessClock } from '../../src/clock';
import { eventually } from '../support/stack';
import { startDistributionStack, uniqueLead, type DistributionStack } from '../support/distribution';

/*
 * Operating hours, placed around the business clock's now (so this holds at any hour, and the
 * time sweep runs it at simulated instants too).
 */

let d: DistributionStack;

afterAll(async () => {
  await d?.close();
});

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19);

it('queues a lead for a buyer that is closed, answers queued with the opening, and delivers at the opening', async () => {
  const opensAt = Math.ceil((businessClock.now() + 4_000) / 1000) * 1000;
  d = await startDistributionStack({
    buyers: ['daytime'],
    adjust: ({ buyers }) => {
      const b = buyers[0]!;
      b.timeZone = 'UTC';
      b.hours = { days: [1, 2, 3, 4, 5, 6, 7], open: hhmmss(opensAt), close: hhmmss(opensAt + 3_600_000), outside: 'queue' };
    },
  });
  const res = await d.supplier('POST', '/v1/campaigns/auto-insurance-us/leads', uniqueLead());
  expect(res.body).toMatchObject({ status: 'queued', deliverAt: new Date(opensAt).toISOString() });
  expect(d.market.requests({ buyerId: 'daytime' })).toHaveLength(0);
  const state = await eventually(async () => {
    const s = (await d.t.request('GET', `/v1/leads/${res.body.leadId}`)).body;
    return s.status === 'sold' ? s : undefined;
  }, 60_000, 'sold at the opening');
  expect(state.sales).toEqual([expect.objectContaining({ buyerId: 'daytime', priceCents: 800 })]);
  // Sold no earlier than the opening, by the business clock.
  expect(state.sales[0].soldAtMs).toBeGreaterThanOrEqual(opensAt);
  const audit = await d.t.request('GET', `/v1/leads/${res.body.leadId}/audit`);
  const kinds = audit.body.entries.map((e: any) => e.kind);
  expect(kinds.indexOf('wait')).toBeLessThan(kinds.indexOf('post'));
  expect(audit.body.entries.find((e: any) => e.kind === 'skipped')).toMatchObject({ buyerId: 'daytime', reason: 'outside_hours' });
});

it('skips a closed buyer that does not queue, naming its hours', async () => {
  const now = businessClock.now();
  await d.put('buyers', 'daytime', {
    ...(await d.t.request('GET', '/v1/buyers/daytime')).body.document,
    hours: { days: [1, 2, 3, 4, 5, 6, 7], open: hhmmss(now + 3_600_000), close: hhmmss(now + 7_200_000), outside: 'skip' },
  });
  const res = await d.supplier('POST', '/v1/campaigns/auto-insurance-us/leads', uniqueLead());
  expect(res.body).toMatchObject({ status: 'rejected' });
  const state = (await d.t.request('GET', `/v1/leads/${res.body.leadId}`)).body;
  expect(state.buyers[0]).toMatchObject({ buyerId: 'daytime', status: 'skipped', reason: 'outside_hours' });
  expect(state.buyers[0].detail).toContain('UTC');
});
