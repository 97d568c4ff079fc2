import type { NormalizedLead } from './lead';
import type { LeadInput } from './leadSchema';
import type { AccountMatch, DecisionTrace, EnrichmentFacts, RoutingRule } from './routing';
import type { UpstreamCallRecord } from './upstream';

export type LeadStatus =
  | 'received'
  | 'matching'
  | 'deciding'
  | 'assigning'
  | 'notifying'
  | 'routed'
  | 'failed'
  | 'closed';

export interface RouteLeadInput {
  leadId: string;
  tenantId: string;
  lead: LeadInput;
  /** ISO instant the API accepted the lead. */
  receivedAt: string;
  idempotencyKey: string;
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
  rule: RoutingRule;
  assignedAt: string;
}

export interface NotificationRecord {
  kind: 'assignment' | 'reassignment' | 'reassigned_away' | 'fallback';
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
  decision: DecisionTrace | null;
  owner: OwnerRef | null;
  crmLeadId: string | null;
  notifications: NotificationRecord[];
  reassignments: ReassignmentRecord[];
  timings: StepTiming[];
  /** Every upstream call that answered, in order: system, operation, status, rate-limit state. */
  upstream: UpstreamCallRecord[];
  failures: FailureRecord[];
}

export interface RouteLeadResult {
  leadId: string;
  status: LeadStatus;
  ownerId: string | null;
  rule: RoutingRule | null;
}

export interface ClaimRequest {
  leadId: string;
  roster: string[];
  eligible: string[];
}

export interface ClaimResult {
  ownerId: string;
  /** True when this lead had already claimed: the earlier answer is returned, nothing counted twice. */
  duplicate: boolean;
  assignedInPool: number;
}

export interface PoolStats {
  poolId: string;
  lastAssigned: string | null;
  counts: Record<string, number>;
  total: number;
}
