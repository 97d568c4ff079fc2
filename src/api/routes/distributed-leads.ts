import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { NextFunction, Request, Response, Router } from 'express';
import { disputeCsv, disputeLog } from '../../audit/distribution';
import type { DistributionState, ReturnAnswer } from '../../distribution/lead';
import { decideReturnUpdate, distributionStateQuery, returnLeadUpdate } from '../../distribution/leadMessages';
import { ID_PATTERN } from '../../distribution/model';
import { DISTRIBUTED_LEAD_ID_PATTERN, distributedLeadWorkflowId } from '../../protocol/ids';
import { fetchDecodedHistory } from '../../temporal/codec';
import { actorOf, tenantOf } from '../auth';
import { runUrl, type ApiContext } from '../context';
import { ApiError, parseRequest } from '../errors';
import { AuditQuery, ReturnBody, ReturnDecisionBody as DecisionBody } from '../contracts';


/** Routes for `dl_` leads only; a routed lead (`ld_`) goes on to the routing routes. */
const distributedOnly = (req: Request, _res: Response, next: NextFunction) => (DISTRIBUTED_LEAD_ID_PATTERN.test(String(req.params['leadId'])) ? next() : next('route'));

const RETURN_ERRORS: Record<Extract<ReturnAnswer, { ok: false }>['code'], number> = { not_sold_to_buyer: 404, window_closed: 409, already_returned: 409, no_pending_return: 409 };

/**
 * Distributed leads: their state, their dispute log (`GET /v1/leads/:id/audit`, JSON or CSV) and
 * returns (a buyer returns a lead with a reason; the campaign's rule or a person decides).
 */
export function distributedLeadRoutes(router: Router, ctx: ApiContext): void {
  const handleOf = (req: Request) => ctx.client.workflow.getHandle(distributedLeadWorkflowId(tenantOf(req).id, String(req.params['leadId'])));
  const notFound = (leadId: string) => (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `Lead ${leadId} not found`);
    throw err;
  };

  router.get('/v1/leads/:leadId', distributedOnly, async (req, res) => {
    const handle = handleOf(req);
    const state = await handle.query(distributionStateQuery).catch(notFound(String(req.params['leadId'])));
    res.json({ ...state, workflowId: handle.workflowId, webUiUrl: runUrl(ctx, handle.workflowId) });
  });

  router.get('/v1/leads/:leadId/audit', distributedOnly, async (req, res) => {
    const leadId = String(req.params['leadId']);
    const query = parseRequest(AuditQuery, req.query, 'query');
    const handle = handleOf(req);
    // Stored encrypted (src/temporal/codec.ts): decoded here, with the tenant's keys.
    const history = await fetchDecodedHistory(handle).catch(notFound(leadId));
    const state = (await handle.query(distributionStateQuery).catch(() => null)) as DistributionState | null;
    const log = disputeLog(leadId, handle.workflowId, history.events ?? [], state);
    if (query.format === 'csv') {
      res.type('text/csv; charset=utf-8; header=present').set('Content-Disposition', `attachment; filename="${leadId}-audit.csv"`).send(disputeCsv(log));
      return;
    }
    res.json({ ...log, webUiUrl: runUrl(ctx, handle.workflowId) });
  });

  const answerOf = (result: ReturnAnswer, res: Response) => {
    if (!result.ok) throw new ApiError(RETURN_ERRORS[result.code], result.code === 'not_sold_to_buyer' ? 'not_found' : 'conflict', result.message, [{ field: 'buyerId', message: result.message }]);
    res.json(result.sale);
  };
  const update = async <T>(req: Request, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new ApiError(409, 'lead_closed', err.cause?.message ?? err.message);
      // A lead whose run has ended (its return window closed, or it was never sold) takes no return.
      const ended = await handleOf(req).describe().then((d) => d.status.name !== 'RUNNING', () => false);
      if (ended) throw new ApiError(409, 'lead_closed', `lead ${String(req.params['leadId'])} is closed: its return window has ended or it was not sold`);
      return notFound(String(req.params['leadId']))(err);
    }
  };

  router.post('/v1/leads/:leadId/returns', distributedOnly, async (req, res) => {
    const tenant = tenantOf(req);
    const body = parseRequest(ReturnBody, req.body, 'body');
    const actor = actorOf(req, `api-key:${tenant.id}`);
    const handle = handleOf(req);
    answerOf(await update(req, () => handle.executeUpdate(returnLeadUpdate, { args: [{ buyerId: body.buyerId, reason: body.reason, actor }] })), res);
  });

  router.post('/v1/leads/:leadId/returns/:buyerId/decision', distributedOnly, async (req, res) => {
    const tenant = tenantOf(req);
    const body = parseRequest(DecisionBody, req.body, 'body');
    const buyerId = String(req.params['buyerId']);
    if (!ID_PATTERN.test(buyerId)) throw new ApiError(404, 'not_found', `No buyer ${buyerId}`);
    const actor = actorOf(req, `api-key:${tenant.id}`);
    const handle = handleOf(req);
    answerOf(await update(req, () => handle.executeUpdate(decideReturnUpdate, { args: [{ buyerId, decision: body.decision, actor, note: body.note ?? null }] })), res);
  });
}
