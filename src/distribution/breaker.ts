/**
 * Circuit breakers of a buyer's endpoints (ping, post), as the buyer's account entity keeps them.
 * Pure (workflow code imports it); functions change the book in place, views never do.
 *
 * closed → open: `consecutiveFailures` failures in a row, or a failure share above `errorRate`
 * among at least `minCalls` calls in the last `windowSeconds` (counted in buckets of 1/60 of the
 * window, at least one second, so the window is exact to a bucket and the state stays small).
 * open → half_open: once `coolDownSeconds` have passed, the first lead asking gets the probe;
 * only one lead holds it at a time, and a holder that never reports loses it when another
 * cool-down has passed. half_open → closed when the probe succeeds, → open (new openedAt) when it
 * fails. Results of other leads while open or half-open change nothing (calls begun before the
 * breaker opened, or late answers).
 */
import type { BreakerSettings } from './model';

export type EndpointName = 'ping' | 'post';
export type BreakerStateName = 'closed' | 'open' | 'half_open';
export interface BreakerState {
  state: BreakerStateName;
  consecutiveFailures: number;
  /** Calls in the sliding window, bucketed: [bucket start ms, calls, failures], oldest first. */
  window: Array<[number, number, number]>;
  openedAt: number | null;
  /** The lead allowed through while half-open, and when. */
  probe: { leadId: string; grantedAtMs: number } | null;
  /** The settings of the latest report (for views asked without any). */
  settings: BreakerSettings | null;
}
export interface BreakerTransition {
  endpoint: EndpointName;
  from: BreakerStateName;
  to: BreakerStateName;
  atMs: number;
  reason: string;
}
export interface BreakerView {
  state: BreakerStateName;
  consecutiveFailures: number;
  windowCalls: number;
  windowFailures: number;
  openedAt: number | null;
  /** A lead asking now would be granted the probe. */
  probeAvailable: boolean;
}
/** The breaker part of an account's state. */
export interface BreakerBook {
  breakers: Partial<Record<EndpointName, BreakerState>>;
  /** The latest MAX_TRANSITIONS transitions, oldest first. */
  transitions: BreakerTransition[];
  /** Every transition ever, by endpoint and target state. */
  transitionCounts: Partial<Record<EndpointName, Partial<Record<BreakerStateName, number>>>>;
}

/** Breaker transitions kept in the state (all are counted). */
export const MAX_TRANSITIONS = 50;
/** Breaker settings before the buyer's first report (the same as the model's defaults). */
export const FALLBACK_BREAKER: BreakerSettings = { consecutiveFailures: 5, errorRate: 0.5, windowSeconds: 60, minCalls: 20, coolDownSeconds: 30 };
export const ENDPOINTS: readonly EndpointName[] = ['ping', 'post'];

const windowMs = (s: BreakerSettings) => s.windowSeconds * 1000;
const bucketMs = (s: BreakerSettings) => Math.max(1000, Math.ceil(windowMs(s) / 60 / 1000) * 1000);
const coolDownMs = (s: BreakerSettings) => s.coolDownSeconds * 1000;

function fresh(): BreakerState {
  return { state: 'closed', consecutiveFailures: 0, window: [], openedAt: null, probe: null, settings: null };
}

function breakerOf(book: BreakerBook, endpoint: EndpointName): BreakerState {
  let b = book.breakers[endpoint];
  if (!b) {
    b = fresh();
    book.breakers[endpoint] = b;
  }
  return b;
}

/** Calls and failures in the window ending at `atMs` (buckets overlapping it). */
function windowCounts(b: BreakerState, atMs: number, s: BreakerSettings): { calls: number; failures: number } {
  let calls = 0;
  let failures = 0;
  const since = atMs - windowMs(s) - bucketMs(s);
  for (const [start, c, f] of b.window) {
    if (start <= since || start > atMs) continue;
    calls += c;
    failures += f;
  }
  return { calls, failures };
}

function move(book: BreakerBook, b: BreakerState, endpoint: EndpointName, to: BreakerStateName, atMs: number, reason: string): BreakerTransition {
  const transition: BreakerTransition = { endpoint, from: b.state, to, atMs, reason };
  b.state = to;
  book.transitions.push(transition);
  if (book.transitions.length > MAX_TRANSITIONS) book.transitions.splice(0, book.transitions.length - MAX_TRANSITIONS);
  const counts = (book.transitionCounts[endpoint] ??= {});
  counts[to] = (counts[to] ?? 0) + 1;
  return transition;
}

function open(book: BreakerBook, b: BreakerState, endpoint: EndpointName, atMs: number, reason: string): BreakerTransition {
  b.openedAt = atMs;
  b.probe = null;
  return move(book, b, endpoint, 'open', atMs, reason);
}

