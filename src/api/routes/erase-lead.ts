import type { Router } from 'express';
import type { DistributionState } from '../../distribution/lead';
import { distributionStateQuery } from '../../distribution/leadMessages';
import type { ErasureRecord } from '../../protocol/erasures';
import { DISTRIBUTED_LEAD_ID_PATTERN, distributedLeadWorkflowId, LEAD_ID_PATTERN, leadWorkflowId } from '../../protocol/ids';
import { deleteRuns, listErasures, recordErasure, workflowRuns } from '../../temporal/erasure';
import { withTimeout } from '../../temporal/reachability';
import type { Tenant } from '../../tenants/schema';
import { actorOf, tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ErasuresQuery } from '../contracts';
import { ApiError, parseRequest } from '../errors';
import { undoRuns } from '../erasedLead';
import { stateForCheck } from './get-lead';
import { forgetClosedRows } from './get-leads';

/** The lead's workflow ID in this tenant, by the kind of ID (`ld_` routed, `dl_` distributed); another tenant's lead is simply not found. */
function leadWorkflow(tenant: Tenant, leadId: string): { workflowId: string; kind: 'routed' | 'distributed' } {
  if (LEAD_ID_PATTERN.test(leadId)) return { workflowId: leadWorkflowId(tenant.id, leadId), kind: 'routed' };
  if (DISTRIBUTED_LEAD_ID_PATTERN.test(leadId)) return { workflowId: distributedLeadWorkflowId(tenant.id, leadId), kind: 'distributed' };
  throw new ApiError(404, 'not_found', `Lead ${leadId} not found`);
}

const answer = (record: ErasureRecord) => ({ leadId: record.leadId, erased: record.erased, at: record.at, actor: record.actor });

/**
 * A 409 for a lead still in flight, naming where it is and how it ends. Erasing it now would
 * terminate a run that may still write to the CRM, notify a rep or take a buyer's return; the
 * lead is closed first by the ordinary means, then erased.
 */
async function stillInFlight(ctx: ApiContext, tenant: Tenant, leadId: string, kind: 'routed' | 'distributed', workflowId: string): Promise<ApiError> {
  const handle = ctx.client.workflow.getHandle(workflowId);
  if (kind === 'routed') {
    const state = await stateForCheck(handle, leadId).catch(() => null);
    const status = state?.status ?? 'running';
    const holdOpen = ctx.tenants.routingConfig(tenant.id).holdOpenSeconds;
    return new ApiError(
      409,
      'conflict',
      `Lead ${leadId} is still in flight (${status}): only a closed lead can be erased. Its run closes once it is accepted (POST /v1/leads/${leadId}/accept) and the tenant's reassignment window (${holdOpen} s) has passed, or once it ends without an owner; then send this request again`,
      { status, runStatus: 'RUNNING' },
    );
  }
  const state = (await withTimeout(handle.query(distributionStateQuery), 1_500, 'no answer in time').catch(() => null)) as DistributionState | null;
  const status = state?.status ?? 'running';
  const until = state?.returnsUntil ? ` (returns may be asked for until ${state.returnsUntil})` : '';
  return new ApiError(
    409,
    'conflict',
    `Lead ${leadId} is still in flight (${status}): only a closed lead can be erased. A distributed lead stays open until its buyers' return window ends${until}; then send this request again`,
    { status, runStatus: 'RUNNING' },
  );
}

/**
 * How long a DELETE waits for Temporal to finish deleting the runs it has accepted to delete.
 * Temporal removes a run once its close is acknowledged in its queues: at once for a lead closed
 * a while ago; for one closed moments before, within seconds on the dev server and the compose
 * cluster (their transfer-queue state is saved every second), up to a minute on a server left at
 * its defaults.
 */
const DELETE_WAIT_MS = 6_000;

/**
 * Erasure: `DELETE /v1/leads/:leadId` deletes every run of a closed lead from Temporal (history
 * and visibility) and records who erased which runs, when, in the tenant's erasure log;
 * `GET /v1/erasures` reads that log. The record is written before the runs are deleted, so no
 * erasure happens without its record; a request that fails half way (or answered 202, Temporal
 * still deleting) is finished by the same request sent again, under the same record. Once
 * erased, the lead answers 404 everywhere else, and a repeated DELETE answers the logged record
 * (200): erasing is idempotent.
 */
export function eraseLeadRoutes(router: Router, ctx: ApiContext): void {
  router.delete('/v1/leads/:leadId', async (req, res) => {
    const tenant = tenantOf(req);
    const leadId = String(req.params['leadId']);
    const { workflowId, kind } = leadWorkflow(tenant, leadId);
    const actor = actorOf(req, `api-key:${tenant.id}`);

    const found = await workflowRuns(ctx.client, ctx.namespace, workflowId);
    if (found.latestStatus === null) {
      // Nothing left in Temporal: erased before (answer that record), or never there.
      const logged = (await listErasures(ctx.client, tenant.id, { leadId, limit: 1 })).erasures[0];
      if (!logged) throw new ApiError(404, 'not_found', `Lead ${leadId} not found`);
      res.set('Idempotent-Replayed', 'true').json(answer(logged));
      return;
    }
    if (found.latestStatus === 'RUNNING') throw await stillInFlight(ctx, tenant, leadId, kind, workflowId);

    const record = await recordErasure(ctx.client, ctx.taskQueue, tenant.id, { leadId, erased: found.runs, actor });
    let gone = await deleteRuns(ctx.client, ctx.namespace, found.runs, DELETE_WAIT_MS);
    // A run that started while this erasure was being recorded (a reassignment's follow-up that
    // checked the log just before) goes too: the reassignment route checks the log again after
    // it starts one and undoes it, and this looks again after deleting, so neither order leaves one.
    if (gone) gone = await undoRuns(ctx, workflowId);
    forgetClosedRows(found.runs.map((r) => r.runId));
    // Temporal has taken every delete (it carries them out however long that takes), but the runs
    // are not gone yet: 202, and the same request answers 200 once they are.
    if (!gone) res.status(202).set('Retry-After', '5');
    res.json(answer(record));
  });

  router.get('/v1/erasures', async (req, res) => {
    const tenant = tenantOf(req);
    const q = parseRequest(ErasuresQuery, req.query, 'query');
    res.json(await listErasures(ctx.client, tenant.id, { limit: q.limit, ...(q.leadId ? { leadId: q.leadId } : {}), ...(q.before ? { before: q.before } : {}) }));
  });
}
