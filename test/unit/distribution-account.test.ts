import { metricsText } from '../../src/api/routes/connections';
import { Connectors } from '../../src/connectors/registry';
import {
  accountPeriods,
  acquireProbe,
  breakerView,
  emptyAccountState,
  FALLBACK_BREAKER,
  MAX_OP_KEYS,
  MAX_STAT_DAYS,
  MAX_TRANSITIONS,
  recordResult,
  refund,
  release,
  requestProblem,
  reserve,
  RESERVATION_TTL_MS,
  settle,
  snapshot,
  statsFor,
  tally,
  type AccountLimits,
  type AccountState,
} from '../../src/distribution/account';
import { BreakerBoard } from '../../src/distribution/breakerBoard';
import { DEFAULT_BREAKER, type BreakerSettings } from '../../src/distribution/model';
import { TenantRegistry } from '../../src/tenants/registry';
import { demoTenant } from '../../sandbox/demoTenant';

const NY = 'America/New_York';
/** 2026-11-20 12:00 in New York (EST, UTC-5). */
const NOON = Date.parse('2026-11-20T17:00:00Z');
/** Local midnight between the 20th and the 21st in New York. */
const MIDNIGHT = Date.parse('2026-11-21T05:00:00Z');
const MIN = 60_000;

const limits = (over: Partial<AccountLimits> = {}): AccountLimits => ({ timeZone: NY, caps: {}, budget: {}, ...over });
const lead = (i: number) => `dl_${String(i).padStart(24, '0')}`;

describe('account periods', () => {
  it('names the local hour, day, ISO week and month', () => {
    expect(accountPeriods(NOON, NY)).toEqual({ hour: '2026-11-20T12', day: '2026-11-20', week: '2026-W47', month: '2026-11' });
    expect(accountPeriods(MIDNIGHT - 1, NY).day).toBe('2026-11-20');
    expect(accountPeriods(MIDNIGHT, NY)).toEqual({ hour: '2026-11-21T00', day: '2026-11-21', week: '2026-W47', month: '2026-11' });
    // UTC is already on the 21st at 23:00 New York time.
    expect(accountPeriods(MIDNIGHT - 60 * MIN, 'UTC').day).toBe('2026-11-21');
  });
});

