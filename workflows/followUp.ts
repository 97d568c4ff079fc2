import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { normalizeLead } from '../src/domain/lead';
import type { LeadFollowUpInput, RouteLeadInput, RouteLeadResult } from '../src/domain/leadState';
import { leadSteps } from '../src/protocol/keys';
import { LeadDomain, LeadTenant } from '../src/temporal/searchAttributes';
import type { LeadRun } from './leadRun';
import { openLeadRun } from './leadRun';
import { assignNamedOwner, followThroughAndClose, lifecycleContext } from './lifecycle';
import { loadRouting } from './steps';

/**
 * A reassignment after the lead's run closed: the same lead (same workflow ID), its final state
 * carried over, the request applied, then the lifecycle as in the first run.
 */
export async function leadFollowUp(input: LeadFollowUpInput): Promise<RouteLeadResult> {
  return followUpRun(openLeadRun(input), input, input.followUp);
}

/** The follow-up's story, for leadFollowUp and for follow-ups started as routeLead before it existed. */
export async function followUpRun(run: LeadRun, input: RouteLeadInput, follow: LeadFollowUpInput['followUp']): Promise<RouteLeadResult> {
  const { t, reassignments, setStatus } = run;
  Object.assign(t.state, follow.previous);
  const previous = follow.previous;
  const lead = previous.lead ?? normalizeLead(input.lead);
  const { config, policy } = await loadRouting(t, input.tenantId);
  const decision = previous.decision;
  if (!decision) {
    t.note(leadSteps.followUp, 'the lead never reached a decision, so there is nothing to reassign');
    setStatus(previous.status);
    return { leadId: input.leadId, status: previous.status, ownerId: null, ruleId: null };
  }
  const ctx = lifecycleContext(run, input, { config, policy }, decision, lead);
  reassignments.unshift(follow.reassign);
  // The first run failed to assign (the CRM refused): a person now names the owner, so the lead is
  // created in the CRM with them, as the first run would have. Otherwise the lifecycle moves it.
  if (!previous.owner && !(await assignNamedOwner(ctx, reassignments))) {
    setStatus('failed');
    return { leadId: input.leadId, status: 'failed', ownerId: null, ruleId: null };
  }
  upsertSearchAttributes([
    { key: LeadTenant, value: input.tenantId },
    { key: LeadDomain, value: lead.companyDomain ?? lead.emailDomain },
  ]);
  setStatus(previous.accepted && previous.owner ? 'accepted' : 'routed');
  t.state.routedAt = new Date(t.now()).toISOString();
  if (!patched('lead-credit-in-state') && previous.owner) {
    // Follow-ups recorded before the pool credit was kept in the lead's state derived it from how
    // the owner was reached: replay them the same way.
    const via = previous.owner.via;
    const pooled = via === 'round_robin' || via === 'weighted' || via === 'load_balanced' || via === 'escalation';
    t.state.poolCredit = pooled && decision.escalationPool ? { poolId: decision.escalationPool, repId: previous.owner.id } : null;
  }
  return followThroughAndClose(ctx);
}
