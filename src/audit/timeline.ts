import type { temporal } from '@temporalio/proto';
import type { AcceptRequest, ClaimRequest, ClaimResult, LeadState, ReassignRequest, RouteLeadResult } from '../domain/leadState';
import type { EffectivePolicy } from '../domain/policy/store';
import type { AccountMatch, CalendarFacts, EmployeeRecord, EnrichmentFacts, RoutingConfig } from '../domain/routing';
import type { CallMeta } from '../domain/upstream';
import { normalizeLead } from '../domain/lead';
import { PERMANENT_FAILURES } from '../protocol/failures';
import { readMessageKey, readMoveKey, type OwnerMove } from '../protocol/keys';
import { asObject, decode, describeFailure, enumName, first, iso, plural, RETRY_STATES, ROUTINE_TASK_FAILURES, tsMs, type Failure, type HistoryEvent, type Payload } from './history';
import { calendarSummary, decisionEntry, employeesSummary, rateLimitText } from './summaries';
import { SLA_ACTOR, type AuditEntry, type AuditKind, type AuditTimeline } from './types';

/**
 * A lead's workflow history as a readable timeline: "why did this lead go there?". Pure: the
 * histories of the lead's runs (oldest first) and its current state in, entries in the order they
 * happened out (history order where times tie). Everything shown is in history (activity inputs
 * and results, failures, signals, timers, search attributes) except the decision trace and
 * per-step timings, which come from the state.
 */

const FACT_KINDS: ReadonlySet<AuditKind> = new Set(['enrichment', 'account_match', 'availability']);

/** The start input of a run, read defensively (a follow-up run carries the reassignment it applies). */
interface StartInput {
  leadId?: string;
  tenantId?: string;
  lead?: { email?: string; source?: string; company?: string };
  receivedAt?: string;
  idempotencyKey?: string;
  followUp?: { reassign?: ReassignRequest; previous?: { owner?: { id?: string } | null; accepted?: unknown; status?: string } };
}

/** What a lean run tries first as local activities (workflows/steps.ts `firstTryLocally`): the reads, the pool claim and the CRM write. */
const LOCAL_READS: ReadonlySet<string> = new Set(['enrichCompany', 'matchAccount', 'lookupEmployees', 'lookupCalendars', 'claimFromPool', 'assignOwner']);

interface Scheduled {
  type: string;
  input: Record<string, any>;
  summary: string | null;
}

type TimerPurpose = 'sla' | 'escalation' | 'deferral' | 'window';
const TIMER_NAMES: Record<TimerPurpose, string> = { sla: 'SLA timer', escalation: 'grace period timer', deferral: 'deferral timer', window: 'reassignment window timer' };

/**
 * The owner change a CRM write makes: the `move` its input carries, or, in histories recorded
 * before inputs did, what its idempotency key (or, older still, its summary) says.
 */
function moveOf(s: Scheduled): OwnerMove | null {
  const typed = s.input['move'] as OwnerMove | undefined;
  if (typed?.kind === 'escalation' || typed?.kind === 'reassignment') return typed;
  const legacy = /^escalation (\d+)\b/.exec(s.summary ?? '');
  return readMoveKey(String(s.input['idempotencyKey'] ?? '')) ?? (legacy ? { kind: 'escalation', n: Number(legacy[1]) } : null);
}

/** Walks the runs' events in order, carrying what the lead's story needs (status, owner, open timers). */
class Renderer {
  readonly entries: AuditEntry[] = [];
  private run = '';
  private leadId = '';
  private scheduled = new Map<string, Scheduled>();
  /** The lead's company domain, which a local enrichment read's marker does not repeat. */
  private companyDomain: string | null = null;
  private timers = new Map<string, { purpose: TimerPurpose; owner: string | null }>();
  private requests = new Map<string, ReassignRequest>();
  private status: string | null = null;
  private owner: string | null = null;
  private fallbackOwner: string | null = null;
  private reminded = false;
  private accepted = false;
  /** The last accept signal not yet followed by the `accepted` status (a stale one never is). */
  private pendingAccept: AcceptRequest | null = null;
  receivedMs: number | null = null;
  ownerNotifiedMs: number | null = null;
  /**
   * Where the decision goes: in the workflow task that made it and scheduled the original routing's
   * claim or CRM assignment, after that task's change to `deciding` and before the status change
   * the decision caused.
   */
  decisionAt: number | null = null;
  /** When the decision reached history: with that task's change to `deciding`, or its first command. */
  decisionRecordedMs: number | null = null;
  private lastFactIndex: number | null = null;
  /** The first entry of the current workflow task's commands, and when the task was recorded. */
  private task: { start: number; atMs: number | null } | null = null;

