import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { Router } from 'express';
import { QUARANTINE_ID_PATTERN, quarantineWorkflowId } from '../../protocol/ids';
import { discardUpdate, QUARANTINE_STATUSES, quarantineStateQuery, replayedUpdate, type QuarantineMemo, type QuarantineState, type QuarantineStatusName } from '../../quarantine';
import { discardQuarantined, replayQuarantined } from '../../quarantine/replay';
import { publicSourceId } from '../../sources/config';
import { remapKeptEvent, startSourceLead } from '../../sources/intake';
import { LeadSource, QuarantineStatus } from '../../temporal/searchAttributes';
import type { Tenant } from '../../tenants/schema';
import { actorOf, tenantOf } from '../auth';
import { runUrl, type ApiContext } from '../context';
import { QuarantineDiscardBody, QuarantineListQuery, QuarantineReplayBody, type QuarantineRowType } from '../contracts';
import { ApiError, parseRequest } from '../errors';
import { listPage, literal } from './get-leads';

function notFound(id: string): ApiError {
  return new ApiError(404, 'not_found', `Quarantined event ${id} not found`);
}

/** The quarantine's workflow for this tenant: another tenant's ID is simply not found. */
function quarantineHandle(ctx: ApiContext, tenant: Tenant, id: string): WorkflowHandle {
  if (!QUARANTINE_ID_PATTERN.test(id)) throw notFound(id);
  return ctx.client.workflow.getHandle(quarantineWorkflowId(tenant.id, id));
}

