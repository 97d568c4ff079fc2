import { nextClosingTime, nextWorkingTime, evaluateRep, repFacts, type RepFacts } from './availability';
import { calendarFields, zonedTimeToUtc } from './calendar';
import { capStatus, emptyPoolState, type PoolState } from './pools';
import type { Period, PoolDefinition, PoolMember } from './policy/types';
import type { CalendarFacts, HrisFacts, Interval, TeamMember } from './routing';

/*
 * The availability board: each rep's state at one instant, why, until when, and when it changes
 * next. Pure and deterministic (the teamAvailability workflow runs it): the same HRIS, calendar and
 * pool facts at the same instant give the same board. Whether a rep can take a lead is judged by
 * evaluateRep, exactly as routing judges it; pauses and caps by the pool's own capStatus. This
 * module only adds time: when each reason ends, and the next moment the state is different.
 */

export type RepState = 'available' | 'on_leave' | 'busy' | 'outside_hours' | 'capped' | 'paused' | 'inactive' | 'unknown';

/** Codes: routing's skip codes (inactive, not_in_hris, on_leave, busy, outside_hours, paused, cap_reached), and `unverified` for a fact an upstream could not give. */
export interface BoardReason {
  code: string;
  detail: string;
  /** When this reason stops holding (ISO instant); null when nothing known ends it. */
  until: string | null;
}

export interface BoardPool {
  poolId: string;
  /** Assignments in the pool's own period (`period`, the policy's zone). */
  assigned: number;
  /** The member's cap for that period; null without one. */
  cap: number | null;
  period: Period;
  paused: boolean;
  /** Whether any of the member's caps (day, week or month) is reached now. */
  capped: boolean;
  /** The caps in words, as the pool's statistics give them ("2/3 today" or "cap 3/day reached …"). */
  capDetail: string;
}

export interface BoardRep {
  repId: string;
  name: string;
  email: string;
  /** The zone the rep's hours are judged in (the calendar's or the HRIS's when they give one). */
  timezone: string;
  /** The rep's wall-clock time at the board's instant, `YYYY-MM-DDTHH:MM` in `timezone`. */
  localTime: string;
  state: RepState;
  reasons: BoardReason[];
  /** The next instant the state is different; null when nothing known changes it. */
  changesAt: string | null;
  pools: BoardPool[];
}

/** A pool as the board needs it: its definition and each member's assignments in the current period of each kind. */
export interface PoolFacts {
  pool: PoolDefinition;
  /** Per period kind read, assignments per member (repId → count) in the period containing the instant. */
  assigned: Partial<Record<Period, Record<string, number>>>;
}

export interface BoardInput {
  team: TeamMember[];
  hris: HrisFacts;
  calendar: CalendarFacts;
  pools: PoolFacts[];
  /** The policy's zone: pool periods (cap resets) are its calendar days, weeks and months. */
  timeZone: string;
  atMs: number;
}

const PERIODS: readonly Period[] = ['day', 'week', 'month'];

/**
 * States from the most to the least binding: the board shows the first that holds. Someone on
 * leave is on leave whatever their hours; a pause is an operator's standing decision; a cap is
 * the most passing.
 */
const PRIORITY = ['inactive', 'not_in_hris', 'on_leave', 'paused', 'outside_hours', 'busy', 'capped', 'unverified', 'available'] as const;

/** The state's place in PRIORITY (its kind: `unknown` has two, not in the HRIS and unverified). */
type Kind = (typeof PRIORITY)[number];

/** The start of the period after the one containing `atMs`, in `timeZone` (a cap's reset). */
export function periodEnd(atMs: number, timeZone: string, period: Period): number {
  const f = calendarFields(atMs, timeZone);
  // Date.UTC (inside zonedTimeToUtc) rolls a day or month past the end over into the next.
  if (period === 'day') return zonedTimeToUtc(f.year, f.month, f.day + 1, 0, 0, timeZone);
  if (period === 'week') return zonedTimeToUtc(f.year, f.month, f.day + 8 - f.weekday, 0, 0, timeZone);
  return zonedTimeToUtc(f.year, f.month + 1, 1, 0, 0, timeZone);
}