  constructor(private readonly state: LeadState | null) {}

  renderRun(runId: string, events: HistoryEvent[]): void {
    this.run = runId;
    this.scheduled = new Map();
    this.timers = new Map();
    this.task = null;
    for (const event of events) this.event(event);
  }

  private push(atMs: number | null, kind: AuditKind, actor: string | null, summary: string, data?: Record<string, unknown>, eventId?: unknown): void {
    const entry: AuditEntry = { at: atMs === null ? '' : iso(atMs), run: this.run, kind, actor, summary };
    const withEvent = eventId === undefined || eventId === null ? data : { ...data, eventId: Number(String(eventId)) };
    if (withEvent) entry.data = withEvent;
    this.entries.push(entry);
    if (FACT_KINDS.has(kind)) this.lastFactIndex = this.entries.length - 1;
  }

  private markDecisionPoint(): void {
    if (this.decisionAt !== null) return;
    const start = this.task?.start ?? this.entries.length;
    // A lean run gathers its facts (local reads) in the same task that commits the decision: after them.
    let index = this.lastFactIndex !== null && this.lastFactIndex >= start ? this.lastFactIndex + 1 : start;
    while (this.entries[index]?.kind === 'status' && this.entries[index]?.data?.['to'] === 'deciding') index++;
    this.decisionAt = index;
    // Recorded with the task's commands: at its change to `deciding` when it has one.
    this.decisionRecordedMs = index > start ? Date.parse(this.entries[index - 1]!.at) : (this.task?.atMs ?? null);
  }

  /** Where the decision entry belongs when no claim or assignment happened (yet): after the facts. */
  fallbackDecisionIndex(): number {
    return this.lastFactIndex === null ? this.entries.length : this.lastFactIndex + 1;
  }

  private ownerChanged(owner: string): void {
    if (owner !== this.owner) {
      this.owner = owner;
      this.reminded = false;
      this.accepted = false;
      this.pendingAccept = null;
    }
  }

