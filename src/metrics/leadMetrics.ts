import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A lead's steps by the activity that runs them (other activities are named by their type). */
export const STEP_OF_ACTIVITY: Readonly<Record<string, string>> = {
  loadRoutingConfig: 'load_policy',
  enrichCompany: 'enrich',
  matchAccount: 'match_account',
  lookupEmployees: 'check_hris',
  lookupCalendars: 'check_calendar',
  claimFromPool: 'claim',
  transferClaim: 'pool_credit',
  assignOwner: 'assign_crm',
  changeOwner: 'move_crm',
  notify: 'notify',
};

export const stepOf = (activityType: string): string => STEP_OF_ACTIVITY[activityType] ?? activityType;

/**
 * The lead's own metrics, recorded by the worker (its activity interceptor and the task queue
 * poller) and served beside the connection metrics on GET /metrics. One registry per process by
 * default (`processLeadMetrics`): the worker records where the API (or `serveMetrics`) reads.
 * Nothing here runs in workflow code.
 */
export class LeadMetrics {
  readonly registry = new Registry();

  readonly endToEnd = new Histogram({
    name: 'leadrelay_lead_end_to_end_seconds',
    help: 'From the API receiving a lead to its owner (or the triage channel) being notified, by tenant and urgency.',
    labelNames: ['tenant', 'urgency'] as const,
    buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });

  readonly stepDuration = new Histogram({
    name: 'leadrelay_step_duration_seconds',
    help: 'How long each attempt of a step (activity) ran on this worker, by step and outcome (ok, failed).',
    labelNames: ['step', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly scheduleToStart = new Histogram({
    name: 'leadrelay_activity_schedule_to_start_seconds',
    help: 'From an activity attempt being scheduled to this worker starting it, by task queue and step.',
    labelNames: ['task_queue', 'step'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'leadrelay_lead_decisions_total',
    help: 'Leads assigned, by tenant, the rule that decided (none: no rule matched) and how the owner was reached (via).',
    labelNames: ['tenant', 'rule', 'via'] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: 'leadrelay_lead_fallbacks_total',
    help: "Leads that went to the policy's fallback owner, by tenant.",
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });

  readonly deferrals = new Counter({
    name: 'leadrelay_lead_deferrals_total',
    help: 'Times leads waited for an opening before their decision, by tenant (counted when the lead is assigned).',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });

  readonly slaLapses = new Counter({
    name: 'leadrelay_lead_sla_lapses_total',
    help: 'Owners who let the SLA lapse (each sends a reminder), by tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });

  readonly escalations = new Counter({
    name: 'leadrelay_lead_escalations_total',
    help: 'Leads moved on after a lapsed SLA and grace period, by tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });

  readonly backlog = new Gauge({
    name: 'leadrelay_task_queue_backlog',
    help: "Approximate tasks waiting in a task queue, as Temporal's DescribeTaskQueue reports them, by task queue and type (workflow, activity).",
    labelNames: ['task_queue', 'type'] as const,
    registers: [this.registry],
  });

  readonly backlogAge = new Gauge({
    name: 'leadrelay_task_queue_backlog_age_seconds',
    help: 'Age of the oldest task waiting in a task queue, by task queue and type.',
    labelNames: ['task_queue', 'type'] as const,
    registers: [this.registry],
  });

  readonly backlogPollErrors = new Counter({
    name: 'leadrelay_task_queue_describe_errors_total',
    help: 'DescribeTaskQueue calls that failed (the backlog gauges then keep their last value), by task queue.',
    labelNames: ['task_queue'] as const,
    registers: [this.registry],
  });
}

let shared: LeadMetrics | null = null;

/** The process's lead metrics: the worker records into them, the API's GET /metrics and `serveMetrics` read them. */
export function processLeadMetrics(): LeadMetrics {
  shared ??= new LeadMetrics();
  return shared;
}
