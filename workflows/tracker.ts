import type { FailureRecord, LeadState, NotificationRecord, RouteLeadInput, StepTiming } from '../src/domain/leadState';
import type { Upstream, WithoutCalls } from '../src/domain/upstream';
import { clockOffsetFields, type ClockOffset } from '../src/protocol/clock';

/** The type and message of a failure, looking through an ActivityFailure to its cause. */
export function describeFailure(err: unknown): { type: string; message: string } {
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause : err;
  const type = (inner as { type?: string }).type ?? (inner instanceof Error ? inner.name : 'Unknown');
  return { type, message: inner instanceof Error ? inner.message : String(inner) };
}

const failureMessage = (err: unknown): string => describeFailure(err).message;
const failureType = (err: unknown): string => describeFailure(err).type;

/**
 * The lead's state as the status query shows it, plus per-step timings. Plain state and
 * bookkeeping: the workflow function stays a readable sequence of steps.
 */
export class LeadTracker {
  readonly state: LeadState;
  /** The business-clock offset the run recorded with its config (see src/clock.ts); 0 in real time. */
  clockOffsetMs = 0;
  /**
   * The upstream reads (enrichment, account match, HRIS, calendar) run as local activities: in
   * the worker, within the workflow task, each answer recorded as a marker in history. No task
   * queue round trip and three events fewer per read; set by lean runs (see LeadRun.lean).
   */
  localReads = false;

  constructor(input: RouteLeadInput) {
    this.state = {
      leadId: input.leadId,
      tenantId: input.tenantId,
      status: 'received',
      receivedAt: input.receivedAt,
      routedAt: null,
      lead: null,
      policyVersion: null,
      enrichment: null,
      account: null,
      decision: null,
      deferredUntil: null,
      owner: null,
      crmLeadId: null,
      sla: null,
      accepted: null,
      escalations: [],
      lapsed: [],
      poolCredit: null,
      notifications: [],
      reassignments: [],
      timings: [],
      upstream: [],
      failures: [],
    };
  }

  /** Business time: what hours, leave, caps and SLA clocks are judged at (step timings keep real time). */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** The offset for requests to entities that judge time too (pools); nothing in real time. */
  clockFields(): ClockOffset {
    return clockOffsetFields(this.clockOffsetMs);
  }

  private begin(step: string): StepTiming {
    const timing: StepTiming = { step, startedAt: new Date(Date.now()).toISOString(), endedAt: null, durationMs: null, outcome: null, note: null };
    this.state.timings.push(timing);
    return timing;
  }

  private end(timing: StepTiming, outcome: StepTiming['outcome'], note: string | null = null): void {
    const now = Date.now();
    timing.endedAt = new Date(now).toISOString();
    timing.durationMs = now - Date.parse(timing.startedAt);
    timing.outcome = outcome;
    timing.note = note;
  }

  /** Moves a result's upstream calls into the lead's upstream log. */
  private collect<T>(step: string, result: T): WithoutCalls<T> {
    if (result && typeof result === 'object' && Array.isArray((result as { calls?: unknown }).calls)) {
      const { calls, ...rest } = result as T & Upstream;
      for (const call of calls) this.state.upstream.push({ ...call, step });
      return rest as WithoutCalls<T>;
    }
    return result as WithoutCalls<T>;
  }

  /** Runs a step that must succeed; its failure is timed as `failed` and propagates. */
  async step<T>(name: string, run: () => Promise<T>): Promise<WithoutCalls<T>> {
    return this.timed(name, run, 'failed', (err) => {
      throw err;
    });
  }

  /** Runs a step whose failure degrades the routing instead of stopping it. */
  async optionalStep<T, D>(name: string, run: () => Promise<T>, degraded: (err: unknown) => D): Promise<WithoutCalls<T> | D> {
    return this.timed(name, run, 'degraded', (err) => {
      this.state.failures.push({ step: name, type: failureType(err), message: failureMessage(err) });
      return degraded(err);
    });
  }

  private async timed<T, D>(name: string, run: () => Promise<T>, outcome: 'failed' | 'degraded', onError: (err: unknown) => D): Promise<WithoutCalls<T> | D> {
    const timing = this.begin(name);
    let result: WithoutCalls<T>;
    try {
      result = this.collect(name, await run());
    } catch (err) {
      this.end(timing, outcome, failureMessage(err));
      return onError(err);
    }
    this.end(timing, 'ok');
    return result;
  }

  async skipStep<T>(name: string, value: T): Promise<T> {
    const timing = this.begin(name);
    this.end(timing, 'ok', 'skipped');
    return value;
  }

  note(name: string, note: string): void {
    this.end(this.begin(name), 'ok', note);
  }

  fail(step: string, failure: Omit<FailureRecord, 'step'>): void {
    this.state.failures.push({ step, ...failure });
  }

  /** Sends one notification; a failed notification is recorded, never fatal to the lead. */
  async notify(kind: NotificationRecord['kind'], recipient: string, step: string, send: () => Promise<{ messageId: string } & Upstream>): Promise<void> {
    const record: NotificationRecord = { kind, recipient, messageId: null, at: new Date(this.now()).toISOString(), error: null };
    this.state.notifications.push(record);
    try {
      record.messageId = (await this.step(step, send)).messageId;
    } catch (err) {
      record.error = failureMessage(err);
      this.state.failures.push({ step, type: failureType(err), message: failureMessage(err) });
    }
  }
}
