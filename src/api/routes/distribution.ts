import { WorkflowNotFoundError } from '@temporalio/client';
import type { Request, Router } from 'express';
import type { z } from 'zod';
import { businessClock } from '../../clock';
import { localDate } from '../../domain/calendar';
import { PROTOTYPE_KEY_MESSAGE, PROTOTYPE_KEYS } from '../../domain/input';
import { statsFor, emptyAccountState, type AccountKind } from '../../distribution/account';
import type { DocVersion } from '../../distribution/catalog';
import { accountSnapshotQuery, accountStatsQuery } from '../../distribution/messages';
import { ID_PATTERN, type Buyer, type DistributionDoc, type DocKind, type Supplier } from '../../distribution/model';
import { resolveTemplates } from '../../distribution/templates';
import { validateDoc } from '../../distribution/validate';
import { accountLimits } from '../../distribution/workflowSupport';
import { accountWorkflowId } from '../../protocol/ids';
import { catalogDoc, catalogList, catalogVersions, putCatalogDoc } from '../../temporal/catalog';
import { sha256Hex } from '../../tenants/registry';
import type { Tenant } from '../../tenants/schema';
import { actorOf, tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, parseRequest } from '../errors';
import { AccountStatsQuery as StatsQuery, CatalogPutQuery as PutQuery, PauseBody } from '../contracts';
import { SUPPLIER_KEY_PATTERN } from './supplier-leads';

const KINDS: Record<string, DocKind> = { campaigns: 'campaign', suppliers: 'supplier', buyers: 'buyer' };

const idParam = (req: Request, kind: DocKind): string => {
  const id = String(req.params['id']);
  if (!ID_PATTERN.test(id)) throw new ApiError(400, 'invalid_request', `Invalid ${kind} id "${id}"`, [{ field: 'id', message: 'must be 1-64 characters: lower-case letters, digits, "-" and "_"' }]);
  // The catalog keys documents by ID: `constructor` would name Object's own and wedge the tenant's catalog.
  if (PROTOTYPE_KEYS.has(id)) throw new ApiError(400, 'invalid_request', `Invalid ${kind} id "${id}"`, [{ field: 'id', message: PROTOTYPE_KEY_MESSAGE }]);
  return id;
};

/**
 * A supplier may be given its plain API key once: only its SHA-256 is kept. The key must be one the
 * supplier routes can authenticate: this tenant's, this supplier's (its parts say where to look).
 */
function supplierBody(body: unknown, tenantId: string, supplierId: string): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body) || !('apiKey' in body)) return body;
  const { apiKey, ...rest } = body as Record<string, unknown>;
  const parts = typeof apiKey === 'string' ? SUPPLIER_KEY_PATTERN.exec(apiKey) : null;
  if (!parts || parts[1] !== tenantId || parts[2] !== supplierId) {
    const form = `sk.${tenantId}.${supplierId}.<secret of 16-128 letters, digits, - or _>`;
    throw new ApiError(400, 'invalid_request', `apiKey must look like ${form}`, [{ field: 'apiKey', message: `must look like ${form}` }]);
  }
  const hashes = Array.isArray(rest['apiKeySha256']) ? (rest['apiKeySha256'] as unknown[]) : [];
  return { ...rest, apiKeySha256: [...new Set([...hashes, sha256Hex(parts[0])])] };
}

/** The date range of a stats request, in the account's zone at business time. */
function statsRange(q: z.infer<typeof StatsQuery>, nowMs: number, timeZone: string): { from: string; to: string } {
  const today = localDate(nowMs, timeZone);
  if (q.from || q.to) return { from: q.from ?? '0000-01-01', to: q.to ?? today };
  const period = q.period ?? 'day';
  if (period === 'all') return { from: '0000-01-01', to: today };
  if (period === 'month') return { from: `${today.slice(0, 7)}-01`, to: today };
  if (period === 'week') {
    // ISO week: back to Monday.
    const d = new Date(`${today}T00:00:00Z`);
    const monday = new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86_400_000);
    return { from: monday.toISOString().slice(0, 10), to: today };
  }
  return { from: today, to: today };
}

/**
 * The distribution catalog through the API: campaigns, suppliers and buyers, each validated and
 * versioned (every change is an update in the tenant's catalog workflow, with its actor and note),
 * buyers paused and resumed, live account state (caps, budget, breakers) and statistics.
 */
