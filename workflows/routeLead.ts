import {
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { decide } from '../src/domain/decision';
import { matchDomains, normalizeLead } from '../src/domain/lead';
import type { LeadStatus, ReassignmentRecord, ReassignRequest, RouteLeadInput, RouteLeadResult } from '../src/domain/leadState';
import type {
  AccountMatch,
  CalendarFacts,
  EnrichmentFacts,
  HrisFacts,
  RoutingConfig,
  RoutingRule,
} from '../src/domain/routing';
import { LeadDomain, LeadOwner, LeadTenant, RoutingRule as RoutingRuleKey, RoutingStatus } from '../src/temporal/searchAttributes';
import { leadStateQuery, reassignSignal } from './messages';
import { describeFailure as failureOf, LeadTracker } from './tracker';

/** Errors that retrying cannot fix: fail the activity at once and take the degraded path. */
const PERMANENT = ['UpstreamRejected', 'UpstreamAuthFailed', 'UpstreamNotFound', 'MappingError', 'ConnectionMisconfigured'];

/** `maximumAttempts` omitted = until the schedule-to-close timeout. */
const retry = (maximumInterval: Duration, maximumAttempts?: number): RetryPolicy => ({
  initialInterval: '200ms',
  backoffCoefficient: 2,
  maximumInterval,
  ...(maximumAttempts === undefined ? {} : { maximumAttempts }),
  nonRetryableErrorTypes: PERMANENT,
});

/** Reads the worker's own configuration: no server round trip, and its result (with the version) is still in history. */
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '5s', retry: retry('1s', 5) });
/** Steps that gate routing: short timeouts, a bounded budget, then the lead moves on without them. */
const gating = proxyActivities<Activities>({
  startToCloseTimeout: '5s',
  scheduleToCloseTimeout: '45s',
  retry: retry('5s', 8),
});
/** Enrichment is nice to have: a small budget, and its failure never blocks routing. */
const enrichment = proxyActivities<Activities>({
  startToCloseTimeout: '4s',
  scheduleToCloseTimeout: '12s',
  retry: retry('2s', 3),
});
/** The pool entity serializes every claim of its pool: give it time under load rather than retrying into it. */
const claims = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2m',
  retry: retry('5s'),
});
/** Writes after the decision: they must land, so they retry for longer (idempotency keys make that safe). */
const writes = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '10m',
  retry: retry('30s'),
});

/** One line for an activity's summary in the Web UI. */
function summary(text: string): { summary: string } {
  return { summary: text.slice(0, 200) };
}

/**
 * One lead, from submission to an owner who knows about it:
 * normalize → enrich → (match account ∥ HRIS ∥ calendar) → decide → assign in CRM → notify,
 * then stay open for manual reassignment. Every fact and the decision's trace are in history.
 */