/** The endpoint's state at `atMs` (read-only). */
export function breakerView(book: BreakerBook, endpoint: EndpointName, atMs: number, settings?: BreakerSettings): BreakerView {
  const b = book.breakers[endpoint] ?? fresh();
  const s = settings ?? b.settings ?? FALLBACK_BREAKER;
  const { calls, failures } = windowCounts(b, atMs, s);
  let probeAvailable = false;
  if (b.state === 'open') probeAvailable = b.openedAt === null || atMs - b.openedAt >= coolDownMs(s);
  if (b.state === 'half_open') probeAvailable = b.probe === null || atMs - b.probe.grantedAtMs >= coolDownMs(s);
  return { state: b.state, consecutiveFailures: b.consecutiveFailures, windowCalls: calls, windowFailures: failures, openedAt: b.openedAt, probeAvailable };
}

export interface EndpointResult {
  endpoint: EndpointName;
  /** false: a timeout, a 5xx, a connection error or a 429 (what the breaker counts as failure). */
  ok: boolean;
  atMs: number;
  leadId: string;
  settings: BreakerSettings;
}

/** Applies one call's result (no deduplication: the account does that); answers with the transitions it caused. */
export function stepResult(book: BreakerBook, r: EndpointResult): BreakerTransition[] {
  const b = breakerOf(book, r.endpoint);
  const s = r.settings;
  b.settings = s;
  if (b.state === 'half_open') {
    if (b.probe?.leadId !== r.leadId) return [];
    if (!r.ok) return [open(book, b, r.endpoint, r.atMs, `probe by lead ${r.leadId} failed`)];
    b.consecutiveFailures = 0;
    b.window = [];
    b.probe = null;
    b.openedAt = null;
    return [move(book, b, r.endpoint, 'closed', r.atMs, `probe by lead ${r.leadId} succeeded`)];
  }
  if (b.state === 'open') return [];

  const start = Math.floor(r.atMs / bucketMs(s)) * bucketMs(s);
  const horizon = r.atMs - windowMs(s) - bucketMs(s);
  b.window = b.window.filter(([at]) => at > horizon);
  const bucket = b.window.find(([at]) => at === start);
  if (bucket) {
    bucket[1] += 1;
    if (!r.ok) bucket[2] += 1;
  } else {
    b.window.push([start, 1, r.ok ? 0 : 1]);
    b.window.sort((x, y) => x[0] - y[0]);
  }
  if (r.ok) {
    b.consecutiveFailures = 0;
    return [];
  }
  b.consecutiveFailures += 1;
  if (b.consecutiveFailures >= s.consecutiveFailures) return [open(book, b, r.endpoint, r.atMs, `${b.consecutiveFailures} consecutive failures (limit ${s.consecutiveFailures})`)];
  const { calls, failures } = windowCounts(b, r.atMs, s);
  if (calls >= s.minCalls && failures / calls > s.errorRate) {
    const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
    return [open(book, b, r.endpoint, r.atMs, `error rate ${pct(failures / calls)} over ${calls} calls in ${s.windowSeconds}s (limit ${pct(s.errorRate)})`)];
  }
  return [];
}

export interface ProbeRequest {
  endpoint: EndpointName;
  leadId: string;
  atMs: number;
  settings: BreakerSettings;
}
export interface ProbeResult {
  /** The lead may call the endpoint. */
  granted: boolean;
  /** It does so as the half-open probe: its result closes or reopens the breaker. */
  probe: boolean;
  state: BreakerStateName;
  transition: BreakerTransition | null;
  /** The endpoint's transitions so far, by target state. */
  transitionCounts: Partial<Record<BreakerStateName, number>>;
}

/** Asks to call the endpoint: always granted when closed; when open or half-open, granted to one lead at a time after the cool-down. Idempotent by lead. */
export function stepProbe(book: BreakerBook, req: ProbeRequest): ProbeResult {
  const b = breakerOf(book, req.endpoint);
  const s = req.settings;
  b.settings = s;
  const answer = (granted: boolean, probe: boolean, transition: BreakerTransition | null = null): ProbeResult => ({
    granted,
    probe,
    state: b.state,
    transition,
    transitionCounts: { ...book.transitionCounts[req.endpoint] },
  });
  if (b.state === 'closed') return answer(true, false);
  if (b.state === 'open') {
    if (b.openedAt !== null && req.atMs - b.openedAt < coolDownMs(s)) return answer(false, false);
    b.probe = { leadId: req.leadId, grantedAtMs: req.atMs };
    return answer(true, true, move(book, b, req.endpoint, 'half_open', req.atMs, `cool-down of ${s.coolDownSeconds}s over: probe by lead ${req.leadId}`));
  }
  if (b.probe?.leadId === req.leadId) return answer(true, true);
  if (b.probe && req.atMs - b.probe.grantedAtMs < coolDownMs(s)) return answer(false, false);
  // The holder never reported within a cool-down: the probe passes to this lead.
  b.probe = { leadId: req.leadId, grantedAtMs: req.atMs };
  return answer(true, true);
}
