/**
 * The plain pipeline: one lead routed in-process, with no Temporal, making the same HTTP calls to
 * the same emulators in the same order as a Leadrelay run. It calls the project's own activity
 * functions directly (so paths, query strings, headers, bodies and idempotency keys are the
 * connectors' own), outside any activity: no retries, no timeouts beyond the connectors' own,
 * nothing durable. What it leaves out is what durability costs: the API hop, workflow and
 * activity tasks, history, the payload codec, and the retries themselves (a call that fails
 * fails once: a read degrades as the workflow's would after its retries, a failed CRM write makes
 * the lead `failed`).
 *
 *   facts: enrichment ∥ account match ∥ HRIS ∥ calendar (the activities `enrichCompany`,
 *          `matchAccount`, `lookupEmployees`, `lookupCalendars`)
 *   decide: decidePolicy, the workflow's policy engine, with the policy read once at start;
 *          a pool plan claims from an in-memory pool (`claim`, the pool entity's own strategy code);
 *          a deferral is not waited for: the lead goes to the fallback
 *   write: `assignOwner` with the workflow's key (`<leadId>:assign`)
 *   notify: `notify` to the owner (`<leadId>:notify:0`), or the triage channel, then the rule's fan-out
 */
import type { Client } from '@temporalio/client';
import { createCalendarActivities } from '../activities/calendar';
import { createCrmActivities } from '../activities/crm';
import { createEnrichmentActivities } from '../activities/enrichment';
import { createHrisActivities } from '../activities/hris';
import { createMessagingActivities } from '../activities/messaging';
import { businessClock } from '../src/clock';
import { Connectors } from '../src/connectors/registry';
import { matchDomains, normalizeLead } from '../src/domain/lead';
import type { LeadInput } from '../src/domain/leadSchema';
import { decidePolicy } from '../src/domain/policy/engine';
import type { EffectivePolicy } from '../src/domain/policy/store';
import { claim, emptyPoolState, type PoolState } from '../src/domain/pools';
import type { AccountMatch, CalendarFacts, EnrichmentFacts, HrisFacts, RoutingConfig } from '../src/domain/routing';
import type { CallMeta, Upstream } from '../src/domain/upstream';
import { UpstreamFailure } from '../src/protocol/failures';
import { leadKeys } from '../src/protocol/keys';
import { notificationTexts } from '../src/protocol/notifications';
import { currentPolicy } from '../src/temporal/entities';
import type { TenantRegistry } from '../src/tenants/registry';

export interface PlainOutcome {
  leadId: string;
  status: 'routed' | 'failed';
  /** Upstream time on the critical path, as the workflow's is counted: the slowest read, then the CRM write. */
  upstreamMs: number;
  /** Calls that got a limit answer (each failed once: the plain pipeline does not retry). */
  rateLimited: number;
  error: string | null;
}

export interface PlainPipeline {
  route(input: LeadInput, leadId: string): Promise<PlainOutcome>;
}

const failureType = (err: unknown): string => (err as { type?: string }).type ?? '';
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A plain pipeline for one tenant. Its connectors are its own (own OAuth tokens, as another
 * process would have); the policy is the tenant's current one, read once here through Temporal.
 */
