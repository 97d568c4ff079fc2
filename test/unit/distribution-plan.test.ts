import { BuyerSchema, CampaignSchema, SupplierSchema, type Buyer } from '../../src/distribution/model';
import { byPriority, filterMatch, hoursStatus, netCents, payoutCents, pingView, piiValues, rankOffers, screenStatic } from '../../src/distribution/plan';

const buyer = (over: Record<string, unknown> = {}): Buyer =>
  BuyerSchema.parse({ id: 'b1', name: 'B1', pricing: { type: 'fixed', price: 10 }, post: { kind: 'webhook', url: 'http://127.0.0.1:9/x' }, ...over });
const campaign = CampaignSchema.parse({
  id: 'c1',
  name: 'C1',
  fields: { email: { type: 'email', required: true, pii: true }, phone: { type: 'phone', pii: true }, state: { type: 'state' }, age: { type: 'integer' } },
  pingFields: ['state', 'age', 'email'],
  method: 'auction',
  sale: { model: 'exclusive' },
  marginPercent: 20,
});

describe('operating hours', () => {
  // Monday 2027-03-08 in New York is UTC-5; on Sunday 2027-03-14 the clocks spring forward.
  const ny = buyer({ timeZone: 'America/New_York', hours: { days: [1, 2, 3, 4, 5], open: '08:00', close: '18:00', outside: 'queue' } });

  it.each([
    ['Mon 07:59 local', '2027-03-08T12:59:00Z', false, '2027-03-08T13:00:00.000Z'],
    ['Mon 08:00 local', '2027-03-08T13:00:00Z', true, null],
    ['Mon 17:59:59 local', '2027-03-08T22:59:59Z', true, null],
    ['Mon 18:00 local', '2027-03-08T23:00:00Z', false, '2027-03-09T13:00:00.000Z'],
    ['Fri 19:00 local: next Monday, after the clocks change', '2027-03-13T00:00:00Z', false, '2027-03-15T12:00:00.000Z'],
  ])('%s', (_label, at, open, next) => {
    const status = hoursStatus(ny, Date.parse(at));
    expect(status.open).toBe(open);
    if (!status.open) expect(new Date(status.nextOpeningMs!).toISOString()).toBe(next);
  });

  it('runs an overnight window past midnight from the listed day', () => {
    const night = buyer({ timeZone: 'UTC', hours: { days: [1], open: '22:00', close: '06:00' } });
    expect(hoursStatus(night, Date.parse('2027-03-08T23:00:00Z')).open).toBe(true); // Monday night
    expect(hoursStatus(night, Date.parse('2027-03-09T05:59:00Z')).open).toBe(true); // into Tuesday
    expect(hoursStatus(night, Date.parse('2027-03-09T06:00:00Z')).open).toBe(false);
    expect(hoursStatus(night, Date.parse('2027-03-09T23:00:00Z')).open).toBe(false); // Tuesday is not listed
  });

  it('opens at seconds precision and queues only when the buyer says so', () => {
    const secs = buyer({ timeZone: 'UTC', hours: { days: [1, 2, 3, 4, 5, 6, 7], open: '10:00:30', close: '11:00', outside: 'skip' } });
    const at = Date.parse('2027-03-08T10:00:10Z');
    expect(hoursStatus(secs, at)).toEqual({ open: false, nextOpeningMs: Date.parse('2027-03-08T10:00:30Z') });
    const skipped = screenStatic(secs, {}, at);
    expect(skipped).toMatchObject({ eligible: false, reason: 'outside_hours' });
    expect(skipped && !skipped.eligible && skipped.queueUntilMs).toBeFalsy();
    expect(screenStatic(ny, {}, Date.parse('2027-03-08T12:00:00Z'))).toMatchObject({ reason: 'outside_hours', queueUntilMs: Date.parse('2027-03-08T13:00:00Z') });
  });
});

describe('filters, pings, prices', () => {
  it('filters leads with the policy condition language over lead fields', () => {
    const b = buyer({ filters: { all: [{ field: 'lead.state', in: ['CA', 'TX'] }, { field: 'lead.age', gte: 21 }] } });
    expect(filterMatch(b, { state: 'ca', age: 30 }).matched).toBe(true);
    expect(filterMatch(b, { state: 'NY', age: 30 })).toMatchObject({ matched: false });
    expect(screenStatic(b, { state: 'CA', age: 19 }, 0)).toMatchObject({ reason: 'filter' });
    expect(screenStatic(buyer({ paused: true }), {}, 0)).toMatchObject({ reason: 'paused' });
  });

  it('never puts contact details in a ping, even when a ping field names one', () => {
    expect(pingView(campaign, { email: 'a@b.co', phone: '4155550100', state: 'CA', age: 40 })).toEqual({ state: 'CA', age: 40 });
    expect(piiValues(campaign, { email: 'a@b.co', phone: '4155550100', state: 'CA' })).toEqual(['a@b.co', '4155550100']);
  });

  it('ranks offers by net price after margin, then priority, then id; floors the net in cents', () => {
    expect(netCents(campaign, 1250)).toBe(1000);
    expect(netCents(campaign, 999)).toBe(799);
    const buyers = new Map([buyer({ id: 'a', priority: 5 }), buyer({ id: 'b', priority: 1 }), buyer({ id: 'c', priority: 1 })].map((b) => [b.id, b]));
    const offers = [
      { buyerId: 'a', priceCents: 1000, netCents: 800, bidId: null },
      { buyerId: 'c', priceCents: 1000, netCents: 800, bidId: null },
      { buyerId: 'b', priceCents: 1000, netCents: 800, bidId: null },
      { buyerId: 'a', priceCents: 1200, netCents: 960, bidId: null },
    ];
    expect(rankOffers(offers, buyers).map((o) => `${o.buyerId}${o.netCents}`)).toEqual(['a960', 'b800', 'c800', 'a800']);
    expect(byPriority([...buyers.values()]).map((b) => b.id)).toEqual(['b', 'c', 'a']);
  });

  it('pays a supplier a fixed amount (never above the revenue) or a share', () => {
    const fixed = SupplierSchema.parse({ id: 's', name: 'S', apiKeySha256: ['0'.repeat(64)], payout: { type: 'fixed', amount: 3 } });
    const share = SupplierSchema.parse({ id: 's', name: 'S', apiKeySha256: ['0'.repeat(64)], payout: { type: 'revshare', percent: 60 } });
    expect(payoutCents(fixed, 1200)).toBe(300);
    expect(payoutCents(fixed, 200)).toBe(200);
    expect(payoutCents(fixed, 0)).toBe(0);
    expect(payoutCents(share, 1250)).toBe(750);
    expect(payoutCents(share, 999)).toBe(599);
  });
});
