import { isGrpcServiceError, WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { logger } from '../log';
import { erasureLogWorkflowId, erasuresQuery, recordErasureUpdate, type ErasedRun, type ErasureRecord, type ErasuresPage, type ErasuresRequest, type RecordErasureRequest } from '../protocol/erasures';
import { entityTaskQueue } from '../protocol/ids';
import { erasureLog } from '../../workflows';

const log = logger('erasure');

const NOT_FOUND = 5;

function notFound(err: unknown): boolean {
  for (let at: unknown = err, depth = 0; at && depth < 5; at = (at as { cause?: unknown }).cause, depth++) {
    if (at instanceof WorkflowNotFoundError) return true;
    if (isGrpcServiceError(at) && at.code === NOT_FOUND) return true;
  }
  return false;
}

export interface WorkflowRuns {
  /** The latest run's status (`RUNNING`, `COMPLETED`, …); null when the workflow ID has no run (never started, or erased). */
  latestStatus: string | null;
  /** Every run Temporal still has under the workflow ID, the latest first. */
  runs: ErasedRun[];
}

const statusName = (code: number | null | undefined) => (temporal.api.enums.v1.WorkflowExecutionStatus[code ?? 0] ?? 'UNSPECIFIED').replace('WORKFLOW_EXECUTION_STATUS_', '');
const literal = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The runs of a workflow ID: the latest from the workflow service itself (consistent), the
 * earlier ones (a lead's follow-up runs start under the same ID once the one before has closed)
 * from visibility. Only the latest can be open, so when it has closed every run has.
 */
export async function workflowRuns(client: Client, namespace: string, workflowId: string): Promise<WorkflowRuns> {
  let latest: temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
  try {
    latest = await client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } });
  } catch (err) {
    if (notFound(err)) return { latestStatus: null, runs: [] };
    throw err;
  }
  const latestRunId = latest.workflowExecutionInfo?.execution?.runId ?? '';
  const runs: ErasedRun[] = [{ workflowId, runId: latestRunId }];
  let nextPageToken: Uint8Array = Buffer.alloc(0);
  do {
    const page = await client.workflowService.listWorkflowExecutions({ namespace, query: `WorkflowId = ${literal(workflowId)}`, pageSize: 100, nextPageToken });
    for (const run of page.executions) {
      const runId = run.execution?.runId;
      if (run.execution?.workflowId === workflowId && runId && !runs.some((r) => r.runId === runId)) runs.push({ workflowId, runId });
    }
    nextPageToken = page.nextPageToken ?? Buffer.alloc(0);
  } while (nextPageToken.length > 0);
  return { latestStatus: statusName(latest.workflowExecutionInfo?.status), runs };
}

/**
 * Deletes runs from Temporal: their history, mutable state and visibility records
 * (DeleteWorkflowExecution; an open run would be terminated first, so callers delete closed runs
 * only). A run already gone counts as deleted. The server deletes in the background: this waits,
 * up to `waitMs`, until each run is no longer found, and says whether they all went.
 */
export async function deleteRuns(client: Client, namespace: string, runs: readonly ErasedRun[], waitMs = 5_000): Promise<boolean> {
  await Promise.all(
    runs.map((run) =>
      client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: run.workflowId, runId: run.runId } }).catch((err: unknown) => {
        if (!notFound(err)) throw err;
      }),
    ),
  );
  const deadline = Date.now() + waitMs;
  let left = [...runs];
  while (left.length > 0) {
    const still = await Promise.all(
      left.map((run) =>
        client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: run.workflowId, runId: run.runId } }).then(
          () => true,
          (err: unknown) => (notFound(err) ? false : Promise.reject(err)),
        ),
      ),
    );
    left = left.filter((_, i) => still[i]);
    if (left.length === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return left.length === 0;
}

/**
 * Deletes a short-lived run that holds personal data and has no audit value once answered (a
 * policy simulation carries the lead it tries), without holding up the answer: a failure is
 * logged (by workflow type, never the ID's data) and the run then leaves with the namespace
 * retention. An open run (its caller gave up waiting) is terminated by the delete.
 */
export function discardRun(client: Client, namespace: string, workflowId: string, runId?: string): void {
  client.workflowService
    .deleteWorkflowExecution({ namespace, workflowExecution: { workflowId, ...(runId ? { runId } : {}) } })
    .catch((err: unknown) => {
      if (!notFound(err)) log.warn('could not delete a finished run; it stays until the namespace retention removes it', { type: workflowId.split(':')[0] ?? '', error: String((err as Error)?.message ?? err) });
    });
}

/** Records an erasure in the tenant's erasure log (started on first use), and answers the record. */
export function recordErasure(client: Client, taskQueue: string, tenantId: string, req: RecordErasureRequest): Promise<ErasureRecord> {
  return client.workflow.executeUpdateWithStart(recordErasureUpdate, {
    args: [req],
    startWorkflowOperation: new WithStartWorkflowOperation(erasureLog, {
      workflowId: erasureLogWorkflowId(tenantId),
      taskQueue: entityTaskQueue(taskQueue),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ tenantId }],
      staticSummary: `Erasure log of ${tenantId}`,
    }),
  });
}

/**
 * Whether the lead was erased: its record is the tombstone that keeps an erased lead from coming
 * back (a provider's redelivery of its event, a retried POST with its key, a reassignment racing
 * the erasure).
 */
export async function isErased(client: Client, tenantId: string, leadId: string): Promise<boolean> {
  return (await listErasures(client, tenantId, { leadId, limit: 1 })).erasures.length > 0;
}

/** A page of the tenant's erasure log, newest first (empty before the first erasure). */
export async function listErasures(client: Client, tenantId: string, req: ErasuresRequest = {}): Promise<ErasuresPage> {
  try {
    return await client.workflow.getHandle(erasureLogWorkflowId(tenantId)).query(erasuresQuery, req);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { erasures: [], nextBefore: null };
    throw err;
  }
}
