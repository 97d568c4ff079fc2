/**
 * Pure, deterministic pool assignment: round robin, weighted and load-balanced strategies with
 * per-member caps over calendar periods. Workflow code (the pool entity) imports this module, so
 * it has no I/O, no clock and no randomness: time comes in as epoch ms, and the state is plain
 * JSON-serializable data carried across continue-as-new.
 *
 * Design choices:
 * - The roster is `pool.members` in definition order; eligible IDs that are not members are
 *   ignored, and the eligible set is always walked in roster order (ties break by roster order).
 * - `weighted` is smooth weighted round robin (nginx). A member who is not eligible at a claim
 *   (absent, paused, capped) has their credit reset to 0, so a returning rep re-enters at the
 *   neutral point and takes their weight's share from then on, instead of being flooded with the
 *   credit they would have piled up while away (or starved by a debt they carried out).
 *   Weights that are missing count as 1; non-positive or non-finite weights count as 0 (such a
 *   member only gets leads when every eligible member has weight 0, then all count as 1).
 * - `load_balanced` picks the least effective count (count in the pool's period + baseline).
 *   A member being calibrated (not eligible at the previous claim, or without any entry in the
 *   period while other eligible members have one) gets
 *   baseline = max(old baseline, min effective count of the settled eligible members − own count),
 *   where "settled" excludes the members being calibrated at the same claim, so two reps returning
 *   together are measured against those who stayed. With nobody settled, nothing is calibrated.
 *   Every member eligible at a claim gets an entry (possibly 0) in each period's counts, which is
 *   how "has no count in the period" is told apart from "present but not yet assigned".
 *   Baselines belong to the balancing period and reset when its key changes.
 */
import { calendarFields, isoWeek } from './calendar';
import { nextInRotation } from './decision';
import type { Period, PoolDefinition, PoolMember } from './policy/types';

export interface PeriodKeys {
  /** Local calendar date, e.g. "2026-11-21". */
  day: string;
  /** ISO week (Monday start), e.g. "2026-W47". */
  week: string;
  /** Local calendar month, e.g. "2026-11". */
  month: string;
}

export interface PoolState {
  /** Last member assigned (round robin pointer). */
  lastAssigned: string | null;
  /** The period keys the `counts` belong to. */
  periods: PeriodKeys;
  /** Assignments per member in the current period of each kind (0 = eligible but not assigned). */
  counts: Record<Period, Record<string, number>>;
  /** All-time assignments per member. */
  totals: Record<string, number>;
  /** Smooth weighted round robin current weights (only members eligible at the last claim). */
  credit: Record<string, number>;
  /** `load_balanced` calibration, added to the count in the balancing period. */
  baseline: Record<string, number>;
  /** Members eligible (after paused/cap filtering) at the previous claim, in roster order. */
  lastEligible: string[];
  /** All-time assignments. */
  total: number;
}

export type SkipReasonCode = 'cap_reached' | 'paused';
export interface PoolSkip {
  repId: string;
  reason: SkipReasonCode;
  detail: string;
}

export interface ClaimInput {
  pool: PoolDefinition;
  /** Members the caller found available (HRIS, calendar, working hours). */
  eligible: string[];
  /** Epoch ms of the claim (workflow time inside a workflow). */
  atMs: number;
  /** The policy's IANA time zone for calendar periods. */
  timeZone: string;
}

export type ClaimOutcome =
  | { ok: true; repId: string; state: PoolState; skipped: PoolSkip[] }
  | { ok: false; state: PoolState; skipped: PoolSkip[] };

export interface MemberCapStats {
  limits: Partial<Record<Period, number>>;
  reached: boolean;
  detail: string;
}

export interface MemberStats {
  repId: string;
  /** Assignments in the requested period (current key). */
  assigned: number;
  /** assigned / total of the period (0 when nothing was assigned). */
  share: number;
  /** The share the strategy aims for: weight over non-paused weights, or equal; 0 when paused. */
  targetShare: number;
  weight: number;
  paused: boolean;
  cap: MemberCapStats;
}

export interface PoolStats {
  period: Period;
  key: string;
  /** Assignments in the period (all members, including ones since removed from the pool). */
  total: number;
  members: MemberStats[];
}

/**
 * A pool's counts as the entity holds them: what its queries answer when asked without a request
 * (the Web UI's Queries tab and `temporal workflow query` send none). The periods are those of the
 * last claim or transfer; a period may have rolled over since.
 */
export interface PoolCounts {
  /** How to ask for the member statistics or a preview instead. */
  usage: string;
  periods: PeriodKeys;
  counts: Record<Period, Record<string, number>>;
  totals: Record<string, number>;
  total: number;
  lastAssigned: string | null;
}

const PERIODS: readonly Period[] = ['day', 'week', 'month'];
const PERIOD_WORD: Record<Period, string> = { day: 'today', week: 'this week', month: 'this month' };

