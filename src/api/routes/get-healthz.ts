import type { Router } from 'express';
import type { ApiContext } from '../context';

/** GET /healthz — readiness of the Temporal connection and the worker. */
export function getHealthz(router: Router, ctx: ApiContext): void {
  router.get('/healthz', async (_req, res) => {
    const report = await ctx.health();
    res.status(report.ok ? 200 : 503).json(report);
  });
}
