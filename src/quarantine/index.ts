import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ApiContext } from '../api/context';
import { canonicalJson } from '../canonicalJson';
import { logger } from '../log';
import { quarantineWorkflowId } from '../protocol/ids';
import { LeadSource, LeadTenant, QuarantineStatus } from '../temporal/searchAttributes';
import { quarantine } from '../../workflows';
import { DEFAULT_QUARANTINE_HOLD_MS, MAX_QUARANTINE_HOLD_MS, MIN_QUARANTINE_HOLD_MS, type QuarantineInput, type QuarantineIssue } from './model';

export * from './model';

/** What a source hands over when an event fails its mapping or the lead schema: the workflow's input less what is derived here. */
export type QuarantineRequest = Omit<QuarantineInput, 'quarantineId' | 'holdMs'>;

/** Kept of each failure: enough to name what to fix, bounded so a pathological payload cannot bloat the run. */
const MAX_ISSUES = 50;
const MAX_REASON = 1_000;
const MAX_FIELD = 200;
const MAX_MESSAGE = 500;
/** The memo is what the listing shows without a query: the reason shortened further. */
const MEMO_REASON = 300;

const log = logger('quarantine');

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const clip = (value: string, max: number) => (value.length > max ? `${value.slice(0, max - 1)}…` : value);

/**
 * The quarantine ID of an event: from its tenant, source and the provider's event ID, or a hash
 * of the event itself when the provider gives none. So a redelivery of the same event finds the
 * same ID, and so the same workflow: it is not kept twice.
 */
export function quarantineIdFor(tenantId: string, sourceId: string, eventId: string | null, event: unknown): string {
  const key = eventId !== null ? `event:${eventId}` : `hash:${sha256(canonicalJson(event))}`;
  return `qr_${sha256(`${tenantId}\n${sourceId}\n${key}`).slice(0, 24)}`;
}

/** The issues as kept: at most 50, each field and message capped. */
export function keptIssues(issues: ReadonlyArray<{ field: string; message: string }>): QuarantineIssue[] {
  return issues.slice(0, MAX_ISSUES).map((i) => ({ field: clip(String(i.field), MAX_FIELD), message: clip(String(i.message), MAX_MESSAGE) }));
}

/** The hold this deployment configured, within its bounds. */
export function holdMsOf(ctx: Pick<ApiContext, 'quarantineHoldMs'>): number {
  const configured = ctx.quarantineHoldMs ?? DEFAULT_QUARANTINE_HOLD_MS;
  return Math.min(MAX_QUARANTINE_HOLD_MS, Math.max(MIN_QUARANTINE_HOLD_MS, configured));
}

/**
 * The run's memo: what the listing shows of each payload without asking a worker (visibility
 * returns it with the row). It goes through the payload codec like the input; the search
 * attributes carry only the tenant, the source's ID and the status.
 */
export interface QuarantineMemo {
  kind: string;
  reason: string;
  /** The first failing field, or null when the failure names none. */
  field: string | null;
  fields: string[];
  receivedAt: string;
}

export function quarantineMemo(input: Pick<QuarantineInput, 'kind' | 'reason' | 'issues' | 'receivedAt'>): QuarantineMemo {
  const fields = [...new Set(input.issues.map((i) => i.field))].slice(0, 10);
  return { kind: input.kind, reason: clip(input.reason, MEMO_REASON), field: fields[0] ?? null, fields, receivedAt: input.receivedAt };
}

/**
 * Keeps a source payload that failed its mapping or the lead schema in a quarantine workflow of
 * its own, ID `quarantine:<tenantId>:<quarantineId>`. A redelivery of the same event finds the
 * workflow already there (running, or closed and still within retention) and answers its ID with
 * `duplicate: true`: nothing is kept twice.
 */
export async function quarantinePayload(ctx: ApiContext, input: QuarantineRequest): Promise<{ quarantineId: string; duplicate: boolean }> {
  const quarantineId = quarantineIdFor(input.tenantId, input.sourceId, input.eventId, input.event);
  const workflowId = quarantineWorkflowId(input.tenantId, quarantineId);
  const args: QuarantineInput = {
    quarantineId,
    tenantId: input.tenantId,
    sourceId: input.sourceId,
    kind: input.kind,
    eventId: input.eventId,
    receivedAt: input.receivedAt,
    event: input.event,
    reason: clip(input.reason, MAX_REASON),
    issues: keptIssues(input.issues),
    holdMs: holdMsOf(ctx),
  };
  try {
    await ctx.client.workflow.start(quarantine, {
      workflowId,
      taskQueue: ctx.taskQueue,
      args: [args],
      // A redelivery, concurrent or later, fails here and answers the first one's ID; a closed
      // quarantine (replayed, discarded, expired) is never started again while retention keeps it.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { ...quarantineMemo(args) },
      staticSummary: `Quarantined ${input.kind} event from ${input.sourceId}`,
      typedSearchAttributes: [
        { key: LeadTenant, value: input.tenantId },
        { key: LeadSource, value: input.sourceId },
        { key: QuarantineStatus, value: 'held' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { quarantineId, duplicate: true };
    throw err;
  }
  // Field names only: the reason and the payload may carry the lead's personal data.
  log.info('quarantine workflow started', { tenant: input.tenantId, source: input.sourceId, kind: input.kind, quarantineId, fields: args.issues.map((i) => i.field).join(',') });
  return { quarantineId, duplicate: false };
}