/** The end of the run of intervals covering `atMs` (back-to-back and overlapping ones joined); null when none covers it. */
function coveredUntil(intervals: readonly Interval[], atMs: number): number | null {
  let end: number | null = null;
  let at = atMs;
  for (let i = 0; i <= intervals.length; i++) {
    let next: number | null = null;
    for (const iv of intervals) {
      const s = Date.parse(iv.start);
      const e = Date.parse(iv.end);
      if (s <= at && at < e && (next === null || e > next)) next = e;
    }
    if (next === null) break;
    end = next;
    at = next;
  }
  return end;
}

/** The first start of an interval after `atMs`; null when none starts later. */
function nextStart(intervals: readonly Interval[], atMs: number): number | null {
  let best: number | null = null;
  for (const iv of intervals) {
    const s = Date.parse(iv.start);
    if (s > atMs && (best === null || s < best)) best = s;
  }
  return best;
}

/** One member's standing in one pool at the board's instant: pause, caps, and when each reached cap resets. */
interface Membership {
  poolId: string;
  member: PoolMember;
  period: Period;
  assigned: Partial<Record<Period, number>>;
  paused: boolean;
  /** The instant every reached cap has reset; null when no cap is reached. */
  cappedUntil: number | null;
  capDetail: string;
}

function memberships(rep: TeamMember, pools: PoolFacts[], timeZone: string, atMs: number): Membership[] {
  const out: Membership[] = [];
  for (const { pool, assigned } of pools) {
    const member = pool.members.find((m) => m.repId === rep.id);
    if (!member) continue;
    const counts: Partial<Record<Period, number>> = {};
    for (const kind of PERIODS) counts[kind] = assigned[kind]?.[rep.id] ?? 0;
    // The pool's own judgement of caps, over a state holding just this member's counts.
    const state: PoolState = { ...emptyPoolState(), counts: { day: { [rep.id]: counts.day ?? 0 }, week: { [rep.id]: counts.week ?? 0 }, month: { [rep.id]: counts.month ?? 0 } } };
    const status = capStatus(state, member);
    let cappedUntil: number | null = null;
    for (const kind of PERIODS) {
      const cap = member.caps?.[kind];
      if (cap === undefined || !capStatus(state, { repId: rep.id, caps: { [kind]: cap } }).reached) continue;
      cappedUntil = Math.max(cappedUntil ?? 0, periodEnd(atMs, timeZone, kind));
    }
    out.push({ poolId: pool.id, member, period: pool.period ?? 'day', assigned: counts, paused: member.paused === true, cappedUntil, capDetail: status.detail });
  }
  return out;
}

/** A reason as judged, with the pool it concerns (pauses and caps). */
type Reason = Omit<BoardReason, 'until'> & { poolId?: string };

interface Judgement {
  kind: Kind;
  reasons: Reason[];
  onLeave: boolean;
  busy: boolean;
  withinHours: boolean;
}

/** The rep at instant `t`: routing's eligibility, then the pools (pauses; caps until they reset). */
function judge(rep: TeamMember, input: BoardInput, pools: Membership[], t: number): Judgement {
  const e = evaluateRep(rep, input.hris, input.calendar, t);
  const codes = new Set<string>(e.reasons.map((r) => r.code));
  const reasons: Reason[] = e.reasons.map((r) => ({ code: r.code, detail: r.detail }));
  for (const p of pools) {
    if (p.paused) reasons.push({ code: 'paused', detail: `paused in pool ${p.poolId} by an operator`, poolId: p.poolId });
    if (p.cappedUntil !== null && t < p.cappedUntil) reasons.push({ code: 'cap_reached', detail: `pool ${p.poolId}: ${p.capDetail}`, poolId: p.poolId });
  }
  for (const a of e.assumptions) reasons.push({ code: 'unverified', detail: a });
  // Held back by every pool they are in: all paused is `paused`, else (some at a cap) `capped`.
  const blocked = pools.length > 0 && pools.every((p) => p.paused || (p.cappedUntil !== null && t < p.cappedUntil));
  const present = new Set<string>(codes);
  if (blocked) present.add(pools.every((p) => p.paused) ? 'paused' : 'capped');
  if (e.assumptions.length > 0) present.add('unverified');
  const kind = PRIORITY.find((k) => present.has(k)) ?? 'available';
  return { kind, reasons, onLeave: codes.has('on_leave'), busy: codes.has('busy'), withinHours: !codes.has('outside_hours') };
}