export async function createPlainPipeline(deps: { tenants: TenantRegistry; tenantId: string; temporal: Client }): Promise<PlainPipeline> {
  const { tenants, tenantId } = deps;
  const connectors = new Connectors(tenants);
  const config: RoutingConfig = { ...tenants.routingConfig(tenantId), connections: connectors.summaries(tenantId) };
  const policy: EffectivePolicy = await currentPolicy(deps.temporal, config);
  const enrichment = createEnrichmentActivities({ connectors });
  const crm = createCrmActivities({ connectors });
  const hris = createHrisActivities({ tenants, connectors, clock: businessClock });
  const calendar = createCalendarActivities({ connectors });
  const messaging = createMessagingActivities({ tenants, connectors });
  const pools = new Map<string, PoolState>();

  return {
    async route(input, leadId) {
      const lead = normalizeLead(input);
      const calls: Record<string, CallMeta[]> = {};
      let rateLimited = 0;
      /** A step's result without its calls (kept per step), or its degraded facts when it failed. */
      const step = async <T extends Upstream, D>(name: string, run: () => Promise<T>, degraded: (err: unknown) => D): Promise<Omit<T, 'calls'> | D> => {
        try {
          const { calls: made, ...rest } = await run();
          calls[name] = made;
          return rest;
        } catch (err) {
          if (failureType(err) === UpstreamFailure.RateLimited) rateLimited++;
          return degraded(err);
        }
      };
      const emails = config.team.map((m) => m.email);
      const now = Date.now();
      const domain = lead.companyDomain;
      const domains = matchDomains(lead);
      const [enriched, account, hrisFacts, calendarFacts] = await Promise.all([
        domain
          ? step('enrich', () => enrichment.enrichCompany({ tenantId, domain }), (err): EnrichmentFacts => ({ status: 'unavailable', reason: messageOf(err) }))
          : ({ status: 'skipped', reason: 'no company domain (free email, no website)' } as EnrichmentFacts),
        domains.length
          ? step('match_account', () => crm.matchAccount({ tenantId, domains }), (err): AccountMatch => ({ status: 'unavailable', reason: messageOf(err) }))
          : ({ status: 'none', domains: [] } as AccountMatch),
        step('check_hris', () => hris.lookupEmployees({ tenantId, emails }), (err): HrisFacts => ({ status: 'unavailable', reason: messageOf(err) })),
        step(
          'check_calendar',
          () => calendar.lookupCalendars({ tenantId, emails, start: new Date(now).toISOString(), end: new Date(now + 30 * 60_000).toISOString() }),
          (err): CalendarFacts => ({ status: 'unavailable', reason: messageOf(err) }),
        ),
      ]);

      const decision = decidePolicy({
        policy,
        team: config.team,
        lead,
        enrichment: enriched as EnrichmentFacts,
        account: account as AccountMatch,
        hris: hrisFacts as HrisFacts,
        calendar: calendarFacts as CalendarFacts,
        atMs: Date.now(),
      });
      const fallback = policy.policy.fallback;
      let ownerId = fallback.ownerId;
      const plan = decision.plan;
      if (plan.kind === 'direct' || plan.kind === 'fallback') ownerId = plan.ownerId;
      else if (plan.kind === 'pool') {
        const claimed = claim(pools.get(plan.pool.id) ?? emptyPoolState(), { pool: plan.pool, eligible: plan.eligible, atMs: Date.now(), timeZone: policy.policy.timezone });
        pools.set(plan.pool.id, claimed.state);
        if (claimed.ok) ownerId = claimed.repId;
      }

      const sum = (name: string) => (calls[name] ?? []).reduce((total, c) => total + c.durationMs, 0);
      const upstream = () => Math.max(sum('enrich'), sum('match_account'), sum('check_hris'), sum('check_calendar')) + sum('assign_crm');
      const notifyChannel = (channel: string | null | undefined, kind: 'fallback' | 'fan_out', text: string) =>
        channel ? messaging.notify({ tenantId, recipient: { channel }, text, kind, idempotencyKey: leadKeys.channelNotice(leadId, kind, channel) }) : null;
      const failed = (err: unknown): PlainOutcome => {
        if (failureType(err) === UpstreamFailure.RateLimited) rateLimited++;
        return { leadId, status: 'failed', upstreamMs: upstream(), rateLimited, error: messageOf(err) };
      };

      try {
        const written = await crm.assignOwner({ tenantId, lead, ownerId, idempotencyKey: leadKeys.assign(leadId) });
        calls['assign_crm'] = written.calls;
      } catch (err) {
        const outcome = failed(err);
        await notifyChannel(fallback.notifyChannel, 'fallback', notificationTexts.needsOwner({ lead, leadId, why: `CRM assignment failed (${messageOf(err)})` }))?.catch(() => undefined);
        return outcome;
      }
      try {
        const rep = config.team.find((m) => m.id === ownerId);
        if (rep) {
          const { trace } = decision;
          await messaging.notify({
            tenantId,
            recipient: { email: rep.email },
            text: notificationTexts.assignment({ lead, leadId, hot: trace.urgency === 'hot', why: trace.reason, slaSeconds: trace.slaSeconds }),
            kind: 'assignment',
            idempotencyKey: leadKeys.ownerNotice(leadId),
            accept: { leadId, ownerId },
          });
        } else {
          await notifyChannel(fallback.notifyChannel, 'fallback', notificationTexts.needsOwner({ lead, leadId, why: decision.trace.reason }));
        }
        for (const channel of decision.trace.notify) {
          const owner = config.team.find((m) => m.id === ownerId)?.name ?? ownerId;
          await notifyChannel(channel, 'fan_out', notificationTexts.fanOut({ lead, leadId, owner, ruleId: decision.trace.rule?.id ?? null }));
        }
      } catch (err) {
        return failed(err);
      }
      return { leadId, status: 'routed', upstreamMs: upstream(), rateLimited, error: null };
    },
  };
}
