import { isGrpcServiceError, type Connection } from '@temporalio/client';
import { msToTs, optionalTsToMs } from '@temporalio/common/lib/time';

/** How long Temporal keeps a closed run (history and visibility) unless LEADRELAY_RETENTION_DAYS says otherwise. */
export const DEFAULT_RETENTION_DAYS = 30;

const DAY_MS = 24 * 3600 * 1000;

export interface RetentionResult {
  namespace: string;
  /** What the namespace had before, in days (fractions for hours). */
  beforeDays: number | null;
  /** What it has now. */
  days: number | null;
  changed: boolean;
  /** Why the server refused the change (no permission to update the namespace, e.g. a managed service): it keeps its own. */
  refused: string | null;
}

/** gRPC codes of a namespace update this process is not allowed to make. */
const REFUSALS = new Set([7 /* PERMISSION_DENIED */, 12 /* UNIMPLEMENTED */, 16 /* UNAUTHENTICATED */]);

/**
 * Sets the namespace's retention period: how long Temporal keeps a closed workflow run (its
 * history, with the lead's data, and its visibility record) before deleting it. `npm start` calls
 * this after connecting, so the period is the one configured (LEADRELAY_RETENTION_DAYS), not
 * whatever the namespace was created with (the dev server creates `default` with 24 hours). The
 * namespace is only updated when it differs. A server that refuses the update (the namespace is
 * administered elsewhere) is reported, not fatal: then its own setting applies.
 */
export async function ensureRetention(connection: Connection, namespace: string, days: number): Promise<RetentionResult> {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`retention must be a positive number of days, not ${days}`);
  const described = await connection.workflowService.describeNamespace({ namespace });
  const beforeMs = optionalTsToMs(described.config?.workflowExecutionRetentionTtl) ?? null;
  const beforeDays = beforeMs === null ? null : beforeMs / DAY_MS;
  const wantMs = Math.round(days * DAY_MS);
  if (beforeMs === wantMs) return { namespace, beforeDays, days, changed: false, refused: null };
  try {
    // Only the retention is set: the server leaves every config field not given as it is.
    await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: msToTs(wantMs) } });
  } catch (err) {
    if (isGrpcServiceError(err) && REFUSALS.has(err.code)) return { namespace, beforeDays, days: beforeDays, changed: false, refused: err.details || err.message };
    throw err;
  }
  return { namespace, beforeDays, days, changed: true, refused: null };
}
