import { WorkflowNotFoundError } from '@temporalio/client';
import type { Request, Router } from 'express';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { businessClock, clockFields } from '../../clock';
import { policyJsonSchema } from '../../domain/policy/jsonSchema';
import { parsePolicy } from '../../domain/policy/parse';
import { shadowedRules } from '../../domain/policy/shadowing';
import type { PolicyVersionSummary } from '../../domain/policy/store';
import type { Period, Policy } from '../../domain/policy/types';
import { emptyPoolState, poolStats, rollPeriods } from '../../domain/pools';
import { currentPolicy, publishPolicy } from '../../temporal/entities';
import type { Tenant } from '../../tenants/schema';
import { policyVersionQuery, policyVersionsQuery, poolStatsQuery } from '../../protocol/messages';
import { policyWorkflowId, poolWorkflowId } from '../../protocol/ids';
import { actorOf, tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, parseRequest, refusePrototypeKeys, type FieldIssue } from '../errors';
import { newKey } from '../ids';
import { discardRun } from '../../temporal/erasure';
import { PolicyVersionRef, PoolStatsQuery as StatsQuery, PublishQuery, RollbackBody, SimulateBody } from '../contracts';
import type { PolicyVersion } from '../../domain/policy/store';
import { simulateLead } from '../../../workflows';

/** A policy body as JSON, or as YAML (`Content-Type: application/yaml`); prototype keys refused in either. */
function policyBody(req: Request): unknown {
  if (typeof req.body !== 'string') return req.body;
  let parsed: unknown;
  try {
    parsed = parseYaml(req.body);
  } catch (err) {
    const message = `is not valid YAML: ${(err as Error).message}`;
    throw new ApiError(400, 'invalid_request', `Policy ${message}`, [{ field: '(body)', message }]);
  }
  refusePrototypeKeys(parsed);
  return parsed;
}

