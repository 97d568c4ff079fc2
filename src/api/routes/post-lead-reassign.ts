import type { Router } from 'express';
import { z } from 'zod';
import type { ReassignRequest } from '../../domain/leadState';
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
 * POST /v1/leads/:leadId/reassign — manual reassignment while the lead's run is open. The signal
 * carries a request ID (the Idempotency-Key header when given) so a retried request reassigns once.
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
    if (described.status.name !== 'RUNNING') {
      throw new ApiError(409, 'lead_closed', `Lead ${leadId} is ${described.status.name.toLowerCase()}; its reassignment window has ended`);
    }
    const request: ReassignRequest = {
      ownerId: body.ownerId,
      reason: body.reason,
      actor: body.actor ?? `api-key:${tenant.id}`,
      requestId: req.get('idempotency-key')?.trim() || newKey(),
    };
    await handle.signal('reassign', request);
    res.status(202).json({ leadId, requestId: request.requestId, ownerId: request.ownerId });
  });
}
