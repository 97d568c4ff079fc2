/**
 * The overload curve: for each offered rate, Leadrelay and then the plain in-process pipeline
 * (./plain.ts), open loop at that rate against the same sandbox, one after the other, waiting for
 * each to drain before the next. One table at the end: per rate, each pipeline's routed/s, p50 and
 * p99 end to end, their ratios (Leadrelay ÷ plain), limit answers, push-backs, lost or failed
 * leads; then the knee.
 *
 * - End to end: from just before a lead's first POST (Leadrelay) or its start (plain) to the
 *   moment the messaging emulator receives its first notification.
 * - Routed/s: leads notified ÷ (last notification − first POST).
 * - Lost or failed: not notified within the lead timeout, a routeLead run that failed
 *   (ExecutionStatus 'Failed'), or a lead whose state (or plain outcome) is `failed`.
 * - 429s: the sandbox's limit answers during the phase (any provider's limit signal, 403s too).
 * - The knee: see kneeOf.
 */
import type { RunningSandbox } from '../sandbox/server';
import type { SandboxEvent } from '../sandbox/types';
import type { LeadState } from '../src/domain/leadState';
import { leadWorkflowId } from '../src/protocol/ids';
import type { RunningStack } from '../src/stack';
import type { PlainPipeline } from './plain';
import { postLead } from './poster';
import { waitsByLead, type LimitAnswer } from './rateLimits';
import { fmt, percentile } from './stats';

export interface CurvePoint {
  offered: number;
  routedPerSecond: number;
  p99Ms: number;
  lostOrFailed: number;
}

export interface Knee {
  /** The knee's offered rate; null when even the lowest rate fails the bound. */
  offered: number | null;
  boundMs: number;
}

/**
 * The knee: the highest offered rate reached before the first rate that fails, where a rate
 * passes when its p99 is at most `boundMs` (default: twice the p99 at the lowest rate, so the
 * bound follows the machine), its routed/s is at least 95% of offered, and no lead was lost or
 * failed. Pure.
 */
export function kneeOf(points: readonly CurvePoint[], boundMs?: number): Knee {
  const sorted = [...points].sort((a, b) => a.offered - b.offered);
  const bound = boundMs ?? 2 * (sorted[0]?.p99Ms ?? NaN);
  let offered: number | null = null;
  for (const p of sorted) {
    const passes = p.p99Ms <= bound && p.routedPerSecond >= 0.95 * p.offered && p.lostOrFailed === 0;
    if (!passes) break;
    offered = p.offered;
  }
  return { offered, boundMs: bound };
}

/** Lead IDs in a notification: Leadrelay's (`ld_` + 24 hex) and the plain pipeline's (`pl_...`). */
const LEAD_ID = /\b(ld_[0-9a-f]{24}|pl_[0-9a-z]+)\b/;

/** The first notification each lead got, read from the sandbox's event log as it grows. */
export class Notifications {
  private lastSeq = 0;
  readonly at = new Map<string, number>();

  constructor(private readonly sandbox: RunningSandbox) {}

  poll(): void {
    for (const e of this.sandbox.events()) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      if (e.system !== 'messaging' || e.status >= 300) continue;
      const id = leadIdOf(e);
      if (id !== null && !this.at.has(id)) this.at.set(id, e.receivedAt);
    }
  }
}

function leadIdOf(e: SandboxEvent): string | null {
  const fromKey = e.headers.idempotencyKey?.split(':')[0];
  if (fromKey !== undefined && LEAD_ID.test(fromKey)) return fromKey;
  return LEAD_ID.exec(JSON.stringify(e.body))?.[1] ?? null;
}

export interface CurveOptions {
  stack: RunningStack;
  sandbox: RunningSandbox;
  plain: PlainPipeline;
  tenantId: string;
  apiKey: string;
  /** Limit answers the watcher saw (./rateLimits.ts), for Leadrelay's waits per lead. */
  limitAnswers: readonly LimitAnswer[];
  rates: number[];
  leadsPerRate: number;
  /** A lead not notified this long after the last POST of its phase is lost. */
  leadTimeoutMs: number;
  /** The knee's p99 bound; default twice the lowest rate's p99. */
  kneeBoundMs?: number;
  out: (line: string) => void;
}

