import { ApplicationFailure } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { BusinessClock } from '../src/clock';
import type { ClaimRequest, ClaimResult, PoolPreview, TransferRequest } from '../src/domain/leadState';
import { claim, emptyPoolState } from '../src/domain/pools';
import { poolWorkflowId } from '../src/protocol/ids';
import { claimUpdate, poolPreviewQuery, transferClaimUpdate } from '../src/protocol/messages';
import { cancellable } from './context';
import { POOL_CLAIM_REJECTED } from '../src/protocol/failures';
import { leadPool } from '../workflows';

export interface PoolActivityDeps {
  /** Client used to reach pool entity workflows (update-with-start). */
  temporal: Client;
  /** Task queue of the pool entity workflows. */
  entityTaskQueue: string;
  clock: BusinessClock;
}

/** Calls on the pool entity workflows: claim, preview, transfer. */
export function createPoolActivities(deps: PoolActivityDeps) {
  const { temporal, clock } = deps;
  return {
    /** Claims the next owner from the pool's entity workflow, starting it if it is not running. */
    async claimFromPool(input: { tenantId: string; request: ClaimRequest }): Promise<ClaimResult & { claimedFrom?: ClaimedFrom }> {
      const poolId = input.request.pool.id;
      const startOperation = new WithStartWorkflowOperation(leadPool, {
        workflowId: poolWorkflowId(input.tenantId, poolId),
        taskQueue: deps.entityTaskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ tenantId: input.tenantId, poolId }],
      });
      try {
        const result = await cancellable(temporal, () =>
          temporal.workflow.executeUpdateWithStart(claimUpdate, { args: [input.request], startWorkflowOperation: startOperation }),
        );
        // What it claimed from, for the audit of a lean run, whose first try is a local activity
        // (its marker records the result, not the request).
        return { ...result, claimedFrom: { poolId, strategy: input.request.pool.strategy, eligible: input.request.eligible } };
      } catch (err) {
        // The pool's validator rejected the claim: asking again cannot help.
        if (err instanceof WorkflowUpdateFailedError) {
          throw ApplicationFailure.nonRetryable(`pool ${poolId} rejected the claim: ${err.cause?.message ?? err.message}`, POOL_CLAIM_REJECTED);
        }
        throw err;
      }
    },

    /** Who the pool would pick now, without claiming: for simulations. A pool that never ran starts empty. */
    async previewPool(input: { tenantId: string; request: Omit<ClaimRequest, 'leadId'> }): Promise<PoolPreview> {
      try {
        return await cancellable(temporal, () =>
          temporal.workflow.getHandle(poolWorkflowId(input.tenantId, input.request.pool.id)).query(poolPreviewQuery, input.request),
        );
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        const outcome = claim(emptyPoolState(), { ...input.request, atMs: clock.now() });
        return outcome.ok ? { ok: true, ownerId: outcome.repId, skipped: outcome.skipped } : { ok: false, skipped: outcome.skipped };
      }
    },

    /** Moves a lead's pool credit on manual reassignment (idempotent by transfer ID). */
    async transferClaim(input: { tenantId: string; poolId: string; request: TransferRequest }): Promise<boolean> {
      return cancellable(temporal, () => temporal.workflow.getHandle(poolWorkflowId(input.tenantId, input.poolId)).executeUpdate(transferClaimUpdate, { args: [input.request] }));
    },
  };
}

/** The pool a claim was made in and who was eligible: echoed in the activity's result. */
export interface ClaimedFrom {
  poolId: string;
  strategy: string;
  eligible: string[];
}
