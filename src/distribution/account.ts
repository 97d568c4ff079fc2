/**
 * A buyer's or supplier's account as its entity workflow (workflows/distributionAccount.ts) keeps
 * it: count caps and money budgets per calendar period in the account's zone, outstanding
 * reservations, the circuit breakers of the buyer's endpoints, and daily statistics.
 *
 * Pure: workflow code imports this module, so no I/O, no clock, no randomness. Time comes in as
 * epoch ms (the caller's business clock). Operations (reserve, settle, release, refund,
 * recordResult, acquireProbe, tally) change the state in place and answer; views (snapshot,
 * breakerView, statsFor) never change it.
 *
 * Size at volume: sales are counters per period, not per lead. Only outstanding reservations
 * (expired after RESERVATION_TTL_MS) and a window of the last MAX_OP_KEYS operation keys (what
 * makes a retried call apply once) are per lead; statistics keep MAX_STAT_DAYS daily buckets.
 */
import { calendarFields, isoWeek, localDate } from '../domain/calendar';
import { breakerView, ENDPOINTS, stepProbe, stepResult, type BreakerBook, type BreakerStateName, type BreakerTransition, type BreakerView, type EndpointName, type EndpointResult, type ProbeRequest, type ProbeResult } from './breaker';
import type { BreakerSettings, CountCaps } from './model';

export type { BreakerBook, BreakerState, BreakerStateName, BreakerTransition, BreakerView, EndpointName, EndpointResult, ProbeRequest, ProbeResult } from './breaker';
export { breakerView, ENDPOINTS, FALLBACK_BREAKER, MAX_TRANSITIONS } from './breaker';

export const PERIOD_KINDS = ['hour', 'day', 'week', 'month'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];
/** Local period keys: hour "2026-11-21T14", day "2026-11-21", ISO week "2026-W47", month "2026-11". Keys of one kind sort in time order. */
export type AccountPeriods = Record<PeriodKind, string>;

/** A reservation not settled or released within this long is dropped at the next operation (a crashed lead must not hold budget forever). */
export const RESERVATION_TTL_MS = 15 * 60_000;
/** Operation keys remembered so a retried call applies once; far more than can be in flight. */
export const MAX_OP_KEYS = 10_000;
/** Daily statistics buckets kept (older days are dropped). */
export const MAX_STAT_DAYS = 400;
/** Failure type of an account request its entity refused (bad input): asking again cannot help. */
export const ACCOUNT_REQUEST_REJECTED = 'AccountRequestRejected';

export type AccountKind = 'buyer' | 'supplier';
/** Limits as the current configuration version has them; they come with each request. */
export interface AccountLimits {
  timeZone: string;
  caps: CountCaps;
  /** Money in the campaign's currency (converted with cents()). */
  budget: { day?: number; month?: number };
}

export const STAT_COUNTERS = [
  'offered', 'pinged', 'bids', 'won', 'accepted', 'rejected', 'duplicates', 'errors', 'unknown', 'returned',
  'revenueCents', 'payoutCents', 'breakerOpened', 'submitted', 'sold', 'unsold',
] as const;
export type StatCounter = (typeof STAT_COUNTERS)[number];
export type StatCounters = Record<StatCounter, number>;

interface PeriodUsage {
  key: string;
  /** Settled sales in the period. */
  count: number;
  cents: number;
}
export interface Reservation {
  leadId: string;
  amountCents: number;
  atMs: number;
  periods: AccountPeriods;
}

export interface AccountState extends BreakerBook {
  usage: Record<PeriodKind, PeriodUsage>;
  reservations: Reservation[];
  /** Operation keys applied, oldest first (insertion order), with the instant. */
  ops: Record<string, number>;
  opCount: number;
  /** Statistics by local date. */
  days: Record<string, Partial<StatCounters>>;
  /** Reservations dropped by the TTL, all time. */
  expiredReservations: number;
  /** The latest request's instant and limits: what a view asked without a request uses. */
  last: { atMs: number; limits: AccountLimits } | null;
}