export function distributionRoutes(router: Router, ctx: ApiContext): void {
  const now = () => (ctx.clock ?? businessClock).now();

  for (const [plural, kind] of Object.entries(KINDS)) {
    router.get(`/v1/${plural}`, async (req, res) => {
      const tenant = tenantOf(req);
      const docs = await catalogList(ctx.client, tenant.id, kind);
      res.json({ [plural]: docs.map(view) });
    });

    router.get(`/v1/${plural}/:id`, async (req, res) => {
      const tenant = tenantOf(req);
      const id = idParam(req, kind);
      const doc = await catalogDoc(ctx.client, tenant.id, kind, id);
      if (!doc) throw new ApiError(404, 'not_found', `No ${kind} ${id}`);
      if (kind === 'campaign') return void res.json(view(doc));
      res.json({ ...view(doc), account: await accountView(tenant.id, kind, doc as DocVersion<Buyer | Supplier>) });
    });

    router.get(`/v1/${plural}/:id/versions`, async (req, res) => {
      const tenant = tenantOf(req);
      const id = idParam(req, kind);
      const versions = await catalogVersions(ctx.client, tenant.id, kind, id);
      if (!versions.length) throw new ApiError(404, 'not_found', `No ${kind} ${id}`);
      res.json({ id, versions });
    });

    router.put(`/v1/${plural}/:id`, async (req, res) => {
      const tenant = tenantOf(req);
      const id = idParam(req, kind);
      const query = parseRequest(PutQuery, req.query, 'query');
      const actor = actorOf(req, `api-key:${tenant.id}`);
      const body = kind === 'supplier' ? supplierBody(req.body, tenant.id, id) : req.body;
      const doc = await validated(tenant, kind, id, body);
      const stored = await putCatalogDoc(ctx.client, ctx.taskQueue, tenant.id, kind, doc, actor, query.note ?? null);
      res.json(view(stored));
    });
  }

  for (const action of ['pause', 'resume'] as const) {
    router.post(`/v1/buyers/:id/${action}`, async (req, res) => {
      const tenant = tenantOf(req);
      const id = idParam(req, 'buyer');
      const body = parseRequest(PauseBody, req.body, 'body');
      const actor = actorOf(req, `api-key:${tenant.id}`);
      const current = await catalogDoc<Buyer>(ctx.client, tenant.id, 'buyer', id);
      if (!current) throw new ApiError(404, 'not_found', `No buyer ${id}`);
      const doc: Buyer = { ...current.doc, paused: action === 'pause' };
      const stored = await putCatalogDoc(ctx.client, ctx.taskQueue, tenant.id, 'buyer', doc, actor, body.reason ?? `${action}d through the API`);
      res.json(view(stored));
    });
  }

  for (const [plural, kind] of [['buyers', 'buyer'], ['suppliers', 'supplier']] as const) {
    router.get(`/v1/${plural}/:id/stats`, async (req, res) => {
      const tenant = tenantOf(req);
      const id = idParam(req, kind);
      const query = parseRequest(StatsQuery, req.query, 'query');
      const doc = await catalogDoc<Buyer | Supplier>(ctx.client, tenant.id, kind, id);
      if (!doc) throw new ApiError(404, 'not_found', `No ${kind} ${id}`);
      const range = statsRange(query, now(), doc.doc.timeZone);
      const stats = await ctx.client.workflow
        .getHandle(accountWorkflowId(tenant.id, kind, id))
        .query(accountStatsQuery, range)
        .catch((err) => {
          if (err instanceof WorkflowNotFoundError) return statsFor(emptyAccountState(), range);
          throw err;
        });
      const money = (c: number) => Math.round(c) / 100;
      const { revenueCents, payoutCents, ...counts } = stats.totals;
      res.json({
        [kind]: id,
        timeZone: doc.doc.timeZone,
        from: stats.from,
        to: stats.to,
        ...counts,
        revenue: money(revenueCents),
        payout: money(payoutCents),
        margin: money(stats.marginCents),
        days: stats.days.map((d) => ({ date: d.date, ...d.counters })),
      });
    });
  }

  async function validated(tenant: Tenant, kind: DocKind, id: string, body: unknown): Promise<DistributionDoc> {
    // References are checked against the catalog as it is now (read once for the kind they name).
    const refKind: DocKind | null = kind === 'campaign' ? 'buyer' : kind === 'supplier' ? 'campaign' : null;
    const known = new Set(refKind ? (await catalogList(ctx.client, tenant.id, refKind)).map((d) => d.id) : []);
    // A buyer's endpoints may name any template the tenant sees: platform, environment, then its own.
    const templates = resolveTemplates({ environment: ctx.distributionTemplates, tenant: tenant.distribution?.templates });
    const result = validateDoc(kind, id, body, (k, ref) => k === refKind && known.has(ref), templates, { tenantId: tenant.id, allowPrivateUrls: ctx.allowPrivateBuyerUrls === true });
    if (!result.ok) {
      const summary = result.issues.map((d) => `${d.field} ${d.message}`).join('; ');
      throw new ApiError(400, 'invalid_request', `Invalid ${kind}: ${summary}`, result.issues);
    }
    return result.doc;
  }

  /** Caps, budget and breakers of a buyer or supplier now, in its own zone and limits. */
  async function accountView(tenantId: string, kind: AccountKind, doc: DocVersion<Buyer | Supplier>) {
    const d = doc.doc;
    const limits = accountLimits(d.timeZone, d.caps, 'budget' in d ? d.budget : {});
    const request = { atMs: now(), limits, ...('breaker' in d ? { breakers: { ping: d.breaker, post: d.breaker } } : {}) };
    try {
      return await ctx.client.workflow.getHandle(accountWorkflowId(tenantId, kind, d.id)).query(accountSnapshotQuery, request);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }
}

/** A stored document as the API shows it (a supplier's key hashes are kept, never a key). */
function view(v: DocVersion) {
  return { id: v.id, kind: v.kind, version: v.version, updatedAt: v.updatedAt, actor: v.actor, note: v.note, document: v.doc };
}
