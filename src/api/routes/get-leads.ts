import { createHmac, timingSafeEqual } from 'node:crypto';
import { isGrpcServiceError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Router } from 'express';
import type { LeadState } from '../../domain/leadState';
import { companySearchValue } from '../../domain/searchKeys';
import { leadStateQuery } from '../../protocol/messages';
import { LeadDomain, LeadOwner, RoutingRule, RoutingStatus } from '../../temporal/searchAttributes';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { LeadsListQuery, type LeadRowType } from '../contracts';
import { ApiError, parseRequest } from '../errors';
import { emailFilterHash } from '../searchAttributes';
import { dedupeSecret } from '../../distribution/dedupe';

/** How long one row's state read may take before the row goes out with its state fields null. */
export const STATE_READ_MS = 2_000;
/** State reads in flight at once for one listing: a page of 500 must not flood the workers' query tasks. */
export const STATE_READ_CONCURRENCY = 16;

/** Row fields of closed runs kept in this process: a closed run's state never changes, and reading it means a replay. */
const CLOSED_ROWS_KEPT = 5_000;
type StateFields = ReturnType<typeof stateFields>;
const closedRows = new Map<string, StateFields>();
function keepClosed(runId: string, fields: StateFields): void {
  closedRows.set(runId, fields);
  // Oldest first out (a Map iterates in insertion order).
  for (const oldest of closedRows.keys()) {
    if (closedRows.size <= CLOSED_ROWS_KEPT) break;
    closedRows.delete(oldest);
  }
}

/** Drops erased runs' row fields (they hold the lead's name and email) from this process. */
export function forgetClosedRows(runIds: readonly string[]): void {
  for (const runId of runIds) closedRows.delete(runId);
}

/** A visibility-query string literal: quotes and backslashes escaped. */
export const literal = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * A page token is Temporal's, with a MAC under a key derived from the deployment secret over the
 * query it continues and the token itself: a token used with other filters is refused, not
 * misapplied, and a hand-made one never reaches Temporal (whose list can stall on arbitrary bytes
 * until the request's deadline). Any API process of the deployment takes any other's tokens.
 */
const PAGE_TOKEN_LABEL = 'leadrelay/list-page-token/v1';
let pageTokenKey: Buffer | null = null;
const tokenTag = (query: string, token: Buffer) => {
  pageTokenKey ??= createHmac('sha256', dedupeSecret(process.env)).update(PAGE_TOKEN_LABEL).digest();
  return createHmac('sha256', pageTokenKey).update(query).update('\0').update(token).digest('base64url').slice(0, 32);
};

function encodePageToken(query: string, token: Uint8Array): string {
  const t = Buffer.from(token);
  return Buffer.from(JSON.stringify({ q: tokenTag(query, t), t: t.toString('base64') })).toString('base64url');
}

const badToken = (message: string) => new ApiError(400, 'invalid_request', `Invalid request query: query.pageToken ${message}`, [{ field: 'query.pageToken', message }]);

function decodePageToken(query: string, token: string): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badToken('is not a token this API gave');
  }
  const { q, t } = (parsed ?? {}) as { q?: unknown; t?: unknown };
  if (typeof q !== 'string' || typeof t !== 'string' || !t) throw badToken('is not a token this API gave');
  const raw = Buffer.from(t, 'base64');
  const expected = Buffer.from(tokenTag(query, raw));
  const given = Buffer.from(q);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw badToken('is not a token this API gave for a listing with these filters');
  return raw;
}

/**
 * One page of a visibility listing, and the token of the next (null on the last page): a token
 * the client sends back is checked against the query first, and one the server no longer knows
 * is the client's to fix (400 naming it), not a 5xx.
 */