describe('caps and budget', () => {
  it('admits exactly what the budget covers, however the reserves interleave with releases and settles', () => {
    const state = emptyAccountState();
    const l = limits({ budget: { day: 100 } });
    const answers = Array.from({ length: 300 }, (_, i) => reserve(state, { leadId: lead(i), amountCents: 150, atMs: NOON + i, limits: l }));
    expect(answers.filter((a) => a.ok)).toHaveLength(66);
    const refused = answers.find((a) => !a.ok);
    expect(refused).toEqual({ ok: false, reason: 'budget_reached', detail: 'day budget 100.00 reached (99.00 sold or held, this lead 1.50)' });

    // 1.00 was left; two released (3.00) and one settled 0.50 lower: 4.50 free, so three more at 1.50 fit, to the cent.
    expect(release(state, { leadId: lead(0) })).toBe(true);
    expect(release(state, { leadId: lead(1) })).toBe(true);
    expect(release(state, { leadId: lead(1) })).toBe(false);
    expect(settle(state, { leadId: lead(2), amountCents: 100, atMs: NOON + 400 })).toEqual({ settled: true, hadReservation: true });
    const more = Array.from({ length: 10 }, (_, i) => reserve(state, { leadId: lead(1000 + i), amountCents: 150, atMs: NOON + 500 + i, limits: l }));
    expect(more.filter((a) => a.ok)).toHaveLength(3);
    const day = snapshot(state, NOON + 600, l).periods.day;
    expect(day).toMatchObject({ sold: 1, held: 66, soldCents: 100, heldCents: 66 * 150, budgetCents: 10_000, remainingCents: 0 });
  });

  it('counts sales and reservations against count caps, naming the cap', () => {
    const state = emptyAccountState();
    const l = limits({ caps: { hour: 100, day: 50 } });
    const oks = Array.from({ length: 60 }, (_, i) => reserve(state, { leadId: lead(i), amountCents: 0, atMs: NOON + i, limits: l })).filter((a) => a.ok);
    expect(oks).toHaveLength(50);
    for (let i = 0; i < 20; i++) settle(state, { leadId: lead(i), amountCents: 500, atMs: NOON + 100 });
    expect(reserve(state, { leadId: lead(99), amountCents: 0, atMs: NOON + 200, limits: l })).toEqual({ ok: false, reason: 'cap_reached', detail: 'day cap 50 reached (50 sold or held)' });
    const s = snapshot(state, NOON + 200, l);
    expect(s.periods.day).toMatchObject({ cap: 50, sold: 20, held: 30, remaining: 0 });
    expect(s.periods.hour).toMatchObject({ cap: 100, remaining: 50 });
    expect(s.blocked?.reason).toBe('cap_reached');
  });

  it('is idempotent by lead: a reserved or sold lead is never counted twice', () => {
    const state = emptyAccountState();
    const l = limits({ caps: { day: 2 } });
    expect(reserve(state, { leadId: lead(1), amountCents: 100, atMs: NOON, limits: l })).toEqual({ ok: true, duplicate: false });
    expect(reserve(state, { leadId: lead(1), amountCents: 100, atMs: NOON + 1, limits: l })).toEqual({ ok: true, duplicate: true });
    expect(settle(state, { leadId: lead(1), amountCents: 250, atMs: NOON + 2 })).toEqual({ settled: true, hadReservation: true });
    expect(settle(state, { leadId: lead(1), amountCents: 250, atMs: NOON + 3 })).toEqual({ settled: false, hadReservation: false });
    expect(reserve(state, { leadId: lead(1), amountCents: 100, atMs: NOON + 4, limits: l })).toEqual({ ok: true, duplicate: true });
    // A sale without a reservation (the entity restarted, or it expired) still counts, once.
    expect(settle(state, { leadId: lead(2), amountCents: 300, atMs: NOON + 5 })).toEqual({ settled: true, hadReservation: false });
    expect(settle(state, { leadId: lead(2), amountCents: 300, atMs: NOON + 6 })).toEqual({ settled: false, hadReservation: false });
    const day = snapshot(state, NOON + 7, l).periods.day;
    expect(day).toMatchObject({ sold: 2, held: 0, soldCents: 550 });
    expect(reserve(state, { leadId: lead(3), amountCents: 0, atMs: NOON + 8, limits: l }).ok).toBe(false);
  });

  it('starts new periods at local midnight in the account zone, and a sale keeps its reservation periods', () => {
    const state = emptyAccountState();
    const l = limits({ caps: { day: 1, month: 3 } });
    expect(reserve(state, { leadId: lead(1), amountCents: 0, atMs: MIDNIGHT - 2 * MIN, limits: l }).ok).toBe(true);
    expect(reserve(state, { leadId: lead(2), amountCents: 0, atMs: MIDNIGHT - MIN, limits: l })).toMatchObject({ ok: false, reason: 'cap_reached' });
    // Settled after midnight: the sale belongs to the 20th, so the 21st is still free.
    settle(state, { leadId: lead(1), amountCents: 0, atMs: MIDNIGHT + MIN });
    expect(reserve(state, { leadId: lead(3), amountCents: 0, atMs: MIDNIGHT + 2 * MIN, limits: l })).toEqual({ ok: true, duplicate: false });
    const s = snapshot(state, MIDNIGHT + 3 * MIN, l);
    expect(s.periods.day).toMatchObject({ key: '2026-11-21', sold: 0, held: 1, remaining: 0 });
    expect(s.periods.month).toMatchObject({ key: '2026-11', sold: 1, held: 1, remaining: 1 });
    expect(s.periods.hour.key).toBe('2026-11-21T00');
  });

  it('expires a reservation nobody settled or released after the TTL', () => {
    const state = emptyAccountState();
    const l = limits({ budget: { day: 10 } });
    expect(reserve(state, { leadId: lead(1), amountCents: 1000, atMs: NOON, limits: l }).ok).toBe(true);
    expect(reserve(state, { leadId: lead(2), amountCents: 1000, atMs: NOON + RESERVATION_TTL_MS - 1, limits: l }).ok).toBe(false);
    expect(snapshot(state, NOON + RESERVATION_TTL_MS, l).reservations).toEqual([]);
    expect(reserve(state, { leadId: lead(2), amountCents: 1000, atMs: NOON + RESERVATION_TTL_MS, limits: l }).ok).toBe(true);
    expect(state.expiredReservations).toBe(1);
    // The crashed lead settles late after all: counted once, in the current periods.
    expect(settle(state, { leadId: lead(1), amountCents: 1000, atMs: NOON + RESERVATION_TTL_MS + 1 })).toEqual({ settled: true, hadReservation: false });
    expect(snapshot(state, NOON + RESERVATION_TTL_MS + 2, l).periods.day).toMatchObject({ soldCents: 1000, heldCents: 1000, remainingCents: 0 });
  });

  it('gives cap and budget back on an approved return while the sale periods are current, and reverses revenue always', () => {
    const state = emptyAccountState();
    const l = limits({ caps: { day: 1 }, budget: { month: 20 } });
    reserve(state, { leadId: lead(1), amountCents: 1500, atMs: NOON, limits: l });
    settle(state, { leadId: lead(1), amountCents: 1500, atMs: NOON + 1, timeZone: NY, counters: { accepted: 1, revenueCents: 1500 } });
    expect(reserve(state, { leadId: lead(2), amountCents: 100, atMs: NOON + 2, limits: l }).ok).toBe(false);
    expect(refund(state, { leadId: lead(1), amountCents: 1500, soldAtMs: NOON + 1, atMs: NOON + 3, limits: l })).toEqual({ refunded: true, restored: ['hour', 'day', 'week', 'month'] });
    expect(refund(state, { leadId: lead(1), amountCents: 1500, soldAtMs: NOON + 1, atMs: NOON + 4, limits: l })).toEqual({ refunded: false, restored: [] });
    expect(reserve(state, { leadId: lead(2), amountCents: 1900, atMs: NOON + 5, limits: l }).ok).toBe(true);
    settle(state, { leadId: lead(2), amountCents: 1900, atMs: NOON + 6, counters: { accepted: 1, revenueCents: 1900 } });

    // A return approved the next day: the day cap is not given back, the month budget is.
    expect(refund(state, { leadId: lead(2), amountCents: 1900, soldAtMs: NOON + 6, atMs: MIDNIGHT + MIN, limits: l })).toEqual({ refunded: true, restored: ['week', 'month'] });
    expect(snapshot(state, MIDNIGHT + 2 * MIN, l).periods.month).toMatchObject({ sold: 0, soldCents: 0, remainingCents: 2000 });
    expect(statsFor(state, { from: '2026-11-20', to: '2026-11-20' }).totals).toMatchObject({ accepted: 2, returned: 2, revenueCents: 0 });
  });

  it('refuses bad requests before they reach the state', () => {
    expect(requestProblem({ leadId: lead(1), amountCents: 1.5, atMs: NOON, limits: limits() })).toMatch(/amountCents/);
    expect(requestProblem({ leadId: 'a b', amountCents: 1, atMs: NOON, limits: limits() })).toMatch(/leadId/);
    expect(requestProblem({ leadId: lead(1), amountCents: 1, atMs: NOON, limits: limits({ timeZone: 'Mars/Base' }) })).toMatch(/Mars\/Base/);
    expect(requestProblem({ leadId: lead(1), endpoint: 'post', ok: true, atMs: NOON, settings: { ...DEFAULT_BREAKER, minCalls: 0 } } as never)).toMatch(/settings/);
    expect(requestProblem({ leadId: lead(1), amountCents: 1, atMs: NOON, limits: limits() })).toBeNull();
  });
});

