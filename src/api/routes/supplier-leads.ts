import { WorkflowExecutionAlreadyStartedError, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { clockFields } from '../../clock';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { businessClock } from '../../clock';
import type { CampaignSnapshot } from '../../distribution/catalog';
import type { DistributeLeadInput, DistributionState, SupplierAnswer } from '../../distribution/lead';
import { distributionStateQuery, postBidUpdate, supplierAnswerUpdate } from '../../distribution/leadMessages';
import { campaignLeadSchema } from '../../distribution/leadSchema';
import { ID_PATTERN, type Supplier } from '../../distribution/model';
import { DISTRIBUTED_LEAD_ID_PATTERN, distributedLeadWorkflowId } from '../../protocol/ids';
import { campaignSnapshot, catalogDoc } from '../../temporal/catalog';
import type { TenantRegistry } from '../../tenants/registry';
import { requireJson } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, noPrototypeKeys, parseHeader, parseRequest } from '../errors';
import { IdempotencyKeySchema, payloadHash } from '../ids';
import { distributeLead } from '../../../workflows';

/**
 * A supplier's API key: `sk.<tenant>.<supplier>.<secret>`. The tenant and supplier parts only say
 * where to look; the key is accepted when its SHA-256 is one the supplier's document lists.
 */
export const SUPPLIER_KEY_PATTERN = /^sk\.([a-z0-9][a-z0-9-]{1,62})\.([a-z0-9][a-z0-9_-]{0,63})\.([A-Za-z0-9_-]{16,128})$/;

const SUPPLIER = Symbol('supplier');
interface SupplierAuth {
  tenantId: string;
  supplierId: string;
  keySha256: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function supplierKey(tenants: TenantRegistry): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const parts = match?.[1] ? SUPPLIER_KEY_PATTERN.exec(match[1]) : null;
    if (!match || !parts || !tenants.get(parts[1] as string)) {
      res.set('WWW-Authenticate', 'Bearer realm="leadrelay-suppliers"');
      next(new ApiError(401, 'unauthorized', match ? 'Unknown supplier API key' : 'Missing Authorization: Bearer <supplier API key> header'));
      return;
    }
    (req as Request & { [SUPPLIER]?: SupplierAuth })[SUPPLIER] = { tenantId: parts[1] as string, supplierId: parts[2] as string, keySha256: sha256(match[1] as string) };
    next();
  };
}

const supplierOf = (req: Request): SupplierAuth => {
  const auth = (req as Request & { [SUPPLIER]?: SupplierAuth })[SUPPLIER];
  if (!auth) throw new ApiError(401, 'unauthorized', 'Not authenticated');
  return auth;
};

const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

/** The supplier the key names, when the key is one of its keys (the key's form alone proves nothing). */
function verifiedSupplier(auth: SupplierAuth, supplier: Supplier | null | undefined): Supplier {
  if (!supplier || !supplier.apiKeySha256.some((h) => sameHash(h, auth.keySha256))) throw new ApiError(401, 'unauthorized', 'Unknown supplier API key');
  return supplier;
}

/**
 * Requests for one campaign and supplier that arrive while a read of the catalog is in flight share
 * it (single flight): a burst of leads would otherwise queue hundreds of queries on the tenant's one
 * catalog workflow. Not a cache: an answer is never reused once its read has finished.
 */
class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();
  read(key: string, load: () => Promise<T>): Promise<T> {
    let read = this.inFlight.get(key);
    if (!read) {
      read = load().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, read);
    }
    return read;
  }
}
const snapshotReads = new SingleFlight<CampaignSnapshot | null>();

/** The campaign as the supplier may use it: the key must be the supplier's, and the campaign one it sends to. */
async function campaignFor(ctx: ApiContext, req: Request): Promise<CampaignSnapshot & { supplier: NonNullable<CampaignSnapshot['supplier']> }> {
  const auth = supplierOf(req);
  const campaignId = String(req.params['campaignId']);
  if (!ID_PATTERN.test(campaignId)) throw new ApiError(404, 'not_found', `No campaign ${campaignId}`);
  const snapshot = await snapshotReads.read(`${auth.tenantId}\n${campaignId}\n${auth.supplierId}`, () => campaignSnapshot(ctx.client, auth.tenantId, campaignId, auth.supplierId));
  const supplier = verifiedSupplier(auth, snapshot ? snapshot.supplier?.doc : (await catalogDoc<Supplier>(ctx.client, auth.tenantId, 'supplier', auth.supplierId))?.doc);
  if (!snapshot || !supplier.campaigns.includes(campaignId)) throw new ApiError(404, 'not_found', `No campaign ${campaignId} for supplier ${auth.supplierId}`);
  if (supplier.paused) throw new ApiError(409, 'conflict', `supplier ${auth.supplierId} is paused`);
  if (snapshot.campaign.doc.paused) throw new ApiError(409, 'conflict', `campaign ${campaignId} is paused`);
  return { ...snapshot, supplier: snapshot.supplier as NonNullable<CampaignSnapshot['supplier']> };
}

