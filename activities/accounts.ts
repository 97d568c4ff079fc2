import { ApplicationFailure } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import {
  ACCOUNT_REQUEST_REJECTED,
  ENDPOINTS,
  emptyAccountState,
  snapshot,
  type AccountKind,
  type AccountLimits,
  type AccountSnapshot,
  type EndpointName,
  type EndpointResult,
  type ProbeRequest,
  type ProbeResult,
  type RefundRequest,
  type RefundResult,
  type ReserveRequest,
  type ReserveResult,
  type SettleRequest,
  type SettleResult,
  type TallyRequest,
} from '../src/distribution/account';
import type { BreakerBoard } from '../src/distribution/breakerBoard';
import {
  accountProbeUpdate,
  accountRefundUpdate,
  accountReleaseUpdate,
  accountReserveUpdate,
  accountResultsUpdate,
  accountSettleUpdate,
  accountSnapshotQuery,
  accountTallySignal,
  type AccountResultsAnswer,
} from '../src/distribution/messages';
import type { BreakerSettings } from '../src/distribution/model';
import { accountWorkflowId } from '../src/protocol/ids';
import { distributionAccount } from '../workflows';
import { cancellable } from './context';

export interface AccountActivityDeps {
  /** Client used to reach the account entity workflows (update-with-start). */
  temporal: Client;
  /** Task queue of the entity workflows. */
  entityTaskQueue: string;
  /** Where breaker states go for /metrics (optional: tests and tools run without one). */
  breakers?: BreakerBoard;
}

/** Which account: a buyer's or a supplier's. */
export interface AccountRef {
  tenantId: string;
  kind: AccountKind;
  accountId: string;
}

const NO_LIMITS: AccountLimits = { timeZone: 'UTC', caps: {}, budget: {} };

/** Calls on the account entity workflows: caps and budget, breakers, statistics. */
export function createAccountActivities(deps: AccountActivityDeps) {
  const { temporal } = deps;
  const workflowId = (ref: AccountRef) => accountWorkflowId(ref.tenantId, ref.kind, ref.accountId);
  const startOperation = (ref: AccountRef) =>
    new WithStartWorkflowOperation(distributionAccount, {
      workflowId: workflowId(ref),
      taskQueue: deps.entityTaskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ tenantId: ref.tenantId, kind: ref.kind, accountId: ref.accountId }],
    });

  /** An update on the account, starting it if it is not running; a refused request fails for good. */
  async function update<R, A>(ref: AccountRef, definition: UpdateDefinition<R, [A]>, request: A): Promise<R> {
    try {
      return await cancellable(temporal, () => temporal.workflow.executeUpdateWithStart(definition, { args: [request], startWorkflowOperation: startOperation(ref) }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw ApplicationFailure.nonRetryable(`${ref.kind} account ${ref.accountId} refused ${definition.name}: ${err.cause?.message ?? err.message}`, ACCOUNT_REQUEST_REJECTED);
      }
      throw err;
    }
  }

  const buyer = (tenantId: string, accountId: string): AccountRef => ({ tenantId, kind: 'buyer', accountId });

  return {
    /** Holds the lead against the account's caps and budget before a post; idempotent by lead. */
    async reserveWithAccount(input: AccountRef & { request: ReserveRequest }): Promise<ReserveResult> {
      return update(input, accountReserveUpdate, input.request);
    },

    /** The sale: the reservation becomes a sale at its final amount; counted once per lead. */
    async settleWithAccount(input: AccountRef & { request: SettleRequest }): Promise<SettleResult> {
      return update(input, accountSettleUpdate, input.request);
    },

    /** No sale: the reservation goes; answers whether one was held. */
    async releaseWithAccount(input: AccountRef & { request: { leadId: string } }): Promise<boolean> {
      return update(input, accountReleaseUpdate, input.request);
    },

    /** An approved return: cap and budget back where the sale's periods are current; revenue reversed. */
    async refundWithAccount(input: AccountRef & { request: RefundRequest }): Promise<RefundResult> {
      return update(input, accountRefundUpdate, input.request);
    },

    /** Asks the buyer's breaker to let this lead call the endpoint (the half-open probe goes to one lead at a time). */
    async acquireProbe(input: { tenantId: string; buyerId: string; request: ProbeRequest }): Promise<ProbeResult> {
      const result = await update(buyer(input.tenantId, input.buyerId), accountProbeUpdate, input.request);
      deps.breakers?.observe(input.tenantId, input.buyerId, input.request.endpoint, result.state, result.transitionCounts);
      return result;
    },

    /** Endpoint call results for many buyers at once (in parallel); answers each buyer's transitions and breakers. */
    async reportEndpointResults(input: { tenantId: string; accounts: Array<{ accountId: string; results: EndpointResult[] }> }): Promise<Array<{ accountId: string } & AccountResultsAnswer>> {
      return Promise.all(
        input.accounts
          .filter((a) => a.results.length > 0)
          .map(async (a) => {
            const answer = await update(buyer(input.tenantId, a.accountId), accountResultsUpdate, a.results);
            deps.breakers?.observeAll(input.tenantId, a.accountId, answer.breakers);
            return { accountId: a.accountId, ...answer };
          }),
      );
    },

    /** Statistics for many accounts at once (signals, in parallel); each lead and key counts once. */
    async tallyAccounts(input: { tenantId: string; tallies: Array<{ kind: AccountKind; accountId: string; requests: TallyRequest[] }> }): Promise<void> {
      await Promise.all(
        input.tallies
          .filter((t) => t.requests.length > 0)
          .map((t) => {
            const ref: AccountRef = { tenantId: input.tenantId, kind: t.kind, accountId: t.accountId };
            return cancellable(temporal, () =>
              temporal.workflow.signalWithStart(distributionAccount, {
                workflowId: workflowId(ref),
                taskQueue: deps.entityTaskQueue,
                args: [{ tenantId: ref.tenantId, kind: ref.kind, accountId: ref.accountId }],
                signal: accountTallySignal,
                signalArgs: [t.requests],
              }),
            );
          }),
      );
    },

    /**
     * Usage, headroom and breakers of several accounts at `atMs` under each one's limits (queries:
     * nothing changes). An account that never ran answers an empty snapshot.
     */
    async accountSnapshots(input: {
      tenantId: string;
      kind: AccountKind;
      ids: string[];
      atMs: number;
      limits: Record<string, AccountLimits>;
      breakers?: Record<string, Partial<Record<EndpointName, BreakerSettings>>>;
    }): Promise<Record<string, AccountSnapshot>> {
      const entries = await Promise.all(
        input.ids.map(async (id): Promise<[string, AccountSnapshot]> => {
          const request = { atMs: input.atMs, limits: input.limits[id] ?? NO_LIMITS, ...(input.breakers?.[id] ? { breakers: input.breakers[id] } : {}) };
          let answer: AccountSnapshot;
          try {
            answer = await cancellable(temporal, () => temporal.workflow.getHandle(workflowId({ tenantId: input.tenantId, kind: input.kind, accountId: id })).query(accountSnapshotQuery, request));
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
            answer = snapshot(emptyAccountState(), request.atMs, request.limits, request.breakers);
          }
          if (input.kind === 'buyer' && deps.breakers) {
            for (const endpoint of ENDPOINTS) {
              const counts = answer.transitionCounts[endpoint];
              if (counts || answer.breakers[endpoint].state !== 'closed') deps.breakers.observe(input.tenantId, id, endpoint, answer.breakers[endpoint].state, counts);
            }
          }
          return [id, answer];
        }),
      );
      return Object.fromEntries(entries);
    },
  };
}
