/**
 * The time leads spend waiting out upstream rate limits, told apart from the engine's own time.
 *
 * The connectors classify every upstream answer (src/connectors/classify.ts); a limit answer
 * (429, Salesforce's 403 REQUEST_LIMIT_EXCEEDED, ...) fails the activity with the wait the
 * upstream asked for (Retry-After, else its window's reset) as Temporal's next retry delay. The
 * watcher sees each classified answer in the activity that made the call, so it knows the lead
 * (its workflow ID) and the step (the activity type), including for reads that name no lead
 * (HRIS, calendar). Per lead, the waits on its critical path: the longest of the four parallel
 * reads' waits, plus the CRM write's and the notification's.
 */
import { activityContext, remainingBudgetMs } from '../activities/context';
import type { Classification } from '../src/connectors/classify';
import type { Connectors } from '../src/connectors/registry';

export interface LimitAnswer {
  /** The lead's workflow ID; null outside an activity (the plain pipeline, tests). */
  workflowId: string | null;
  /** The activity that made the call (`matchAccount`, `assignOwner`, ...); null outside one. */
  activityType: string | null;
  /** The wait the upstream asked for; null when it gave none (the retry policy's backoff applies). */
  waitMs: number | null;
  /** False when the wait is longer than the activity's budget allows: the call failed at once, nothing was waited. */
  waited: boolean;
}

/** The activities of the reads made in parallel before the decision. */
const PARALLEL_READS = new Set(['enrichCompany', 'matchAccount', 'lookupEmployees', 'lookupCalendars']);

export interface LeadWaits {
  /** Limit answers the lead's calls received. */
  count: number;
  /** Every wait asked of the lead's calls, summed. */
  totalMs: number;
  /** The waits on the lead's critical path: the longest of the parallel reads' totals, plus every other step's. */
  criticalMs: number;
}

/** Waits per lead (by workflow ID); answers outside a lead's activity are left out. Pure. */
export function waitsByLead(answers: readonly LimitAnswer[]): Map<string, LeadWaits> {
  const byLead = new Map<string, { count: number; totalMs: number; reads: Map<string, number>; rest: number }>();
  for (const a of answers) {
    if (a.workflowId === null) continue;
    let lead = byLead.get(a.workflowId);
    if (!lead) byLead.set(a.workflowId, (lead = { count: 0, totalMs: 0, reads: new Map(), rest: 0 }));
    lead.count++;
    const wait = a.waited ? (a.waitMs ?? 0) : 0;
    lead.totalMs += wait;
    if (a.activityType !== null && PARALLEL_READS.has(a.activityType)) lead.reads.set(a.activityType, (lead.reads.get(a.activityType) ?? 0) + wait);
    else lead.rest += wait;
  }
  const out = new Map<string, LeadWaits>();
  for (const [id, lead] of byLead) out.set(id, { count: lead.count, totalMs: lead.totalMs, criticalMs: Math.max(0, ...lead.reads.values()) + lead.rest });
  return out;
}

/**
 * Records every limit answer the stack's connectors classify, with the lead and activity it was
 * made for. `stop()` puts the monitor back as it was.
 */
export function watchRateLimits(connectors: Connectors): { answers: LimitAnswer[]; stop(): void } {
  const answers: LimitAnswer[] = [];
  const monitor = connectors.monitor;
  const record = monitor.record.bind(monitor);
  monitor.record = (connectionId: string, c: Classification, call: { provider: string; operation: string }) => {
    record(connectionId, c, call);
    if (c.outcome !== 'rate_limited') return;
    const info = activityContext()?.info;
    const budget = remainingBudgetMs();
    answers.push({
      workflowId: info?.workflowExecution?.workflowId ?? null,
      activityType: info?.activityType ?? null,
      waitMs: c.waitMs,
      waited: c.retry && !(c.waitMs !== null && budget !== undefined && c.waitMs > budget),
    });
  };
  return {
    answers,
    stop: () => {
      monitor.record = record;
    },
  };
}