interface PhaseResult {
  routedPerSecond: number;
  e2e: number[];
  overhead: number[];
  waits: number[];
  limitAnswers: number;
  pushbacks: number;
  lostOrFailed: number;
  notified: number;
}

export const DOMAINS = ['acme.com', 'globex.com', 'initech.com', 'hooli.com', 'piedpiper.com', 'newco.io'];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sortedOf = (values: number[]) => [...values].sort((a, b) => a - b);

export async function runCurve(opts: CurveOptions): Promise<void> {
  const { out } = opts;
  const run = Math.random().toString(36).slice(2, 8);
  const rows: Array<{ offered: number; relay: PhaseResult; plain: PhaseResult }> = [];
  await warmUp(opts, run);
  for (const rate of opts.rates) {
    const relay = await leadrelayPhase(opts, rate, run);
    await drained(opts);
    const plain = await plainPhase(opts, rate, run);
    await drained(opts);
    rows.push({ offered: rate, relay, plain });
    out(`\n${rate}/s: Leadrelay ${relay.notified}/${opts.leadsPerRate} notified, plain ${plain.notified}/${opts.leadsPerRate}`);
    detail(out, 'Leadrelay', relay);
    detail(out, 'plain', plain);
  }

  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '—');
  const header = ['offered/s', 'LR routed/s', 'LR p50', 'LR p99', 'plain/s', 'plain p50', 'plain p99', '÷ p50', '÷ p99', '÷ routed/s', '429s LR/plain', 'push-backs', 'lost LR/plain'];
  const widths = [10, 12, 10, 10, 9, 10, 10, 7, 7, 11, 14, 11, 14];
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 10)).join('');
  out(`\n${line(header)}`);
  for (const { offered, relay, plain } of rows) {
    const [r50, r99, p50, p99] = [percentile(sortedOf(relay.e2e), 50), percentile(sortedOf(relay.e2e), 99), percentile(sortedOf(plain.e2e), 50), percentile(sortedOf(plain.e2e), 99)];
    out(
      line([
        String(offered),
        relay.routedPerSecond.toFixed(1),
        fmt(r50),
        fmt(r99),
        plain.routedPerSecond.toFixed(1),
        fmt(p50),
        fmt(p99),
        ratio(r50, p50),
        ratio(r99, p99),
        ratio(relay.routedPerSecond, plain.routedPerSecond),
        `${relay.limitAnswers}/${plain.limitAnswers}`,
        String(relay.pushbacks),
        `${relay.lostOrFailed}/${plain.lostOrFailed}`,
      ]),
    );
  }
  const points = (pick: 'relay' | 'plain') =>
    rows.map((r) => ({ offered: r.offered, routedPerSecond: r[pick].routedPerSecond, p99Ms: percentile(sortedOf(r[pick].e2e), 99), lostOrFailed: r[pick].lostOrFailed }));
  const describe = (name: string, k: Knee) =>
    `${name} knee: ${k.offered === null ? 'none (the lowest rate already fails)' : `${k.offered}/s`} (p99 ≤ ${k.boundMs.toFixed(0)} ms, routed/s ≥ 95% of offered, nothing lost or failed)`;
  out(`\n${describe('Leadrelay', kneeOf(points('relay'), opts.kneeBoundMs))}`);
  out(describe('plain', kneeOf(points('plain'), opts.kneeBoundMs)));
}

