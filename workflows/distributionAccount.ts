import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  acquireProbe,
  emptyAccountState,
  endpointBreakers,
  recordResult,
  refund,
  release,
  requestProblem,
  reserve,
  settle,
  snapshot,
  statsFor,
  tally,
  type AccountKind,
  type AccountState,
  type BreakerTransition,
  type EndpointName,
  type EndpointResult,
  type TallyRequest,
} from '../src/distribution/account';
import type { BreakerSettings } from '../src/distribution/model';
import {
  accountProbeUpdate,
  accountRefundUpdate,
  accountReleaseUpdate,
  accountReportSignal,
  accountReserveUpdate,
  accountResultsUpdate,
  accountSettleUpdate,
  accountSnapshotQuery,
  accountStatsQuery,
  accountTallySignal,
  type AccountResultsAnswer,
  type AccountSnapshotAnswer,
} from '../src/distribution/messages';

export interface DistributionAccountInput {
  tenantId: string;
  kind: AccountKind;
  accountId: string;
  /** Carried across continue-as-new. */
  state?: AccountState;
}

/** How to call the queries, for whoever asks without a request. */
const QUERY_USAGE =
  'accountSnapshot takes {"atMs": <epoch ms>, "limits": {"timeZone", "caps": {hour,day,week,month}, "budget": {day,month}}, "breakers"?: {"ping"|"post": settings}}; accountStats takes {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}. Without an argument: the snapshot at the latest request, and every day kept.';

/** Continue-as-new well before the history grows large, and before the server's cap on Updates per run (2,000 by default). */
const MAX_HISTORY_EVENTS = 10_000;
const MAX_CHANGES_PER_RUN = 1_000;

const reject = (problem: string | null) => {
  if (problem !== null) throw new Error(problem);
};

/**
 * One long-running entity per buyer and per supplier: caps and budgets per calendar period,
 * reservations, endpoint breakers and statistics. Handlers never await, so operations apply one
 * at a time in history order: however many leads reserve at once, caps and budgets are exact.
 * Limits arrive with each request (a new configuration version applies at once), and so does the
 * time: requests carry their instant from the caller's business clock, so the entity never reads
 * a clock (reservations expire against the instants of later requests).
 */
export async function distributionAccount(input: DistributionAccountInput): Promise<void> {
  const state: AccountState = input.state ?? emptyAccountState();
  let changesThisRun = 0;
  const changed = () => {
    changesThisRun += 1;
  };

  /** An operation on the state, counted towards continue-as-new; bad requests are refused before they reach history. */
  const op =
    <A, R>(apply: (s: AccountState, req: A) => R) =>
    (req: A): R => {
      changed();
      return apply(state, req);
    };
  const validator = { validator: (req: Parameters<typeof requestProblem>[0]) => reject(requestProblem(req)) };
  setHandler(accountReserveUpdate, op(reserve), validator);
  setHandler(accountSettleUpdate, op(settle), validator);
  setHandler(accountReleaseUpdate, op(release), validator);
  setHandler(accountRefundUpdate, op(refund), validator);
  setHandler(accountProbeUpdate, op(acquireProbe), validator);

  /** Applies the valid results (a bad one is skipped: a signal cannot be refused). */
  const applyResults = (results: EndpointResult[]): BreakerTransition[] => {
    changed();
    const transitions: BreakerTransition[] = [];
    for (const r of results) if (requestProblem(r) === null) transitions.push(...recordResult(state, r));
    return transitions;
  };
  setHandler(
    accountResultsUpdate,
    (results): AccountResultsAnswer => {
      const transitions = applyResults(results);
      const atMs = Math.max(state.last?.atMs ?? 0, ...results.map((r) => r.atMs));
      const settings: Partial<Record<EndpointName, BreakerSettings>> = {};
      for (const r of results) settings[r.endpoint] = r.settings;
      return { transitions, breakers: endpointBreakers(state, atMs, settings) };
    },
    {
      validator: (results) => {
        if (!Array.isArray(results)) throw new Error('results must be an array');
        results.forEach((r, i) => reject(requestProblem(r) && `results[${i}]: ${requestProblem(r)}`));
      },
    },
  );
  setHandler(accountReportSignal, (results) => {
    if (Array.isArray(results)) applyResults(results);
  });
  setHandler(accountTallySignal, (requests: TallyRequest[]) => {
    if (!Array.isArray(requests)) return;
    changed();
    for (const req of requests) if (requestProblem(req) === null) tally(state, req);
  });

  // Read-only views. Asked without a request (the Web UI and the CLI send none), they answer for
  // the latest request's instant and limits, and for every day kept.
  setHandler(
    accountSnapshotQuery,
    (req): AccountSnapshotAnswer => {
      if (req) return snapshot(state, req.atMs, req.limits, req.breakers);
      const last = state.last ?? { atMs: 0, limits: { timeZone: 'UTC', caps: {}, budget: {} } };
      return { usage: QUERY_USAGE, ...snapshot(state, last.atMs, last.limits) };
    },
    { description: `Usage and headroom per period, reservations, breakers. ${QUERY_USAGE}` },
  );
  setHandler(accountStatsQuery, (req) => statsFor(state, req ?? { from: '0000-01-01', to: '9999-12-31' }), { description: `Daily statistics summed. ${QUERY_USAGE}` });

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS || changesThisRun >= MAX_CHANGES_PER_RUN);
  await condition(allHandlersFinished);
  await continueAsNew<typeof distributionAccount>({ ...input, state });
}
