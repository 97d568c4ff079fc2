import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities, sleep, type RetryPolicy } from '@temporalio/workflow';
import { msToNumber, type Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { matchDomains, type NormalizedLead } from '../src/domain/lead';
import type { EffectivePolicy } from '../src/domain/policy/store';
import { DEFAULT_MAX_WAIT_SECONDS, type Urgency } from '../src/domain/policy/types';
import type { AccountMatch, CalendarFacts, EnrichmentFacts, HrisFacts, RoutingConfig } from '../src/domain/routing';
import { PERMANENT_FAILURES } from '../src/protocol/failures';
import { describeFailure as failureOf, type LeadTracker } from './tracker';
import { leadSteps } from '../src/protocol/keys';

/**
 * Activity proxies with the budgets each kind of step deserves, and the fact-gathering steps
 * shared by routing and simulation.
 */

/** `maximumAttempts` omitted = until the schedule-to-close timeout. */
const retry = (maximumInterval: Duration, maximumAttempts?: number): RetryPolicy => ({
  initialInterval: '200ms',
  backoffCoefficient: 2,
  maximumInterval,
  ...(maximumAttempts === undefined ? {} : { maximumAttempts }),
  nonRetryableErrorTypes: [...PERMANENT_FAILURES],
});

/** Reads the worker's configuration and the tenant's published policy: no task round trip, result still in history. */
export const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', scheduleToCloseTimeout: '10m', retry: retry('10s') });
/** Steps that gate routing: short timeouts, a bounded budget, then the lead moves on without them. */
export const gating = proxyActivities<Activities>({ startToCloseTimeout: '5s', scheduleToCloseTimeout: '45s', retry: retry('5s', 8) });
/** Enrichment is nice to have: a small budget (the tenant's), and its failure never blocks routing. */
function enrichmentWithin(budgetSeconds: number) {
  return proxyActivities<Activities>({ startToCloseTimeout: '4s', scheduleToCloseTimeout: `${budgetSeconds}s`, retry: retry('2s', 3) });
}
/**
 * A lean run's first try of each read (see LeadTracker.localReads): one local attempt, in the
 * worker, within the workflow task. Its answer, or its failure with type and the upstream's
 * wait, is a marker in history.
 */
const firstTry = proxyLocalActivities<Activities>({ startToCloseTimeout: '5s', retry: { maximumAttempts: 1 } });
/** A lean run's first try of its pool claim: an Update of the pool entity, idempotent by lead ID, so a durable retry after it gets the same answer. */
export const claimFirstTry = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });

/**
 * The wait an upstream asked for (`Retry-After`): the failure's `nextRetryDelay`, which reaches
 * workflow code only through the details the connector attaches (src/connectors/failure.ts).
 */
function upstreamWaitMs(failure: ApplicationFailure): number {
  if (failure.nextRetryDelay != null) return msToNumber(failure.nextRetryDelay);
  const waitMs = (failure.details?.[0] as { waitMs?: unknown } | undefined)?.waitMs;
  return typeof waitMs === 'number' && waitMs > 0 ? waitMs : 0;
}

/**
 * Reads an upstream (or claims from a pool): in a lean run, first locally; if that one try fails with something worth
 * retrying, the run waits what the upstream asked (`Retry-After`, a durable timer) and reads
 * again as an activity with the step's own retry policy, so every retry and its reason stays in
 * history for the audit. Runs recorded before it read as activities from the start.
 */
export async function firstTryLocally<T>(t: LeadTracker, what: string, local: () => Promise<T>, durable: () => Promise<T>): Promise<T> {
  if (!t.localReads) return durable();
  try {
    return await local();
  } catch (err) {
    // A local activity's failure may come unwrapped (the ApplicationFailure itself).
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure && (cause.nonRetryable || (PERMANENT_FAILURES as readonly string[]).includes(cause.type ?? ''))) throw err;
    const waitMs = cause instanceof ApplicationFailure ? upstreamWaitMs(cause) : 0;
    if (waitMs > 0) await sleep(waitMs, summary(`${what}: the upstream asked to wait ${Math.ceil(waitMs / 1000)} s (${cause instanceof ApplicationFailure ? cause.type : 'failure'}) before reading again`));
    return durable();
  }
}
/** The pool entity serializes every claim of its pool: give it time under load rather than retrying into it. */
export const claims = proxyActivities<Activities>({ startToCloseTimeout: '30s', scheduleToCloseTimeout: '2m', retry: retry('5s') });
/**
 * Writes after the decision must land, so they retry (idempotency keys make that safe); the
 * lead's urgency sets how long its CRM write and notification may keep retrying (the policy's
 * `maxWaitSeconds`) before the lead takes its fallback path (the triage channel): minutes
 * matter for a hot lead. Activities see that budget too: an upstream asking for a longer wait
 * than is left fails at once instead of being waited out.
 */
export function writesFor(urgency: Urgency, policy?: EffectivePolicy) {
  const seconds = policy?.policy.maxWaitSeconds?.[urgency] ?? DEFAULT_MAX_WAIT_SECONDS[urgency];
  const budget: Duration = `${seconds}s`;
  return proxyActivities<Activities>({ startToCloseTimeout: '10s', scheduleToCloseTimeout: budget, retry: retry(urgency === 'hot' ? '10s' : '30s') });
}