/** A few leads through each pipeline first, left out of the figures: the first pay for worker, connection and token start-up. */
async function warmUp(opts: CurveOptions, run: string): Promise<void> {
  const notifications = new Notifications(opts.sandbox);
  for (let i = 0; i < 5; i++) {
    const body = { email: `warm${run}n${i}@${DOMAINS[i % DOMAINS.length]}`, firstName: 'Bench', source: 'form' };
    const { leadId } = await postLead(opts.stack.apiUrl, opts.apiKey, body, `bench-${run}-warmup-${i}`);
    await waitNotified(opts, notifications, [leadId]);
    await opts.plain.route({ ...body, email: `warmpl${run}n${i}@${DOMAINS[i % DOMAINS.length]}`, source: 'form' }, `pl_${run}warm${i}`);
  }
  await drained(opts);
}

function detail(out: (line: string) => void, name: string, r: PhaseResult): void {
  const rows: Array<[string, number[]]> = [
    ['end-to-end', r.e2e],
    [name === 'plain' ? 'overhead (e2e − upstream)' : 'engine overhead (e2e − upstream − 429 waits)', r.overhead],
    ...(name === 'plain' ? [] : ([['rate-limit waits (429 → Retry-After)', r.waits]] as Array<[string, number[]]>)),
  ];
  for (const [label, values] of rows) {
    const s = sortedOf(values);
    out(`  ${name.padEnd(10)}${label.padEnd(46)}p50 ${fmt(percentile(s, 50))}  p99 ${fmt(percentile(s, 99))}  max ${fmt(s[s.length - 1] ?? NaN)}`);
  }
}

/** Posts `n` leads open loop at `rate`, calling `start(i)` at each one's due time; resolves when every start has. */
async function openLoop(n: number, rate: number, start: (i: number) => Promise<void>): Promise<number> {
  const began = Date.now();
  const started: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const wait = began + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    started.push(start(i));
  }
  await Promise.all(started);
  return began;
}

function waitNotified(opts: CurveOptions, notifications: Notifications, leadIds: string[]): Promise<void> {
  return waitAllNotified(notifications, leadIds, opts.leadTimeoutMs);
}

/** Until every lead has its first notification, or the timeout passes. */
export async function waitAllNotified(notifications: Notifications, leadIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    notifications.poll();
    if (leadIds.every((id) => notifications.at.has(id)) || Date.now() > deadline) return;
    await sleep(100);
  }
}

function routedPerSecond(notified: number[], firstPost: number): number {
  if (notified.length === 0) return 0;
  return notified.length / Math.max(0.001, (Math.max(...notified) - firstPost) / 1000);
}

