import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Router } from 'express';
import { businessClock } from '../../clock';
import { normalizeLead } from '../../domain/lead';
import type { RouteLeadInput } from '../../domain/leadState';
import { LeadCreateBody } from '../contracts';
import { leadSearchAttributes } from '../searchAttributes';
import { LeadDomain, LeadTenant, RoutingStatus } from '../../temporal/searchAttributes';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { runUrl } from '../context';
import { ApiError, parseHeader, parseRequest } from '../errors';
import { IdempotencyKeySchema, leadIdFor, newKey, payloadHash } from '../ids';
import { leadWorkflowId } from '../../protocol/ids';
import { routeLead } from '../../../workflows';

/**
 * POST /v1/leads — accept a lead and start its routing workflow. The same Idempotency-Key (or
 * externalId) returns the first lead's answer and starts nothing; the same key with a different
 * body is a client bug and gets 409.
 */
export function postLeads(router: Router, ctx: ApiContext): void {
  router.post('/v1/leads', async (req, res) => {
    const tenant = tenantOf(req);
    const lead = parseRequest(LeadCreateBody, req.body, 'body');
    const headerKey = parseHeader(IdempotencyKeySchema, req, 'Idempotency-Key');
    const idempotencyKey = headerKey ?? (lead.externalId ? `external:${lead.externalId}` : newKey());
    const leadId = leadIdFor(tenant.id, idempotencyKey);
    const workflowId = leadWorkflowId(tenant.id, leadId);
    const hash = payloadHash(lead);
    const answer = { leadId, workflowId, statusUrl: `/v1/leads/${leadId}`, webUiUrl: runUrl(ctx, workflowId) };

    const duplicate = async (): Promise<boolean> => {
      try {
        const described = await ctx.client.workflow.getHandle(workflowId).describe();
        if (described.memo?.['payloadHash'] !== hash) {
          throw new ApiError(409, 'idempotency_key_reused', `Idempotency key was already used for a different lead (${leadId})`, { leadId });
        }
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    };

    if ((headerKey !== undefined || lead.externalId !== undefined) && (await duplicate())) {
      res.status(202).set('Idempotent-Replayed', 'true').json(answer);
      return;
    }

    const normalized = normalizeLead(lead);
    const input: RouteLeadInput = { leadId, tenantId: tenant.id, lead, receivedAt: new Date((ctx.clock ?? businessClock).now()).toISOString(), idempotencyKey };
    try {
      await ctx.client.workflow.start(routeLead, {
        workflowId,
        taskQueue: ctx.taskQueue,
        args: [input],
        // A concurrent duplicate fails here and gets the duplicate check below; a finished lead is never restarted.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { payloadHash: hash },
        staticSummary: `Lead ${normalized.email} for ${tenant.id}`,
        typedSearchAttributes: [
          { key: LeadTenant, value: tenant.id },
          { key: LeadDomain, value: normalized.companyDomain ?? normalized.emailDomain },
          { key: RoutingStatus, value: 'received' },
          ...leadSearchAttributes(normalized),
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Lost a race with the same key: same body → the first answer; another body → 409.
      await duplicate();
      res.status(202).set('Idempotent-Replayed', 'true').json(answer);
      return;
    }
    res.status(202).json(answer);
  });
}