describe('breakers', () => {
  const settings: BreakerSettings = { consecutiveFailures: 5, errorRate: 0.5, windowSeconds: 60, minCalls: 10, coolDownSeconds: 30 };
  const result = (state: AccountState, i: number, ok: boolean, atMs: number, s = settings) => recordResult(state, { endpoint: 'post', ok, atMs, leadId: lead(i), settings: s });

  it('uses the model defaults before the first report', () => {
    expect(FALLBACK_BREAKER).toEqual(DEFAULT_BREAKER);
  });

  it('opens after consecutive failures, grants one probe after the cool-down, closes on success', () => {
    const state = emptyAccountState();
    for (let i = 0; i < 4; i++) expect(result(state, i, false, NOON + i)).toEqual([]);
    // A retried report of the same lead's call changes nothing.
    expect(result(state, 3, false, NOON + 3)).toEqual([]);
    expect(breakerView(state, 'post', NOON + 4, settings)).toMatchObject({ state: 'closed', consecutiveFailures: 4, windowCalls: 4, windowFailures: 4 });
    const [opened] = result(state, 4, false, NOON + 4);
    expect(opened).toEqual({ endpoint: 'post', from: 'closed', to: 'open', atMs: NOON + 4, reason: '5 consecutive failures (limit 5)' });
    expect(breakerView(state, 'post', NOON + 5, settings)).toMatchObject({ state: 'open', openedAt: NOON + 4, probeAvailable: false });
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(10), atMs: NOON + 29_000, settings })).toMatchObject({ granted: false, state: 'open' });

    const after = NOON + 4 + 30_000;
    expect(breakerView(state, 'post', after, settings).probeAvailable).toBe(true);
    const granted = acquireProbe(state, { endpoint: 'post', leadId: lead(10), atMs: after, settings });
    expect(granted).toMatchObject({ granted: true, probe: true, state: 'half_open', transition: { from: 'open', to: 'half_open' } });
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(11), atMs: after + 1, settings })).toMatchObject({ granted: false });
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(10), atMs: after + 2, settings })).toMatchObject({ granted: true, probe: true, transition: null });
    // Another lead's late answer does not decide.
    expect(result(state, 11, true, after + 3)).toEqual([]);
    expect(result(state, 10, true, after + 4)).toEqual([{ endpoint: 'post', from: 'half_open', to: 'closed', atMs: after + 4, reason: `probe by lead ${lead(10)} succeeded` }]);
    expect(breakerView(state, 'post', after + 5, settings)).toEqual({ state: 'closed', consecutiveFailures: 0, windowCalls: 0, windowFailures: 0, openedAt: null, probeAvailable: false });
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(12), atMs: after + 6, settings })).toMatchObject({ granted: true, probe: false });
    expect(state.transitionCounts.post).toEqual({ open: 1, half_open: 1, closed: 1 });
    expect(state.transitions.map((t) => t.to)).toEqual(['open', 'half_open', 'closed']);
  });

  it('reopens when the probe fails, and passes the probe on when its holder never reports', () => {
    const state = emptyAccountState();
    for (let i = 0; i < 5; i++) result(state, i, false, NOON);
    const t1 = NOON + 30_000;
    acquireProbe(state, { endpoint: 'post', leadId: lead(10), atMs: t1, settings });
    expect(result(state, 10, false, t1 + 100)).toMatchObject([{ from: 'half_open', to: 'open', reason: `probe by lead ${lead(10)} failed` }]);
    expect(breakerView(state, 'post', t1 + 200, settings)).toMatchObject({ state: 'open', openedAt: t1 + 100, probeAvailable: false });

    const t2 = t1 + 100 + 30_000;
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(11), atMs: t2, settings }).granted).toBe(true);
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(12), atMs: t2 + 29_999, settings }).granted).toBe(false);
    expect(breakerView(state, 'post', t2 + 30_000, settings).probeAvailable).toBe(true);
    expect(acquireProbe(state, { endpoint: 'post', leadId: lead(12), atMs: t2 + 30_000, settings })).toMatchObject({ granted: true, probe: true, state: 'half_open' });
    // The first holder's late success no longer decides; the new holder's does.
    expect(result(state, 11, true, t2 + 30_001)).toEqual([]);
    expect(result(state, 12, true, t2 + 30_002)).toMatchObject([{ to: 'closed' }]);
  });

  it('opens on the error rate in the window with enough calls, and not on old calls', () => {
    const rate = { ...settings, consecutiveFailures: 100 };
    const state = emptyAccountState();
    // Old failures outside the window do not count.
    for (let i = 0; i < 8; i++) result(state, i, i % 2 === 0, NOON + i * 1000, rate);
    expect(breakerView(state, 'post', NOON + 200_000, rate)).toMatchObject({ windowCalls: 0, windowFailures: 0 });
    const base = NOON + 200_000;
    // fail, ok, fail, ok … : 50% is not above the limit.
    const transitions = Array.from({ length: 10 }, (_, i) => result(state, 100 + i, i % 2 === 1, base + i * 1000, rate)).flat();
    expect(transitions).toEqual([]);
    expect(breakerView(state, 'post', base + 10_000, rate)).toMatchObject({ windowCalls: 10, windowFailures: 5, state: 'closed' });
    expect(result(state, 200, false, base + 11_000, rate)).toEqual([{ endpoint: 'post', from: 'closed', to: 'open', atMs: base + 11_000, reason: 'error rate 54.5% over 11 calls in 60s (limit 50%)' }]);
  });

  it('keeps the last transitions, counts them all, and counts openings in the statistics', () => {
    const state = emptyAccountState();
    reserve(state, { leadId: lead(0), amountCents: 0, atMs: NOON, limits: limits() });
    const quick: BreakerSettings = { ...settings, consecutiveFailures: 1, coolDownSeconds: 1 };
    let at = NOON;
    for (let i = 0; i < 40; i++) {
      result(state, 1000 + i, false, at, quick);
      at += 1000;
      acquireProbe(state, { endpoint: 'post', leadId: lead(2000 + i), atMs: at, settings: quick });
      recordResult(state, { endpoint: 'post', ok: true, atMs: at, leadId: lead(2000 + i), settings: quick });
    }
    expect(state.transitions).toHaveLength(MAX_TRANSITIONS);
    expect(state.transitionCounts.post).toEqual({ open: 40, half_open: 40, closed: 40 });
    expect(statsFor(state, { from: '2026-11-20', to: '2026-11-20' }).totals.breakerOpened).toBe(40);
  });
});