function own(record: Record<string, number>, key: string): number | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function cloneState(state: PoolState): PoolState {
  return {
    lastAssigned: state.lastAssigned,
    periods: { ...state.periods },
    counts: { day: { ...state.counts.day }, week: { ...state.counts.week }, month: { ...state.counts.month } },
    totals: { ...state.totals },
    credit: { ...state.credit },
    baseline: { ...state.baseline },
    lastEligible: [...state.lastEligible],
    total: state.total,
  };
}

export function emptyPoolState(): PoolState {
  return {
    lastAssigned: null,
    periods: { day: '', week: '', month: '' },
    counts: { day: {}, week: {}, month: {} },
    totals: {},
    credit: {},
    baseline: {},
    lastEligible: [],
    total: 0,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Calendar period keys of an instant in the policy time zone (ISO weeks, Monday start). */
export function periodKeys(atMs: number, timeZone: string): PeriodKeys {
  const { year: y, month: m, day: d } = calendarFields(atMs, timeZone);
  const week = isoWeek(y, m, d);
  return { day: `${pad(y, 4)}-${pad(m)}-${pad(d)}`, week: `${pad(week.year, 4)}-W${pad(week.week)}`, month: `${pad(y, 4)}-${pad(m)}` };
}

/**
 * Moves the state into the periods of `atMs`: the counts of each period kind whose key changed
 * start over, and so do the load-balancing baselines when `balancePeriod`'s key changed.
 * Returns a new state.
 */
export function rollPeriods(state: PoolState, atMs: number, timeZone: string, balancePeriod: Period = 'day'): PoolState {
  const next = cloneState(state);
  const keys = periodKeys(atMs, timeZone);
  for (const kind of PERIODS) {
    if (next.periods[kind] !== keys[kind]) {
      next.periods[kind] = keys[kind];
      next.counts[kind] = {};
      if (kind === balancePeriod) next.baseline = {};
    }
  }
  return next;
}

/** Whether any of the member's caps is reached in the state's current periods, with a readable detail. */
export function capStatus(state: PoolState, member: PoolMember): { reached: boolean; detail: string } {
  const reached: string[] = [];
  const open: string[] = [];
  for (const kind of PERIODS) {
    const cap = member.caps?.[kind];
    if (cap === undefined) continue;
    const count = own(state.counts[kind], member.repId) ?? 0;
    if (count >= cap) reached.push(`cap ${cap}/${kind} reached (${count} assigned ${PERIOD_WORD[kind]})`);
    else open.push(`${count}/${cap} ${PERIOD_WORD[kind]}`);
  }
  if (reached.length > 0) return { reached: true, detail: reached.join('; ') };
  return { reached: false, detail: open.length > 0 ? open.join(', ') : 'no cap' };
}

function weightOf(member: PoolMember): number {
  const w = member.weight ?? 1;
  return Number.isFinite(w) && w > 0 ? w : 0;
}

function pickWeighted(state: PoolState, members: PoolMember[]): string | null {
  let weights = members.map(weightOf);
  let sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) {
    weights = members.map(() => 1);
    sum = members.length;
  }
  // Only members eligible now keep credit: everyone else is reset to 0 (dropped).
  const credit: Record<string, number> = {};
  let best: string | null = null;
  let bestCredit = -Infinity;
  for (const [i, m] of members.entries()) {
    const c = (own(state.credit, m.repId) ?? 0) + (weights[i] ?? 0);
    credit[m.repId] = c;
    if (c > bestCredit) {
      best = m.repId;
      bestCredit = c;
    }
  }
  if (best !== null) credit[best] = bestCredit - sum;
  state.credit = credit;
  return best;
}

function pickLeastLoaded(state: PoolState, members: PoolMember[], period: Period): string | null {
  const counts = state.counts[period];
  const previous = new Set(state.lastEligible);
  const anyCounted = members.some((m) => own(counts, m.repId) !== undefined);
  const effective = (id: string) => (own(counts, id) ?? 0) + (own(state.baseline, id) ?? 0);
  const calibrate = members.filter((m) => !previous.has(m.repId) || (anyCounted && own(counts, m.repId) === undefined));
  const settled = members.filter((m) => !calibrate.includes(m));
  if (settled.length > 0 && calibrate.length > 0) {
    const reference = Math.min(...settled.map((m) => effective(m.repId)));
    for (const m of calibrate) {
      const needed = reference - (own(counts, m.repId) ?? 0);
      const base = Math.max(own(state.baseline, m.repId) ?? 0, needed);
      if (base > 0) state.baseline[m.repId] = base;
    }
  }
  let best: string | null = null;
  let bestLoad = Infinity;
  for (const m of members) {
    const load = effective(m.repId);
    if (load < bestLoad) {
      best = m.repId;
      bestLoad = load;
    }
  }
  return best;
}

/**
 * Picks the owner of one lead from the pool. Paused members and members at a cap are removed from
 * `eligible` (and reported in `skipped`); the strategy picks among the rest. Returns a new state
 * (the input is not changed); when nobody remains, `ok: false` with the state moved to the
 * current periods.
 */
export function claim(state: PoolState, input: ClaimInput): ClaimOutcome {
  const { pool, eligible, atMs, timeZone } = input;
  const period = pool.period ?? 'day';
  const next = rollPeriods(state, atMs, timeZone, period);
  const available = new Set(eligible);
  const skipped: PoolSkip[] = [];
  const candidates: PoolMember[] = [];
  const seen = new Set<string>();
  for (const member of pool.members) {
    if (!available.has(member.repId) || seen.has(member.repId)) continue;
    seen.add(member.repId);
    if (member.paused === true) {
      skipped.push({ repId: member.repId, reason: 'paused', detail: 'paused by an operator' });
      continue;
    }
    const cap = capStatus(next, member);
    if (cap.reached) {
      skipped.push({ repId: member.repId, reason: 'cap_reached', detail: cap.detail });
      continue;
    }
    candidates.push(member);
  }

  let repId: string | null = null;
  if (candidates.length > 0) {
    switch (pool.strategy) {
      case 'round_robin':
        repId = nextInRotation(
          pool.members.map((m) => m.repId),
          candidates.map((m) => m.repId),
          next.lastAssigned,
        );
        break;
      case 'weighted':
        repId = pickWeighted(next, candidates);
        break;
      case 'load_balanced':
        repId = pickLeastLoaded(next, candidates, period);
        break;
    }
  }
  if (pool.strategy !== 'weighted') next.credit = {};
  if (pool.strategy !== 'load_balanced') next.baseline = {};

  next.lastEligible = candidates.map((m) => m.repId);
  if (repId === null) return { ok: false, state: next, skipped };

  for (const kind of PERIODS) {
    const counts = next.counts[kind];
    for (const m of candidates) if (own(counts, m.repId) === undefined) counts[m.repId] = 0;
    counts[repId] = (own(counts, repId) ?? 0) + 1;
  }
  next.totals[repId] = (own(next.totals, repId) ?? 0) + 1;
  next.total += 1;
  next.lastAssigned = repId;
  return { ok: true, repId, state: next, skipped };
}

/**
 * Assignment shares in the state's current `period` (roll the state to the current time first).
 */
export function poolStats(state: PoolState, pool: PoolDefinition, period: Period): PoolStats {
  const counts = state.counts[period];
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const active = pool.members.filter((m) => m.paused !== true);
  const weightSum = active.reduce((a, m) => a + weightOf(m), 0);
  const members = pool.members.map((m): MemberStats => {
    const assigned = own(counts, m.repId) ?? 0;
    const paused = m.paused === true;
    let targetShare = 0;
    if (!paused) {
      if (pool.strategy === 'weighted' && weightSum > 0) targetShare = weightOf(m) / weightSum;
      else targetShare = 1 / active.length;
    }
    const status = capStatus(state, m);
    return {
      repId: m.repId,
      assigned,
      share: total === 0 ? 0 : assigned / total,
      targetShare,
      weight: weightOf(m),
      paused,
      cap: { limits: { ...m.caps }, reached: status.reached, detail: status.detail },
    };
  });
  return { period, key: state.periods[period], total, members };
}

/** The state's counts, copied (a query never changes the pool), with how to ask for more. */
export function poolCounts(state: PoolState, usage: string): PoolCounts {
  const copy = cloneState(state);
  return { usage, periods: copy.periods, counts: copy.counts, totals: copy.totals, total: copy.total, lastAssigned: copy.lastAssigned };
}

/**
 * Moves one lead's credit: `from` gives it back (an escalated or reassigned lead), `to` is
 * credited (a manual reassignment to a pool member). Either may be null. A lead never counts
 * twice: the pool total stays one per lead, and counts never go below zero.
 */
export function transfer(state: PoolState, move: { from: string | null; to: string | null; atMs: number; timeZone: string }): PoolState {
  const next = rollPeriods(state, move.atMs, move.timeZone);
  const adjust = (repId: string, delta: number) => {
    for (const kind of PERIODS) next.counts[kind][repId] = Math.max(0, (own(next.counts[kind], repId) ?? 0) + delta);
    next.totals[repId] = Math.max(0, (own(next.totals, repId) ?? 0) + delta);
  };
  if (move.from !== null) adjust(move.from, -1);
  if (move.to !== null) adjust(move.to, 1);
  if (move.from === null && move.to !== null) next.total += 1;
  if (move.from !== null && move.to === null) next.total = Math.max(0, next.total - 1);
  return next;
}
