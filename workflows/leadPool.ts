import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ClaimRequest, ClaimResult, PoolPreview, PoolStatsRequest, TransferRequest } from '../src/domain/leadState';
import { claim, emptyPoolState, poolCounts, poolStats, rollPeriods, transfer, type PoolCounts, type PoolState } from '../src/domain/pools';
import { claimUpdate, poolQueriesAsAnswered, transferClaimUpdate } from '../src/protocol/messages';
import { businessTimeOf, type ClockOffset } from '../src/protocol/clock';

export interface LeadPoolInput {
  tenantId: string;
  poolId: string;
  state?: PoolState;
  /** Recent claims, oldest first: a retried claim gets its first answer back. */
  recent?: Array<[leadId: string, ownerId: string]>;
}

/** Business time for a request: the workflow's clock plus the caller's simulation offset, if any. */
const businessNow = (req: ClockOffset | undefined): number => businessTimeOf(req, Date.now());

/** How to call the pool's queries, for whoever asks without a request. */
const QUERY_USAGE =
  'poolStats takes {"pool": <pool definition>, "period": "day"|"week"|"month", "timeZone"} (or use GET /v1/pools/:pool/stats), poolPreview takes {"pool", "eligible": [repIds], "timeZone"}; without an argument, both answer with the current counts.';

/** Claims remembered for deduplication; far more than can be in flight at once. */
const DEDUP_WINDOW = 10_000;
/** Continue-as-new well before the history grows large, and before the server's cap on Updates per run (2,000 by default). */
const MAX_HISTORY_EVENTS = 10_000;
const MAX_CLAIMS_PER_RUN = 1_000;

/**
 * One long-running entity per pool. Every claim is an Update whose handler runs without awaiting,
 * so claims apply one at a time in history order: round-robin pointers, weighted credits, period
 * counts and caps are exact however many leads claim at once, and survive restarts with the history.
 * The pool's definition arrives with each claim, so a newly published policy applies at once.
 */
export async function leadPool(input: LeadPoolInput): Promise<void> {
  let state: PoolState = input.state ?? emptyPoolState();
  const recent = new Map(input.recent ?? []);
  let claimsThisRun = 0;
  /** Keeps the dedup window bounded whatever is recorded (claims and transfers alike). */
  const remember = (key: string, value: string) => {
    recent.set(key, value);
    while (recent.size > DEDUP_WINDOW) {
      const oldest = recent.keys().next().value;
      if (oldest === undefined) break;
      recent.delete(oldest);
    }
  };

  setHandler(
    claimUpdate,
    (req: ClaimRequest): ClaimResult => {
      claimsThisRun += 1;
      const previous = recent.get(req.leadId);
      if (previous !== undefined) return { ok: true, ownerId: previous, duplicate: true, skipped: [] };
      const outcome = claim(state, { pool: req.pool, eligible: req.eligible, atMs: businessNow(req), timeZone: req.timeZone });
      state = outcome.state;
      if (!outcome.ok) return { ok: false, skipped: outcome.skipped };
      // An escalation: the lapsing owner's credit for this lead goes back in the same step.
      if (req.releases) state = transfer(state, { from: req.releases, to: null, atMs: businessNow(req), timeZone: req.timeZone });
      remember(req.leadId, outcome.repId);
      return { ok: true, ownerId: outcome.repId, duplicate: false, skipped: outcome.skipped };
    },
    {
      validator: (req: ClaimRequest) => {
        if (req.pool.id !== input.poolId) throw new Error(`claim for pool ${req.pool.id} sent to pool ${input.poolId}`);
        const members = new Set(req.pool.members.map((m) => m.repId));
        const stranger = req.eligible.find((id) => !members.has(id));
        if (stranger !== undefined) throw new Error(`eligible member ${stranger} is not in pool ${input.poolId}`);
      },
    },
  );

  setHandler(transferClaimUpdate, (req: TransferRequest): boolean => {
    const key = `transfer:${req.transferId}`;
    if (recent.has(key)) return false;
    state = transfer(state, { from: req.from, to: req.to, atMs: businessNow(req), timeZone: req.timeZone });
    remember(key, req.to ?? '');
    return true;
  });

  // Read-only views: the same pure functions on a copy, so a query never changes the pool. Asked
  // without a request (the Web UI and the CLI send none), both answer with the pool's counts.
  const counts = (): PoolCounts => poolCounts(state, QUERY_USAGE);
  setHandler(
    poolQueriesAsAnswered.stats,
    (req?: PoolStatsRequest) => (req?.pool ? poolStats(rollPeriods(state, businessNow(req), req.timeZone), req.pool, req.period) : counts()),
    { description: `Assignments per member against target shares. ${QUERY_USAGE}` },
  );
  setHandler(
    poolQueriesAsAnswered.preview,
    (req?: Omit<ClaimRequest, 'leadId'>): PoolPreview | PoolCounts => {
      if (!req?.pool) return counts();
      const outcome = claim(state, { pool: req.pool, eligible: req.eligible, atMs: businessNow(req), timeZone: req.timeZone });
      return outcome.ok ? { ok: true, ownerId: outcome.repId, skipped: outcome.skipped } : { ok: false, skipped: outcome.skipped };
    },
    { description: `Who the pool would pick now, without claiming. ${QUERY_USAGE}` },
  );

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS || claimsThisRun >= MAX_CLAIMS_PER_RUN);
  await condition(allHandlersFinished);
  await continueAsNew<typeof leadPool>({ ...input, state, recent: [...recent.entries()] });
}