async function leadrelayPhase(opts: CurveOptions, rate: number, run: string): Promise<PhaseResult> {
  const { stack, sandbox, tenantId } = opts;
  sandbox.clearEvents();
  const notifications = new Notifications(sandbox);
  const phaseStart = new Date();
  const sent: Array<{ leadId: string; t0: number }> = [];
  let pushbacks = 0;
  let refused = 0;
  const began = await openLoop(opts.leadsPerRate, rate, async (i) => {
    const t0 = Date.now();
    const body = { email: `lr${run}r${rate}n${i}@${DOMAINS[i % DOMAINS.length]}`, firstName: 'Bench', source: 'form' };
    try {
      const posted = await postLead(stack.apiUrl, opts.apiKey, body, `bench-${run}-r${rate}-${i}`);
      pushbacks += posted.pushbacks;
      sent.push({ leadId: posted.leadId, t0 });
    } catch (err) {
      refused++;
      opts.out(`  POST failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  await waitNotified(opts, notifications, sent.map((s) => s.leadId));

  const waits = waitsByLead(opts.limitAnswers);
  const e2e: number[] = [];
  const overhead: number[] = [];
  const waitsMs: number[] = [];
  const notifiedAt: number[] = [];
  let lostOrFailed = refused;
  const batch = 20;
  for (let from = 0; from < sent.length; from += batch) {
    await Promise.all(
      sent.slice(from, from + batch).map(async ({ leadId, t0 }) => {
        const at = notifications.at.get(leadId);
        const workflowId = leadWorkflowId(tenantId, leadId);
        const state = (await stack.temporal.client.workflow.getHandle(workflowId).query('leadState').catch(() => null)) as LeadState | null;
        if (at === undefined || state?.status === 'failed') {
          lostOrFailed++;
          if (at === undefined) return;
        }
        const call = (step: string) => (state?.upstream ?? []).filter((c) => c.step === step).reduce((sum, c) => sum + c.durationMs, 0);
        const upstream = Math.max(call('enrich'), call('match_account'), call('check_hris'), call('check_calendar')) + call('assign_crm');
        const wait = waits.get(workflowId)?.criticalMs ?? 0;
        e2e.push(at - t0);
        overhead.push(at - t0 - upstream - wait);
        waitsMs.push(wait);
        notifiedAt.push(at);
      }),
    );
  }
  // Runs that failed outright, unless already counted (a failed run's lead is usually not notified either).
  const counted = new Set(sent.filter(({ leadId }) => !notifications.at.has(leadId)).map(({ leadId }) => leadWorkflowId(tenantId, leadId)));
  let failedRuns = 0;
  for await (const w of stack.temporal.client.workflow.list({ query: `WorkflowType = 'routeLead' AND ExecutionStatus = 'Failed' AND StartTime >= '${phaseStart.toISOString()}'` })) {
    if (!counted.has(w.workflowId)) failedRuns++;
  }
  return {
    routedPerSecond: routedPerSecond(notifiedAt, began),
    e2e,
    overhead,
    waits: waitsMs,
    limitAnswers: sandbox.events().filter((e) => e.rateLimited).length,
    pushbacks,
    lostOrFailed: lostOrFailed + failedRuns,
    notified: notifiedAt.length,
  };
}

async function plainPhase(opts: CurveOptions, rate: number, run: string): Promise<PhaseResult> {
  const { sandbox } = opts;
  sandbox.clearEvents();
  const notifications = new Notifications(sandbox);
  const done: Array<{ leadId: string; t0: number; failed: boolean; upstreamMs: number }> = [];
  const began = await openLoop(opts.leadsPerRate, rate, async (i) => {
    const leadId = `pl_${run}r${String(rate).replace('.', 'p')}n${i}`;
    const t0 = Date.now();
    const lead = { email: `pl${run}r${rate}n${i}@${DOMAINS[i % DOMAINS.length]}`, firstName: 'Bench', source: 'form' as const };
    // Started at its due time like a POST; the phase waits for every lead below.
    void opts.plain.route(lead, leadId).then(
      (o) => void done.push({ leadId, t0, failed: o.status === 'failed', upstreamMs: o.upstreamMs }),
      () => void done.push({ leadId, t0, failed: true, upstreamMs: 0 }),
    );
    await Promise.resolve();
  });
  const deadline = Date.now() + opts.leadTimeoutMs;
  while (done.length < opts.leadsPerRate && Date.now() < deadline) await sleep(50);
  await waitNotified(opts, notifications, done.map((d) => d.leadId));

  const e2e: number[] = [];
  const overhead: number[] = [];
  const notifiedAt: number[] = [];
  let lostOrFailed = opts.leadsPerRate - done.length;
  for (const d of done) {
    const at = notifications.at.get(d.leadId);
    if (at === undefined || d.failed) lostOrFailed++;
    if (at === undefined) continue;
    e2e.push(at - d.t0);
    overhead.push(at - d.t0 - d.upstreamMs);
    notifiedAt.push(at);
  }
  return {
    routedPerSecond: routedPerSecond(notifiedAt, began),
    e2e,
    overhead,
    waits: [],
    limitAnswers: sandbox.events().filter((e) => e.rateLimited).length,
    pushbacks: 0,
    lostOrFailed,
    notified: notifiedAt.length,
  };
}

/** The backlog has drained: no emulator has received a request for a second (at most 60 s). */
async function drained(opts: CurveOptions): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const events = opts.sandbox.events();
    const seq = events[events.length - 1]?.seq ?? 0;
    if (seq !== last) {
      last = seq;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= 1000) {
      return;
    }
    await sleep(100);
  }
  opts.out('  (the emulators were still receiving requests after 60 s; going on)');
}
