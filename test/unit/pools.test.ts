import { nextInRotation } from '../../src/domain/decision';
import type { Period, PoolDefinition, PoolMember, Strategy } from '../../src/domain/policy/types';
import {
  capStatus,
  claim,
  emptyPoolState,
  periodKeys,
  poolStats,
  rollPeriods,
  transfer,
  type ClaimOutcome,
  type PoolState,
} from '../../src/domain/pools';

const TZ = 'America/New_York';
/** Wednesday 2026-11-18 12:00 in New York. */
const NOON = Date.parse('2026-11-18T17:00:00Z');

const members = (...ids: string[]): PoolMember[] => ids.map((repId) => ({ repId }));
const poolOf = (strategy: Strategy, list: PoolMember[], period?: Period): PoolDefinition =>
  period === undefined ? { id: 'p', strategy, members: list } : { id: 'p', strategy, members: list, period };

interface Run {
  state: PoolState;
  picks: string[];
  outcomes: ClaimOutcome[];
}

/** Claims `n` leads one after another; `eligible(i)` and `at(i)` script who is available and when. */
function run(
  pool: PoolDefinition,
  n: number,
  opts: { state?: PoolState; eligible?: (i: number) => string[]; at?: (i: number) => number; roundTrip?: boolean } = {},
): Run {
  let state = opts.state ?? emptyPoolState();
  const everyone = pool.members.map((m) => m.repId);
  const picks: string[] = [];
  const outcomes: ClaimOutcome[] = [];
  for (let i = 0; i < n; i++) {
    const out = claim(state, { pool, eligible: opts.eligible?.(i) ?? everyone, atMs: opts.at?.(i) ?? NOON, timeZone: TZ });
    outcomes.push(out);
    if (out.ok) picks.push(out.repId);
    state = opts.roundTrip === true ? (JSON.parse(JSON.stringify(out.state)) as PoolState) : out.state;
  }
  return { state, picks, outcomes };
}

