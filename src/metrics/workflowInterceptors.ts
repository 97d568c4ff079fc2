/**
 * Workflow interceptors for the lead metrics, bundled with the workflows (src/worker.ts). Not a
 * workflow: deterministic, no I/O, no prom-client. For a `routeLead` run it keeps what the
 * metrics need (when the lead was received, the deferrals before its decision, the decision the
 * run wrote to its memo) and sends it as a header (OBSERVATION_HEADER) with the two activities
 * that mark the lead's milestones: the first CRM assignment, and the first notification of its
 * owner (or, for a lead with no rep to tell, of the triage channel) after that assignment
 * succeeded. No command is added or changed, so recorded histories replay as before.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import {
  workflowInfo,
  type ActivityInput,
  type LocalActivityInput,
  type Next,
  type TimerInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { OBSERVATION_HEADER, observationOf, type LeadObservation } from '../protocol/observation';

class LeadObserver implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor {
  private receivedAt: string | null = null;
  private deferrals = 0;
  private decided: LeadObservation | null = null;
  private assigned = false;
  private notified = false;

  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const arg = input.args[0] as { receivedAt?: unknown; followUp?: unknown } | undefined;
    // A lead's first run only: follow-up runs (a reassignment after close) are not a new lead.
    if (workflowInfo().workflowType === 'routeLead' && typeof arg?.receivedAt === 'string' && !arg.followUp) this.receivedAt = arg.receivedAt;
    return next(input);
  }

  startTimer(input: TimerInput, next: Next<WorkflowOutboundCallsInterceptor, 'startTimer'>): Promise<void> {
    // routeLead's deferral: a timer labelled as one, before the decision.
    if (this.receivedAt !== null && this.decided === null && input.options?.summary?.startsWith('deferral')) this.deferrals++;
    return next(input);
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    const observation = this.observe(input.activityType, input.args);
    if (!observation) return next(input);
    const result = next({ ...input, headers: { ...input.headers, [OBSERVATION_HEADER]: defaultPayloadConverter.toPayload(observation) } });
    if (input.activityType === 'assignOwner') this.watchAssignment(result);
    return result;
  }

  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    const observation = this.observe(input.activityType, input.args);
    if (!observation) return next(input);
    const result = next({ ...input, headers: { ...input.headers, [OBSERVATION_HEADER]: defaultPayloadConverter.toPayload(observation) } });
    if (input.activityType === 'assignOwner') this.watchAssignment(result);
    return result;
  }

  /** The observation to send with this activity, or null. */
  private observe(activityType: string, args: unknown[]): LeadObservation | null {
    if (this.receivedAt === null) return null;
    if (activityType === 'assignOwner' && this.decided === null) {
      this.decided = observationOf(this.receivedAt, workflowInfo().memo?.['decision'], this.deferrals);
      return this.decided;
    }
    if (activityType === 'notify' && this.decided !== null && this.assigned && !this.notified) {
      const kind = (args[0] as { kind?: unknown } | undefined)?.kind;
      if (kind === 'assignment' || kind === 'fallback') {
        this.notified = true;
        return this.decided;
      }
    }
    return null;
  }

  private watchAssignment(result: Promise<unknown>): void {
    result.then(
      () => {
        this.assigned = true;
      },
      () => undefined,
    );
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const observer = new LeadObserver();
  return { inbound: [observer], outbound: [observer] };
};