export function emptyAccountState(): AccountState {
  const usage = (): PeriodUsage => ({ key: '', count: 0, cents: 0 });
  return {
    usage: { hour: usage(), day: usage(), week: usage(), month: usage() },
    reservations: [],
    ops: {},
    opCount: 0,
    breakers: {},
    transitions: [],
    transitionCounts: {},
    days: {},
    expiredReservations: 0,
    last: null,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const money = (c: number) => (c / 100).toFixed(2);

/** The local period keys of an instant in a zone. */
export function accountPeriods(atMs: number, timeZone: string): AccountPeriods {
  const { year, month, day, hour } = calendarFields(atMs, timeZone);
  const week = isoWeek(year, month, day);
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  return { hour: `${date}T${pad(hour)}`, day: date, week: `${pad(week.year, 4)}-W${pad(week.week)}`, month: `${pad(year, 4)}-${pad(month)}` };
}

// ------------------------------------------------------------------------------ input checks

const LEAD_ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const isCents = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isInstant = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) <= 8.64e15;
function validSettings(s: unknown): boolean {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Record<string, unknown>;
  const positive = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) > 0;
  return ['consecutiveFailures', 'errorRate', 'windowSeconds', 'minCalls', 'coolDownSeconds'].every(positive);
}
function zoneProblem(timeZone: unknown): string | null {
  if (typeof timeZone !== 'string') return 'timeZone must be an IANA zone name';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return null;
  } catch {
    return `timeZone ${timeZone} is not an IANA zone`;
  }
}

/**
 * What is wrong with a request, or null: the entity refuses bad requests in its validators (an
 * Update) or skips them (a Signal), so an operation never throws inside the workflow.
 */
export function requestProblem(req: {
  leadId?: unknown;
  amountCents?: unknown;
  atMs?: unknown;
  soldAtMs?: unknown;
  limits?: { timeZone?: unknown };
  timeZone?: unknown;
  endpoint?: unknown;
  settings?: unknown;
}): string | null {
  if (typeof req !== 'object' || req === null) return 'the request must be an object';
  if ('endpoint' in req && req.endpoint !== 'ping' && req.endpoint !== 'post') return 'endpoint must be "ping" or "post"';
  if ('settings' in req && !validSettings(req.settings)) return 'settings must be breaker settings (consecutiveFailures, errorRate, windowSeconds, minCalls, coolDownSeconds)';
  if ('leadId' in req && (typeof req.leadId !== 'string' || !LEAD_ID.test(req.leadId))) return 'leadId must be 1-200 letters, digits, "_", ".", ":" or "-"';
  if ('amountCents' in req && !isCents(req.amountCents)) return 'amountCents must be a non-negative integer';
  if ('atMs' in req && req.atMs !== undefined && !isInstant(req.atMs)) return 'atMs must be epoch milliseconds';
  if ('soldAtMs' in req && !isInstant(req.soldAtMs)) return 'soldAtMs must be epoch milliseconds';
  if (req.limits !== undefined) return zoneProblem(req.limits.timeZone);
  if (req.timeZone !== undefined) return zoneProblem(req.timeZone);
  return null;
}

// --------------------------------------------------------------------------- state helpers

function hasOp(state: AccountState, key: string): boolean {
  return Object.hasOwn(state.ops, key);
}

/** Remembers an operation key; the oldest go once the window is full (a tenth at a time, so eviction stays cheap). */
function remember(state: AccountState, key: string, atMs: number): void {
  if (hasOp(state, key)) return;
  state.ops[key] = atMs;
  state.opCount += 1;
  if (state.opCount <= MAX_OP_KEYS) return;
  const drop = state.opCount - MAX_OP_KEYS + Math.floor(MAX_OP_KEYS / 10);
  let dropped = 0;
  for (const k of Object.keys(state.ops)) {
    if (dropped >= drop) break;
    delete state.ops[k];
    dropped += 1;
  }
  state.opCount -= dropped;
}