/** Schema validation, then what only the tenant can say: every rep a policy names must be on the team. */
export function validatePolicy(tenant: Tenant, body: unknown): Policy {
  const parsed = parsePolicy(body);
  if (!parsed.ok) {
    const details: FieldIssue[] = parsed.issues.map((i) => ({ field: i.path || '(policy)', message: i.message }));
    throw new ApiError(400, 'invalid_request', `Invalid policy: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, details);
  }
  const team = new Set(tenant.routing.team.map((m) => m.id));
  const issues: FieldIssue[] = [];
  parsed.policy.pools.forEach((pool, p) =>
    pool.members.forEach((m, i) => {
      if (!team.has(m.repId)) issues.push({ field: `pools.${p}.members.${i}.repId`, message: `${m.repId} is not on the routing team` });
    }),
  );
  if (issues.length) throw new ApiError(400, 'invalid_request', `Invalid policy: ${issues.map((d) => `${d.field} ${d.message}`).join('; ')}`, issues);
  return parsed.policy;
}


/**
 * The tenant's routing policy: read it, publish a new version (validated, takes effect for the
 * next lead without a restart), list versions, simulate a lead against it, and pool statistics.
 */
export function policyRoutes(router: Router, ctx: ApiContext): void {
  router.get('/v1/policy/schema', (_req, res) => {
    res.json(policyJsonSchema());
  });

  router.get('/v1/policy', async (req, res) => {
    const tenant = tenantOf(req);
    res.json(await currentPolicy(ctx.client, ctx.tenants.routingConfig(tenant.id)));
  });

  router.put('/v1/policy', async (req, res) => {
    const tenant = tenantOf(req);
    const query = parseRequest(PublishQuery, req.query, 'query');
    const actor = actorOf(req, `api-key:${tenant.id}`);
    const policy = validatePolicy(tenant, policyBody(req));
    const note = query.note ?? null;
    const published = await publishPolicy(ctx.client, ctx.taskQueue, tenant.id, policy, actor, note);
    // Published all the same: a rule that can never match is a warning, not an error.
    const warnings = shadowedRules(policy);
    res.status(200).json({ version: `v${published.version}`, publishedAt: published.publishedAt, actor: published.actor, note: published.note, warnings });
  });

  router.get('/v1/policy/versions', async (req, res) => {
    const tenant = tenantOf(req);
    let versions: PolicyVersionSummary[] = [];
    try {
      versions = await ctx.client.workflow.getHandle(policyWorkflowId(tenant.id)).query(policyVersionsQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    res.json({ versions: versions.map((v) => ({ ...v, version: `v${v.version}` })) });
  });

  router.post('/v1/policy/simulate', async (req, res) => {
    const tenant = tenantOf(req);
    const body = parseRequest(SimulateBody, req.body, 'body');
    const draft = body.policy === undefined ? undefined : { version: 'draft', policy: validatePolicy(tenant, body.policy) };
    // A simulation waits for live reads (up to 45 s each): it gets its own, longer deadline.
    // The run holds the lead tried (personal data) and nothing worth auditing: it is deleted once
    // answered (or given up on), not left for the namespace retention.
    const workflowId = `simulate:${tenant.id}:${newKey()}`;
    const result = await ctx.client.connection
      .withDeadline(Date.now() + 130_000, () =>
        ctx.client.workflow.execute(simulateLead, {
          workflowId,
          taskQueue: ctx.taskQueue,
          args: [{ tenantId: tenant.id, lead: body.lead, ...(draft ? { draft } : {}) }],
          workflowExecutionTimeout: '2m',
        }),
      )
      .finally(() => discardRun(ctx.client, ctx.namespace, workflowId));
    // A draft's rules that can never match, as publishing it would warn.
    res.json(draft ? { ...result, warnings: shadowedRules(draft.policy) } : result);
  });

  router.get('/v1/pools/:pool/stats', async (req, res) => {
    const tenant = tenantOf(req);
    const query = parseRequest(StatsQuery, req.query, 'query');
    const { policy, version } = await currentPolicy(ctx.client, ctx.tenants.routingConfig(tenant.id));
    const pool = policy.pools.find((p) => p.id === req.params['pool']);
    if (!pool) throw new ApiError(404, 'not_found', `Pool ${String(req.params['pool'])} is not in policy ${version}`);
    const period: Period = query.period ?? pool.period ?? 'day';
    try {
      res.json({ pool: pool.id, strategy: pool.strategy, policyVersion: version, ...(await ctx.client.workflow.getHandle(poolWorkflowId(tenant.id, pool.id)).query(poolStatsQuery, { pool, period, timeZone: policy.timezone, ...clockFields(ctx.clock ?? businessClock) })) });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // No lead has claimed from this pool yet.
      res.json({ pool: pool.id, strategy: pool.strategy, policyVersion: version, ...poolStats(rollPeriods(emptyPoolState(), (ctx.clock ?? businessClock).now(), policy.timezone), pool, period) });
    }
  });

  /** One stored version of the tenant's policy, or a 404 naming it. */
  async function storedVersion(tenantId: string, version: number): Promise<PolicyVersion> {
    let found: PolicyVersion | null = null;
    try {
      found = await ctx.client.workflow.getHandle(policyWorkflowId(tenantId)).query(policyVersionQuery, version);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    if (!found) throw new ApiError(404, 'not_found', `Policy version v${version} not found`, [{ field: 'version', message: `v${version} is not a stored version of this tenant's policy` }]);
    return found;
  }

  router.get('/v1/policy/versions/:version', async (req, res) => {
    const tenant = tenantOf(req);
    const { version } = parseRequest(z.object({ version: PolicyVersionRef }), req.params, 'params');
    const stored = await storedVersion(tenant.id, version);
    res.json({ version: `v${stored.version}`, policy: stored.policy, publishedAt: stored.publishedAt, actor: stored.actor, note: stored.note });
  });

  // A rollback publishes the earlier policy again as the newest version: history only grows, and
  // the versions list says who rolled back to what. Checked as any publish is (the team may have
  // changed since); rolling back to the current content keeps its version, as publishing it would.
  router.post('/v1/policy/rollback', async (req, res) => {
    const tenant = tenantOf(req);
    const body = parseRequest(RollbackBody, req.body, 'body');
    const actor = actorOf(req, `api-key:${tenant.id}`);
    const stored = await storedVersion(tenant.id, body.version);
    const policy = validatePolicy(tenant, stored.policy);
    const published = await publishPolicy(ctx.client, ctx.taskQueue, tenant.id, policy, actor, body.note ?? `rollback to v${stored.version}`);
    res.status(200).json({ version: `v${published.version}`, publishedAt: published.publishedAt, actor: published.actor, note: published.note, warnings: shadowedRules(policy) });
  });
}
