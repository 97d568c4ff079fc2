import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { AcceptRequest, LeadStatus, ReassignRequest, RouteLeadInput } from '../src/domain/leadState';
import { acceptSignal, leadStateQuery, reassignSignal } from '../src/protocol/messages';
import { RoutingStatus } from '../src/temporal/searchAttributes';
import { LeadTracker } from './tracker';

/**
 * What every run of a lead has, whichever workflow it is (routeLead, leadFollowUp): its state, the
 * requests people send it, and the one way its status changes (state and search attribute together).
 */
export interface LeadRun {
  t: LeadTracker;
  /** Reassignments and accepts, in the order they arrived, until the run takes them. */
  reassignments: ReassignRequest[];
  accepts: AcceptRequest[];
  setStatus(status: LeadStatus): void;
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
  return { t, reassignments, accepts, setStatus };
}