const zoneOf = (state: AccountState) => state.last?.limits.timeZone ?? 'UTC';

/** Moves usage forward to the periods of `atMs` (never back) and drops expired reservations. */
function advance(state: AccountState, atMs: number, timeZone: string): void {
  const keys = accountPeriods(atMs, timeZone);
  for (const kind of PERIOD_KINDS) {
    if (keys[kind] > state.usage[kind].key) state.usage[kind] = { key: keys[kind], count: 0, cents: 0 };
  }
  const live = state.reservations.filter((r) => atMs - r.atMs < RESERVATION_TTL_MS);
  state.expiredReservations += state.reservations.length - live.length;
  state.reservations = live;
}

function touch(state: AccountState, atMs: number, limits: AccountLimits): void {
  advance(state, atMs, limits.timeZone);
  if (!state.last || atMs >= state.last.atMs) state.last = { atMs, limits };
}

/** Adds to the usage of the given periods: a period older than the current one is over (nothing to add), a newer one starts. */
function addUsage(state: AccountState, periods: AccountPeriods, count: number, cents: number): PeriodKind[] {
  const applied: PeriodKind[] = [];
  for (const kind of PERIOD_KINDS) {
    const usage = state.usage[kind];
    if (periods[kind] < usage.key) continue;
    if (periods[kind] > usage.key) state.usage[kind] = { key: periods[kind], count: 0, cents: 0 };
    const u = state.usage[kind];
    u.count = Math.max(0, u.count + count);
    u.cents = Math.max(0, u.cents + cents);
    applied.push(kind);
  }
  return applied;
}

interface UsageAt {
  key: string;
  soldCount: number;
  soldCents: number;
  heldCount: number;
  heldCents: number;
}

/** Sales and live reservations in the current period of a kind at `atMs` (read-only). */
function usageAt(state: AccountState, kind: PeriodKind, atMs: number, timeZone: string): UsageAt {
  const asked = accountPeriods(atMs, timeZone)[kind];
  const usage = state.usage[kind];
  const key = asked > usage.key ? asked : usage.key;
  const sold = key === usage.key ? usage : { count: 0, cents: 0 };
  let heldCount = 0;
  let heldCents = 0;
  for (const r of state.reservations) {
    if (atMs - r.atMs >= RESERVATION_TTL_MS || r.periods[kind] !== key) continue;
    heldCount += 1;
    heldCents += r.amountCents;
  }
  return { key, soldCount: sold.count, soldCents: sold.cents, heldCount, heldCents };
}

const BUDGET_KINDS = ['day', 'month'] as const;

/** Why one more lead at `amountCents` would break a cap or budget now, or null. */
function refusal(state: AccountState, atMs: number, limits: AccountLimits, amountCents: number): { reason: 'cap_reached' | 'budget_reached'; detail: string } | null {
  const caps: string[] = [];
  for (const kind of PERIOD_KINDS) {
    const cap = limits.caps[kind];
    if (cap === undefined) continue;
    const u = usageAt(state, kind, atMs, limits.timeZone);
    const n = u.soldCount + u.heldCount;
    if (n >= cap) caps.push(`${kind} cap ${cap} reached (${n} sold or held)`);
  }
  if (caps.length > 0) return { reason: 'cap_reached', detail: caps.join('; ') };
  const budgets: string[] = [];
  for (const kind of BUDGET_KINDS) {
    const budget = limits.budget[kind];
    if (budget === undefined) continue;
    const budgetCents = Math.round(budget * 100);
    const u = usageAt(state, kind, atMs, limits.timeZone);
    const spent = u.soldCents + u.heldCents;
    if (spent + amountCents > budgetCents) budgets.push(`${kind} budget ${money(budgetCents)} reached (${money(spent)} sold or held, this lead ${money(amountCents)})`);
  }
  return budgets.length > 0 ? { reason: 'budget_reached', detail: budgets.join('; ') } : null;
}

