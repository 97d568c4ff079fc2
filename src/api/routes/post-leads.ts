import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Router } from 'express';
import { z } from 'zod';
import { businessClock } from '../../clock';
import { normalizeLead } from '../../domain/lead';
import type { RouteLeadInput } from '../../domain/leadState';
import { LeadInputSchema } from '../../domain/leadSchema';
import { LeadDomain, LeadTenant, RoutingStatus } from '../../temporal/searchAttributes';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { runUrl } from '../context';
import { ApiError, parseRequest } from '../errors';
import { leadIdFor, leadWorkflowId, newKey, payloadHash } from '../ids';

const IdempotencyKey = z.string().trim().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/**
 * POST /v1/leads — accept a lead and start its routing workflow. The same Idempotency-Key (or
 * externalId) returns the first lead's answer and starts nothing; the same key with a different
 * body is a client bug and gets 409.
 */
export function postLeads(router: Router, ctx: ApiContext): void {
  router.post('/v1/leads', async (req, res) => {
    const tenant = tenantOf(req);
    const lead = parseRequest(LeadInputSchema, req.body, 'body');
    const headerKey = req.get('idempotency-key');
    if (headerKey !== undefined) {
      const parsed = IdempotencyKey.safeParse(headerKey);
      if (!parsed.success) throw new ApiError(400, 'invalid_request', 'Idempotency-Key header is invalid', [{ field: 'Idempotency-Key', message: parsed.error.issues[0]?.message ?? 'invalid' }]);
    }
    const idempotencyKey = headerKey?.trim() ?? (lead.externalId ? `external:${lead.externalId}` : newKey());
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
      await ctx.client.workflow.start('routeLead', {
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