export async function listPage(
  ctx: ApiContext,
  query: string,
  pageSize: number,
  pageToken: string | undefined,
): Promise<{ executions: temporal.api.workflow.v1.IWorkflowExecutionInfo[]; nextPageToken: string | null }> {
  let page: temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse;
  try {
    page = await ctx.client.workflowService.listWorkflowExecutions({
      namespace: ctx.namespace,
      query,
      pageSize,
      nextPageToken: pageToken ? decodePageToken(query, pageToken) : Buffer.alloc(0),
    });
  } catch (err) {
    if (pageToken && isGrpcServiceError(err) && err.code === 3 /* INVALID_ARGUMENT */) throw badToken('is not valid (any more): list again from the first page');
    throw err;
  }
  return { executions: page.executions, nextPageToken: page.nextPageToken && page.nextPageToken.length > 0 ? encodePageToken(query, page.nextPageToken) : null };
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const STATUS_PREFIX = 'WORKFLOW_EXECUTION_STATUS_';
const statusName = (code: number | null | undefined) => (temporal.api.enums.v1.WorkflowExecutionStatus[code ?? 0] ?? 'UNSPECIFIED').replace(STATUS_PREFIX, '');
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const between = (from: string | null | undefined, to: string | null | undefined) => (from && to ? Date.parse(to) - Date.parse(from) : null);

/** The row's fields read from the lead's state; all null when it could not be read in time. */
function stateFields(state: LeadState | null): Omit<LeadRowType, 'leadId' | 'workflowId' | 'runStatus' | 'status' | 'owner' | 'rule' | 'domain' | 'startedAt' | 'closedAt'> {
  const lead = state?.lead ?? null;
  const named = Boolean(lead?.firstName || lead?.lastName);
  return {
    name: lead && named ? lead.fullName : null,
    email: lead?.email ?? null,
    company: lead?.company ?? null,
    source: lead?.source ?? null,
    ownerName: state?.owner?.name ?? null,
    via: state?.owner?.via ?? null,
    ruleId: state ? (state.owner?.ruleId ?? state.decision?.rule?.id ?? null) : null,
    receivedAt: state?.receivedAt ?? null,
    routedAt: state?.routedAt ?? null,
    acceptedAt: state?.accepted?.at ?? null,
    timeToRouteMs: between(state?.receivedAt, state?.routedAt),
    timeToAcceptMs: between(state?.receivedAt, state?.accepted?.at),
    sla: state?.sla ? { ownerId: state.sla.ownerId, dueAt: state.sla.dueAt, escalateAt: state.sla.escalateAt, reminded: state.sla.reminded } : null,
    escalations: state ? state.escalations.length : null,
  };
}

/**
 * GET /v1/leads — the tenant's leads through Temporal visibility, by the same search attributes
 * the Web UI uses, newest first, a page at a time (`nextPageToken`). Each row carries what the
 * lead's state says (name, owner's name, times, SLA), read in parallel with a short deadline each.
 * Visibility is eventually consistent: a lead can take a moment to appear, or to show its newest
 * status, after it changes.
 */
export function getLeads(router: Router, ctx: ApiContext): void {
  router.get('/v1/leads', async (req, res) => {
    const tenant = tenantOf(req);
    const q = parseRequest(LeadsListQuery, req.query, 'query');
    // A lead's runs: its first (routeLead) and any follow-up after it closed (leadFollowUp).
    const clauses = [`WorkflowType IN ("routeLead", "leadFollowUp")`, `LeadTenant = ${literal(tenant.id)}`];
    // The address itself never leaves this process: only its keyed hash is compared.
    if (q.email) clauses.push(`LeadEmailHash = ${literal(emailFilterHash(tenant.id, q.email))}`);
    const company = companySearchValue(q.company);
    if (company) clauses.push(`LeadCompany = ${literal(company)}`);
    if (q.source) clauses.push(`LeadSource = ${literal(q.source)}`);
    if (q.owner) clauses.push(`LeadOwner = ${literal(q.owner)}`);
    if (q.status) clauses.push(`RoutingStatus = ${literal(q.status)}`);
    if (q.domain) clauses.push(`LeadDomain = ${literal(q.domain)}`);
    if (q.rule) clauses.push(`RoutingRule = ${literal(q.rule)}`);
    if (q.from) clauses.push(`StartTime >= ${literal(new Date(q.from).toISOString())}`);
    if (q.to) clauses.push(`StartTime < ${literal(new Date(q.to).toISOString())}`);
    const query = clauses.join(' AND ');

    const page = await listPage(ctx, query, q.limit, q.pageToken);

    const rows = await mapBounded(page.executions, STATE_READ_CONCURRENCY, async (run) => {
      const workflowId = run.execution?.workflowId ?? '';
      const runId = run.execution?.runId ?? '';
      const runStatus = statusName(run.status);
      const closed = runStatus !== 'RUNNING';
      // A closed run is read as itself (its state is final); an open one as the lead's current run.
      const handle = ctx.client.workflow.getHandle(workflowId, closed ? runId : undefined);
      const read = async (): Promise<{ superseded: boolean; fields: StateFields }> => {
        // A lead reassigned after its run closed has a newer run (a follow-up): only the newest is listed.
        if (closed) {
          const latest = await ctx.client.workflowService.describeWorkflowExecution({ namespace: ctx.namespace, execution: { workflowId } });
          if (latest.workflowExecutionInfo?.execution?.runId !== runId) return { superseded: true, fields: stateFields(null) };
          const kept = closedRows.get(runId);
          if (kept) return { superseded: false, fields: kept };
        }
        const fields = stateFields(await handle.query(leadStateQuery));
        if (closed) keepClosed(runId, fields);
        return { superseded: false, fields };
      };
      const { superseded, fields } = await ctx.client.connection
        .withDeadline(Date.now() + STATE_READ_MS, read)
        .catch(() => ({ superseded: false, fields: stateFields(null) }));
      if (superseded) return null;
      const attrs = decodeTypedSearchAttributes(run.searchAttributes?.indexedFields as Record<string, Payload> | undefined);
      const row: LeadRowType = {
        leadId: workflowId.split(':').pop() ?? workflowId,
        workflowId,
        runStatus,
        status: attrs.get(RoutingStatus) ?? null,
        owner: attrs.get(LeadOwner) ?? null,
        rule: attrs.get(RoutingRule) ?? null,
        domain: attrs.get(LeadDomain) ?? null,
        startedAt: iso(optionalTsToMs(run.startTime)) ?? '',
        closedAt: iso(optionalTsToMs(run.closeTime)),
        ...fields,
      };
      return row;
    });

    res.json({ query, consistency: 'eventual', leads: rows.filter((r): r is LeadRowType => r !== null), nextPageToken: page.nextPageToken });
  });
}