  private event(e: HistoryEvent): void {
    const at = tsMs(e.eventTime);
    const id = e.eventId;
    if (e.workflowExecutionStartedEventAttributes) return this.started(e, at);
    // The events after a completed workflow task are its commands, recorded at about that time.
    if (e.workflowTaskCompletedEventAttributes) {
      this.task = { start: this.entries.length, atMs: at };
      return;
    }
    if (e.markerRecordedEventAttributes) return this.marker(e, at);
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const summary = e.userMetadata?.summary ? String(decode(e.userMetadata.summary) ?? '') || null : null;
      const scheduled: Scheduled = { type: a.activityType?.name ?? 'activity', input: asObject(first(a.input)), summary };
      this.scheduled.set(String(id), scheduled);
      return this.activityScheduled(scheduled, at, id);
    }
    if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const sched = this.scheduled.get(String(a.scheduledEventId));
      if ((a.attempt ?? 1) > 1 && sched) this.retry(sched, a.attempt ?? 2, a.lastFailure, at, id);
      return;
    }
    if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const sched = this.scheduled.get(String(a.scheduledEventId));
      if (sched) this.activityCompleted(sched, first(a.result), at, id);
      return;
    }
    if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      return this.activityFailed(this.scheduled.get(String(a.scheduledEventId)), 'failed', a.failure, a.retryState, at, id);
    }
    if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      return this.activityFailed(this.scheduled.get(String(a.scheduledEventId)), 'timed out', a.failure, a.retryState, at, id);
    }
    if (e.activityTaskCanceledEventAttributes) {
      const a = e.activityTaskCanceledEventAttributes;
      const sched = this.scheduled.get(String(a.scheduledEventId));
      this.push(at, 'failure', null, `${sched?.type ?? 'activity'} canceled`, { activity: sched?.type ?? null, failureType: 'Canceled' }, id);
      return;
    }
    if (e.timerStartedEventAttributes) return this.timerStarted(e, at);
    if (e.timerFiredEventAttributes) return this.timerEnded(String(e.timerFiredEventAttributes.timerId), 'fired', at, id);
    if (e.timerCanceledEventAttributes) return this.timerEnded(String(e.timerCanceledEventAttributes.timerId), 'canceled', at, id);
    if (e.workflowExecutionSignaledEventAttributes) return this.signal(e, at);
    if (e.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      return this.searchAttributes(fields, at, id);
    }
    if (e.workflowExecutionCompletedEventAttributes) {
      const result = asObject(first(e.workflowExecutionCompletedEventAttributes.result)) as Partial<RouteLeadResult>;
      this.push(at, 'completed', null, `run completed: ${result.status ?? 'done'}, owner ${result.ownerId ?? 'none'}, rule ${result.ruleId ?? 'none'}`, { result }, id);
      return;
    }
    if (e.workflowExecutionContinuedAsNewEventAttributes) {
      this.push(at, 'completed', null, `run continued as new run ${e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? ''}`.trim(), undefined, id);
      return;
    }
    if (e.workflowExecutionFailedEventAttributes) {
      const f = describeFailure(e.workflowExecutionFailedEventAttributes.failure);
      this.push(at, 'failure', null, `run failed (${f.type}): ${f.message}`, { failureType: f.type, message: f.message }, id);
      return;
    }
    if (e.workflowExecutionTimedOutEventAttributes) {
      this.push(at, 'failure', null, 'run timed out', { failureType: 'WorkflowTimedOut' }, id);
      return;
    }
    if (e.workflowExecutionTerminatedEventAttributes) {
      const a = e.workflowExecutionTerminatedEventAttributes;
      this.push(at, 'failure', a.identity || null, `run terminated${a.reason ? `: ${a.reason}` : ''}`, { failureType: 'Terminated', reason: a.reason ?? null }, id);
      return;
    }
    if (e.workflowExecutionCanceledEventAttributes) {
      this.push(at, 'failure', null, 'run canceled', { failureType: 'Canceled' }, id);
      return;
    }
    if (e.workflowTaskFailedEventAttributes) {
      const a = e.workflowTaskFailedEventAttributes;
      const cause = String(a.cause ?? '').replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '');
      if (ROUTINE_TASK_FAILURES.has(cause)) return;
      const f = describeFailure(a.failure);
      this.push(at, 'failure', null, `workflow task failed (${f.type}): ${f.message}`, { failureType: f.type, message: f.message, cause }, id);
    }
  }

  private started(e: HistoryEvent, at: number | null): void {
    const a = e.workflowExecutionStartedEventAttributes!;
    const input = asObject(first(a.input)) as StartInput;
    this.leadId = input.leadId ?? this.leadId;
    const initial = decode(a.searchAttributes?.indexedFields?.['RoutingStatus']);
    if (typeof initial === 'string') this.status = initial;
    const follow = input.followUp;
    if (follow?.reassign) {
      const r = follow.reassign;
      this.requests.set(r.requestId, r);
      if (follow.previous?.owner?.id) this.ownerChanged(follow.previous.owner.id);
      this.accepted = Boolean(follow.previous?.accepted);
      this.push(at, 'follow_up', r.actor, `follow-up run after the lead's run closed: reassign to ${r.ownerId} requested by ${r.actor}: ${r.reason}`, { requestId: r.requestId, ownerId: r.ownerId, reason: r.reason }, e.eventId);
      return;
    }
    const receivedMs = input.receivedAt ? Date.parse(input.receivedAt) : at;
    if (this.receivedMs === null) this.receivedMs = receivedMs;
    const lead = input.lead ?? {};
    try {
      this.companyDomain = normalizeLead(lead as Parameters<typeof normalizeLead>[0]).companyDomain;
    } catch {
      this.companyDomain = null;
    }
    const source = lead.source ?? 'api';
    this.push(
      at,
      'received',
      input.tenantId ? `api-key:${input.tenantId}` : null,
      `lead ${lead.email ?? '(no email)'} received from ${source}${input.receivedAt ? ` at ${input.receivedAt}` : ''}${input.idempotencyKey ? `; idempotency key ${input.idempotencyKey}` : ''}`,
      { leadId: input.leadId ?? null, source, email: lead.email ?? null, company: lead.company ?? null, receivedAt: input.receivedAt ?? null, idempotencyKey: input.idempotencyKey ?? null },
      e.eventId,
    );
  }

  /**
   * The input a local first try's marker does not record, from what the run knows: the lead's
   * domain for enrichment; for a claim and the CRM write, what the activity echoes
   * (`claimedFrom`, `assigned`).
   */
  private localInput(type: string, result: Record<string, unknown>): Record<string, unknown> {
    if (type === 'enrichCompany') return { domain: this.companyDomain };
    if (type === 'assignOwner') return asObject(result['assigned']);
    if (type !== 'claimFromPool') return {};
    const from = asObject(result['claimedFrom']);
    return { request: { leadId: this.leadId, pool: { id: from['poolId'] ?? 'unknown', strategy: from['strategy'] ?? null }, eligible: Array.isArray(from['eligible']) ? from['eligible'] : [] } };
  }

  private marker(e: HistoryEvent, at: number | null): void {
    const m = e.markerRecordedEventAttributes!;
    if (m.markerName !== 'core_local_activity') return;
    const meta = asObject(first(m.details?.['data']));
    const type = String(meta['activity_type'] ?? 'local activity');
    const attempt = Number(meta['attempt'] ?? 1);
    const read: Scheduled | null = LOCAL_READS.has(type) ? { type, input: this.localInput(type, asObject(first(m.details?.['result']))), summary: null } : null;
    if (read && m.failure) {
      // A lean run's read failed its one local try: if it was worth retrying, the run read again
      // as an activity (after the upstream's wait, a timer): that is the read's next attempt.
      const f = describeFailure(m.failure);
      if (!f.nonRetryable && !(PERMANENT_FAILURES as readonly string[]).includes(f.type)) {
        this.retry(read, attempt + 1, m.failure, at, e.eventId);
        return;
      }
    }
    if (m.failure) {
      const f = describeFailure(m.failure);
      this.push(at, 'failure', null, `${type} failed (${f.type}): ${f.message}`, { activity: type, attempt, failureType: f.type, message: f.message }, e.eventId);
      return;
    }
    const result = asObject(first(m.details?.['result']));
    // The decision is taken before the claim or the write it leads to (as when they are scheduled).
    if (read && (type === 'claimFromPool' || type === 'assignOwner')) this.markDecisionPoint();
    if (read) {
      // A lean run's local first tries: their answers read like the activities'.
      this.activityCompleted(read, result, at, e.eventId);
      return;
    }
    if (type !== 'loadRoutingConfig') {
      this.push(at, 'activity', null, `${type} completed`, { activity: type, attempt }, e.eventId);
      return;
    }
    const policy = result['policy'] as EffectivePolicy | undefined;
    const config = result['config'] as RoutingConfig | undefined;
    this.fallbackOwner = policy?.policy?.fallback?.ownerId ?? config?.fallback?.ownerId ?? this.fallbackOwner;
    const rules = policy?.policy?.rules?.length ?? 0;
    const pools = policy?.policy?.pools?.length ?? 0;
    this.push(
      at,
      'policy',
      null,
      `policy ${policy?.version ?? 'unknown'} (${plural(rules, 'rule')}, ${plural(pools, 'pool')}, fallback ${policy?.policy?.fallback?.label ?? 'unknown'}); routing config ${config?.version ?? 'unknown'} with ${plural(config?.team?.length ?? 0, 'rep')}${attempt > 1 ? `; loaded on attempt ${attempt}` : ''}`,
      {
        policyVersion: policy?.version ?? null,
        configVersion: config?.version ?? null,
        rules: policy?.policy?.rules?.map((r) => r.id) ?? [],
        pools: policy?.policy?.pools?.map((p) => ({ id: p.id, strategy: p.strategy, members: p.members.map((m) => m.repId) })) ?? [],
        fallback: policy?.policy?.fallback ?? null,
        sla: policy?.policy?.sla ?? null,
        escalation: policy?.policy?.escalation ?? null,
        team: config?.team?.map((m) => m.id) ?? [],
        // Which provider and effective mapping each connection used, with the overrides verbatim.
        connections: config?.connections ?? null,
        attempt,
      },
      e.eventId,
    );
  }

  /** Escalations and reassignments are announced when the workflow commits to the CRM write. */
  private activityScheduled(s: Scheduled, at: number | null, eventId: unknown): void {
    if (s.type === 'claimFromPool' && readMoveKey(String(asObject(s.input['request'])['leadId'] ?? ''))?.kind !== 'escalation') this.markDecisionPoint();
    if (s.type === 'assignOwner') this.markDecisionPoint();
    if (s.type !== 'changeOwner') return;
    const key = String(s.input['idempotencyKey'] ?? '');
    const to = String(s.input['ownerId'] ?? '');
    const move = moveOf(s);
    if (move?.kind === 'escalation') {
      const n = move.n;
      const record = this.state?.escalations.find((r) => r.n === n);
      const from = record?.from ?? this.owner;
      const reason = record?.reason ?? `SLA lapsed for ${from ?? 'the owner'}`;
      this.push(at, 'escalation', SLA_ACTOR, `escalation ${n}: ${from ?? 'unknown'} → ${to}; ${reason}`, { n, from, to, reason, idempotencyKey: key }, eventId);
      return;
    }
    if (move?.kind === 'reassignment') {
      const requestId = move.requestId;
      const request = this.requests.get(requestId);
      const record = this.state?.reassignments.find((r) => r.requestId === requestId);
      const actor = request?.actor ?? record?.actor ?? null;
      const reason = request?.reason ?? record?.reason ?? null;
      const from = record?.from ?? this.owner;
      this.push(at, 'reassignment', actor, `reassigned ${from ?? 'unknown'} → ${to} by ${actor ?? 'unknown'}${reason ? `: ${reason}` : ''}`, { requestId, from, to, reason, idempotencyKey: key }, eventId);
    }
  }

  private retry(s: Scheduled, attempt: number, lastFailure: Failure | null | undefined, at: number | null, eventId: unknown): void {
    const f = describeFailure(lastFailure);
    const d = f.details;
    const waitMs = d?.waitMs ?? f.nextRetryDelayMs;
    const cause = d ? `${d.provider} ${d.operation}: ${d.reason}` : f.message;
    this.push(
      at,
      'retry',
      null,
      `${s.type} attempt ${attempt} after ${f.type} from ${cause}${waitMs !== null ? `; waited ${waitMs} ms before retrying` : ''}${rateLimitText(d?.rateLimit)}`,
      {
        activity: s.type,
        attempt,
        failureType: f.type,
        message: f.message,
        waitMs,
        provider: d?.provider ?? null,
        operation: d?.operation ?? null,
        status: d?.status ?? null,
        rateLimit: d?.rateLimit ?? null,
      },
      eventId,
    );
  }

  private activityFailed(s: Scheduled | undefined, how: string, failure: Failure | null | undefined, retryState: unknown, at: number | null, eventId: unknown): void {
    const f = describeFailure(failure);
    const d = f.details;
    const type = s?.type ?? 'activity';
    const state = enumName(retryState, RETRY_STATES, 'RETRY_STATE_');
    this.push(
      at,
      'failure',
      null,
      `${type} ${how} (${f.type}): ${f.message}${d?.status ? `; upstream HTTP ${d.status}` : ''}${rateLimitText(d?.rateLimit)}`,
      { activity: type, failureType: f.type, message: f.message, nonRetryable: f.nonRetryable, retryState: state, provider: d?.provider ?? null, operation: d?.operation ?? null, status: d?.status ?? null, rateLimit: d?.rateLimit ?? null },
      eventId,
    );
  }

  private activityCompleted(s: Scheduled, raw: unknown, at: number | null, eventId: unknown): void {
    const result = asObject(raw);
    const calls = Array.isArray(result['calls']) ? (result['calls'] as CallMeta[]) : [];
    for (const call of calls) {
      this.push(
        at,
        'upstream_call',
        null,
        `${call.provider} ${call.operation} → HTTP ${call.status} in ${call.durationMs} ms${call.pages > 1 ? ` (${call.pages} pages)` : ''}${call.replayed ? ', replayed by the upstream' : ''}${rateLimitText(call.rateLimit)}${call.mapping ? `; mapping ${call.mapping}` : ''}`,
        { activity: s.type, provider: call.provider, operation: call.operation, status: call.status, durationMs: call.durationMs, pages: call.pages, rateLimit: call.rateLimit, replayed: call.replayed, mapping: call.mapping ?? null },
        eventId,
      );
    }
    const input = s.input;
    switch (s.type) {
      case 'enrichCompany': {
        const facts = result as EnrichmentFacts;
        const text =
          facts.status === 'found'
            ? `company ${facts.company.name ?? facts.company.domain}: ${[facts.company.industry, facts.company.employeesRange ?? (facts.company.employees !== null ? `${facts.company.employees} employees` : null), facts.company.country].filter(Boolean).join(', ') || 'no firmographics'}`
            : `${facts.status}: ${'reason' in facts ? facts.reason : ''}`;
        this.push(at, 'enrichment', null, `enrichment of ${String(input['domain'] ?? '')}: ${text}`, { domain: input['domain'] ?? null, ...withoutCalls(result) }, eventId);
        return;
      }
      case 'matchAccount': {
        const match = result as AccountMatch;
        const text =
          match.status === 'matched'
            ? `account ${match.account.name} (${match.account.id}) owned by ${match.account.ownerId}, matched on ${match.matchedDomain}${match.otherMatches.length ? `; also ${match.otherMatches.join(', ')}` : ''}`
            : match.status === 'none'
              ? `no account for ${match.domains.join(', ')}`
              : `unavailable: ${match.reason}`;
        this.push(at, 'account_match', null, text, withoutCalls(result), eventId);
        return;
      }
      case 'lookupEmployees': {
        const employees = Array.isArray(result['employees']) ? (result['employees'] as EmployeeRecord[]) : [];
        const { text, facts } = employeesSummary(employees, at ?? 0);
        this.push(at, 'availability', null, text, { source: 'hris', employees: facts }, eventId);
        return;
      }
      case 'lookupCalendars': {
        const calendars = Array.isArray(result['calendars']) ? (result['calendars'] as Extract<CalendarFacts, { status: 'ok' }>['calendars']) : [];
        const { text, facts } = calendarSummary(calendars, at ?? 0);
        this.push(at, 'availability', null, text, { source: 'calendar', window: { start: input['start'] ?? null, end: input['end'] ?? null }, calendars: facts }, eventId);
        return;
      }
      case 'claimFromPool': {
        const request = asObject(input['request']) as Partial<ClaimRequest>;
        const claim = result as ClaimResult;
        const claimMove = readMoveKey(request.leadId ?? '');
        const escalation = claimMove?.kind === 'escalation' ? claimMove.n : null;
        const poolId = request.pool?.id ?? 'unknown';
        const skipped = claim.skipped ?? [];
        const prefix = escalation !== null ? `escalation ${escalation}: ` : '';
        const text = claim.ok
          ? `${prefix}claimed ${claim.ownerId} from pool ${poolId} (${request.pool?.strategy ?? 'pool'}) among ${plural(request.eligible?.length ?? 0, 'eligible rep')}${claim.duplicate ? '; the lead had already claimed: same answer, nothing counted twice' : ''}`
          : `${prefix}nobody claimable in pool ${poolId}`;
        this.push(
          at,
          'pool_claim',
          escalation !== null ? SLA_ACTOR : null,
          `${text}${skipped.length ? `; skipped ${skipped.map((k) => `${k.repId} (${k.reason}: ${k.detail})`).join(', ')}` : ''}${request.releases ? `; credit released by ${request.releases}` : ''}`,
          { poolId, strategy: request.pool?.strategy ?? null, eligible: request.eligible ?? [], ok: claim.ok, owner: claim.ok ? claim.ownerId : null, duplicate: claim.ok ? claim.duplicate : false, skipped, releases: request.releases ?? null, escalation },
          eventId,
        );
        return;
      }
      case 'transferClaim': {
        const request = asObject(input['request']);
        this.push(at, 'pool_credit', null, `pool credit in ${String(input['poolId'] ?? 'pool')} moved from ${request['from'] ?? 'nobody'} to ${request['to'] ?? 'nobody'}${raw === false ? ' (not applied: nothing to move)' : ''}`, { poolId: input['poolId'] ?? null, ...request, applied: raw }, eventId);
        return;
      }
      case 'assignOwner':
      case 'changeOwner': {
        const call = calls[0];
        const key = String(input['idempotencyKey'] ?? '');
        const operation = call?.operation ?? (s.type === 'assignOwner' ? 'crm.createLead' : 'crm.updateLeadOwner');
        const purpose = s.type === 'assignOwner' ? 'assignment' : (moveOf(s)?.kind ?? 'owner change');
        this.push(
          at,
          'crm_write',
          null,
          `${operation} (${purpose}): owner ${String(input['ownerId'] ?? '')} on CRM lead ${String(result['crmLeadId'] ?? '')}${call ? `, HTTP ${call.status}` : ''}${result['replayed'] ? ', replayed (already written)' : ''}; idempotency key ${key}`,
          { operation, purpose, provider: call?.provider ?? null, status: call?.status ?? null, ownerId: input['ownerId'] ?? null, crmLeadId: result['crmLeadId'] ?? null, idempotencyKey: key, replayed: Boolean(result['replayed']) },
          eventId,
        );
        return;
      }
      case 'notify': {
        const recipient = asObject(input['recipient']);
        const to = String(recipient['email'] ?? recipient['channel'] ?? 'unknown');
        const key = String(input['idempotencyKey'] ?? '');
        const kind = typeof input['kind'] === 'string' ? input['kind'] : readMessageKey(this.leadId, key, s.summary);
        if (kind === 'reminder') this.reminded = true;
        if (this.ownerNotifiedMs === null && (kind === 'assignment' || kind === 'fallback') && at !== null) this.ownerNotifiedMs = at;
        this.push(
          at,
          'notification',
          null,
          `${kind} to ${to}: message ${String(result['messageId'] ?? 'unknown')}${calls[0] ? `, HTTP ${calls[0].status}` : ''}`,
          {
            kind,
            recipient: to,
            channel: 'channel' in recipient ? 'channel' : 'direct',
            messageId: result['messageId'] ?? null,
            idempotencyKey: key,
            withAcceptButton: Boolean(input['accept']),
            text: input['text'] ?? null,
          },
          eventId,
        );
        return;
      }
      default:
        this.push(at, 'activity', null, `${s.summary ?? s.type} completed`, { activity: s.type }, eventId);
    }
  }

  private timerStarted(e: HistoryEvent, at: number | null): void {
    const a = e.timerStartedEventAttributes!;
    const durationMs = tsMs(a.startToFireTimeout) ?? 0;
    const firesAt = at === null ? '' : iso(at + durationMs);
    let purpose: TimerPurpose;
    if (this.status === 'deferred') purpose = 'deferral';
    else if (this.accepted || this.owner === null || this.owner === this.fallbackOwner) purpose = 'window';
    else purpose = this.reminded ? 'escalation' : 'sla';
    this.timers.set(String(a.timerId), { purpose, owner: this.owner });
    const seconds = Math.round(durationMs / 100) / 10;
    const text: Record<TimerPurpose, string> = {
      sla: `SLA clock: ${this.owner} must accept within ${seconds}s, by ${firesAt}`,
      escalation: `grace period: the lead moves on from ${this.owner} at ${firesAt} unless accepted`,
      deferral: `deferred: nobody is available now; waiting until ${firesAt}`,
      window: `reassignment window open until ${firesAt}`,
    };
    this.push(at, 'timer', null, text[purpose], { timerId: String(a.timerId), purpose, event: 'started', durationMs, firesAt, owner: this.owner }, e.eventId);
  }

  private timerEnded(timerId: string, how: 'fired' | 'canceled', at: number | null, eventId: unknown): void {
    const timer = this.timers.get(timerId);
    const purpose = timer?.purpose ?? null;
    let text: string;
    if (how === 'canceled') text = `${purpose ? TIMER_NAMES[purpose] : 'timer'} canceled: a signal arrived first`;
    else if (purpose === 'sla') text = `SLA lapsed: ${timer?.owner} did not accept in time`;
    else if (purpose === 'escalation') text = `grace period over: ${timer?.owner} did not accept; escalating`;
    else if (purpose === 'deferral') text = 'deferral over: deciding again';
    else if (purpose === 'window') text = 'reassignment window closed';
    else text = `timer ${timerId} fired`;
    this.push(at, 'timer', null, text, { timerId, purpose, event: how, owner: timer?.owner ?? null }, eventId);
  }

  private signal(e: HistoryEvent, at: number | null): void {
    const a = e.workflowExecutionSignaledEventAttributes!;
    const name = a.signalName ?? 'signal';
    const payload = asObject(first(a.input));
    if (name === 'reassign') {
      const r = payload as ReassignRequest;
      if (r.requestId) this.requests.set(r.requestId, r);
      this.push(at, 'signal', r.actor ?? null, `reassign to ${r.ownerId} requested by ${r.actor}: ${r.reason}`, { signal: name, ownerId: r.ownerId, reason: r.reason, requestId: r.requestId }, e.eventId);
      return;
    }
    if (name === 'accept') {
      const r = payload as AcceptRequest;
      this.pendingAccept = r;
      this.push(at, 'signal', r.actor ?? null, `accept by ${r.actor} via ${r.via}${r.ownerId ? ` (for ${r.ownerId})` : ''}`, { signal: name, via: r.via, ownerId: r.ownerId ?? null }, e.eventId);
      return;
    }
    this.push(at, 'signal', null, `signal ${name}`, { signal: name }, e.eventId);
  }

  private searchAttributes(fields: Record<string, Payload>, at: number | null, eventId: unknown): void {
    const owner = decode(fields['LeadOwner']);
    if (typeof owner === 'string') this.ownerChanged(owner);
    const status = decode(fields['RoutingStatus']);
    if (typeof status !== 'string' || status === this.status) return;
    const previous = this.status;
    this.status = status;
    this.push(at, 'status', null, `status ${previous ?? 'none'} → ${status}`, { from: previous, to: status }, eventId);
    if (status === 'accepted') {
      this.accepted = true;
      // Only an accept signal accepts; without one the status was restored (a follow-up run).
      const accept = this.pendingAccept;
      if (!accept) return;
      this.pendingAccept = null;
      this.push(at, 'accepted', accept.actor, `${this.owner ?? 'the owner'} accepted the lead (by ${accept.actor} via ${accept.via}); SLA clock stopped`, { ownerId: this.owner, via: accept.via }, eventId);
    }
  }
}