describe('statistics and size', () => {
  it('sums daily buckets between local dates, with margin, once per lead and key', () => {
    const state = emptyAccountState();
    expect(tally(state, { leadId: lead(1), key: 'sale', atMs: NOON, timeZone: NY, counters: { offered: 1, won: 1, revenueCents: 2000, payoutCents: 1200 } })).toBe(true);
    expect(tally(state, { leadId: lead(1), key: 'sale', atMs: NOON, timeZone: NY, counters: { offered: 1, won: 1, revenueCents: 2000, payoutCents: 1200 } })).toBe(false);
    tally(state, { leadId: lead(2), key: 'sale', atMs: MIDNIGHT - 1, timeZone: NY, counters: { offered: 1, rejected: 1 } });
    tally(state, { leadId: lead(3), key: 'sale', atMs: MIDNIGHT, timeZone: NY, counters: { offered: 1, won: 1, revenueCents: 500, payoutCents: 100 } });
    const day = statsFor(state, { from: '2026-11-20', to: '2026-11-20' });
    expect(day.totals).toMatchObject({ offered: 2, won: 1, rejected: 1, revenueCents: 2000, payoutCents: 1200 });
    expect(day.marginCents).toBe(800);
    const both = statsFor(state, { from: '2026-11-01', to: '2026-11-30' });
    expect(both.totals).toMatchObject({ offered: 3, won: 2, revenueCents: 2500 });
    expect(both.marginCents).toBe(1200);
    expect(both.days.map((d) => d.date)).toEqual(['2026-11-20', '2026-11-21']);
  });

  it('stays small at volume: operation keys and days are bounded, sales are counters', () => {
    const state = emptyAccountState();
    const l = limits();
    for (let i = 0; i < 15_000; i++) {
      const at = NOON + i * 100_000;
      reserve(state, { leadId: lead(i), amountCents: 100, atMs: at, limits: l });
      settle(state, { leadId: lead(i), amountCents: 100, atMs: at + 1 });
      tally(state, { leadId: lead(i), key: 'sale', atMs: at, timeZone: NY, counters: { won: 1 } });
    }
    expect(state.opCount).toBeLessThanOrEqual(MAX_OP_KEYS);
    expect(Object.keys(state.ops)).toHaveLength(state.opCount);
    expect(state.reservations).toHaveLength(0);
    expect(Object.keys(state.days).length).toBeLessThanOrEqual(MAX_STAT_DAYS);
    expect(JSON.stringify(state).length).toBeLessThan(600_000);
    // The latest operations are still remembered.
    expect(settle(state, { leadId: lead(14_999), amountCents: 100, atMs: NOON + 15_000 * 100_000 })).toEqual({ settled: false, hadReservation: false });
  });

  it('keeps at most MAX_STAT_DAYS days', () => {
    const state = emptyAccountState();
    for (let d = 0; d < MAX_STAT_DAYS + 10; d++) tally(state, { leadId: lead(d), key: 'x', atMs: NOON + d * 86_400_000, timeZone: NY, counters: { offered: 1 } });
    const dates = Object.keys(state.days).sort();
    expect(dates).toHaveLength(MAX_STAT_DAYS);
    expect(dates[0]).toBe('2026-11-30');
  });
});