const STATE_OF: Record<Kind, RepState> = {
  inactive: 'inactive',
  not_in_hris: 'unknown',
  on_leave: 'on_leave',
  paused: 'paused',
  outside_hours: 'outside_hours',
  busy: 'busy',
  capped: 'capped',
  unverified: 'unknown',
  available: 'available',
};

const rank = (kind: Kind): number => PRIORITY.indexOf(kind);

/**
 * The next instant after `atMs` the rep's state differs. Only what holds at or above the current
 * state can change it: its own reason ending, or a more binding one starting (a leave, the end of
 * the working day, a meeting); each such instant is judged in full, in time order.
 */
function nextChange(rep: TeamMember, input: BoardInput, facts: RepFacts, pools: Membership[], atMs: number, from: Judgement): number | null {
  const state = STATE_OF[from.kind];
  const timeOff = facts.employee?.timeOff ?? [];
  const busy = facts.calendar?.error ? [] : (facts.calendar?.busy ?? []);
  let t = atMs;
  let now = from;
  // Each step moves past one boundary; a fortnight of working days has a few dozen.
  for (let step = 0; step < 100; step++) {
    const r = rank(from.kind);
    const candidates: Array<number | null> = [];
    if (rank('on_leave') <= r) candidates.push(now.onLeave ? coveredUntil(timeOff, t) : nextStart(timeOff, t));
    if (rank('outside_hours') <= r) candidates.push(now.withinHours ? nextClosingTime(t, facts.timezone, facts.hours) : nextWorkingTime(t, facts.timezone, facts.hours));
    if (rank('busy') <= r) candidates.push(now.busy ? coveredUntil(busy, t) : nextStart(busy, t));
    if (rank('capped') <= r) for (const p of pools) if (p.cappedUntil !== null) candidates.push(p.cappedUntil);
    const next = candidates.filter((c): c is number => c !== null && c > t).reduce<number | null>((a, b) => (a === null || b < a ? b : a), null);
    if (next === null) return null;
    now = judge(rep, input, pools, next);
    if (STATE_OF[now.kind] !== state) return next;
    t = next;
  }
  return null;
}

/** When one reason present at `atMs` stops holding. */
function reasonUntil(reason: Reason, facts: RepFacts, pools: Membership[], atMs: number): number | null {
  switch (reason.code) {
    case 'on_leave':
      return coveredUntil(facts.employee?.timeOff ?? [], atMs);
    case 'busy':
      return coveredUntil(facts.calendar?.busy ?? [], atMs);
    case 'outside_hours':
      return nextWorkingTime(atMs, facts.timezone, facts.hours);
    case 'cap_reached':
      return pools.find((p) => p.poolId === reason.poolId)?.cappedUntil ?? null;
    default:
      return null;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Every rep of the team at `atMs`: state, reasons with when each ends, when the state changes, and their pools. */
export function availabilityBoard(input: BoardInput): BoardRep[] {
  const { atMs } = input;
  return input.team.map((rep) => {
    const facts = repFacts(rep, input.hris, input.calendar);
    const pools = memberships(rep, input.pools, input.timeZone, atMs);
    const now = judge(rep, input, pools, atMs);
    const local = calendarFields(atMs, facts.timezone);
    return {
      repId: rep.id,
      name: rep.name,
      email: rep.email,
      timezone: facts.timezone,
      localTime: `${local.year}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}`,
      state: STATE_OF[now.kind],
      reasons: now.reasons.map((r) => ({ code: r.code, detail: r.detail, until: iso(reasonUntil(r, facts, pools, atMs)) })),
      changesAt: iso(nextChange(rep, input, facts, pools, atMs, now)),
      pools: pools.map((p) => ({
        poolId: p.poolId,
        assigned: p.assigned[p.period] ?? 0,
        cap: p.member.caps?.[p.period] ?? null,
        period: p.period,
        paused: p.paused,
        capped: p.cappedUntil !== null,
        capDetail: p.capDetail,
      })),
    };
  });
}
