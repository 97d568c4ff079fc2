import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Router } from 'express';
import type { LeadState } from '../../domain/leadState';
import type { Tenant } from '../../tenants/schema';
import { tenantOf } from '../auth';
import { runUrl, type ApiContext } from '../context';
import { ApiError } from '../errors';
import { LEAD_ID_PATTERN, leadWorkflowId } from '../../protocol/ids';
import { leadStateQuery } from '../../protocol/messages';

/** The lead's workflow for this tenant; another tenant's lead is simply not found. */
export function leadHandle(client: Client, tenant: Tenant, leadId: string) {
  if (!LEAD_ID_PATTERN.test(leadId)) throw new ApiError(404, 'not_found', `Lead ${leadId} not found`);
  return client.workflow.getHandle(leadWorkflowId(tenant.id, leadId));
}

export function notFoundAsApiError(leadId: string) {
  return (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `Lead ${leadId} not found`);
    throw err;
  };
}

/** GET /v1/leads/:leadId — status, owner, rule, decision trace and timings per step. */
export function getLead(router: Router, ctx: ApiContext): void {
  router.get('/v1/leads/:leadId', async (req, res) => {
    const tenant = tenantOf(req);
    const leadId = String(req.params['leadId']);
    const handle = leadHandle(ctx.client, tenant, leadId);
    const state = (await handle.query(leadStateQuery).catch(notFoundAsApiError(leadId))) as LeadState;
    res.json({ ...state, workflowId: handle.workflowId, webUiUrl: runUrl(ctx, handle.workflowId) });
  });
}
