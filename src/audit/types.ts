import type { StepTiming } from '../domain/leadState';

/** What the audit answers: a lead's timeline entries and durations (GET /v1/leads/:id/audit). */

export type AuditKind =
  | 'received'
  | 'follow_up'
  | 'policy'
  | 'upstream_call'
  | 'retry'
  | 'enrichment'
  | 'account_match'
  | 'availability'
  | 'decision'
  | 'pool_claim'
  | 'pool_credit'
  | 'crm_write'
  | 'notification'
  | 'timer'
  | 'signal'
  | 'escalation'
  | 'reassignment'
  | 'accepted'
  | 'status'
  | 'failure'
  | 'activity'
  | 'completed';

export interface AuditEntry {
  /**
   * ISO instant of the history event. The decision's is when the workflow task that made it was
   * recorded, with its status change and claim or CRM assignment (`data.evaluatedAt` is when it
   * was evaluated, at the start of that task).
   */
  at: string;
  /** The run the entry belongs to. */
  run: string;
  kind: AuditKind;
  /** Who caused it: a person or API key for requests and signals, `system:sla` for escalations; null for the engine's own steps. */
  actor: string | null;
  summary: string;
  data?: Record<string, unknown>;
}

export interface AuditTimeline {
  entries: AuditEntry[];
  durations: {
    /** From the lead's receipt to the first notification of its owner (or the fallback channel); null until then. */
    endToEndMs: number | null;
    perStep: StepTiming[];
  };
}

/** Who escalations are attributed to: the SLA clock, not a person. */
export const SLA_ACTOR = 'system:sla';
