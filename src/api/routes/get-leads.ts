import type { Router } from 'express';
import { z } from 'zod';
import { line } from '../../domain/input';
import { LeadDomain, LeadOwner, RoutingRule, RoutingStatus } from '../../temporal/searchAttributes';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { parseRequest } from '../errors';

/**
 * An ISO 8601 instant whose UTC form is an RFC 3339 time (years 0001-9999): an offset can push
 * 9999-12-31T23:59-23:59 into year 10000, which the visibility store refuses.
 */
const instant = z.iso
  .datetime({ offset: true })
  .refine((v) => {
    const year = new Date(v).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }, 'must fall between the years 0001 and 9999 in UTC');

/** Every filter is capped and free of control characters: a NUL would make the visibility store fail. */
const ListQuery = z
  .object({
    owner: line(100).min(1).optional(),
    status: z.string().trim().max(32).regex(/^[a-z_]+$/, 'must be a routing status').optional(),
    domain: line(253).min(1).toLowerCase().optional(),
    rule: line(100).min(1).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

/** A visibility-query string literal: quotes and backslashes escaped. */
const literal = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * GET /v1/leads — the tenant's leads through Temporal visibility, by the same search attributes
 * the Web UI uses. Visibility is eventually consistent: a lead can take a moment to appear, or
 * to show its newest status, after it changes.
 */
export function getLeads(router: Router, ctx: ApiContext): void {
  router.get('/v1/leads', async (req, res) => {
    const tenant = tenantOf(req);
    const q = parseRequest(ListQuery, req.query, 'query');
    // A lead's runs: its first (routeLead) and any follow-up after it closed (leadFollowUp).
    const clauses = [`WorkflowType IN ("routeLead", "leadFollowUp")`, `LeadTenant = ${literal(tenant.id)}`];
    if (q.owner) clauses.push(`LeadOwner = ${literal(q.owner)}`);
    if (q.status) clauses.push(`RoutingStatus = ${literal(q.status)}`);
    if (q.domain) clauses.push(`LeadDomain = ${literal(q.domain)}`);
    if (q.rule) clauses.push(`RoutingRule = ${literal(q.rule)}`);
    if (q.from) clauses.push(`StartTime >= ${literal(new Date(q.from).toISOString())}`);
    if (q.to) clauses.push(`StartTime < ${literal(new Date(q.to).toISOString())}`);
    const query = clauses.join(' AND ');
    const leads = [];
    const seen = new Set<string>();
    for await (const run of ctx.client.workflow.list({ query, pageSize: Math.min(q.limit, 100) })) {
      // A lead reassigned after it closed has several runs: list it once, newest run first.
      if (seen.has(run.workflowId)) continue;
      seen.add(run.workflowId);
      const attrs = run.typedSearchAttributes;
      leads.push({
        leadId: run.workflowId.split(':').pop(),
        workflowId: run.workflowId,
        runStatus: run.status.name,
        status: attrs.get(RoutingStatus) ?? null,
        owner: attrs.get(LeadOwner) ?? null,
        rule: attrs.get(RoutingRule) ?? null,
        domain: attrs.get(LeadDomain) ?? null,
        startedAt: run.startTime.toISOString(),
        closedAt: run.closeTime?.toISOString() ?? null,
      });
      if (leads.length >= q.limit) break;
    }
    res.json({ query, consistency: 'eventual', leads });
  });
}