function withoutCalls(result: Record<string, any>): Record<string, unknown> {
  const { calls: _calls, ...rest } = result;
  return rest;
}

/** Renders the lead's runs (oldest first) and its current state as one timeline. */
export function renderTimeline(histories: Array<{ runId: string; events: temporal.api.history.v1.IHistoryEvent[] }>, state: LeadState | null): AuditTimeline {
  const r = new Renderer(state);
  let decisionRun: string | null = null;
  for (const { runId, events } of histories) {
    r.renderRun(runId, events);
    if (decisionRun === null && r.decisionAt !== null) decisionRun = runId;
  }
  const entries = r.entries;
  if (state?.decision) {
    const index = r.decisionAt ?? r.fallbackDecisionIndex();
    const run = decisionRun ?? entries[Math.max(0, index - 1)]?.run ?? histories[0]?.runId ?? '';
    const recordedAt = r.decisionAt !== null && r.decisionRecordedMs !== null ? iso(r.decisionRecordedMs) : null;
    entries.splice(index, 0, decisionEntry(state.decision, run, recordedAt));
  }
  const endToEndMs = r.receivedMs !== null && r.ownerNotifiedMs !== null ? r.ownerNotifiedMs - r.receivedMs : null;
  return { entries: inTimeOrder(entries), durations: { endToEndMs, perStep: state?.timings ?? [] } };
}

/**
 * The entries in the order they happened. History order is nearly that already, but the server
 * writes a retried activity's start (the time of its last attempt) only when the attempt ends,
 * after whatever happened meanwhile. A stable sort: entries of one moment keep their history
 * order, and an entry without a time stays after the one before it.
 */
function inTimeOrder(entries: AuditEntry[]): AuditEntry[] {
  let last = -Infinity;
  const timed = entries.map((entry) => {
    const ms = Date.parse(entry.at);
    if (!Number.isNaN(ms)) last = ms;
    return { entry, ms: last };
  });
  return timed.sort((a, b) => a.ms - b.ms).map((x) => x.entry);
}
