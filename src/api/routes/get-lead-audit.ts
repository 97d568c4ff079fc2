import type { Router } from 'express';
import { timelineCsv } from '../../audit/csv';
import { renderTimeline } from '../../audit/timeline';
import type { LeadState } from '../../domain/leadState';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { parseRequest } from '../errors';
import { AuditQuery } from '../contracts';
import { leadHandle, notFoundAsApiError } from './get-lead';
import { leadStateQuery } from '../../protocol/messages';
import { fetchDecodedHistory } from '../../temporal/codec';


/**
 * GET /v1/leads/:leadId/audit — the lead's workflow history, every run of it oldest first, as a
 * readable timeline ("why did this lead go there?"): facts, retries and rate limits, the decision,
 * claims, CRM writes, notifications, SLA timers, escalations and manual reassignments with their
 * actors. `?format=csv` answers the same entries as CSV.
 */
export function getLeadAudit(router: Router, ctx: ApiContext): void {
  router.get('/v1/leads/:leadId/audit', async (req, res) => {
    const tenant = tenantOf(req);
    const leadId = String(req.params['leadId']);
    const query = parseRequest(AuditQuery, req.query, 'query');
    const handle = leadHandle(ctx.client, tenant, leadId);
    const current = await handle.describe().catch(notFoundAsApiError(leadId));

    // Visibility is eventually consistent: the current run is always included, listed or not.
    const runs = new Map<string, number>([[current.runId, current.startTime.getTime()]]);
    // The workflow ID is `lead:<tenant slug>:ld_<hex>`, validated above: nothing to escape.
    for await (const run of ctx.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
      if (run.workflowId === handle.workflowId && !runs.has(run.runId)) runs.set(run.runId, run.startTime.getTime());
    }
    const ordered = [...runs].sort((a, b) => a[1] - b[1]).map(([runId]) => runId);
    const histories = await Promise.all(
      // Stored encrypted (src/temporal/codec.ts): decoded here, with the tenant's keys.
      ordered.map(async (runId) => ({ runId, events: (await fetchDecodedHistory(ctx.client.workflow.getHandle(handle.workflowId, runId))).events ?? [] })),
    );
    const state = (await ctx.client.workflow.getHandle(handle.workflowId, current.runId).query(leadStateQuery).catch(notFoundAsApiError(leadId))) as LeadState;

    const timeline = renderTimeline(histories, state);
    if (query.format === 'csv') {
      res
        .type('text/csv; charset=utf-8; header=present')
        .set('Content-Disposition', `attachment; filename="${leadId}-audit.csv"`)
        .send(timelineCsv(timeline));
      return;
    }
    res.json({ leadId, workflowId: handle.workflowId, timeline: timeline.entries, durations: timeline.durations });
  });
}