const tally = (picks: string[]) => picks.reduce<Record<string, number>>((acc, id) => ({ ...acc, [id]: (acc[id] ?? 0) + 1 }), {});
const countOf = (picks: string[], id: string) => picks.filter((p) => p === id).length;
const longestRun = (picks: string[], id: string) => {
  let best = 0;
  let cur = 0;
  for (const p of picks) {
    cur = p === id ? cur + 1 : 0;
    best = Math.max(best, cur);
  }
  return best;
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A state that is already in the periods of `at`, with the given counts in every period kind. */
function seeded(counts: Record<string, number>, lastEligible: string[], at = NOON): PoolState {
  const state = rollPeriods(emptyPoolState(), at, TZ);
  state.counts = { day: { ...counts }, week: { ...counts }, month: { ...counts } };
  state.lastEligible = lastEligible;
  return state;
}

describe('round robin', () => {
  it('is exact: 300 claims over 5 eligible members give exactly 60 each, in strict cycle order', () => {
    const pool = poolOf('round_robin', members('a', 'b', 'c', 'd', 'e'));
    const { picks } = run(pool, 300);
    expect(tally(picks)).toEqual({ a: 60, b: 60, c: 60, d: 60, e: 60 });
    expect(picks.slice(0, 7)).toEqual(['a', 'b', 'c', 'd', 'e', 'a', 'b']);
  });

  it('skipping an ineligible member keeps the cycle order (same as nextInRotation)', () => {
    const roster = ['a', 'b', 'c', 'd', 'e'];
    const pool = poolOf('round_robin', members(...roster));
    const eligible = (i: number) => (i === 2 || i === 3 ? roster.filter((id) => id !== 'c') : roster);
    const { picks } = run(pool, 8, { eligible });
    expect(picks).toEqual(['a', 'b', 'd', 'e', 'a', 'b', 'c', 'd']);

    let last: string | null = null;
    const expected: string[] = [];
    for (let i = 0; i < 8; i++) {
      last = nextInRotation(roster, eligible(i), last);
      expected.push(last ?? '');
    }
    expect(picks).toEqual(expected);
  });
});

describe('weighted', () => {
  const pool = poolOf('weighted', [
    { repId: 'a', weight: 60 },
    { repId: 'b', weight: 20 },
    { repId: 'c', weight: 20 },
  ]);

  it('60/20/20 over 1,000 claims gives exactly 600/200/200 and stays within ±3 points at every prefix of 100 or more', () => {
    const { picks } = run(pool, 1000);
    expect(tally(picks)).toEqual({ a: 600, b: 200, c: 200 });
    const seen: Record<string, number> = { a: 0, b: 0, c: 0 };
    const target: Record<string, number> = { a: 0.6, b: 0.2, c: 0.2 };
    picks.forEach((id, i) => {
      seen[id] = (seen[id] ?? 0) + 1;
      const n = i + 1;
      if (n < 100) return;
      for (const rep of ['a', 'b', 'c']) expect(Math.abs((seen[rep] ?? 0) / n - (target[rep] ?? 0))).toBeLessThanOrEqual(0.03);
    });
  });

  it('a member absent for a stretch is not flooded on return: their credit resets and they get their weight’s share', () => {
    const pool2 = poolOf('weighted', [
      { repId: 'a', weight: 2 },
      { repId: 'b', weight: 1 },
      { repId: 'c', weight: 1 },
    ]);
    const away = run(pool2, 400, { eligible: () => ['a', 'b'] });
    expect(countOf(away.picks, 'c')).toBe(0);
    expect(away.state.credit).not.toHaveProperty('c');

    const back = run(pool2, 400, { state: away.state });
    expect(countOf(back.picks.slice(0, 20), 'c')).toBeLessThanOrEqual(6); // fair share is 5 of 20
    expect(longestRun(back.picks, 'c')).toBe(1);
    expect(Math.abs(countOf(back.picks, 'c') - 100)).toBeLessThanOrEqual(2);
    expect(Math.abs(countOf(back.picks, 'a') - 200)).toBeLessThanOrEqual(2);
  });

  it('only eligible members take part in a claim', () => {
    const { picks } = run(pool, 50, { eligible: () => ['b', 'c'] });
    expect(tally(picks)).toEqual({ b: 25, c: 25 });
  });
});

describe('load balanced', () => {
  it('picks the eligible member with the fewest assignments in the period, ties by roster order', () => {
    const pool = poolOf('load_balanced', members('a', 'b', 'c'));
    const state = seeded({ a: 5, b: 2, c: 3 }, ['a', 'b', 'c']);
    const { picks } = run(pool, 4, { state });
    // b 2→3, then b and c tie at 3: b first by roster order, then c, then a/b/c... a still has 5.
    expect(picks).toEqual(['b', 'b', 'c', 'b']);
    const onlyAC = run(pool, 1, { state, eligible: () => ['a', 'c'] });
    expect(onlyAC.picks).toEqual(['c']);
  });

  it('balances over the pool period (week) rather than the day when configured', () => {
    const pool = poolOf('load_balanced', members('a', 'b'), 'week');
    const state = seeded({ a: 0, b: 0 }, ['a', 'b']);
    state.counts.week = { a: 1, b: 4 };
    expect(run(pool, 1, { state }).picks).toEqual(['a']);
    state.counts.week = { a: 4, b: 1 };
    expect(run(pool, 1, { state }).picks).toEqual(['b']);
  });

  it('calibrates a returner from leave: no burst, roughly a fair share afterwards', () => {
    const pool = poolOf('load_balanced', members('a', 'b', 'c', 'd'));
    const away = run(pool, 201, { eligible: () => ['a', 'b', 'c'] });
    expect(away.state.counts.day).toEqual({ a: 67, b: 67, c: 67 });

    const back = run(pool, 40, { state: away.state });
    // Uncalibrated, d would take the next ~67 leads in a row.
    expect(back.state.baseline.d).toBe(67);
    expect(countOf(back.picks.slice(0, 4), 'd')).toBe(1);
    expect(longestRun(back.picks, 'd')).toBe(1);
    expect(countOf(back.picks, 'd')).toBeGreaterThanOrEqual(9);
    expect(countOf(back.picks, 'd')).toBeLessThanOrEqual(11);
  });

  it('calibrates against members who stayed, even when two reps return together', () => {
    const pool = poolOf('load_balanced', members('a', 'b', 'c', 'd'));
    const away = run(pool, 100, { eligible: () => ['a', 'b'] });
    const back = run(pool, 40, { state: away.state });
    expect(back.state.baseline).toEqual({ c: 50, d: 50 });
    for (const id of ['c', 'd']) {
      expect(countOf(back.picks.slice(0, 4), id)).toBeLessThanOrEqual(1);
      expect(countOf(back.picks, id)).toBeGreaterThanOrEqual(9);
      expect(countOf(back.picks, id)).toBeLessThanOrEqual(11);
    }
  });

  it('calibrates a member who joins the pool mid-period', () => {
    const before = poolOf('load_balanced', members('a', 'b', 'c'));
    const first = run(before, 90);
    const after = poolOf('load_balanced', members('a', 'b', 'c', 'e'));
    const next = run(after, 40, { state: first.state });
    expect(countOf(next.picks.slice(0, 4), 'e')).toBe(1);
    expect(countOf(next.picks, 'e')).toBeGreaterThanOrEqual(9);
    expect(countOf(next.picks, 'e')).toBeLessThanOrEqual(11);
  });

  it('calibrates a member with no count in the period while the others have counts', () => {
    const pool = poolOf('load_balanced', members('a', 'b', 'e'));
    // e is listed as eligible before (e.g. a state from before e was counted) but has no count.
    const state = seeded({ a: 30, b: 30 }, ['a', 'b', 'e']);
    const { picks, state: after } = run(pool, 30, { state });
    expect(after.baseline.e).toBe(30);
    expect(countOf(picks.slice(0, 3), 'e')).toBe(1);
    expect(tally(picks)).toEqual({ a: 10, b: 10, e: 10 });
  });

  it('does not calibrate when everyone starts together, and a member present but not yet assigned keeps their place', () => {
    const pool = poolOf('load_balanced', members('a', 'b', 'c'));
    const { picks, state } = run(pool, 2);
    expect(picks).toEqual(['a', 'b']);
    expect(state.baseline).toEqual({});
    expect(state.counts.day).toEqual({ a: 1, b: 1, c: 0 });
    expect(run(pool, 1, { state }).picks).toEqual(['c']);
  });

  it('baselines reset when the balancing period rolls over', () => {
    const pool = poolOf('load_balanced', members('a', 'b', 'c', 'd'));
    const away = run(pool, 30, { eligible: () => ['a', 'b', 'c'] });
    const back = run(pool, 1, { state: away.state });
    expect(back.state.baseline.d).toBe(10);

    const tomorrow = NOON + 86_400_000;
    const rolled = rollPeriods(back.state, tomorrow, TZ, 'day');
    expect(rolled.baseline).toEqual({});
    expect(rolled.counts.day).toEqual({});
    expect(rolled.counts.week).toEqual(back.state.counts.week);
    // A weekly balancing period keeps its baselines across a day boundary within the week.
    expect(rollPeriods(back.state, tomorrow, TZ, 'week').baseline).toEqual(back.state.baseline);
  });
});

describe('caps', () => {
  const capped = poolOf('round_robin', [{ repId: 'a', caps: { day: 10 } }, { repId: 'b' }, { repId: 'c' }]);

  it('a 10/day cap is never exceeded over 50 claims, and the skip says why', () => {
    const { picks, outcomes, state } = run(capped, 50);
    expect(countOf(picks, 'a')).toBe(10);
    let assigned = 0;
    for (const out of outcomes) {
      if (out.ok && out.repId === 'a') assigned += 1;
      expect(assigned).toBeLessThanOrEqual(10);
    }
    const last = outcomes[outcomes.length - 1];
    expect(last?.skipped).toEqual([{ repId: 'a', reason: 'cap_reached', detail: 'cap 10/day reached (10 assigned today)' }]);
    expect(capStatus(state, { repId: 'a', caps: { day: 10 } })).toEqual({ reached: true, detail: 'cap 10/day reached (10 assigned today)' });
    expect(capStatus(state, { repId: 'b', caps: { day: 40, week: 100 } })).toEqual({ reached: false, detail: '20/40 today, 20/100 this week' });
    expect(capStatus(state, { repId: 'b' })).toEqual({ reached: false, detail: 'no cap' });
  });

  it('the day cap resets at local midnight in the policy time zone, across the DST change of 2026-11-01', () => {
    const utcMidnight = Date.parse('2026-11-01T00:30:00Z'); // 20:30 EDT on Oct 31
    const beforeMidnight = Date.parse('2026-11-01T03:59:00Z'); // 23:59 EDT on Oct 31
    const localMidnight = Date.parse('2026-11-01T04:00:00Z'); // 00:00 EDT on Nov 1
    const lateNov1 = Date.parse('2026-11-02T04:30:00Z'); // 23:30 EST on Nov 1 (the 25-hour day)
    const midnightNov2 = Date.parse('2026-11-02T05:00:00Z'); // 00:00 EST on Nov 2

    expect(periodKeys(utcMidnight, TZ).day).toBe('2026-10-31');
    expect(periodKeys(beforeMidnight, TZ).day).toBe('2026-10-31');
    expect(periodKeys(localMidnight, TZ).day).toBe('2026-11-01');
    expect(periodKeys(lateNov1, TZ).day).toBe('2026-11-01');
    expect(periodKeys(midnightNov2, TZ).day).toBe('2026-11-02');

    const oct31 = run(capped, 40, { at: () => utcMidnight });
    expect(countOf(oct31.picks, 'a')).toBe(10);
    expect(run(capped, 3, { state: oct31.state, at: () => beforeMidnight }).picks).not.toContain('a');

    const nov1 = run(capped, 40, { state: oct31.state, at: () => localMidnight });
    expect(countOf(nov1.picks, 'a')).toBe(10);
    expect(nov1.state.totals.a).toBe(20);
    const stillNov1 = run(capped, 3, { state: nov1.state, at: () => lateNov1 });
    expect(stillNov1.picks).not.toContain('a');
    expect(stillNov1.outcomes[0]?.skipped[0]?.reason).toBe('cap_reached');

    const nov2 = run(capped, 3, { state: nov1.state, at: () => midnightNov2 });
    expect(nov2.picks).toContain('a');
    expect(nov2.state.counts.day.a).toBe(1);
  });

  it('a weekly cap resets on Monday in the policy time zone', () => {
    const pool = poolOf('round_robin', [{ repId: 'a', caps: { week: 3 } }, { repId: 'b' }]);
    const sundayNight = Date.parse('2026-11-23T04:30:00Z'); // 23:30 EST Sunday Nov 22
    const mondayMorning = Date.parse('2026-11-23T05:00:00Z'); // 00:00 EST Monday Nov 23
    const sunday = run(pool, 10, { at: () => sundayNight });
    expect(countOf(sunday.picks, 'a')).toBe(3);
    expect(sunday.outcomes[9]?.skipped[0]?.detail).toBe('cap 3/week reached (3 assigned this week)');
    const monday = run(pool, 2, { state: sunday.state, at: () => mondayMorning });
    expect(monday.picks).toContain('a');
    expect(monday.state.periods.week).toBe('2026-W48');
  });

  it('week keys follow ISO week numbering (weeks start Monday; 2026 has 53 weeks)', () => {
    const at = (iso: string) => periodKeys(Date.parse(iso), TZ);
    expect(at('2026-11-21T17:00:00Z')).toEqual({ day: '2026-11-21', week: '2026-W47', month: '2026-11' });
    expect(at('2026-11-22T17:00:00Z').week).toBe('2026-W47'); // Sunday
    expect(at('2026-11-23T17:00:00Z').week).toBe('2026-W48'); // Monday
    expect(at('2026-12-31T17:00:00Z')).toEqual({ day: '2026-12-31', week: '2026-W53', month: '2026-12' });
    expect(at('2027-01-01T17:00:00Z')).toEqual({ day: '2027-01-01', week: '2026-W53', month: '2027-01' });
    expect(at('2027-01-03T17:00:00Z').week).toBe('2026-W53');
    expect(at('2027-01-04T17:00:00Z')).toEqual({ day: '2027-01-04', week: '2027-W01', month: '2027-01' });
    // 03:00 UTC on Jan 4 is still Sunday evening in New York.
    expect(at('2027-01-04T03:00:00Z').week).toBe('2026-W53');
    expect(periodKeys(Date.parse('2027-01-04T03:00:00Z'), 'UTC').week).toBe('2027-W01');
    expect(periodKeys(Date.parse('2025-12-29T12:00:00Z'), 'UTC').week).toBe('2026-W01');
  });

  it('a monthly cap resets on the first of the month in the policy time zone; totals keep counting', () => {
    const pool = poolOf('round_robin', [{ repId: 'a', caps: { month: 5 } }, { repId: 'b' }]);
    const nov30 = Date.parse('2026-12-01T04:30:00Z'); // 23:30 EST Nov 30
    const dec1 = Date.parse('2026-12-01T05:00:00Z'); // 00:00 EST Dec 1
    const november = run(pool, 20, { at: () => nov30 });
    expect(countOf(november.picks, 'a')).toBe(5);
    expect(november.state.periods.month).toBe('2026-11');
    const december = run(pool, 20, { state: november.state, at: () => dec1 });
    expect(countOf(december.picks, 'a')).toBe(5);
    expect(december.state.counts.month.a).toBe(5);
    expect(december.state.totals.a).toBe(10);
    expect(december.state.periods.month).toBe('2026-12');
  });

  it('with everyone capped or paused the claim fails, the skips are reported and the state is still rolled', () => {
    const pool = poolOf('round_robin', [{ repId: 'a', caps: { day: 1 } }, { repId: 'b', paused: true }]);
    const first = run(pool, 2);
    expect(first.picks).toEqual(['a']);
    const out = first.outcomes[1];
    expect(out?.ok).toBe(false);
    expect(out?.skipped).toEqual([
      { repId: 'a', reason: 'cap_reached', detail: 'cap 1/day reached (1 assigned today)' },
      { repId: 'b', reason: 'paused', detail: 'paused by an operator' },
    ]);
    const later = claim(first.state, { pool, eligible: ['b'], atMs: NOON + 86_400_000, timeZone: TZ });
    expect(later.ok).toBe(false);
    expect(later.state.periods.day).toBe('2026-11-19');
    expect(later.state.counts.day).toEqual({});
  });
});

describe('paused members', () => {
  it.each<Strategy>(['round_robin', 'weighted', 'load_balanced'])('are never chosen (%s)', (strategy) => {
    const pool = poolOf(strategy, [{ repId: 'a' }, { repId: 'b', paused: true, weight: 100 }, { repId: 'c' }]);
    const { picks, outcomes } = run(pool, 60);
    expect(picks).toHaveLength(60);
    expect(picks).not.toContain('b');
    for (const out of outcomes) expect(out.skipped).toEqual([{ repId: 'b', reason: 'paused', detail: 'paused by an operator' }]);
  });
});

describe('state', () => {
  const strategies: Array<[Strategy, PoolMember[]]> = [
    ['round_robin', [{ repId: 'a', caps: { day: 4 } }, { repId: 'b' }, { repId: 'c' }, { repId: 'd' }]],
    ['weighted', [{ repId: 'a', weight: 3, caps: { day: 4 } }, { repId: 'b', weight: 2 }, { repId: 'c' }, { repId: 'd' }]],
    ['load_balanced', [{ repId: 'a', caps: { day: 4 } }, { repId: 'b' }, { repId: 'c' }, { repId: 'd' }]],
  ];
  /** Availability changes and several local days, so rolls, caps and calibration all happen. */
  const script = {
    eligible: (i: number) => (i % 17 < 5 ? ['a', 'b', 'c'] : i % 23 < 3 ? ['b', 'd'] : ['a', 'b', 'c', 'd']),
    at: (i: number) => NOON + Math.floor(i / 40) * 86_400_000 + i * 60_000,
  };

  it.each(strategies)('claim does not mutate its input state (%s)', (strategy, list) => {
    const pool = poolOf(strategy, list);
    let state = emptyPoolState();
    for (let i = 0; i < 120; i++) {
      const snapshot = structuredClone(state);
      deepFreeze(state);
      const out = claim(state, { pool, eligible: script.eligible(i), atMs: script.at(i), timeZone: TZ });
      expect(state).toEqual(snapshot);
      state = out.state;
    }
  });

  it.each(strategies)('survives a JSON round trip, and continuing from it gives the same sequence (%s)', (strategy, list) => {
    const pool = poolOf(strategy, list);
    const plain = run(pool, 200, script);
    const roundTripped = run(pool, 200, { ...script, roundTrip: true });
    expect(roundTripped.picks).toEqual(plain.picks);
    expect(roundTripped.state).toEqual(plain.state);
    expect(JSON.parse(JSON.stringify(plain.state))).toEqual(plain.state);

    // Continue-as-new halfway: carry the JSON of the state into a fresh run.
    const half = run(pool, 100, script);
    const carried = JSON.parse(JSON.stringify(half.state)) as PoolState;
    const rest = run(pool, 100, { state: carried, eligible: (i) => script.eligible(i + 100), at: (i) => script.at(i + 100) });
    expect([...half.picks, ...rest.picks]).toEqual(plain.picks);
    expect(rest.state).toEqual(plain.state);
  });
});

describe('poolStats', () => {
  it('reports shares and weighted targets in the requested period, with cap info', () => {
    const pool = poolOf('weighted', [
      { repId: 'a', weight: 60, caps: { week: 500 } },
      { repId: 'b', weight: 20 },
      { repId: 'c', weight: 20 },
    ]);
    const { state } = run(pool, 100);
    const stats = poolStats(state, pool, 'week');
    expect(stats).toMatchObject({ period: 'week', key: '2026-W47', total: 100 });
    expect(stats.members.map((m) => [m.repId, m.assigned, m.share, m.targetShare])).toEqual([
      ['a', 60, 0.6, 0.6],
      ['b', 20, 0.2, 0.2],
      ['c', 20, 0.2, 0.2],
    ]);
    expect(stats.members[0]?.cap).toEqual({ limits: { week: 500 }, reached: false, detail: '60/500 this week' });
    expect(stats.members[1]?.cap).toEqual({ limits: {}, reached: false, detail: 'no cap' });
  });

  it('leaves paused members out of the targets, gives equal targets for other strategies, and 0 shares with no assignments', () => {
    const weighted = poolOf('weighted', [{ repId: 'a', weight: 3 }, { repId: 'b', weight: 1 }, { repId: 'c', weight: 4, paused: true }]);
    const empty = poolStats(rollPeriods(emptyPoolState(), NOON, TZ), weighted, 'day');
    expect(empty).toMatchObject({ period: 'day', key: '2026-11-18', total: 0 });
    expect(empty.members.map((m) => [m.repId, m.share, m.targetShare, m.paused])).toEqual([
      ['a', 0, 0.75, false],
      ['b', 0, 0.25, false],
      ['c', 0, 0, true],
    ]);

    const rr = poolOf('round_robin', [{ repId: 'a', caps: { day: 2 } }, { repId: 'b' }, { repId: 'c' }, { repId: 'd', paused: true }]);
    const { state } = run(rr, 9);
    const stats = poolStats(state, rr, 'day');
    expect(stats.total).toBe(9);
    expect(stats.members.map((m) => [m.repId, m.assigned, m.targetShare])).toEqual([
      ['a', 2, 1 / 3],
      ['b', 4, 1 / 3],
      ['c', 3, 1 / 3],
      ['d', 0, 0],
    ]);
    expect(stats.members[0]?.cap).toEqual({ limits: { day: 2 }, reached: true, detail: 'cap 2/day reached (2 assigned today)' });
  });
});

describe('transferring a lead’s credit', () => {
  const pool = { id: 'p', strategy: 'round_robin' as const, members: [{ repId: 'a' }, { repId: 'b' }, { repId: 'c' }] };
  const at = Date.parse('2026-11-18T15:00:00Z');
  const claimed = (() => {
    const one = claim(emptyPoolState(), { pool, eligible: ['a', 'b', 'c'], atMs: at, timeZone: 'UTC' });
    if (!one.ok) throw new Error('claim failed');
    return one.state;
  })();

  it('gives the credit back when a lead escalates away from its owner, so it never counts twice', () => {
    const escalated = claim(claimed, { pool, eligible: ['b', 'c'], atMs: at, timeZone: 'UTC' });
    if (!escalated.ok) throw new Error('claim failed');
    const after = transfer(escalated.state, { from: 'a', to: null, atMs: at, timeZone: 'UTC' });
    expect(after.counts.day).toMatchObject({ a: 0, b: 1 });
    expect(after.total).toBe(1);
  });

  it('moves the credit to a pool member on manual reassignment', () => {
    const after = transfer(claimed, { from: 'a', to: 'c', atMs: at, timeZone: 'UTC' });
    expect(after.counts.day).toMatchObject({ a: 0, c: 1 });
    expect(after.totals).toMatchObject({ a: 0, c: 1 });
    expect(after.total).toBe(1);
  });

  it('never goes below zero', () => {
    expect(transfer(emptyPoolState(), { from: 'a', to: null, atMs: at, timeZone: 'UTC' }).counts.day['a']).toBe(0);
  });
});
