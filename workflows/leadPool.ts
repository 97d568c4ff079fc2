import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { nextInRotation } from '../src/domain/decision';
import type { ClaimRequest, ClaimResult } from '../src/domain/leadState';
import { claimUpdate, poolStatsQuery } from './messages';

export interface PoolState {
  lastAssigned: string | null;
  counts: Record<string, number>;
  total: number;
  /** Recent claims, oldest first: a retried claim gets its first answer back. */
  recent: Array<[leadId: string, ownerId: string]>;
}

export interface LeadPoolInput {
  tenantId: string;
  poolId: string;
  state?: PoolState;
}

/** Claims remembered for deduplication; far more than can be in flight at once. */
const DEDUP_WINDOW = 10_000;
/** Continue-as-new well before the history grows large. */
const MAX_HISTORY_EVENTS = 10_000;

/**
 * One long-running entity per pool. Every claim is an Update, and the handler runs without
 * awaiting, so claims are applied one at a time in history order: the round-robin pointer and
 * counts are exact however many leads claim at once, and survive restarts with the history.
 */
export async function leadPool(input: LeadPoolInput): Promise<void> {
  const state: PoolState = input.state ?? { lastAssigned: null, counts: {}, total: 0, recent: [] };
  const recent = new Map(state.recent);

  setHandler(
    claimUpdate,
    (req: ClaimRequest): ClaimResult => {
      const previous = recent.get(req.leadId);
      if (previous !== undefined) return { ownerId: previous, duplicate: true, assignedInPool: state.counts[previous] ?? 0 };
      const ownerId = nextInRotation(req.roster, req.eligible, state.lastAssigned);
      if (ownerId === null) throw new Error('no eligible member to claim');
      state.lastAssigned = ownerId;
      state.counts[ownerId] = (state.counts[ownerId] ?? 0) + 1;
      state.total += 1;
      recent.set(req.leadId, ownerId);
      if (recent.size > DEDUP_WINDOW) {
        const oldest = recent.keys().next().value;
        if (oldest !== undefined) recent.delete(oldest);
      }
      return { ownerId, duplicate: false, assignedInPool: state.counts[ownerId] };
    },
    {
      validator: (req: ClaimRequest) => {
        if (req.eligible.length === 0) throw new Error('eligible must not be empty');
        const roster = new Set(req.roster);
        const stranger = req.eligible.find((id) => !roster.has(id));
        if (stranger !== undefined) throw new Error(`eligible member ${stranger} is not in the roster`);
      },
    },
  );

  setHandler(poolStatsQuery, () => ({
    poolId: input.poolId,
    lastAssigned: state.lastAssigned,
    counts: { ...state.counts },
    total: state.total,
  }));

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS);
  await condition(allHandlersFinished);
  await continueAsNew<typeof leadPool>({ ...input, state: { ...state, recent: [...recent.entries()] } });
}
