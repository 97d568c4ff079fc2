import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Router } from 'express';
import type { LeadState } from '../../domain/leadState';
import type { Tenant } from '../../tenants/schema';
import { tenantOf } from '../auth';
import { runUrl, type ApiContext } from '../context';
import { ApiError } from '../errors';
import { LEAD_ID_PATTERN, leadWorkflowId } from '../../protocol/ids';
import { leadStateQuery } from '../../protocol/messages';
import { withTimeout } from '../../temporal/reachability';

/** The lead's workflow for this tenant; another tenant's lead is simply not found. */
export function leadHandle(client: Client, tenant: Tenant, leadId: string) {
  if (!LEAD_ID_PATTERN.test(leadId)) throw new ApiError(404, 'not_found', `Lead ${leadId} not found`);
  return client.workflow.getHandle(leadWorkflowId(tenant.id, leadId));
}

/** How long a check of the lead's state may hold up a signal (an accept, a reassignment). */
const STATE_CHECK_MS = 1_500;

/**
 * The open run's state for a check before a signal, or null when Temporal cannot answer it in
 * time (no worker polling answers a query only after several seconds, FAILED_PRECONDITION): then
 * the signal goes without the check, since the workflow itself ignores an accept from an earlier
 * owner and a reassignment to the current one, and a signal is kept until a worker takes it.
 */
export async function stateForCheck(handle: WorkflowHandle, leadId: string): Promise<LeadState | null> {
  try {
    return await withTimeout(handle.query(leadStateQuery), STATE_CHECK_MS, 'no answer in time');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return notFoundAsApiError(leadId)(err);
    return null;
  }
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
