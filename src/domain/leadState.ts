import type { NormalizedLead } from './lead';
import type { Period, PoolDefinition } from './policy/types';
import type { LeadInput } from './leadSchema';
import type { PolicyTrace, Via } from './policy/engine';
import type { SkipReason } from './routing';
import type { AccountMatch, EnrichmentFacts } from './routing';
import type { UpstreamCallRecord } from './upstream';

export type LeadStatus =
  | 'received'
  | 'matching'
  | 'deciding'
  | 'deferred'
  | 'assigning'
  | 'notifying'
  | 'routed'
  | 'accepted'
  | 'failed'
  | 'closed';

export interface RouteLeadInput {
  leadId: string;
  tenantId: string;
  lead: LeadInput;
  /** ISO instant the API accepted the lead. */
  receivedAt: string;
  idempotencyKey: string;
  /**
   * A follow-up run on the same lead ID: the lead's run had closed when a reassignment came,
   * so this run starts from the final state of the last one and applies the reassignment.
   */
  followUp?: { previous: LeadState; reassign: ReassignRequest };
}

export interface StepTiming {
  step: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  outcome: 'ok' | 'degraded' | 'failed' | null;
  note: string | null;
}

export interface OwnerRef {
  id: string;
  name: string | null;
  /** The policy rule that chose the owner; null for the fallback of an unmatched lead or a manual reassignment. */
  ruleId: string | null;
  /** How: the account owner, a pool strategy, a named owner, the fallback, or manual reassignment. */
  via: Via;
  assignedAt: string;
}

export interface NotificationRecord {
  kind: 'assignment' | 'reassignment' | 'reassigned_away' | 'fallback' | 'fan_out' | 'reminder' | 'escalation' | 'escalated_away';
  recipient: string;
  messageId: string | null;
  at: string;
  error: string | null;
}

export interface ReassignRequest {
  ownerId: string;
  reason: string;
  actor: string;
  /** Set by the API so a retried request does not reassign twice. */
  requestId: string;
}

export interface AcceptRequest {
  actor: string;
  via: 'api' | 'slack' | 'link';
  /** Who the accepting notification was for: a stale button of an earlier owner accepts nothing. */
  ownerId: string | null;
}

/** The acceptance clock of the current owner. */
export interface SlaClock {
  ownerId: string;
  seconds: number;
  startedAt: string;
  /** The owner is reminded at `dueAt`; the lead moves on at `escalateAt` unless accepted. */
  dueAt: string;
  escalateAt: string;
  reminded: boolean;
}

export interface EscalationRecord {
  n: number;
  from: string;
  to: string;
  at: string;
  reason: string;
  crmWritten: boolean;
}

export interface ReassignmentRecord {
  requestId: string;
  from: string | null;
  to: string;
  reason: string;
  actor: string;
  at: string;
  crmWritten: boolean;
  error: string | null;
}

export interface FailureRecord {
  step: string;
  type: string;
  message: string;
}

/** Everything the lead's status endpoint shows; the workflow's `leadState` query returns it. */
export interface LeadState {
  leadId: string;
  tenantId: string;
  status: LeadStatus;
  receivedAt: string;
  routedAt: string | null;
  lead: NormalizedLead | null;
  policyVersion: string | null;
  enrichment: EnrichmentFacts | null;
  account: AccountMatch | null;
  decision: PolicyTrace | null;
  /** When the lead waits for the earliest opening: until when. */
  deferredUntil: string | null;
  owner: OwnerRef | null;
  crmLeadId: string | null;
  /** The running SLA clock; null once accepted, or when the lead is with the fallback. */
  sla: SlaClock | null;
  accepted: { at: string; actor: string; via: AcceptRequest['via']; ownerId: string } | null;
  escalations: EscalationRecord[];
  /** Owners who let this lead's SLA lapse: never offered it again. */
  lapsed: string[];
  /** The pool member credited with this lead (escalations and reassignments move it); null when no pool counts it. */
  poolCredit: { poolId: string; repId: string } | null;
  notifications: NotificationRecord[];
  reassignments: ReassignmentRecord[];
  timings: StepTiming[];
  /** Every upstream call that answered, in order: system, operation, status, rate-limit state. */
  upstream: UpstreamCallRecord[];
  failures: FailureRecord[];
}

/** A follow-up run's input (leadFollowUp): the lead's first-run input with the state and request it carries on. */
export type LeadFollowUpInput = RouteLeadInput & { followUp: NonNullable<RouteLeadInput['followUp']> };

export interface RouteLeadResult {
  leadId: string;
  status: LeadStatus;
  ownerId: string | null;
  ruleId: string | null;
}

export interface ClaimRequest {
  leadId: string;
  pool: PoolDefinition;
  /** Members the lead found available (HRIS, calendar, hours); the pool applies pauses and caps. */
  eligible: string[];
  /** The policy's time zone: calendar periods for caps. */
  timeZone: string;
  /** An escalation: the lapsing owner whose credit for this lead goes back, so it counts once. */
  releases?: string | null;
  /** Business-clock offset of the caller (see src/clock.ts); absent in real time. */
  clockOffsetMs?: number;
}

/** Moves a lead's pool credit on manual reassignment (idempotent by `transferId`). */
export interface TransferRequest {
  transferId: string;
  from: string | null;
  to: string | null;
  timeZone: string;
  /** Business-clock offset of the caller (see src/clock.ts); absent in real time. */
  clockOffsetMs?: number;
}

export type ClaimResult =
  | {
      ok: true;
      ownerId: string;
      /** True when this lead had already claimed: the earlier answer is returned, nothing counted twice. */
      duplicate: boolean;
      skipped: Array<{ repId: string; reason: Extract<SkipReason['code'], 'cap_reached' | 'paused'>; detail: string }>;
    }
  | { ok: false; skipped: Array<{ repId: string; reason: Extract<SkipReason['code'], 'cap_reached' | 'paused'>; detail: string }> };

/** What a pool would answer a claim now, without claiming. */
export type PoolPreview = { ok: true; ownerId: string; skipped: ClaimResult['skipped'] } | { ok: false; skipped: ClaimResult['skipped'] };

export interface PoolStatsRequest {
  pool: PoolDefinition;
  period: Period;
  timeZone: string;
  /** Business-clock offset of the caller (see src/clock.ts); absent in real time. */
  clockOffsetMs?: number;
}
