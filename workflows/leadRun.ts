import { patched, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { AcceptRequest, LeadState, LeadStatus, ReassignRequest, RouteLeadInput } from '../src/domain/leadState';
import { acceptSignal, leadStateQuery, reassignSignal } from '../src/protocol/messages';
import { LeadOwner, RoutingRule, RoutingStatus } from '../src/temporal/searchAttributes';
import { LeadTracker } from './tracker';

/**
 * Statuses that last one step while the lead is being routed (an upstream read, the
 * notification): kept in the state the status query shows, but not worth a search attribute
 * change each (a history event and a visibility write per lead apiece) once the run writes a lean
 * history (see `LeadRun.lean`).
 */
const PASSING_STATUSES: ReadonlySet<LeadStatus> = new Set(['matching', 'deciding', 'notifying']);

/**
 * What every run of a lead has, whichever workflow it is (routeLead, leadFollowUp): its state, the
 * requests people send it, and the one way each of its status and its owner changes: the state,
 * the search attributes the Web UI filters by and the memo it shows, together.
 */
export interface LeadRun {
  t: LeadTracker;
  /** Reassignments and accepts, in the order they arrived, until the run takes them. */
  reassignments: ReassignRequest[];
  accepts: AcceptRequest[];
  setStatus(status: LeadStatus): void;
  /** A new owner: state, `LeadOwner` (and `RoutingRule = manual` for a person's choice), memo. */
  setOwner(owner: NonNullable<LeadState['owner']>, opts?: { manualRule?: boolean }): void;
  /**
   * Search attributes and memo fields that go out with the run's next status change (lean
   * history), or at once (runs recorded before it).
   */
  stage(attributes: SearchAttributeUpdatePair[], memo?: Record<string, unknown>): void;
  /**
   * True for runs that write a lean history (patch `lean-lead-history`, taken by routeLead): the
   * passing statuses stay out of the search attributes, and every other change of status, owner,
   * rule and memo goes out as one search-attribute change and one memo change with the next
   * status that matters (assigning, deferred, routed, failed, accepted, closed). Until the lead is
   * routed (`holdOwner`), a new owner waits for that status too.
   */
  lean: boolean;
  holdOwner: boolean;
}

/** Opens a run: its state query answers and its signals are taken from here on. */
export function openLeadRun(input: RouteLeadInput): LeadRun {
  const t = new LeadTracker(input);
  const reassignments: ReassignRequest[] = [];
  const accepts: AcceptRequest[] = [];
  setHandler(leadStateQuery, () => t.state);
  setHandler(reassignSignal, (req) => {
    reassignments.push(req);
  });
  setHandler(acceptSignal, (req) => {
    accepts.push(req);
  });
  const pending = new Map<string, SearchAttributeUpdatePair>();
  let pendingMemo: Record<string, unknown> | null = null;
  const flush = (): void => {
    if (pending.size) upsertSearchAttributes([...pending.values()]);
    if (pendingMemo) upsertMemo(pendingMemo);
    pending.clear();
    pendingMemo = null;
  };
  const run: LeadRun = {
    t,
    reassignments,
    accepts,
    lean: false,
    holdOwner: false,
    stage(attributes, memo) {
      for (const a of attributes) pending.set(a.key.name, a);
      if (memo) pendingMemo = { ...(pendingMemo ?? {}), ...memo };
      if (!run.lean) flush();
    },
    setStatus(status) {
      t.state.status = status;
      if (run.lean && PASSING_STATUSES.has(status)) return;
      run.stage([{ key: RoutingStatus, value: status }]);
      flush();
    },
    setOwner(owner, opts = {}) {
      t.state.owner = owner;
      run.stage([{ key: LeadOwner, value: owner.id }, ...(opts.manualRule ? [{ key: RoutingRule, value: 'manual' }] : [])]);
      const memo = ownerMemo(t, run.lean);
      if (memo) run.stage([], memo);
      if (!run.holdOwner) flush();
    },
  };
  return run;
}

/**
 * Keeps the run's memo (shown in the Web UI) true to the lead: the current owner, how they got
 * it, and every move so far. Patched: runs recorded before it replay without these memo changes
 * (lean runs have them from the start).
 */
function ownerMemo(t: LeadTracker, lean: boolean): Record<string, unknown> | null {
  if (!lean && !patched('owner-in-memo')) return null;
  const { owner, escalations, reassignments } = t.state;
  const moves = [
    ...escalations.filter((e) => e.crmWritten).map((e) => ({ kind: 'escalation', n: e.n, from: e.from, to: e.to, at: e.at, actor: 'system:sla', reason: e.reason })),
    ...reassignments.filter((r) => r.crmWritten).map((r) => ({ kind: 'reassignment', from: r.from, to: r.to, at: r.at, actor: r.actor, reason: r.reason })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return { owner: owner && { id: owner.id, name: owner.name, via: owner.via, ruleId: owner.ruleId, since: owner.assignedAt }, moves };
}
