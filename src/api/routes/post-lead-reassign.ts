import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Router } from 'express';
import { z } from 'zod';
import type { ReassignRequest } from '../../domain/leadState';
import { leadStateQuery, reassignSignal } from '../../../workflows/messages';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, parseRequest } from '../errors';
import { newKey } from '../ids';
import { leadHandle, notFoundAsApiError } from './get-lead';

const ReassignBody = z
  .object({
    ownerId: z.string().trim().min(1).max(100),
    reason: z.string().trim().min(1).max(1000),
    actor: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

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
    const handle = leadHandle(ctx.client, tenant, leadId);
    const described = await handle.describe().catch(notFoundAsApiError(leadId));
    const request: ReassignRequest = {
      ownerId: body.ownerId,
      reason: body.reason,
      actor: body.actor ?? `api-key:${tenant.id}`,
      requestId: req.get('idempotency-key')?.trim() || newKey(),
    };
    if (described.status.name === 'RUNNING') {
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
    const previous = await handle.query(leadStateQuery);
    if (!previous.lead) throw new ApiError(409, 'lead_closed', `Lead ${leadId} closed before it was normalized; nothing to reassign`);
    try {
      await ctx.client.workflow.start('routeLead', {
      workflowId: handle.workflowId,
      taskQueue: ctx.taskQueue,
      args: [{ leadId, tenantId: tenant.id, lead: { email: previous.lead.email, source: previous.lead.source }, receivedAt: previous.receivedAt, idempotencyKey: `${leadId}:follow-up`, followUp: { previous, reassign: request } }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      // The same memo as the lead's first run: a resubmission of the lead still matches it.
      memo: described.memo ?? {},
      staticSummary: `Follow-up of lead ${leadId}: reassign to ${request.ownerId}`,
      });
    } catch (err) {
      // A concurrent request started the follow-up first: this one joins it as a signal.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await ctx.client.workflow.getHandle(handle.workflowId).signal(reassignSignal, request);
    }
    res.status(202).json({ leadId, requestId: request.requestId, ownerId: request.ownerId, run: 'follow-up' });
  });
}