function addStats(state: AccountState, date: string, counters: Partial<StatCounters>): void {
  let bucket = state.days[date];
  if (!bucket) {
    bucket = {};
    state.days[date] = bucket;
    const dates = Object.keys(state.days);
    if (dates.length > MAX_STAT_DAYS) for (const old of dates.sort().slice(0, dates.length - MAX_STAT_DAYS)) delete state.days[old];
  }
  for (const name of STAT_COUNTERS) {
    const n = counters[name];
    if (typeof n === 'number' && Number.isFinite(n) && n !== 0) bucket[name] = (bucket[name] ?? 0) + n;
  }
}

// ------------------------------------------------------------------------------- operations

export interface ReserveRequest {
  leadId: string;
  amountCents: number;
  atMs: number;
  limits: AccountLimits;
}
export type ReserveResult =
  | { ok: true; /** The lead already held a reservation or a sale: nothing new was counted. */ duplicate: boolean }
  | { ok: false; reason: 'cap_reached' | 'budget_reached'; detail: string };

/** Holds one lead against every cap and budget (sales and live reservations both count); idempotent by lead. */
export function reserve(state: AccountState, req: ReserveRequest): ReserveResult {
  touch(state, req.atMs, req.limits);
  if (hasOp(state, `s:${req.leadId}`) || state.reservations.some((r) => r.leadId === req.leadId)) return { ok: true, duplicate: true };
  const refused = refusal(state, req.atMs, req.limits, req.amountCents);
  if (refused) return { ok: false, ...refused };
  const periods = {} as AccountPeriods;
  for (const kind of PERIOD_KINDS) periods[kind] = state.usage[kind].key;
  state.reservations.push({ leadId: req.leadId, amountCents: req.amountCents, atMs: req.atMs, periods });
  return { ok: true, duplicate: false };
}

export interface SettleRequest {
  leadId: string;
  /** The final amount (may differ from the reservation's). */
  amountCents: number;
  atMs: number;
  /** Zone for a sale without a reservation (default: the zone of the latest request). */
  timeZone?: string;
  /** Statistics to add with the sale, on the local date of atMs, under the same idempotency. */
  counters?: Partial<StatCounters>;
  /**
   * 'unknown': a post the buyer may have taken (no definite answer). It counts as a sale against
   * caps and budget all the same; the mark is for the dispute log.
   */
  outcome?: 'unknown';
}
export interface SettleResult {
  /** false: the lead was settled before (nothing counted now). */
  settled: boolean;
  /** The sale took the reservation's periods (false: no live reservation, counted in the current periods). */
  hadReservation: boolean;
}

/** The lead's reservation becomes a sale in the reservation's periods; without one, a sale now. Counted once per lead. */
export function settle(state: AccountState, req: SettleRequest): SettleResult {
  const timeZone = req.timeZone ?? zoneOf(state);
  advance(state, req.atMs, timeZone);
  const key = `s:${req.leadId}`;
  const index = state.reservations.findIndex((r) => r.leadId === req.leadId);
  if (hasOp(state, key)) {
    if (index >= 0) state.reservations.splice(index, 1);
    return { settled: false, hadReservation: false };
  }
  let periods: AccountPeriods;
  if (index >= 0) {
    periods = state.reservations[index]!.periods;
    state.reservations.splice(index, 1);
  } else {
    periods = {} as AccountPeriods;
    for (const kind of PERIOD_KINDS) periods[kind] = state.usage[kind].key;
  }
  addUsage(state, periods, 1, req.amountCents);
  if (req.counters) addStats(state, localDate(req.atMs, timeZone), req.counters);
  remember(state, key, req.atMs);
  return { settled: true, hadReservation: index >= 0 };
}

/** Drops the lead's reservation; false when it held none (never reserved, expired, or settled). */
export function release(state: AccountState, req: { leadId: string }): boolean {
  const index = state.reservations.findIndex((r) => r.leadId === req.leadId);
  if (index < 0) return false;
  state.reservations.splice(index, 1);
  return true;
}

