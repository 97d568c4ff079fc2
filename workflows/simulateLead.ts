import { normalizeLead } from '../src/domain/lead';
import type { LeadInput } from '../src/domain/leadSchema';
import { decidePolicy, recordPoolSkips, type PolicyTrace } from '../src/domain/policy/engine';
import type { EffectivePolicy } from '../src/domain/policy/store';
import type { AccountMatch, EnrichmentFacts } from '../src/domain/routing';
import { checkAvailability, enrich, local, matchAccount, summary } from './steps';
import { LeadTracker } from './tracker';

export interface SimulateLeadInput {
  tenantId: string;
  lead: LeadInput;
  /** A draft to try instead of the published policy. */
  draft?: EffectivePolicy;
}

export interface SimulateLeadResult {
  decision: PolicyTrace;
  /** Who would get the lead now: for a pool, the member the pool entity would pick (nothing is claimed). */
  wouldAssign: { ownerId: string; via: string } | { deferredUntil: string };
  enrichment: EnrichmentFacts;
  account: AccountMatch;
  upstream: LeadTracker['state']['upstream'];
}

/**
 * The preview ops teams use before publishing: the same live reads and the same decision as a
 * real lead, and a peek at the pool, but no claim, no CRM write and no notification.
 */
export async function simulateLead(input: SimulateLeadInput): Promise<SimulateLeadResult> {
  const t = new LeadTracker({ leadId: 'simulation', tenantId: input.tenantId, lead: input.lead, receivedAt: new Date(Date.now()).toISOString(), idempotencyKey: 'simulation' });
  const lead = normalizeLead(input.lead);
  const loaded = await local.loadRoutingConfig.executeWithOptions(summary(`routing config of ${input.tenantId}`), [{ tenantId: input.tenantId }]);
  t.clockOffsetMs = loaded.clockOffsetMs ?? 0;
  const policy = input.draft ?? loaded.policy;
  const [enrichment, account, facts] = await Promise.all([
    enrich(t, input.tenantId, lead, loaded.config),
    matchAccount(t, input.tenantId, lead),
    checkAvailability(t, input.tenantId, loaded.config, 0),
  ]);
  const { plan, trace } = decidePolicy({ policy, team: loaded.config.team, lead, enrichment, account, ...facts, atMs: t.now() });
  let wouldAssign: SimulateLeadResult['wouldAssign'];
  if (plan.kind === 'defer') wouldAssign = { deferredUntil: plan.until };
  else if (plan.kind === 'pool') {
    const preview = await local.previewPool.executeWithOptions(summary(`preview pool ${plan.pool.id}`), [
      { tenantId: input.tenantId, request: { pool: plan.pool, eligible: plan.eligible, timeZone: policy.policy.timezone, ...t.clockFields() } },
    ]);
    recordPoolSkips(trace, preview.skipped);
    wouldAssign = preview.ok ? { ownerId: preview.ownerId, via: plan.via } : { ownerId: policy.policy.fallback.ownerId, via: 'fallback' };
  } else wouldAssign = { ownerId: plan.ownerId, via: plan.via };
  return { decision: trace, wouldAssign, enrichment, account, upstream: t.state.upstream };
}
