import { patched, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { AcceptRequest, LeadState, LeadStatus, ReassignRequest, RouteLeadInput } from '../src/domain/leadState';
import { acceptSignal, leadStateQuery, reassignSignal } from '../src/protocol/messages';
import { LeadOwner, RoutingRule, RoutingStatus } from '../src/temporal/searchAttributes';
import { LeadTracker } from './tracker';

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
  const setStatus = (status: LeadStatus): void => {
    t.state.status = status;
    upsertSearchAttributes([{ key: RoutingStatus, value: status }]);
  };
  const setOwner = (owner: NonNullable<LeadState['owner']>, opts: { manualRule?: boolean } = {}): void => {
    t.state.owner = owner;
    upsertSearchAttributes([{ key: LeadOwner, value: owner.id }, ...(opts.manualRule ? [{ key: RoutingRule, value: 'manual' }] : [])]);
    ownerToMemo(t);
  };
  return { t, reassignments, accepts, setStatus, setOwner };
}

/**
 * Keeps the run's memo (shown in the Web UI) true to the lead: the current owner, how they got
 * it, and every move so far. Patched: runs recorded before it replay without these memo changes.
 */
function ownerToMemo(t: LeadTracker): void {
  if (!patched('owner-in-memo')) return;
  const { owner, escalations, reassignments } = t.state;
  const moves = [
    ...escalations.filter((e) => e.crmWritten).map((e) => ({ kind: 'escalation', n: e.n, from: e.from, to: e.to, at: e.at, actor: 'system:sla', reason: e.reason })),
    ...reassignments.filter((r) => r.crmWritten).map((r) => ({ kind: 'reassignment', from: r.from, to: r.to, at: r.at, actor: r.actor, reason: r.reason })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  upsertMemo({ owner: owner && { id: owner.id, name: owner.name, via: owner.via, ruleId: owner.ruleId, since: owner.assignedAt }, moves });
}
