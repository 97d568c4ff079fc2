import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Router } from 'express';
import type { LeadState, ReassignRequest } from '../../domain/leadState';
import { leadStateQuery, reassignSignal } from '../../protocol/messages';
import { actorOf, tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, parseHeader, parseRequest } from '../errors';
import { IdempotencyKeySchema, newKey } from '../ids';
import { leadHandle, notFoundAsApiError, stateForCheck } from './get-lead';
import { leadFollowUp } from '../../../workflows';
import { LeadDomain, LeadTenant } from '../../temporal/searchAttributes';
import { leadSearchAttributes } from '../searchAttributes';
import { ReassignBody } from '../contracts';
import { erasedLeadError, refuseErased, undoRuns } from '../erasedLead';
import { isErased } from '../../temporal/erasure';


/** Transfer reasons the lead's run uses for itself (src/protocol/keys.ts): a request ID may not take them. */
const RESERVED_REQUEST_ID = /^(escalation:\d+(:undo)?|crm-refused)$/;

/**
 * A reassignment to the lead's current owner would change nothing, yet write the CRM and notify:
 * 409. A retry of the request that made them the owner (same Idempotency-Key) still answers as
 * the first time did.
 */
function refuseCurrentOwner(leadId: string, state: LeadState, request: ReassignRequest): void {
  const { ownerId, requestId } = request;
  if (state.owner?.id !== ownerId || state.reassignments.some((r) => r.requestId === requestId)) return;
  throw new ApiError(409, 'already_the_owner', `Lead ${leadId} is already with ${ownerId}; nothing to reassign`, [{ field: 'ownerId', message: 'is already the owner' }]);
}

/**
 * POST /v1/leads/:leadId/reassign — manual reassignment at any time. While the lead's run is open
 * it is a signal; after the run closed, a follow-up run on the same lead ID (same workflow ID)
 * starts from the final state. The request ID (the Idempotency-Key header when given) makes a
 * retried request reassign once.
 */
export function postLeadReassign(router: Router, ctx: ApiContext): void {
  router.post('/v1/leads/:leadId/reassign', async (req, res) => {
    const tenant = tenantOf(req);
    const leadId = String(req.params['leadId']);
    const body = parseRequest(ReassignBody, req.body, 'body');
    const known = tenant.routing.team.some((m) => m.id === body.ownerId) || tenant.routing.fallback.ownerId === body.ownerId;
    if (!known) {
      throw new ApiError(400, 'invalid_request', `ownerId ${body.ownerId} is not on the routing team`, [{ field: 'ownerId', message: 'is not on the routing team' }]);
    }
    const requestId = parseHeader(IdempotencyKeySchema.refine((key) => !RESERVED_REQUEST_ID.test(key), 'is a name the lead keeps for its own pool transfers'), req, 'Idempotency-Key') ?? newKey();
    const handle = leadHandle(ctx.client, tenant, leadId);
    const described = await handle.describe().catch(notFoundAsApiError(leadId));
    const request: ReassignRequest = { ownerId: body.ownerId, reason: body.reason, actor: actorOf(req, `api-key:${tenant.id}`, body.actor), requestId };
    if (described.status.name === 'RUNNING') {
      const state = await stateForCheck(handle, leadId);
      if (state) refuseCurrentOwner(leadId, state, request);
      const signalled = await handle.signal(reassignSignal, request).then(
        () => true,
        (err: unknown) => {
          // The run closed between the look and the signal: the follow-up below takes the request.
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
      if (signalled) {
        res.status(202).json({ leadId, requestId: request.requestId, ownerId: request.ownerId, run: 'current' });
        return;
      }
    }
    // The run has closed: a follow-up run on the same lead ID takes the final state and the request.
    const previous = await handle.query(leadStateQuery).catch(async (err: unknown): Promise<never> => {
      // Erased (or gone) between the look and the read: 410 for an erasure, else 404, never a 500.
      if (err instanceof WorkflowNotFoundError) await refuseErased(ctx, tenant.id, leadId);
      return notFoundAsApiError(leadId)(err);
    });
    if (!previous.lead) throw new ApiError(409, 'lead_closed', `Lead ${leadId} closed before it was normalized; nothing to reassign`);
    refuseCurrentOwner(leadId, previous, request);
    // A retry of a request the closed run already carried out: nothing to do again.
    if (previous.reassignments.some((r) => r.requestId === requestId && r.crmWritten)) {
      res.status(202).json({ leadId, requestId, ownerId: request.ownerId, run: 'none' });
      return;
    }
    // An erased lead is not brought back by a reassignment: checked before the follow-up starts
    // and again after (an erasure may have been recorded in between; then this run is undone).
    await refuseErased(ctx, tenant.id, leadId);
    let started = false;
    try {
      await ctx.client.workflow.start(leadFollowUp, {
      workflowId: handle.workflowId,
      taskQueue: ctx.taskQueue,
      args: [{ leadId, tenantId: tenant.id, lead: { email: previous.lead.email, source: previous.lead.source }, receivedAt: previous.receivedAt, idempotencyKey: `${leadId}:follow-up`, followUp: { previous, reassign: request } }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      // The same memo as the lead's first run: a resubmission of the lead still matches it.
      memo: described.memo ?? {},
      staticSummary: `Follow-up of lead ${leadId}: reassign to ${request.ownerId}`,
      // Findable from its start as the first run was: the listing shows a lead's newest run.
      typedSearchAttributes: [
        { key: LeadTenant, value: tenant.id },
        { key: LeadDomain, value: previous.lead.companyDomain ?? previous.lead.emailDomain },
        ...leadSearchAttributes(tenant.id, previous.lead),
      ],
      });
      started = true;
    } catch (err) {
      // A concurrent request started the follow-up first: this one joins it as a signal.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await ctx.client.workflow.getHandle(handle.workflowId).signal(reassignSignal, request);
    }
    if (started && (await isErased(ctx.client, tenant.id, leadId))) {
      await undoRuns(ctx, handle.workflowId);
      throw erasedLeadError(leadId);
    }
    res.status(202).json({ leadId, requestId: request.requestId, ownerId: request.ownerId, run: 'follow-up' });
  });
}