/**
 * A lean run's first try of its CRM write (see firstTryLocally): one local attempt within the
 * urgency's budget, so an upstream asking to wait past it fails at once, as the activity would.
 * The write is idempotent by key (and looks the lead up first), so the durable retry after it,
 * or a worker's replay of it after a crash, writes nothing twice.
 */
export function localWritesFor(urgency: Urgency, policy?: EffectivePolicy) {
  const seconds = policy?.policy.maxWaitSeconds?.[urgency] ?? DEFAULT_MAX_WAIT_SECONDS[urgency];
  return proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', scheduleToCloseTimeout: `${seconds}s`, retry: { maximumAttempts: 1 } });
}

/** A CRM user's display name: a rep's name, the fallback's label, or null for anyone else. */
export function ownerNameOf(config: RoutingConfig, policy: EffectivePolicy, id: string): string | null {
  return config.team.find((m) => m.id === id)?.name ?? (id === policy.policy.fallback.ownerId ? policy.policy.fallback.label : null);
}

/**
 * A run's first step: the tenant's routing config and the policy version it routes with, in
 * history; the run's business clock follows the offset recorded with them (src/clock.ts).
 */
export async function loadRouting(t: LeadTracker, tenantId: string): Promise<{ config: RoutingConfig; policy: EffectivePolicy }> {
  const { config, policy, clockOffsetMs } = await t.step(leadSteps.loadPolicy, () =>
    local.loadRoutingConfig.executeWithOptions(summary(`routing config and policy of ${tenantId}`), [{ tenantId }]),
  );
  t.clockOffsetMs = clockOffsetMs ?? 0;
  return { config, policy };
}

/** One line for an activity's summary in the Web UI. */
export function summary(text: string): { summary: string } {
  return { summary: text.slice(0, 200) };
}

export async function enrich(t: LeadTracker, tenantId: string, lead: NormalizedLead, config: RoutingConfig): Promise<EnrichmentFacts> {
  const domain = lead.companyDomain;
  if (!domain) return t.skipStep(leadSteps.enrich, { status: 'skipped', reason: 'no company domain (free email, no website)' } as EnrichmentFacts);
  // Configurations recorded before the budget was configurable had the fixed 12 s.
  const budget = config.enrichmentBudgetSeconds ?? 12;
  return t.optionalStep(
    leadSteps.enrich,
    () =>
      firstTryLocally(
        t,
        `enrich ${domain}`,
        () => firstTry.enrichCompany.executeWithOptions(summary(`enrich ${domain}`), [{ tenantId, domain }]),
        () => enrichmentWithin(budget).enrichCompany.executeWithOptions(summary(`enrich ${domain}`), [{ tenantId, domain }]),
      ),
    (err): EnrichmentFacts => ({ status: 'unavailable', reason: failureOf(err).message }),
  );
}

export async function matchAccount(t: LeadTracker, tenantId: string, lead: NormalizedLead): Promise<AccountMatch> {
  const domains = matchDomains(lead);
  if (domains.length === 0) return t.skipStep(leadSteps.matchAccount, { status: 'none', domains: [] } as AccountMatch);
  return t.optionalStep(
    leadSteps.matchAccount,
    () =>
      firstTryLocally(
        t,
        `match account ${domains.join(', ')}`,
        () => firstTry.matchAccount.executeWithOptions(summary(`match account ${domains.join(', ')}`), [{ tenantId, domains }]),
        () => gating.matchAccount.executeWithOptions(summary(`match account ${domains.join(', ')}`), [{ tenantId, domains }]),
      ),
    (err): AccountMatch => ({ status: 'unavailable', reason: failureOf(err).message }),
  );
}

/** HRIS and calendar facts about the whole team, read in parallel (again after each deferral). */
export async function checkAvailability(t: LeadTracker, tenantId: string, config: RoutingConfig, round: number): Promise<{ hris: HrisFacts; calendar: CalendarFacts }> {
  const emails = config.team.map((m) => m.email);
  const now = t.now();
  const start = new Date(now).toISOString();
  const end = new Date(now + 30 * 60_000).toISOString();
  const [hris, calendar] = await Promise.all([
    t.optionalStep(
      leadSteps.checkHris(round),
      () =>
        firstTryLocally(
          t,
          'HRIS',
          () => firstTry.lookupEmployees.executeWithOptions(summary(`HRIS status of ${emails.length} reps`), [{ tenantId, emails }]),
          () => gating.lookupEmployees.executeWithOptions(summary(`HRIS status of ${emails.length} reps`), [{ tenantId, emails }]),
        ),
      (err): HrisFacts => ({ status: 'unavailable', reason: failureOf(err).message }),
    ),
    t.optionalStep(
      leadSteps.checkCalendar(round),
      () =>
        firstTryLocally(
          t,
          'calendars',
          () => firstTry.lookupCalendars.executeWithOptions(summary(`calendars of ${emails.length} reps`), [{ tenantId, emails, start, end }]),
          () => gating.lookupCalendars.executeWithOptions(summary(`calendars of ${emails.length} reps`), [{ tenantId, emails, start, end }]),
        ),
      (err): CalendarFacts => ({ status: 'unavailable', reason: failureOf(err).message }),
    ),
  ]);
  return { hris, calendar };
}
