import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import {
  AccountSchema,
  AccountsByDomainSchema,
  CalendarSchema,
  DirectChannelSchema,
  EmployeeSchema,
  EnrichmentSchema,
  FoundLeadSchema,
  MessageSchema,
  MessagingUserSchema,
  SentMessageSchema,
  TimeOffEntrySchema,
  WriteSchema,
} from '../src/connectors/normalized';
import { zonedTimeToUtc } from '../src/domain/availability';
import type { CallMeta, Upstream } from '../src/domain/upstream';
import type { ProviderClient } from '../src/connectors/client';
import type { Connectors } from '../src/connectors/registry';
import type { NormalizedLead } from '../src/domain/lead';
import type { ClaimRequest, ClaimResult, PoolPreview, TransferRequest } from '../src/domain/leadState';
import { claim, emptyPoolState } from '../src/domain/pools';
import type { EffectivePolicy } from '../src/domain/policy/store';
import { currentPolicy, poolWorkflowId } from '../src/temporal/entities';
import type { AccountMatch, CalendarFacts, EmployeeRecord, EnrichmentFacts, HrisFacts, LoadedRoutingConfig, RoutingConfig } from '../src/domain/routing';
import type { TenantRegistry } from '../src/tenants/registry';
import { claimUpdate, poolPreviewQuery, transferClaimUpdate } from '../workflows/messages';
import { signAcceptToken } from '../src/api/signatures';
import { resolveSecret } from '../src/tenants/secrets';
import { businessClock, type BusinessClock } from '../src/clock';

export interface ActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  /** Client used to reach pool entity workflows (update-with-start). */
  temporal: Client;
  /** Where `{ env: NAME }` secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Task queue of the pool and policy entity workflows (see `entityTaskQueue`). */
  entityTaskQueue: string;
  /** What time it is for routing (default the process's business clock: real time unless simulated). */
  clock?: BusinessClock;
}

/**
 * What is left of this activity's schedule-to-close budget (retries included), which the
 * workflow sets from the lead's urgency: an upstream asking to wait longer than this cannot be
 * waited out, so the call fails at once and the lead takes its fallback path now.
 */
function remainingBudgetMs(): number | undefined {
  const info = activityContext()?.info;
  if (!info?.scheduleToCloseTimeoutMs) return undefined;
  return Math.max(0, info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - Date.now());
}

function signal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/** The running activity's context; null when a function is called outside an activity (its own tests). */
function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/**
 * A retried send looks for its own message this far before its first attempt was scheduled:
 * room for clock skew between this worker and the upstream that stamped the message.
 */
const SENT_LOOKBACK_MS = 120_000;

/**
 * The message an earlier attempt of this send already posted (its answer was lost, so the
 * activity was retried), found by idempotency key in the conversation it went to; null when
 * there is none or the messaging provider cannot look. Each lookup call's meta goes into
 * `calls`. A failed lookup (a missing history scope, a rate limit, anything) is logged and
 * counts as "not found": posting again risks a duplicate, not posting risks no message at all.
 */
async function findSentMessage(
  messaging: ProviderClient,
  to: { userId: string } | { channelId: string } | null,
  idempotencyKey: string,
  activity: Context,
  calls: CallMeta[],
): Promise<string | null> {
  if (!to || !messaging.supports('messaging.findSent')) return null;
  try {
    let channelId: string;
    if ('userId' in to) {
      // A post to a user lands in their DM: its channel is where the message can be read back.
      if (!messaging.supports('messaging.openDirect')) return null;
      const dm = await messaging.call('messaging.openDirect', { userId: to.userId }, DirectChannelSchema);
      calls.push(dm.meta);
      channelId = dm.data.channelId;
    } else {
      channelId = to.channelId;
    }
    const oldest = new Date(activity.info.scheduledTimestampMs - SENT_LOOKBACK_MS).toISOString();
    const found = await messaging.call('messaging.findSent', { channelId, idempotencyKey, oldest }, SentMessageSchema);
    // Finding the message is the upstream's answer for our key: recorded like a replayed write.
    calls.push(found.data.messageId === null ? found.meta : { ...found.meta, replayed: true });
    return found.data.messageId;
  } catch (err) {
    if (signal()?.aborted) throw err;
    const failure = err as { message?: string; type?: string };
    activity.log.warn('could not look for an already posted message; posting anyway, which may duplicate it', {
      provider: messaging.providerId,
      idempotencyKey,
      failureType: failure.type ?? null,
      error: failure.message ?? String(err),
    });
    return null;
  }
}