async function readState(handle: WorkflowHandle, id: string): Promise<QuarantineState> {
  try {
    return await handle.query(quarantineStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(id);
    throw err;
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const isStatus = (v: unknown): v is QuarantineStatusName => typeof v === 'string' && (QUARANTINE_STATUSES as readonly string[]).includes(v);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** A visibility row as the listing answers it: the search attributes, and the memo (null fields when it cannot be decoded). */
async function rowOf(ctx: ApiContext, raw: temporal.api.workflow.v1.IWorkflowExecutionInfo): Promise<QuarantineRowType> {
  const workflowId = raw.execution?.workflowId ?? '';
  let memo: Partial<QuarantineMemo> = {};
  let attrs: { source: string | null; status: unknown } = { source: null, status: null };
  try {
    const info = await executionInfoFromRaw(raw as temporal.api.workflow.v1.WorkflowExecutionInfo, ctx.client.options.loadedDataConverter, null, ctx.namespace);
    memo = (info.memo ?? {}) as Partial<QuarantineMemo>;
    attrs = { source: info.typedSearchAttributes.get(LeadSource) ?? null, status: info.typedSearchAttributes.get(QuarantineStatus) ?? null };
  } catch {
    // A memo this process cannot decode (a key it lacks): the row still lists, without its details.
  }
  return {
    quarantineId: workflowId.split(':').pop() ?? workflowId,
    workflowId,
    sourceId: attrs.source,
    kind: str(memo.kind),
    status: isStatus(attrs.status) ? attrs.status : null,
    reason: str(memo.reason),
    field: str(memo.field),
    fields: Array.isArray(memo.fields) ? memo.fields.filter((f): f is string => typeof f === 'string') : [],
    receivedAt: str(memo.receivedAt),
    closedAt: iso(optionalTsToMs(raw.closeTime)),
  };
}

function detail(ctx: ApiContext, handle: WorkflowHandle, state: QuarantineState) {
  const { event, ...rest } = state;
  return { ...rest, workflowId: handle.workflowId, webUiUrl: runUrl(ctx, handle.workflowId), event };
}

/**
 * Quarantined source events (src/quarantine): the ones that failed their mapping or the lead
 * schema, kept by a workflow each. Listing and reading are for every role; replaying and
 * discarding for ops and admins (src/api/roles.ts).
 */
export function quarantineRoutes(router: Router, ctx: ApiContext): void {
  /**
   * GET /v1/quarantine — from visibility: held ones first, newest first, then the resolved ones,
   * most recently resolved first (the store's own order). Eventually consistent, like the routing log.
   */
  router.get('/v1/quarantine', async (req, res) => {
    const tenant = tenantOf(req);
    const q = parseRequest(QuarantineListQuery, req.query, 'query');
    const clauses = [`WorkflowType = "quarantine"`, `LeadTenant = ${literal(tenant.id)}`];
    if (q.status) clauses.push(`QuarantineStatus = ${literal(q.status)}`);
    if (q.source) clauses.push(`LeadSource = ${literal(q.source)}`);
    const query = clauses.join(' AND ');
    const page = await listPage(ctx, query, q.limit, q.pageToken);
    const items = await Promise.all(page.executions.map((raw) => rowOf(ctx, raw)));
    res.json({ query, consistency: 'eventual', items, nextPageToken: page.nextPageToken });
  });

  /** GET /v1/quarantine/:id — the event as received, why it failed and what has been done with it. */
  router.get('/v1/quarantine/:id', async (req, res) => {
    const tenant = tenantOf(req);
    const id = String(req.params['id']);
    const handle = quarantineHandle(ctx, tenant, id);
    res.json(detail(ctx, handle, await readState(handle, id)));
  });

  /**
   * POST /v1/quarantine/:id/replay — maps the kept event with the source's current mapping stack:
   * 200 with the lead it started (or had started: idempotent), 422 naming each field still failing.
   */
  router.post('/v1/quarantine/:id/replay', async (req, res) => {
    const tenant = tenantOf(req);
    const id = String(req.params['id']);
    const body = parseRequest(QuarantineReplayBody, req.body, 'body');
    const actor = actorOf(req, `api-key:${tenant.id}`, body.actor);
    const handle = quarantineHandle(ctx, tenant, id);
    // The source as configured now (by its own ID or its public src_… ID); gone from the configuration: 409.
    const sourceOf = (state: QuarantineState) => {
      const source = tenant.sources?.find((s) => s.id === state.sourceId || publicSourceId(tenant.id, s.id) === state.sourceId);
      if (!source) throw new ApiError(409, 'conflict', `Source ${state.sourceId} is no longer configured for this tenant: configure it again to replay its events`, { sourceId: state.sourceId });
      return source;
    };
    const outcome = await replayQuarantined(
      {
        read: () => readState(handle, id),
        map: (state) => remapKeptEvent(ctx, tenant, sourceOf(state), state.event, state.reason),
        start: async (state, lead) => {
          const started = await startSourceLead(ctx, tenant, sourceOf(state), lead, state.eventId);
          return { leadId: started.answer.leadId };
        },
        record: (request) => handle.executeUpdate(replayedUpdate, { args: [request] }),
      },
      actor,
    );
    if (!outcome.ok) {
      const summary = outcome.issues.map((i) => `${i.field} ${i.message}`).join('; ') || outcome.reason;
      throw new ApiError(422, 'mapping_failed', `The event still fails with the current mapping: ${summary}`, outcome.issues);
    }
    res.json({ quarantineId: id, leadId: outcome.leadId, statusUrl: `/v1/leads/${outcome.leadId}`, replayed: { actor: outcome.actor, at: outcome.at } });
  });

  /** POST /v1/quarantine/:id/discard — a person gives up on the event; who and why are recorded. */
  router.post('/v1/quarantine/:id/discard', async (req, res) => {
    const tenant = tenantOf(req);
    const id = String(req.params['id']);
    const body = parseRequest(QuarantineDiscardBody, req.body, 'body');
    const actor = actorOf(req, `api-key:${tenant.id}`, body.actor);
    const handle = quarantineHandle(ctx, tenant, id);
    const state = await discardQuarantined(
      { read: () => readState(handle, id), record: (request) => handle.executeUpdate(discardUpdate, { args: [request] }) },
      { actor, reason: body.reason },
    );
    res.json(detail(ctx, handle, state));
  });
}
