import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { AccountSchema, CalendarSchema, EmployeeSchema, EnrichmentSchema, MessageSchema, WriteSchema } from '../src/connectors/normalized';
import type { CallMeta, Upstream } from '../src/domain/upstream';
import type { Connectors } from '../src/connectors/registry';
import type { NormalizedLead } from '../src/domain/lead';
import type { ClaimRequest, ClaimResult, PoolPreview, TransferRequest } from '../src/domain/leadState';
import { claim, emptyPoolState } from '../src/domain/pools';
import type { EffectivePolicy } from '../src/domain/policy/store';
import { currentPolicy, poolWorkflowId } from '../src/temporal/entities';
import type { AccountMatch, CalendarFacts, EmployeeRecord, EnrichmentFacts, HrisFacts, RoutingConfig } from '../src/domain/routing';
import type { TenantRegistry } from '../src/tenants/registry';
import { claimUpdate, poolPreviewQuery, transferClaimUpdate } from '../workflows/messages';
import { signAcceptToken } from '../src/api/signatures';
import { resolveSecret } from '../src/tenants/secrets';

export interface ActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  /** Client used to reach pool entity workflows (update-with-start). */
  temporal: Client;
  /** Where `{ env: NAME }` secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Task queue of the pool and policy entity workflows (see `entityTaskQueue`). */
  entityTaskQueue: string;
}

function signal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // called outside an activity (tests of the function itself)
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
  /** A signed accept link valid for 7 days, or null when the tenant has no link secret or public URL. */
  const acceptLink = (tenantId: string, claims: { leadId: string; ownerId: string }): string | null => {
    const accept = tenants.get(tenantId)?.accept;
    const secret = accept?.linkSecret ? resolveSecret(accept.linkSecret, deps.env ?? process.env) : null;
    if (!secret || !accept?.publicUrl) return null;
    const token = signAcceptToken(secret, { ...claims, tenantId, expiresAtMs: Date.now() + 7 * 86_400_000 });
    return `${accept.publicUrl.replace(/\/$/, '')}/v1/accept?token=${encodeURIComponent(token)}`;
  };
  const client = (tenantId: string, category: Parameters<Connectors['client']>[1]) => connectors.client(tenantId, category, signal());
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
    async loadRoutingConfig(input: { tenantId: string }): Promise<{ config: RoutingConfig; policy: EffectivePolicy }> {
      if (!tenants.get(input.tenantId)) {
        throw ApplicationFailure.nonRetryable(`unknown tenant ${input.tenantId}`, 'ConnectionMisconfigured');
      }
      const config = tenants.routingConfig(input.tenantId);
      const { version, policy } = await readPolicy(config);
      return { config, policy: { version, policy } };
    },

    async enrichCompany(input: { tenantId: string; domain: string }): Promise<EnrichmentFacts & Upstream> {
      if (!connectors.connection(input.tenantId, 'enrichment')) {
        return { status: 'skipped', reason: 'no enrichment connection configured', calls: [] };
      }
      const result = await client(input.tenantId, 'enrichment').call('enrichment.company', { domain: input.domain }, EnrichmentSchema);
      return { ...result.data, calls: [result.meta] };
    },

    /** First domain with a matching account wins; domains are tried most specific first. */
    async matchAccount(input: { tenantId: string; domains: string[] }): Promise<AccountMatch & Upstream> {
      const crm = client(input.tenantId, 'crm');
      const calls: CallMeta[] = [];
      for (const domain of input.domains) {
        const result = await crm.call('crm.findAccounts', { domain }, z.array(AccountSchema));
        calls.push(result.meta);
        const [first, ...others] = [...result.data].sort((a, b) => a.id.localeCompare(b.id));
        if (first) return { status: 'matched', account: first, matchedDomain: domain, otherMatches: others.map((a) => a.id), calls };
      }
      return { status: 'none', domains: input.domains, calls };
    },

    async lookupEmployees(input: { tenantId: string; emails: string[] }): Promise<HrisFacts & Upstream> {
      const result = await client(input.tenantId, 'hris').call('hris.findEmployees', { emails: input.emails }, z.array(EmployeeSchema));
      return { status: 'ok', employees: result.data as EmployeeRecord[], calls: [result.meta] };
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
        const outcome = claim(emptyPoolState(), { ...input.request, atMs: Date.now() });
        return outcome.ok ? { ok: true, ownerId: outcome.repId, skipped: outcome.skipped } : { ok: false, skipped: outcome.skipped };
      }
    },

    /** Moves a lead's pool credit on manual reassignment (idempotent by transfer ID). */
    async transferClaim(input: { tenantId: string; poolId: string; request: TransferRequest }): Promise<boolean> {
      return cancellable(deps.temporal, () => deps.temporal.workflow.getHandle(poolWorkflowId(input.tenantId, input.poolId)).executeUpdate(transferClaimUpdate, { args: [input.request] }));
    },

    /** Creates the lead in the CRM with its owner; the idempotency key makes a retried write a no-op. */
    async assignOwner(input: { tenantId: string; lead: NormalizedLead; ownerId: string; idempotencyKey: string }): Promise<{ crmLeadId: string; replayed: boolean } & Upstream> {
      const result = await client(input.tenantId, 'crm').call('crm.createLead', input, WriteSchema);
      return { crmLeadId: result.data.crmLeadId, replayed: result.meta.replayed, calls: [result.meta] };
    },

    async changeOwner(input: { tenantId: string; crmLeadId: string; ownerId: string; idempotencyKey: string }): Promise<{ crmLeadId: string; replayed: boolean } & Upstream> {
      const result = await client(input.tenantId, 'crm').call('crm.updateLeadOwner', input, WriteSchema);
      return { crmLeadId: result.data.crmLeadId, replayed: result.meta.replayed, calls: [result.meta] };
    },

    /**
     * Sends one message. With `accept`, it carries an Accept button (Slack Block Kit; the value
     * names tenant, lead and owner) and, when the tenant has a link secret, a signed accept link.
     * The link is made here so its token never enters workflow history.
     */
    async notify(input: {
      tenantId: string;
      recipient: { email: string } | { channel: string };
      text: string;
      idempotencyKey: string;
      accept?: { leadId: string; ownerId: string };
    }): Promise<{ messageId: string } & Upstream> {
      let text = input.text;
      let blocks: unknown[] | undefined;
      if (input.accept) {
        const link = acceptLink(input.tenantId, input.accept);
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
        ...('email' in input.recipient ? { recipientEmail: input.recipient.email } : { channelId: input.recipient.channel }),
      };
      const result = await client(input.tenantId, 'messaging').call('messaging.send', payload, MessageSchema);
      return { messageId: result.data.messageId, calls: [result.meta] };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