export interface RefundRequest {
  leadId: string;
  /** The sale's amount, given back to the budget and taken off revenue. */
  amountCents: number;
  soldAtMs: number;
  /** When the return was approved (default: the latest request's instant). */
  atMs?: number;
  limits: AccountLimits;
  /** For a supplier account: the payout taken back. */
  payoutCents?: number;
}
export interface RefundResult {
  /** false: refunded before (nothing changed now). */
  refunded: boolean;
  /** The periods whose cap and budget got the lead back (those of the sale that are still current). */
  restored: PeriodKind[];
}

/**
 * An approved return: cap and budget come back in each of the sale's periods that is still the
 * current one; the statistics of the sale's local date count the return and lose its revenue.
 */
export function refund(state: AccountState, req: RefundRequest): RefundResult {
  const key = `f:${req.leadId}`;
  if (hasOp(state, key)) return { refunded: false, restored: [] };
  const atMs = req.atMs ?? state.last?.atMs ?? req.soldAtMs;
  touch(state, atMs, req.limits);
  const sale = accountPeriods(req.soldAtMs, req.limits.timeZone);
  const restored: PeriodKind[] = [];
  for (const kind of PERIOD_KINDS) {
    const u = state.usage[kind];
    if (u.key !== sale[kind]) continue;
    u.count = Math.max(0, u.count - 1);
    u.cents = Math.max(0, u.cents - req.amountCents);
    restored.push(kind);
  }
  addStats(state, localDate(req.soldAtMs, req.limits.timeZone), { returned: 1, revenueCents: -req.amountCents, payoutCents: -(req.payoutCents ?? 0) });
  remember(state, key, atMs);
  return { refunded: true, restored };
}

export interface TallyRequest {
  leadId: string;
  /** What is counted (e.g. "offered", "ping"): the same lead and key count once. */
  key: string;
  atMs: number;
  timeZone: string;
  counters: Partial<StatCounters>;
}

/** Adds statistics on the local date of atMs; false when this lead and key were counted before. */
export function tally(state: AccountState, req: TallyRequest): boolean {
  const key = `t:${req.leadId}:${req.key}`;
  if (hasOp(state, key)) return false;
  addStats(state, localDate(req.atMs, req.timeZone), req.counters);
  remember(state, key, req.atMs);
  return true;
}

export interface StatsRequest {
  /** Local dates, inclusive. */
  from: string;
  to: string;
}
export interface AccountStats {
  from: string;
  to: string;
  totals: StatCounters;
  marginCents: number;
  days: Array<{ date: string; counters: Partial<StatCounters> }>;
}

export function zeroCounters(): StatCounters {
  return Object.fromEntries(STAT_COUNTERS.map((c) => [c, 0])) as StatCounters;
}

/** Sums the daily buckets from `from` to `to` (local dates, inclusive); margin = revenue − payout. */
export function statsFor(state: AccountState, req: StatsRequest): AccountStats {
  const totals = zeroCounters();
  const days: AccountStats['days'] = [];
  for (const date of Object.keys(state.days).sort()) {
    if (date < req.from || date > req.to) continue;
    const bucket = state.days[date]!;
    for (const name of STAT_COUNTERS) totals[name] += bucket[name] ?? 0;
    days.push({ date, counters: { ...bucket } });
  }
  return { from: req.from, to: req.to, totals, marginCents: totals.revenueCents - totals.payoutCents, days };
}


// --------------------------------------------------------------------------------- breakers

/**
 * One call's result on a breaker; answers with the transitions it caused. A lead's result for an
 * endpoint counts once (a retried report changes nothing). Opening counts `breakerOpened` in the
 * statistics of the local date (zone of the latest request).
 */
export function recordResult(state: AccountState, r: EndpointResult): BreakerTransition[] {
  const key = `b:${r.endpoint}:${r.leadId}`;
  if (hasOp(state, key)) return [];
  const transitions = stepResult(state, r);
  for (const t of transitions) if (t.to === 'open') addStats(state, localDate(t.atMs, zoneOf(state)), { breakerOpened: 1 });
  remember(state, key, r.atMs);
  return transitions;
}

