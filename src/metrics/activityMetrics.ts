import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import type { OwnerMove } from '../protocol/keys';
import { defaultPayloadConverter } from '@temporalio/common';
import { OBSERVATION_HEADER, type LeadObservation } from '../protocol/observation';
import { stepOf, type LeadMetrics } from './leadMetrics';

/** The fields of an activity's input the metrics read (all optional: inputs of every activity pass through). */
interface ObservedInput {
  tenantId?: unknown;
  kind?: unknown;
  move?: OwnerMove;
}

/** The lead's observation sent by the workflow interceptor (src/metrics/workflowInterceptors.ts), if any. */
function observationOf(headers: ActivityExecuteInput['headers']): LeadObservation | null {
  const payload = headers[OBSERVATION_HEADER];
  if (!payload) return null;
  try {
    return defaultPayloadConverter.fromPayload<LeadObservation>(payload);
  } catch {
    return null;
  }
}

function inputOf(args: unknown[]): ObservedInput {
  const first = args[0];
  return first && typeof first === 'object' ? (first as ObservedInput) : {};
}

/**
 * Times every activity attempt by step and records its schedule-to-start latency, and reads a
 * lead's milestones off the activities that mark them (their inputs, and the observation header
 * the workflow interceptor adds), so no activity or history event is added for metrics:
 * - `assignOwner` with an observation (first attempt): the decision by rule and via, fallbacks, deferrals;
 * - `notify` with an observation, when it succeeds: the lead's end-to-end time (business clock, like `receivedAt`);
 * - `notify` of kind `reminder` (first attempt): an SLA lapse;
 * - `changeOwner` of an escalation move (first attempt): an escalation.
 * Counting on the first attempt counts each once however many retries follow.
 */
export class ActivityMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: ActivityContext,
    private readonly metrics: LeadMetrics,
    private readonly now: () => number,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    const step = stepOf(info.activityType);
    const startedMs = Date.now();
    this.metrics.scheduleToStart.observe({ task_queue: info.taskQueue, step }, Math.max(0, startedMs - info.currentAttemptScheduledTimestampMs) / 1000);
    const observed = inputOf(input.args);
    const observation = observationOf(input.headers);
    const tenant = typeof observed.tenantId === 'string' ? observed.tenantId : 'unknown';
    if (info.attempt === 1) this.countMilestones(info.activityType, tenant, observed, observation);
    let outcome: 'ok' | 'failed' = 'failed';
    try {
      const result = await next(input);
      outcome = 'ok';
      if (info.activityType === 'notify' && observation) {
        const receivedMs = Date.parse(observation.receivedAt);
        if (Number.isFinite(receivedMs)) this.metrics.endToEnd.observe({ tenant, urgency: observation.urgency }, Math.max(0, this.now() - receivedMs) / 1000);
      }
      return result;
    } finally {
      this.metrics.stepDuration.observe({ step, outcome }, (Date.now() - startedMs) / 1000);
    }
  }

  private countMilestones(activityType: string, tenant: string, input: ObservedInput, o: LeadObservation | null): void {
    if (activityType === 'assignOwner' && o) {
      this.metrics.decisions.inc({ tenant, rule: o.ruleId ?? 'none', via: o.via });
      if (o.via === 'fallback') this.metrics.fallbacks.inc({ tenant });
      if (o.deferrals > 0) this.metrics.deferrals.inc({ tenant }, o.deferrals);
    } else if (activityType === 'notify' && input.kind === 'reminder') {
      this.metrics.slaLapses.inc({ tenant });
    } else if (activityType === 'changeOwner' && input.move?.kind === 'escalation') {
      this.metrics.escalations.inc({ tenant });
    }
  }
}

/** The worker's activity interceptor factory for the lead metrics. */
export function activityMetrics(metrics: LeadMetrics, now: () => number): ActivityInterceptorsFactory {
  return (ctx) => ({ inbound: new ActivityMetricsInterceptor(ctx, metrics, now) });
}