/** A distributed lead's ID: from the supplier, the campaign and its idempotency key (or the body's hash). */
export function distributedLeadId(tenantId: string, supplierId: string, campaignId: string, key: string): string {
  return `dl_${sha256(`${tenantId}\n${supplierId}\n${campaignId}\n${key}`).slice(0, 24)}`;
}

/** The answer of a lead whose run is over (its return window closed): what it was told then. */
async function finishedAnswer(ctx: ApiContext, workflowId: string): Promise<SupplierAnswer> {
  const handle = ctx.client.workflow.getHandle(workflowId);
  // A run that failed or was terminated has no result: its last state still holds what it was told.
  const state = ((await handle.result().catch(() => null)) ?? (await handle.query(distributionStateQuery).catch(() => null))) as DistributionState | null;
  if (!state?.answer) throw new ApiError(409, 'conflict', 'the lead ended without an answer; send it again with another Idempotency-Key');
  return state.answer;
}

/** How long past the campaign's deadline the API waits for the lead's answer before answering `pending`. */
const ANSWER_MARGIN_MS = 1_500;

/** A post against a bid: its lead is checked with the campaign's schema, its bad fields named `lead.<field>`. */
const postBody = (lead: z.ZodType<Record<string, unknown>>) => z.object({ bidId: z.string().regex(DISTRIBUTED_LEAD_ID_PATTERN, 'must be a bid ID from POST /ping (dl_…)'), lead }).strict();

/**
 * The supplier side: POST /v1/campaigns/:id/leads answers synchronously within the campaign's
 * deadline (sold to whom and the payout, rejected with the reason, or queued); /ping answers a
 * bid for ping fields only, and /post sends the full lead against that bid.
 */
