import { ApplicationFailure } from '@temporalio/common';
import type { Connectors } from '../src/connectors/registry';
import { deliver, DeliveryConfigError, idempotencyKey, type DeliveryContext, type DeliveryRecord } from '../src/distribution/delivery';
import type { Buyer, Campaign, HttpEndpoint } from '../src/distribution/model';
import { privateAddressProblem, secretProblem } from '../src/distribution/reach';
import { resolveTemplates, type TemplateMap } from '../src/distribution/templates';
import { UpstreamFailure } from '../src/protocol/failures';
import type { TenantRegistry } from '../src/tenants/registry';
import { cancellationSignal } from './context';

export interface BuyerActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  /** Where `{ env: NAME }` secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Request templates over the platform's: the environment's, then a tenant's (later wins). */
  templates?: {
    environment?: Record<string, string>;
    tenant?: (tenantId: string) => Record<string, string> | undefined;
  };
  fetch?: typeof fetch;
  /** Endpoints may name loopback and private addresses (sandbox and tests only). */
  allowPrivateUrls?: boolean;
}

/** What a delivery needs of the campaign and buyer docs (the whole docs fit). */
type CampaignRef = Pick<Campaign, 'id' | 'name' | 'currency' | 'pingTimeoutMs'> & { pingFields?: string[] };
type BuyerRef = Pick<Buyer, 'id' | 'name' | 'ping' | 'post'>;

/**
 * A webhook endpoint is sent the `standard` body as JSON, and its status code is its answer:
 * 2xx accepted (the body's `id`, if any, as the reference), 409 duplicate, another 4xx rejected.
 * 429 and 5xx are errors before this mapping is consulted.
 */
const WEBHOOK_RESPONSE = `(
  $id := $type(body) = "object" and $exists(body.id) and body.id != null ? $string(body.id);
  status >= 200 and status < 300 ? { "outcome": "accepted", "reference": $id }
  : status = 409 ? { "outcome": "duplicate" }
  : { "outcome": "rejected", "reason": "http_" & $string(status) }
)`;

function webhookEndpoint(url: string, timeoutMs: number): HttpEndpoint {
  return { kind: 'http', url, format: 'json', xmlRoot: 'lead', headers: {}, timeoutMs, response: { format: 'auto', mapping: WEBHOOK_RESPONSE } };
}

/** Only the campaign's ping fields: a ping never carries contact details, whatever the caller passed. */
function pingLead(lead: Record<string, unknown>, pingFields: string[] | undefined): Record<string, unknown> {
  if (!pingFields) return lead;
  return Object.fromEntries(pingFields.filter((f) => Object.hasOwn(lead, f)).map((f) => [f, lead[f]]));
}

/** Pings and posts to buyers. Every HTTP outcome is a record (history); only a missing secret fails the activity. */
export function createBuyerActivities(deps: BuyerActivityDeps) {
  const env = deps.env ?? process.env;
  const templatesFor = (tenantId: string): TemplateMap =>
    resolveTemplates({ environment: deps.templates?.environment, tenant: deps.templates?.tenant?.(tenantId) });

  const run = async (tenantId: string, endpoint: HttpEndpoint, context: DeliveryContext, maxTimeoutMs?: number): Promise<DeliveryRecord> => {
    // Checked again at send: a document stored before these rules, or under other settings, cannot reach further.
    const urlProblem = deps.allowPrivateUrls ? null : privateAddressProblem(endpoint.url);
    if (urlProblem) return unsent(context, endpoint.url, `url ${urlProblem}`);
    const ref = endpoint.auth ? (endpoint.auth.type === 'basic' ? endpoint.auth.password : endpoint.auth.secret) : null;
    const secretRefused = ref ? secretProblem(tenantId, ref.env) : null;
    if (secretRefused) return unsent(context, endpoint.url, `secret ${ref?.env} ${secretRefused}`);
    const signal = cancellationSignal();
    try {
      return await deliver(endpoint, context, {
        env,
        templates: templatesFor(tenantId),
        ...(maxTimeoutMs !== undefined ? { maxTimeoutMs } : {}),
        ...(signal ? { signal } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
    } catch (err) {
      if (err instanceof DeliveryConfigError) {
        throw ApplicationFailure.nonRetryable(`buyer ${context.buyer.id} (${context.kind}): ${err.message}`, UpstreamFailure.Misconfigured);
      }
      throw err;
    }
  };

  /** A record for a delivery that could not be attempted: nothing was sent. */
  const unsent = (context: DeliveryContext, url: string, message: string): DeliveryRecord => ({
    kind: context.kind,
    buyerId: context.buyer.id,
    startedAt: new Date().toISOString(),
    latencyMs: 0,
    request: { method: 'POST', url, headers: { 'Idempotency-Key': idempotencyKey(context) }, body: '' },
    response: null,
    error: { type: 'config', message },
    answer: { outcome: 'error', reason: 'config' },
    retryAfterMs: null,
    notSent: true,
  });

  const contextOf = (
    kind: 'ping' | 'post',
    input: { leadId: string; campaign: CampaignRef; buyer: BuyerRef; lead: Record<string, unknown> },
    bid: DeliveryContext['bid'],
  ): DeliveryContext => ({
    kind,
    leadId: input.leadId,
    lead: input.lead,
    campaign: { id: input.campaign.id, name: input.campaign.name, currency: input.campaign.currency },
    buyer: { id: input.buyer.id, name: input.buyer.name },
    bid,
  });

  return {
    /** Asks a buyer for a bid with the ping fields only, within min(endpoint timeout, campaign ping timeout). */
    async pingBuyer(input: { tenantId: string; leadId: string; campaign: CampaignRef; buyer: BuyerRef; lead: Record<string, unknown> }): Promise<DeliveryRecord> {
      const context = contextOf('ping', { ...input, lead: pingLead(input.lead, input.campaign.pingFields) }, null);
      if (!input.buyer.ping) return unsent(context, '', `buyer ${input.buyer.id} has no ping endpoint`);
      return run(input.tenantId, input.buyer.ping, context, input.campaign.pingTimeoutMs);
    },

    /** Sends the full lead to a buyer (against its bid, if any). */
    async postToBuyer(input: {
      tenantId: string;
      leadId: string;
      campaign: CampaignRef;
      buyer: BuyerRef;
      lead: Record<string, unknown>;
      bid: { id: string; price: number } | null;
    }): Promise<DeliveryRecord> {
      const context = contextOf('post', input, input.bid);
      const post = input.buyer.post;
      switch (post.kind) {
        case 'http':
          return run(input.tenantId, post, context);
        case 'webhook':
          return run(input.tenantId, webhookEndpoint(post.url, post.timeoutMs), context);
        case 'email':
          // No messaging provider sends email (Slack, Teams and the signed webhook post
          // notifications to people inside the tenant), so a lead cannot be mailed to a buyer yet.
          return unsent(context, `mailto:${post.to.join(',')}`, 'email delivery needs an email-capable messaging connector; none is configured for buyers');
      }
    },
  };
}
