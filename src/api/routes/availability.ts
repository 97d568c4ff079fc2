import { WorkflowNotFoundError } from '@temporalio/client';
import type { Router } from 'express';
import { businessClock, clockFields } from '../../clock';
import type { PoolFacts } from '../../domain/availabilityBoard';
import type { Period, PoolDefinition } from '../../domain/policy/types';
import { poolWorkflowId } from '../../protocol/ids';
import { poolStatsQuery } from '../../protocol/messages';
import { currentPolicy } from '../../temporal/entities';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { AvailabilityQuery } from '../contracts';
import { parseRequest } from '../errors';
import { newKey } from '../ids';
import { discardRun } from '../../temporal/erasure';
import { teamAvailability } from '../../../workflows';

/** The periods a pool's board needs counts for: the pool's own (what `assigned` shows) and every one a member's cap names. */
function periodsOf(pool: PoolDefinition): Period[] {
  const kinds = new Set<Period>([pool.period ?? 'day']);
  for (const m of pool.members) for (const kind of Object.keys(m.caps ?? {}) as Period[]) kinds.add(kind);
  return [...kinds];
}

/**
 * Each member's assignments in the current periods, from the pool entity's own statistics at
 * business time (as GET /v1/pools/:pool/stats reads them); a pool nobody has claimed from yet has
 * none.
 */
async function poolFacts(ctx: ApiContext, tenantId: string, pool: PoolDefinition, timeZone: string): Promise<PoolFacts> {
  const handle = ctx.client.workflow.getHandle(poolWorkflowId(tenantId, pool.id));
  const assigned: PoolFacts['assigned'] = {};
  await Promise.all(
    periodsOf(pool).map(async (period) => {
      try {
        const stats = await handle.query(poolStatsQuery, { pool, period, timeZone, ...clockFields(ctx.clock ?? businessClock) });
        assigned[period] = Object.fromEntries(stats.members.map((m) => [m.repId, m.assigned]));
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        assigned[period] = {};
      }
    }),
  );
  return { pool, assigned };
}

/**
 * GET /v1/availability — every rep now: available, on leave, in a meeting, outside their hours,
 * capped or paused, why, until when, and when that changes. Read live from the same HRIS and
 * calendar connectors routing uses (a short teamAvailability workflow), with the published
 * policy's pools for pauses and caps. Writes nothing.
 */
export function availabilityRoutes(router: Router, ctx: ApiContext): void {
  router.get('/v1/availability', async (req, res) => {
    const tenant = tenantOf(req);
    parseRequest(AvailabilityQuery, req.query, 'query');
    const { policy } = await currentPolicy(ctx.client, ctx.tenants.routingConfig(tenant.id));
    const pools = await Promise.all(policy.pools.map((pool) => poolFacts(ctx, tenant.id, pool, policy.timezone)));
    // Live reads may wait up to 45 s each (as a simulation's do): the board gets its own, longer deadline.
    // The run holds reps' leave and meetings as read live, and nothing worth auditing: it is
    // deleted once answered (or given up on), not left for the namespace retention.
    const workflowId = `availability:${tenant.id}:${newKey()}`;
    const board = await ctx.client.connection
      .withDeadline(Date.now() + 130_000, () =>
        ctx.client.workflow.execute(teamAvailability, {
          workflowId,
          taskQueue: ctx.taskQueue,
          args: [{ tenantId: tenant.id, pools }],
          workflowExecutionTimeout: '2m',
          staticSummary: `Availability board of ${tenant.id}`,
        }),
      )
      .finally(() => discardRun(ctx.client, ctx.namespace, workflowId));
    res.json({ at: board.at, timezone: board.timezone, policyVersion: board.policyVersion, reps: board.reps, failures: board.failures });
  });
}
