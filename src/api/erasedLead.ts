import { deleteRuns, isErased, workflowRuns } from '../temporal/erasure';
import type { ApiContext } from './context';
import { ApiError } from './errors';

/** The 410 every route answers for an erased lead. */
export function erasedLeadError(leadId: string): ApiError {
  return new ApiError(410, 'lead_erased', `Lead ${leadId} was erased (see GET /v1/erasures): it is not started, routed or reassigned again`, { leadId });
}

/**
 * Deletes whatever runs the workflow ID has now (terminating an open one): for a run that started
 * while its lead was being erased. Answers whether they are gone.
 */
export async function undoRuns(ctx: ApiContext, workflowId: string): Promise<boolean> {
  const found = await workflowRuns(ctx.client, ctx.namespace, workflowId);
  return found.runs.length === 0 || deleteRuns(ctx.client, ctx.namespace, found.runs, 6_000);
}

/** Throws the 410 when the tenant's erasure log has the lead. */
export async function refuseErased(ctx: ApiContext, tenantId: string, leadId: string): Promise<void> {
  if (await isErased(ctx.client, tenantId, leadId)) throw erasedLeadError(leadId);
}