export function supplierRoutes(ctx: ApiContext, guard: RequestHandler): Router {
  const router = express.Router();
  const paths = ['/v1/campaigns/:campaignId/leads', '/v1/campaigns/:campaignId/ping', '/v1/campaigns/:campaignId/post'];
  router.post(paths, supplierKey(ctx.tenants), requireJson, express.json({ limit: ctx.bodyLimit, strict: true }), noPrototypeKeys, guard);
  router.get('/v1/campaigns/:campaignId/leads/:leadId', (req, res, next) => {
    // Suppliers read their own leads' answers; a tenant key falls through to the tenant routes.
    if (!SUPPLIER_KEY_PATTERN.test(/^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '')) return next('route');
    supplierKey(ctx.tenants)(req, res, (err?: unknown) => (err ? next(err) : guard(req, res, next)));
  });

  const clock = ctx.clock ?? businessClock;
  const start = async (req: Request, mode: 'full' | 'ping', lead: Record<string, unknown>, snapshot: CampaignSnapshot) => {
    const auth = supplierOf(req);
    const campaign = snapshot.campaign.doc;
    const headerKey = parseHeader(IdempotencyKeySchema, req, 'Idempotency-Key');
    const leadId = distributedLeadId(auth.tenantId, auth.supplierId, `${campaign.id}:${mode}`, headerKey ?? payloadHash(lead));
    const workflowId = distributedLeadWorkflowId(auth.tenantId, leadId);
    if (headerKey !== undefined) {
      // The same key with another lead is a client bug, not a resubmission (as POST /v1/leads).
      const existing = await ctx.client.workflow.getHandle(workflowId).describe().catch((err) => {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      });
      if (existing && existing.memo?.['payloadHash'] !== payloadHash(lead)) {
        throw new ApiError(409, 'idempotency_key_reused', `Idempotency key was already used for a different lead (${leadId})`, { leadId });
      }
    }
    const input: DistributeLeadInput = {
      tenantId: auth.tenantId,
      leadId,
      campaignId: campaign.id,
      supplierId: auth.supplierId,
      mode,
      lead,
      receivedAt: new Date(clock.now()).toISOString(),
      deadlineMs: campaign.deadlineMs,
      // The catalog as read for this request travels with the lead (and is in its history).
      snapshot,
      ...clockFields(clock),
    };
    // The answer is due at the campaign's deadline; past it (a busy system), the lead is pending, not an error.
    const answerBy = Date.now() + campaign.deadlineMs + ANSWER_MARGIN_MS;
    try {
      return await ctx.client.connection.withDeadline(answerBy, () => ctx.client.workflow.executeUpdateWithStart(supplierAnswerUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation(distributeLead, {
          workflowId,
          taskQueue: ctx.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { payloadHash: payloadHash(lead) },
          staticSummary: `${mode === 'ping' ? 'Ping' : 'Lead'} from ${auth.supplierId} for campaign ${campaign.id}`,
        }),
      }));
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError || (err as { cause?: unknown }).cause instanceof WorkflowExecutionAlreadyStartedError) return finishedAnswer(ctx, workflowId);
      if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw err;
      // Started (the lead is in the system and will be decided): say so; never started: retry.
      const started = await ctx.client.workflow.getHandle(workflowId).describe().then(() => true, () => false);
      if (!started) throw new ApiError(503, 'unavailable', 'The workflow service did not answer in time; retry the request (with the same Idempotency-Key)');
      const pending: SupplierAnswer = { leadId, status: 'pending', soldTo: [], payout: 0, currency: campaign.currency, reason: 'still being distributed; GET this lead for its answer' };
      return pending;
    }
  };

  router.post('/v1/campaigns/:campaignId/leads', async (req, res) => {
    const snapshot = await campaignFor(ctx, req);
    const lead = parseRequest(campaignLeadSchema(snapshot.campaign.doc, 'full'), req.body, 'body');
    res.json(await start(req, 'full', lead, snapshot));
  });

  router.post('/v1/campaigns/:campaignId/ping', async (req, res) => {
    const snapshot = await campaignFor(ctx, req);
    const lead = parseRequest(campaignLeadSchema(snapshot.campaign.doc, 'ping'), req.body, 'body');
    res.json(await start(req, 'ping', lead, snapshot));
  });

  router.post('/v1/campaigns/:campaignId/post', async (req, res) => {
    const auth = supplierOf(req);
    const snapshot = await campaignFor(ctx, req);
    const body = parseRequest(postBody(campaignLeadSchema(snapshot.campaign.doc, 'full')), req.body, 'body');
    const lead = body.lead;
    const handle = ctx.client.workflow.getHandle(distributedLeadWorkflowId(auth.tenantId, body.bidId));
    const state = await handle.query(distributionStateQuery).catch((err) => {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `No bid ${body.bidId}`, [{ field: 'bidId', message: 'is not a bid of this supplier' }]);
      throw err;
    });
    if (state.supplierId !== auth.supplierId || state.campaignId !== snapshot.campaign.doc.id || state.mode !== 'ping') {
      throw new ApiError(404, 'not_found', `No bid ${body.bidId}`, [{ field: 'bidId', message: 'is not a bid of this supplier for this campaign' }]);
    }
    if (state.status === 'expired') throw new ApiError(409, 'conflict', `bid ${body.bidId} has expired`, [{ field: 'bidId', message: 'has expired' }]);
    try {
      res.json(await handle.executeUpdate(postBidUpdate, { args: [{ lead }] }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new ApiError(409, 'conflict', err.cause?.message ?? err.message, [{ field: 'bidId', message: err.cause?.message ?? err.message }]);
      // The run is over: a post made before it ended gets its answer again; otherwise the bid is gone.
      const closed = await handle.describe().then((d) => d.status.name !== 'RUNNING', () => false);
      if (!closed) throw err;
      const final = (await handle.query(distributionStateQuery)).answer;
      if (final && final.status !== 'bid' && state.status !== 'awaiting_post') return void res.json(final);
      throw new ApiError(409, 'conflict', `bid ${body.bidId} is no longer open`, [{ field: 'bidId', message: 'is no longer open' }]);
    }
  });

  router.get('/v1/campaigns/:campaignId/leads/:leadId', async (req, res) => {
    const auth = supplierOf(req);
    verifiedSupplier(auth, (await catalogDoc<Supplier>(ctx.client, auth.tenantId, 'supplier', auth.supplierId))?.doc);
    const leadId = String(req.params['leadId']);
    if (!DISTRIBUTED_LEAD_ID_PATTERN.test(leadId)) throw new ApiError(404, 'not_found', `No lead ${leadId}`);
    const state = await ctx.client.workflow
      .getHandle(distributedLeadWorkflowId(auth.tenantId, leadId))
      .query(distributionStateQuery)
      .catch((err) => {
        if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `No lead ${leadId}`);
        throw err;
      });
    if (state.supplierId !== auth.supplierId || state.campaignId !== String(req.params['campaignId'])) throw new ApiError(404, 'not_found', `No lead ${leadId}`);
    res.json(state.answer ?? { leadId, status: 'pending' });
  });
  return router;
}