describe('breaker board and metrics', () => {
  it('keeps the latest state and never lowers a count', () => {
    const board = new BreakerBoard();
    board.observe('demo', 'acme', 'post', 'open', { open: 2 });
    board.observe('demo', 'acme', 'post', 'half_open', { open: 1, half_open: 1 });
    expect(board.list()).toEqual([{ tenantId: 'demo', buyerId: 'acme', endpoint: 'post', state: 'half_open', transitions: { open: 2, half_open: 1 } }]);
  });

  it('exposes the board as Prometheus gauges and counters', async () => {
    const tenants = new TenantRegistry();
    tenants.add(demoTenant('http://127.0.0.1:1'));
    const connectors = new Connectors(tenants);
    connectors.breakers.observe('demo', 'acme', 'post', 'open', { open: 3, half_open: 2, closed: 2 });
    connectors.breakers.observe('other', 'zed', 'ping', 'open', { open: 1 });
    const text = await metricsText(connectors, ['demo']);
    expect(text).toContain('leadrelay_buyer_breaker_state{tenant="demo",buyer="acme",endpoint="post"} 2');
    expect(text).toContain('leadrelay_buyer_breaker_transitions_total{tenant="demo",buyer="acme",endpoint="post",to="open"} 3');
    expect(text).not.toContain('buyer="zed"');
  });
});