/** Activities are thin: each resolves the tenant's connector and calls one or a few operations. */
/** Runs a Temporal client call that ends when the activity is cancelled (worker shutdown, timeout). */
function cancellable<T>(temporal: Client, call: () => Promise<T>): Promise<T> {
  const cancel = signal();
  return cancel ? temporal.connection.withAbortSignal(cancel, call) : call();
}

export function createActivities(deps: ActivityDeps) {
  const { connectors, tenants } = deps;
  const clock = deps.clock ?? businessClock;
  /** A signed accept link valid for 7 days, or null when the tenant has no link secret or public URL. */
  const acceptLink = (tenantId: string, claims: { leadId: string; ownerId: string }): string | null => {
    const accept = tenants.get(tenantId)?.accept;
    const secret = accept?.linkSecret ? resolveSecret(accept.linkSecret, deps.env ?? process.env) : null;
    if (!secret || !accept?.publicUrl) return null;
    const token = signAcceptToken(secret, { ...claims, tenantId, expiresAtMs: Date.now() + 7 * 86_400_000 });
    return `${accept.publicUrl.replace(/\/$/, '')}/v1/accept?token=${encodeURIComponent(token)}`;
  };
  const client = (tenantId: string, category: Parameters<Connectors['client']>[1]) =>
    connectors.client(tenantId, category, { signal: signal(), maxWaitMs: remainingBudgetMs() });
  /**
   * Leads of one tenant that load the policy at the same moment share one read (single flight):
   * a burst of leads would otherwise queue hundreds of queries on the one policy workflow. Not a
   * cache: an answer is never reused once its read has finished.
   */
  const policyReads = new Map<string, Promise<{ version: string; policy: EffectivePolicy['policy'] }>>();
  const readPolicy = (config: RoutingConfig) => {
    let read = policyReads.get(config.tenantId);
    if (!read) {
      read = cancellable(deps.temporal, () => currentPolicy(deps.temporal, config)).finally(() => policyReads.delete(config.tenantId));
      policyReads.set(config.tenantId, read);
    }
    return read;
  };

  return {
    /** The tenant's team and settings, and the policy version new leads route with (read live, never cached). */
    async loadRoutingConfig(input: { tenantId: string }): Promise<LoadedRoutingConfig> {
      if (!tenants.get(input.tenantId)) {
        throw ApplicationFailure.nonRetryable(`unknown tenant ${input.tenantId}`, 'ConnectionMisconfigured');
      }
      const config = { ...tenants.routingConfig(input.tenantId), connections: connectors.summaries(input.tenantId) };
      const { version, policy } = await readPolicy(config);
      // A simulated business clock is recorded with the config, so the run (and its replay) judges
      // hours, leave and SLAs at the simulated time; absent in real time, as in older histories.
      return { config, policy: { version, policy }, ...(clock.offsetMs ? { clockOffsetMs: clock.offsetMs } : {}) };
    },

    async enrichCompany(input: { tenantId: string; domain: string }): Promise<EnrichmentFacts & Upstream> {
      if (!connectors.connection(input.tenantId, 'enrichment')) {
        return { status: 'skipped', reason: 'no enrichment connection configured', calls: [] };
      }
      const result = await client(input.tenantId, 'enrichment').call('enrichment.company', { domain: input.domain }, EnrichmentSchema);
      return { ...result.data, calls: [result.meta] };
    },

    /**
     * First domain with a matching account wins; domains are tried most specific first. A CRM
     * that can look up several domains in one call (Salesforce composite) gets one call.
     */
    async matchAccount(input: { tenantId: string; domains: string[] }): Promise<AccountMatch & Upstream> {
      const crm = client(input.tenantId, 'crm');
      const calls: CallMeta[] = [];
      const pick = (domain: string, accounts: z.infer<typeof AccountSchema>[]): (AccountMatch & Upstream) | null => {
        const [first, ...others] = [...accounts].sort((a, b) => a.id.localeCompare(b.id));
        return first ? { status: 'matched', account: first, matchedDomain: domain, otherMatches: others.map((a) => a.id), calls } : null;
      };
      // Salesforce's composite takes at most five queries: more domains than that go one by one.
      if (input.domains.length > 1 && input.domains.length <= 5 && crm.supports('crm.findAccountsByDomains')) {
        const result = await crm.call('crm.findAccountsByDomains', { domains: input.domains }, z.array(AccountsByDomainSchema));
        calls.push(result.meta);
        for (const domain of input.domains) {
          const hit = pick(domain, result.data.find((d) => d.domain === domain)?.accounts ?? []);
          if (hit) return hit;
        }
        return { status: 'none', domains: input.domains, calls };
      }
      for (const domain of input.domains) {
        const result = await crm.call('crm.findAccounts', { domain }, z.array(AccountSchema));
        calls.push(result.meta);
        const hit = pick(domain, result.data);
        if (hit) return hit;
      }
      return { status: 'none', domains: input.domains, calls };
    },

    /**
     * Employment status, time zone and time off of the team. HRIS that keep time off apart
     * (BambooHR's who's out, HiBob) are read in parallel and merged; whole-day entries become
     * instants in the rep's own time zone.
     */
    async lookupEmployees(input: { tenantId: string; emails: string[] }): Promise<HrisFacts & Upstream> {
      const hris = client(input.tenantId, 'hris');
      const today = clock.now();
      const [employees, timeOff] = await Promise.all([
        hris.call('hris.findEmployees', { emails: input.emails }, z.array(EmployeeSchema)),
        hris.supports('hris.timeOff')
          ? hris.call('hris.timeOff', { emails: input.emails, startDate: isoDate(today - 86_400_000), endDate: isoDate(today + 14 * 86_400_000) }, z.array(TimeOffEntrySchema))
          : null,
      ]);
      const routing = tenants.get(input.tenantId)?.routing;
      const zoneOf = (email: string, own: string | null) => own ?? routing?.team.find((m) => m.email === email.toLowerCase())?.timezone ?? routing?.timezone ?? 'UTC';
      const merged: EmployeeRecord[] = employees.data.map((e) => {
        const zone = zoneOf(e.email, e.timezone);
        const extra = (timeOff?.data ?? []).filter((t) => appliesTo(t, e));
        return {
          email: e.email,
          employmentStatus: e.employmentStatus,
          timezone: e.timezone,
          timeOff: [...e.timeOff, ...extra].map((t) => (t.allDay ? allDayInterval(t, zone) : { start: t.start, end: t.end, type: t.type })),
        };
      });
      return { status: 'ok', employees: merged, calls: [employees.meta, ...(timeOff ? [timeOff.meta] : [])] };
    },

    async lookupCalendars(input: { tenantId: string; emails: string[]; start: string; end: string }): Promise<CalendarFacts & Upstream> {
      const result = await client(input.tenantId, 'calendar').call('calendar.availability', input, z.array(CalendarSchema));
      return { status: 'ok', calendars: result.data, calls: [result.meta] };
    },

    /** Claims the next owner from the pool's entity workflow, starting it if it is not running. */
    async claimFromPool(input: { tenantId: string; request: ClaimRequest }): Promise<ClaimResult> {
      const poolId = input.request.pool.id;
      const startOperation = new WithStartWorkflowOperation('leadPool', {
        workflowId: poolWorkflowId(input.tenantId, poolId),
        taskQueue: deps.entityTaskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ tenantId: input.tenantId, poolId }],
      });
      try {
        return await cancellable(deps.temporal, () =>
          deps.temporal.workflow.executeUpdateWithStart(claimUpdate, { args: [input.request], startWorkflowOperation: startOperation }),
        );
      } catch (err) {
        // The pool's validator rejected the claim: asking again cannot help.
        if (err instanceof WorkflowUpdateFailedError) {
          throw ApplicationFailure.nonRetryable(`pool ${poolId} rejected the claim: ${err.cause?.message ?? err.message}`, 'PoolClaimRejected');
        }
        throw err;
      }
    },

    /** Who the pool would pick now, without claiming: for simulations. A pool that never ran starts empty. */
    async previewPool(input: { tenantId: string; request: Omit<ClaimRequest, 'leadId'> }): Promise<PoolPreview> {
      try {
        return await cancellable(deps.temporal, () =>
          deps.temporal.workflow.getHandle(poolWorkflowId(input.tenantId, input.request.pool.id)).query(poolPreviewQuery, input.request),
        );
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        const outcome = claim(emptyPoolState(), { ...input.request, atMs: clock.now() });
        return outcome.ok ? { ok: true, ownerId: outcome.repId, skipped: outcome.skipped } : { ok: false, skipped: outcome.skipped };
      }
    },

    /** Moves a lead's pool credit on manual reassignment (idempotent by transfer ID). */
    async transferClaim(input: { tenantId: string; poolId: string; request: TransferRequest }): Promise<boolean> {
      return cancellable(deps.temporal, () => deps.temporal.workflow.getHandle(poolWorkflowId(input.tenantId, input.poolId)).executeUpdate(transferClaimUpdate, { args: [input.request] }));
    },

    /**
     * Creates the lead in the CRM with its owner. Idempotent however the CRM offers it: an
     * idempotency key (unified APIs), an upsert by an external key (Salesforce, HubSpot), or,
     * for CRMs with neither (Pipedrive), a search for the lead's email first and an owner update
     * when it is already there.
     */
    async assignOwner(input: { tenantId: string; lead: NormalizedLead; ownerId: string; idempotencyKey: string }): Promise<{ crmLeadId: string; replayed: boolean } & Upstream> {
      const crm = client(input.tenantId, 'crm');
      const calls: CallMeta[] = [];
      if (crm.supports('crm.findLead')) {
        const found = await crm.call('crm.findLead', { email: input.lead.email }, z.array(FoundLeadSchema));
        calls.push(found.meta);
        const existing = found.data[0];
        if (existing) {
          const updated = existing.ownerId === input.ownerId ? null : await crm.call('crm.updateLeadOwner', { ...input, crmLeadId: existing.crmLeadId }, WriteSchema);
          if (updated) calls.push(updated.meta);
          return { crmLeadId: existing.crmLeadId, replayed: true, calls };
        }
      }
      const result = await crm.call('crm.createLead', input, WriteSchema);
      return { crmLeadId: result.data.crmLeadId, replayed: result.meta.replayed, calls: [...calls, result.meta] };
    },

    async changeOwner(input: { tenantId: string; crmLeadId: string; ownerId: string; idempotencyKey: string }): Promise<{ crmLeadId: string; replayed: boolean } & Upstream> {
      const result = await client(input.tenantId, 'crm').call('crm.updateLeadOwner', input, WriteSchema);
      return { crmLeadId: result.data.crmLeadId, replayed: result.meta.replayed, calls: [result.meta] };
    },

    /**
     * Sends one message. With `accept`, it carries an Accept button (Slack Block Kit; the value
     * names tenant, lead and owner) and, when the tenant has a link secret, a signed accept link.
     * The link is made here so its token never enters workflow history.
     *
     * A retry (attempt 2 and later) first looks for a message the earlier attempt posted with the
     * same idempotency key (providers with `messaging.findSent`: Slack message metadata) and
     * returns it instead of posting twice. The first attempt never looks: nothing can be there yet.
     */
    async notify(input: {
      tenantId: string;
      recipient: { email: string } | { channel: string };
      text: string;
      idempotencyKey: string;
      accept?: { leadId: string; ownerId: string };
    }): Promise<{ messageId: string } & Upstream> {
      const messaging = client(input.tenantId, 'messaging');
      const calls: CallMeta[] = [];
      let userId: string | undefined;
      if ('email' in input.recipient && messaging.supports('messaging.lookupUser')) {
        // Slack messages people by user ID: look the rep up by email first.
        const user = await messaging.call('messaging.lookupUser', { email: input.recipient.email }, MessagingUserSchema);
        calls.push(user.meta);
        userId = user.data.userId;
      }
      let text = input.text;
      let link: string | null = null;
      let blocks: unknown[] | undefined;
      if (input.accept) {
        link = acceptLink(input.tenantId, input.accept);
        if (link) text = `${text}\nAccept: ${link}`;
        blocks = [
          { type: 'section', text: { type: 'mrkdwn', text: input.text } },
          {
            type: 'actions',
            elements: [
              { type: 'button', action_id: 'accept_lead', style: 'primary', text: { type: 'plain_text', text: 'Accept' }, value: `${input.tenantId}|${input.accept.leadId}|${input.accept.ownerId}` },
              ...(link ? [{ type: 'button', action_id: 'open_accept_link', text: { type: 'plain_text', text: 'Accept by link' }, url: link }] : []),
            ],
          },
        ];
      }
      const payload = {
        text,
        idempotencyKey: input.idempotencyKey,
        ...(blocks ? { blocks } : {}),
        ...(link ? { acceptUrl: link } : {}),
        ...(userId ? { userId } : {}),
        ...('email' in input.recipient ? { recipientEmail: input.recipient.email } : { channelId: input.recipient.channel }),
      };
      const activity = activityContext();
      if (activity && activity.info.attempt > 1) {
        const to = userId !== undefined ? { userId } : 'channel' in input.recipient ? { channelId: input.recipient.channel } : null;
        const sent = await findSentMessage(messaging, to, input.idempotencyKey, activity, calls);
        if (sent !== null) return { messageId: sent, calls };
      }
      const result = await messaging.call('messaging.send', payload, MessageSchema);
      return { messageId: result.data.messageId, calls: [...calls, result.meta] };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** A who's-out entry concerns the employee it names (by HRIS ID or email); one naming nobody (a company holiday) concerns everyone. */
function appliesTo(entry: { employeeId?: string | undefined; email?: string | undefined }, employee: { id?: string | undefined; email: string }): boolean {
  if (entry.employeeId === undefined && entry.email === undefined) return true;
  if (entry.employeeId !== undefined && entry.employeeId === employee.id) return true;
  return entry.email !== undefined && entry.email.toLowerCase() === employee.email.toLowerCase();
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole days `start`..`end` (inclusive) as an interval of instants in `timeZone`. */
function allDayInterval(t: { start: string; end: string; type: string }, timeZone: string): { start: string; end: string; type: string } {
  const [sy, sm, sd] = t.start.split('-').map(Number);
  const [ey, em, ed] = t.end.split('-').map(Number);
  const start = zonedTimeToUtc(sy ?? 1970, sm ?? 1, sd ?? 1, 0, 0, timeZone);
  // The day after the last day, at midnight: Date.UTC rolls day overflow into the next month.
  const end = zonedTimeToUtc(ey ?? 1970, em ?? 1, (ed ?? 1) + 1, 0, 0, timeZone);
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), type: t.type };
}
