import { patched, sleep, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { normalizeLead } from '../src/domain/lead';
import type { RouteLeadInput, RouteLeadResult } from '../src/domain/leadState';
import { decidePolicy, recordPoolSkips, type PolicyDecision, type PolicyTrace, type Via } from '../src/domain/policy/engine';
import type { EffectivePolicy } from '../src/domain/policy/store';
import { LeadDomain, LeadTenant, RoutingRule, RoutingStatus } from '../src/temporal/searchAttributes';
import { assignNamedOwner, followThroughAndClose, lifecycleContext, releaseCredit } from './lifecycle';
import { followUpRun } from './followUp';
import { openLeadRun } from './leadRun';
import { checkAvailability, claimFirstTry, claims, enrich, firstTryLocally, loadRouting, localWritesFor, matchAccount, ownerNameOf, summary, writesFor } from './steps';

import { describeFailure as failureOf, type LeadTracker } from './tracker';

type Writes = ReturnType<typeof writesFor>;
import { leadKeys, leadSteps, transferReasons } from '../src/protocol/keys';
import { notificationTexts } from '../src/protocol/notifications';

/** A lead waits for an opening at most this many times before it takes the fallback. */
const MAX_DEFERRALS = 5;

/**
 * One lead, from submission to an owner who knows about it:
 * normalize → load policy → (enrich ∥ match account ∥ HRIS ∥ calendar) → decide (defer and decide
 * again while nobody is open) → claim from the pool → assign in CRM → notify, then stay open for
 * manual reassignment. Every fact and the decision's trace are in history.
 */
export async function routeLead(input: RouteLeadInput): Promise<RouteLeadResult> {
  const run = openLeadRun(input);
  const { t, reassignments, setStatus } = run;
  const tenantId = input.tenantId;

  // Follow-up runs are leadFollowUp runs now; ones started as routeLead before it existed still
  // run (and replay) here.
  if (input.followUp) return followUpRun(run, input, input.followUp);

  // A lean history: the upstream reads run as local activities (each read's answer is still in
  // history, as a marker), and search attributes and memo change only with the statuses that
  // matter, together (see LeadRun.lean). Runs recorded before it replay the way they ran.
  run.lean = patched('lean-lead-history');
  run.holdOwner = run.lean;
  t.localReads = run.lean;

  const lead = normalizeLead(input.lead);
  t.state.lead = lead;
  // The API starts a lead with these already set: a lean run sets them only if its starter did not.
  if (!run.lean || workflowInfo().typedSearchAttributes.get(LeadTenant) === undefined) {
    upsertSearchAttributes([
      { key: LeadTenant, value: tenantId },
      { key: LeadDomain, value: lead.companyDomain ?? lead.emailDomain },
      { key: RoutingStatus, value: 'received' },
    ]);
  }

  const { config, policy } = await loadRouting(t, tenantId);
  t.state.policyVersion = policy.version;

  setStatus('matching');
  const [enriched, account, availability] = await Promise.all([
    enrich(t, tenantId, lead, config),
    matchAccount(t, tenantId, lead),
    checkAvailability(t, tenantId, config, 0),
  ]);
  t.state.enrichment = enriched;
  t.state.account = account;

  setStatus('deciding');
  let facts = availability;
  let decision: PolicyDecision = decidePolicy({ policy, team: config.team, lead, enrichment: enriched, account, ...facts, atMs: t.now() });
  for (let deferrals = 1; decision.plan.kind === 'defer'; deferrals++) {
    t.state.decision = decision.trace;
    if (deferrals > MAX_DEFERRALS) {
      decision = fallbackAfterDeferrals(decision, policy);
      break;
    }
    // A durable timer: the lead waits for the earliest opening even across restarts.
    t.state.deferredUntil = decision.plan.until;
    setStatus('deferred');
    await t.step(leadSteps.deferred(deferrals), () =>
      sleep(
        Math.max(0, Date.parse(decision.plan.kind === 'defer' ? decision.plan.until : '') - t.now()),
        summary(`deferral: nobody can take the lead now; deciding again at ${t.state.deferredUntil}`),
      ),
    );
    t.state.deferredUntil = null;
    setStatus('deciding');
    facts = await checkAvailability(t, tenantId, config, deferrals);
    decision = decidePolicy({ policy, team: config.team, lead, enrichment: enriched, account, ...facts, atMs: t.now() });
  }

  const owner = await claimOwner(t, tenantId, input.leadId, decision, policy);
  t.state.decision = { ...decision.trace, ownerId: owner.id, via: owner.via };
  const ruleId = owner.via === 'fallback' && decision.trace.flagged ? null : (decision.trace.rule?.id ?? null);
  // The decision's trace goes into history itself (a memo change is a history event), so the
  // Web UI and the audit show why, even once the run is closed. Patched: runs already in flight
  // replay without it. A lean run sends both with the status `assigning`, in one step.
  if (run.lean) run.stage([{ key: RoutingRule, value: ruleId ?? 'fallback' }], { decision: memoOf(t.state.decision) });
  else {
    upsertSearchAttributes([{ key: RoutingRule, value: ruleId ?? 'fallback' }]);
    if (patched('decision-in-history')) upsertMemo({ decision: memoOf(t.state.decision) });
  }

  // From here on the lead's urgency sets how long its writes may retry.
  const writes = writesFor(decision.trace.urgency, policy);
  setStatus('assigning');
  const ownerName = (id: string) => ownerNameOf(config, policy, id);
  try {
    const assign = { tenantId, lead, ownerId: owner.id, idempotencyKey: leadKeys.assign(input.leadId) };
    const what = `assign ${owner.id} in CRM`;
    const written = await t.step(leadSteps.assignCrm, () =>
      firstTryLocally(
        t,
        what,
        () => localWritesFor(decision.trace.urgency, policy).assignOwner.executeWithOptions(summary(what), [assign]),
        () => writes.assignOwner.executeWithOptions(summary(what), [assign]),
      ),
    );
    t.state.crmLeadId = written.crmLeadId;
  } catch (err) {
    // The CRM refused the write: tell the triage channel so a person picks the lead up.
    t.fail(leadSteps.assignCrm, failureOf(err));
    setStatus('failed');
    run.holdOwner = false;
    const ctx = lifecycleContext(run, input, { config, policy }, t.state.decision, lead);
    if (decision.plan.kind === 'pool' && owner.via !== 'fallback' && patched('crm-refusal-returns-pool-credit')) {
      // The pool counted the lead for a rep the CRM never got it for: the credit goes back.
      t.state.poolCredit = { poolId: decision.plan.pool.id, repId: owner.id };
      await releaseCredit(ctx, owner.id, transferReasons.crmRefused);
    }
    await notifyChannel(t, writes, tenantId, input.leadId, policy.policy.fallback.notifyChannel ?? null, 'fallback', notificationTexts.needsOwner({ lead, leadId: input.leadId, why: `CRM assignment failed (${failureOf(err).message})` }));
    // Triage may have named an owner while this run was still open: it is carried out here, not lost.
    if (!(await assignNamedOwner(ctx, reassignments))) return { leadId: input.leadId, status: 'failed', ownerId: null, ruleId };
    t.state.routedAt = new Date(t.now()).toISOString();
    setStatus('routed');
    return followThroughAndClose(ctx);
  }
  if (decision.plan.kind === 'pool' && owner.via !== 'fallback') t.state.poolCredit = { poolId: decision.plan.pool.id, repId: owner.id };
  run.setOwner({ id: owner.id, name: ownerName(owner.id), ruleId, via: owner.via, assignedAt: new Date(t.now()).toISOString() });

  setStatus('notifying');
  const rep = config.team.find((m) => m.id === owner.id);
  const why = t.state.decision.reason;
  if (rep) {
    await t.notify('assignment', rep.email, leadSteps.notifyOwner, () =>
      writes.notify.executeWithOptions(summary(`notify ${rep.email}`), [
        {
          tenantId,
          recipient: { email: rep.email },
          text: notificationTexts.assignment({ lead, leadId: input.leadId, hot: decision.trace.urgency === 'hot', why, slaSeconds: decision.trace.slaSeconds }),
          kind: 'assignment',
          idempotencyKey: leadKeys.ownerNotice(input.leadId),
          accept: { leadId: input.leadId, ownerId: owner.id },
        },
      ]),
    );
  } else {
    await notifyChannel(t, writes, tenantId, input.leadId, policy.policy.fallback.notifyChannel ?? null, 'fallback', notificationTexts.needsOwner({ lead, leadId: input.leadId, why }));
  }
  // Fan-out: the rule's extra endpoints hear about every lead it routes.
  for (const channel of decision.trace.notify) {
    await notifyChannel(t, writes, tenantId, input.leadId, channel, 'fan_out', notificationTexts.fanOut({ lead, leadId: input.leadId, owner: ownerName(owner.id) ?? owner.id, ruleId }));
  }

  t.state.routedAt = new Date(t.now()).toISOString();
  // A lean run's owner, its memo and the status go out here together.
  setStatus('routed');
  run.holdOwner = false;

  return followThroughAndClose(lifecycleContext(run, input, { config, policy }, t.state.decision, lead));
}

function fallbackAfterDeferrals(decision: PolicyDecision, policy: EffectivePolicy): PolicyDecision {
  const fallback = policy.policy.fallback;
  const reason = `${decision.trace.reason}; still nobody after ${MAX_DEFERRALS} deferrals, so the lead goes to the fallback ${fallback.label}`;
  return { plan: { kind: 'fallback', via: 'fallback', ownerId: fallback.ownerId }, trace: { ...decision.trace, reason, ownerId: fallback.ownerId, via: 'fallback' } };
}

/** Turns the plan into an owner: a pool plan claims from the pool's entity, which applies pauses and caps. */
async function claimOwner(t: LeadTracker, tenantId: string, leadId: string, decision: PolicyDecision, policy: EffectivePolicy): Promise<{ id: string; via: Via }> {
  const plan = decision.plan;
  const fallback = policy.policy.fallback;
  if (plan.kind === 'direct' || plan.kind === 'fallback') return { id: plan.ownerId, via: plan.via };
  if (plan.kind === 'defer') return { id: fallback.ownerId, via: 'fallback' };
  const request = { tenantId, request: { leadId, pool: plan.pool, eligible: plan.eligible, timeZone: policy.policy.timezone, ...t.clockFields() } };
  const what = `${plan.via} claim in pool ${plan.pool.id}`;
  const claimed = await t.optionalStep(
    leadSteps.claimFromPool,
    () =>
      firstTryLocally(
        t,
        what,
        () => claimFirstTry.claimFromPool.executeWithOptions(summary(what), [request]),
        () => claims.claimFromPool.executeWithOptions(summary(what), [request]),
      ),
    // The pool entity could not answer in time: the fallback owner takes the lead rather than nobody.
    (err) => ({ ok: false as const, skipped: [], error: failureOf(err).message }),
  );
  recordPoolSkips(decision.trace, claimed.skipped);
  if (claimed.ok) return { id: claimed.ownerId, via: plan.via };
  const why = 'error' in claimed ? `pool ${plan.pool.id} did not answer (${claimed.error})` : `every available member of pool ${plan.pool.id} is at a cap or paused`;
  decision.trace.reason = `${decision.trace.reason}; ${why}, so the lead goes to the fallback ${fallback.label}`;
  return { id: fallback.ownerId, via: 'fallback' };
}

async function notifyChannel(t: LeadTracker, writes: Writes, tenantId: string, leadId: string, channel: string | null, kind: 'fallback' | 'fan_out', text: string): Promise<void> {
  if (!channel) {
    t.note(leadSteps.notifyChannel(kind, null), 'no channel configured; the lead is visible under its owner');
    return;
  }
  await t.notify(kind, channel, leadSteps.notifyChannel(kind, channel), () =>
    writes.notify.executeWithOptions(summary(`notify channel ${channel}`), [
      { tenantId, recipient: { channel }, text, kind, idempotencyKey: leadKeys.channelNotice(leadId, kind, channel) },
    ]),
  );
}

/** The part of a decision worth keeping in history: who, by which rule and version, and why each candidate was or was not eligible. */
function memoOf(trace: PolicyTrace) {
  return {
    policyVersion: trace.policyVersion,
    rule: trace.rule?.id ?? null,
    via: trace.via,
    ownerId: trace.ownerId,
    urgency: trace.urgency,
    reason: trace.reason,
    flagged: trace.flagged,
    candidates: trace.candidates.map((c) => ({ repId: c.repId, eligible: c.eligible, reasons: c.reasons.map((r) => `${r.code}: ${r.detail}`) })),
  };
}
