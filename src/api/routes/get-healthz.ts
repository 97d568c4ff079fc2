import type { Router } from 'express';
import { withTimeout } from '../../temporal/reachability';
import type { ApiContext, HealthReport } from '../context';

export const HEALTH_TIMEOUT_MS = 2_000;

/**
 * GET /healthz — readiness of the Temporal connection and the worker. It answers within its
 * deadline (`healthTimeoutMs`) whatever the checks do: checks that have not answered by then are
 * a 503 too.
 */
export function getHealthz(router: Router, ctx: ApiContext): void {
  router.get('/healthz', async (_req, res) => {
    const timeoutMs = ctx.healthTimeoutMs ?? HEALTH_TIMEOUT_MS;
    const report: HealthReport = await withTimeout(ctx.health(), timeoutMs, `the checks did not answer within ${timeoutMs} ms`).catch((err: unknown) => ({
      ok: false,
      checks: { healthz: { ok: false, detail: err instanceof Error ? err.message : String(err) } },
    }));
    res.status(report.ok ? 200 : 503).json(report);
  });
}