export async function routeLead(input: RouteLeadInput): Promise<RouteLeadResult> {
  const t = new LeadTracker(input);
  const reassignments: ReassignRequest[] = [];
  setHandler(leadStateQuery, () => t.state);
  setHandler(reassignSignal, (req) => {
    reassignments.push(req);
  });

  const setStatus = (status: LeadStatus): void => {
    t.state.status = status;
    upsertSearchAttributes([{ key: RoutingStatus, value: status }]);
  };

  const lead = normalizeLead(input.lead);
  t.state.lead = lead;
  upsertSearchAttributes([
    { key: LeadTenant, value: input.tenantId },
    { key: LeadDomain, value: lead.companyDomain ?? lead.emailDomain },
    { key: RoutingStatus, value: 'received' },
  ]);

  const config: RoutingConfig = await t.step('load_config', () =>
    local.loadRoutingConfig.executeWithOptions(summary(`routing config of ${input.tenantId}`), [{ tenantId: input.tenantId }]),
  );
  t.state.policyVersion = config.version;

  // Enrichment runs beside the reads: none of them needs it, and the decision sees all four.
  setStatus('matching');
  const companyDomain = lead.companyDomain;
  const emails = config.team.map((m) => m.email);
  const windowStart = new Date(Date.now()).toISOString();
  const windowEnd = new Date(Date.now() + 30 * 60_000).toISOString();
  const domains = matchDomains(lead);
  const [enriched, account, hris, calendar] = await Promise.all([
    companyDomain
      ? t.optionalStep(
          'enrich',
          () => enrichment.enrichCompany.executeWithOptions(summary(`enrich ${companyDomain}`), [{ tenantId: input.tenantId, domain: companyDomain }]),
          (err): EnrichmentFacts => ({ status: 'unavailable', reason: failureOf(err).message }),
        )
      : t.skipStep('enrich', { status: 'skipped', reason: 'no company domain (free email, no website)' } as EnrichmentFacts),
    domains.length === 0
      ? t.skipStep('match_account', { status: 'none', domains: [] } as AccountMatch)
      : t.optionalStep(
          'match_account',
          () => gating.matchAccount.executeWithOptions(summary(`match account ${domains.join(', ')}`), [{ tenantId: input.tenantId, domains }]),
          (err): AccountMatch => ({ status: 'unavailable', reason: failureOf(err).message }),
        ),
    t.optionalStep(
      'check_hris',
      () => gating.lookupEmployees.executeWithOptions(summary(`HRIS status of ${emails.length} reps`), [{ tenantId: input.tenantId, emails }]),
      (err): HrisFacts => ({ status: 'unavailable', reason: failureOf(err).message }),
    ),
    t.optionalStep(
      'check_calendar',
      () =>
        gating.lookupCalendars.executeWithOptions(summary(`calendars of ${emails.length} reps`), [
          { tenantId: input.tenantId, emails, start: windowStart, end: windowEnd },
        ]),
      (err): CalendarFacts => ({ status: 'unavailable', reason: failureOf(err).message }),
    ),
  ]);
  t.state.enrichment = enriched;
  t.state.account = account;

  setStatus('deciding');
  const decision = decide({ config, account, hris, calendar, atMs: Date.now() });
  let ownerId: string;
  let rule: RoutingRule = decision.plan.rule;
  if (decision.plan.kind === 'pool') {
    const plan = decision.plan;
    ownerId = await t.optionalStep(
      'claim_round_robin',
      async () =>
        (
          await claims.claimRoundRobin.executeWithOptions(summary(`round robin in pool ${plan.poolId}`), [
            { tenantId: input.tenantId, poolId: plan.poolId, request: { leadId: input.leadId, roster: plan.roster, eligible: plan.eligible } },
          ])
        ).ownerId,
      // The pool entity could not answer in time: take the first eligible rep rather than wait.
      () => plan.eligible[0] ?? config.fallback.ownerId,
    );
  } else {
    ownerId = decision.plan.ownerId;
  }
  t.state.decision = { ...decision.trace, ownerId };
  upsertSearchAttributes([{ key: RoutingRuleKey, value: rule }]);

  setStatus('assigning');
  const ownerName = (id: string) => config.team.find((m) => m.id === id)?.name ?? (id === config.fallback.ownerId ? config.fallback.label : null);
  try {
    const written = await t.step('assign_crm', () =>
      writes.assignOwner.executeWithOptions(summary(`assign ${ownerId} in CRM`), [
        { tenantId: input.tenantId, lead, ownerId, idempotencyKey: `${input.leadId}:assign` },
      ]),
    );
    t.state.crmLeadId = written.crmLeadId;
  } catch (err) {
    // The CRM refused the write: tell the fallback channel so a person picks the lead up.
    t.fail('assign_crm', failureOf(err));
    setStatus('failed');
    await notifyFallback(t, config, input, `CRM assignment failed (${failureOf(err).message})`);
    return { leadId: input.leadId, status: 'failed', ownerId: null, rule: null };
  }
  t.state.owner = { id: ownerId, name: ownerName(ownerId), rule, assignedAt: new Date(Date.now()).toISOString() };
  upsertSearchAttributes([{ key: LeadOwner, value: ownerId }]);

  setStatus('notifying');
  const owner = config.team.find((m) => m.id === ownerId);
  if (owner) {
    await t.notify('assignment', owner.email, `notify:${ownerId}:0`, () =>
      writes.notify.executeWithOptions(summary(`notify ${owner.email}`), [
        {
          tenantId: input.tenantId,
          recipient: { email: owner.email },
          text: `New lead for you: ${lead.fullName} <${lead.email}>${lead.company ? ` at ${lead.company}` : ''}. Why you: ${decision.trace.reason}. Lead ${input.leadId}.`,
          idempotencyKey: `${input.leadId}:notify:0`,
        },
      ]),
    );
  } else {
    await notifyFallback(t, config, input, decision.trace.reason);
  }

  t.state.routedAt = new Date(Date.now()).toISOString();
  setStatus('routed');

  // Stay open for manual reassignment until the hold-open window ends.
  const closeAt = Date.parse(t.state.routedAt) + config.holdOpenSeconds * 1000;
  for (;;) {
    const remaining = closeAt - Date.now();
    if (reassignments.length === 0 && (remaining <= 0 || !(await condition(() => reassignments.length > 0, remaining)))) break;
    const req = reassignments.shift();
    if (!req) continue;
    if (t.state.reassignments.some((r) => r.requestId === req.requestId)) continue;
    const previous: string | null = t.state.owner?.id ?? null;
    const record: ReassignmentRecord = { requestId: req.requestId, from: previous, to: req.ownerId, reason: req.reason, actor: req.actor, at: new Date(Date.now()).toISOString(), crmWritten: false, error: null };
    t.state.reassignments.push(record);
    const n = t.state.reassignments.length;
    try {
      const crmLeadId = t.state.crmLeadId;
      await t.step(`reassign_crm_${n}`, () =>
        writes.changeOwner.executeWithOptions(summary(`reassign to ${req.ownerId} by ${req.actor}`), [
          { tenantId: input.tenantId, crmLeadId: crmLeadId ?? '', ownerId: req.ownerId, idempotencyKey: `${input.leadId}:reassign:${req.requestId}` },
        ]),
      );
      record.crmWritten = true;
    } catch (err) {
      record.error = failureOf(err).message;
      t.fail(`reassign_crm_${n}`, failureOf(err));
      continue;
    }
    rule = 'manual';
    t.state.owner = { id: req.ownerId, name: ownerName(req.ownerId), rule, assignedAt: record.at };
    upsertSearchAttributes([
      { key: LeadOwner, value: req.ownerId },
      { key: RoutingRuleKey, value: rule },
    ]);
    const newOwner = config.team.find((m) => m.id === req.ownerId);
    const oldOwner = config.team.find((m) => m.id === previous);
    if (newOwner) {
      await t.notify('reassignment', newOwner.email, `notify:${req.ownerId}:r${n}`, () =>
        writes.notify.executeWithOptions(summary(`notify ${newOwner.email} of reassignment`), [
          {
            tenantId: input.tenantId,
            recipient: { email: newOwner.email },
            text: `Lead reassigned to you by ${req.actor}: ${lead.fullName} <${lead.email}>. Reason: ${req.reason}. Lead ${input.leadId}.`,
            idempotencyKey: `${input.leadId}:reassign:${req.requestId}:to`,
          },
        ]),
      );
    }
    if (oldOwner && oldOwner.id !== req.ownerId) {
      await t.notify('reassigned_away', oldOwner.email, `notify:${oldOwner.id}:away${n}`, () =>
        writes.notify.executeWithOptions(summary(`tell ${oldOwner.email} the lead moved`), [
          {
            tenantId: input.tenantId,
            recipient: { email: oldOwner.email },
            text: `Lead ${lead.fullName} <${lead.email}> was reassigned to ${newOwner?.name ?? req.ownerId} by ${req.actor}. Reason: ${req.reason}.`,
            idempotencyKey: `${input.leadId}:reassign:${req.requestId}:from`,
          },
        ]),
      );
    }
  }

  setStatus('closed');
  return { leadId: input.leadId, status: 'closed', ownerId: t.state.owner?.id ?? null, rule };
}

async function notifyFallback(t: LeadTracker, config: RoutingConfig, input: RouteLeadInput, why: string): Promise<void> {
  const channel = config.fallback.notifyChannel;
  if (!channel) {
    t.note('notify_fallback', 'no fallback channel configured; the lead is visible under its fallback owner');
    return;
  }
  const lead = t.state.lead;
  await t.notify('fallback', channel, 'notify:fallback', () =>
    writes.notify.executeWithOptions(summary(`notify fallback channel ${channel}`), [
      {
        tenantId: input.tenantId,
        recipient: { channel },
        text: `Lead needs an owner: ${lead?.fullName ?? ''} <${lead?.email ?? ''}>. ${why}. Lead ${input.leadId}.`,
        idempotencyKey: `${input.leadId}:notify:fallback`,
      },
    ]),
  );
}