/** Whether the lead may call the endpoint now (see breaker.ts); idempotent by lead. */
export function acquireProbe(state: AccountState, req: ProbeRequest): ProbeResult {
  return stepProbe(state, req);
}

/** Every endpoint's view with its transition counts (what the metrics board keeps). */
export interface EndpointBreaker {
  endpoint: EndpointName;
  view: BreakerView;
  transitionCounts: Partial<Record<BreakerStateName, number>>;
}

export function endpointBreakers(state: AccountState, atMs: number, settings: Partial<Record<EndpointName, BreakerSettings>> = {}): EndpointBreaker[] {
  return ENDPOINTS.filter((e) => state.breakers[e] !== undefined).map((endpoint) => ({
    endpoint,
    view: breakerView(state, endpoint, atMs, settings[endpoint]),
    transitionCounts: { ...state.transitionCounts[endpoint] },
  }));
}

// --------------------------------------------------------------------------------- snapshot

export interface PeriodSnapshot {
  key: string;
  /** null: no cap for this period. */
  cap: number | null;
  sold: number;
  held: number;
  /** Leads that can still be reserved (null: no cap). */
  remaining: number | null;
  /** null: no budget for this period (hour and week never have one). */
  budgetCents: number | null;
  soldCents: number;
  heldCents: number;
  remainingCents: number | null;
}
export interface AccountSnapshot {
  atMs: number;
  timeZone: string;
  periods: Record<PeriodKind, PeriodSnapshot>;
  /** Why even a lead at no cost would be refused now (a cap reached, or a budget overspent by a settled price), or null. */
  blocked: { reason: 'cap_reached' | 'budget_reached'; detail: string } | null;
  reservations: Array<{ leadId: string; amountCents: number; atMs: number; expiresAtMs: number }>;
  expiredReservations: number;
  breakers: Record<EndpointName, BreakerView>;
  transitions: BreakerTransition[];
  transitionCounts: AccountState['transitionCounts'];
}

/** Usage and headroom per period, reservations and breakers at `atMs` under `limits` (read-only). */
export function snapshot(state: AccountState, atMs: number, limits: AccountLimits, breakers: Partial<Record<EndpointName, BreakerSettings>> = {}): AccountSnapshot {
  const periods = {} as Record<PeriodKind, PeriodSnapshot>;
  for (const kind of PERIOD_KINDS) {
    const u = usageAt(state, kind, atMs, limits.timeZone);
    const cap = limits.caps[kind] ?? null;
    const budget = kind === 'day' || kind === 'month' ? limits.budget[kind] : undefined;
    const budgetCents = budget === undefined ? null : Math.round(budget * 100);
    periods[kind] = {
      key: u.key,
      cap,
      sold: u.soldCount,
      held: u.heldCount,
      remaining: cap === null ? null : Math.max(0, cap - u.soldCount - u.heldCount),
      budgetCents,
      soldCents: u.soldCents,
      heldCents: u.heldCents,
      remainingCents: budgetCents === null ? null : Math.max(0, budgetCents - u.soldCents - u.heldCents),
    };
  }
  const live = state.reservations.filter((r) => atMs - r.atMs < RESERVATION_TTL_MS);
  return {
    atMs,
    timeZone: limits.timeZone,
    periods,
    blocked: refusal(state, atMs, limits, 0),
    reservations: live.map((r) => ({ leadId: r.leadId, amountCents: r.amountCents, atMs: r.atMs, expiresAtMs: r.atMs + RESERVATION_TTL_MS })),
    expiredReservations: state.expiredReservations + state.reservations.length - live.length,
    breakers: { ping: breakerView(state, 'ping', atMs, breakers.ping), post: breakerView(state, 'post', atMs, breakers.post) },
    transitions: state.transitions.map((t) => ({ ...t })),
    transitionCounts: Object.fromEntries(Object.entries(state.transitionCounts).map(([e, c]) => [e, { ...c }])),
  };
}
