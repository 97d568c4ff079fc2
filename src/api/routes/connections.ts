import type { Router } from 'express';
import type { Connectors } from '../../connectors/registry';
import type { ConnectionCategory } from '../../tenants/schema';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';

const CATEGORIES: readonly ConnectionCategory[] = ['crm', 'hris', 'calendar', 'messaging', 'enrichment'];

function categoryOf(raw: string): ConnectionCategory {
  const category = CATEGORIES.find((c) => c === raw);
  if (!category) throw new ApiError(404, 'not_found', `no connection category ${raw} (one of ${CATEGORIES.join(', ')})`);
  return category;
}

/**
 * Connections as operators watch them: provider, the mapping in use, OAuth state (never a
 * token) and each upstream's latest normalized rate-limit state, so a 429 storm or a lost
 * authorization shows before leads pile up in fallback.
 *
 * GET  /v1/connections                          — every connection of the caller's tenant
 * GET  /v1/connections/:category/mapping        — the effective provider definition (after overrides)
 * POST /v1/connections/:category/reauthorize    — after re-authorizing at the provider: try the token endpoint again now
 */
export function connectionRoutes(router: Router, ctx: ApiContext): void {
  const connectors = (): Connectors => {
    if (!ctx.connectors) throw new ApiError(503, 'unavailable', 'connection state lives in the worker, which does not run in this process');
    return ctx.connectors;
  };
  router.get('/v1/connections', (req, res) => {
    res.json({ connections: connectors().describe(tenantOf(req).id) });
  });
  router.get('/v1/connections/:category/mapping', (req, res) => {
    const tenant = tenantOf(req);
    const category = categoryOf(String(req.params['category']));
    const summary = connectors().summaries(tenant.id)[category];
    const definition = connectors().effectiveDefinition(tenant.id, category);
    if (!summary || !definition) throw new ApiError(404, 'not_found', `tenant ${tenant.id} has no ${category} connection`);
    res.json({ ...summary, definition });
  });
  router.post('/v1/connections/:category/reauthorize', (req, res) => {
    const tenant = tenantOf(req);
    const category = categoryOf(String(req.params['category']));
    const view = connectors().describe(tenant.id).find((c) => c.category === category);
    if (!view) throw new ApiError(404, 'not_found', `tenant ${tenant.id} has no ${category} connection`);
    if (view.auth.state === 'static') throw new ApiError(409, 'conflict', `the ${category} connection (${view.provider}) does not use OAuth`);
    connectors().reauthorize(tenant.id, category);
    res.status(202).json({ category, provider: view.provider, state: 'unknown', detail: 'the next call asks the token endpoint for a new access token' });
  });
}

/** Prometheus text exposition of every connection's health and rate-limit state. */
export function metricsText(connectors: Connectors, tenantIds: string[]): string {
  const lines: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const views = tenantIds.flatMap((t) => connectors.describe(t));
  const labels = (v: (typeof views)[number]) => `tenant="${label(v.tenantId)}",connection="${label(v.id)}",category="${v.category}",provider="${label(v.provider)}"`;

  family('leadrelay_upstream_answers_total', 'counter', 'Upstream answers by outcome (ok, rate_limited, transient, auth, not_found, permanent).');
  for (const v of views) for (const [outcome, n] of Object.entries(v.health?.answers ?? {})) lines.push(`leadrelay_upstream_answers_total{${labels(v)},outcome="${outcome}"} ${n}`);
  const series = (type: 'gauge' | 'counter', name: string, help: string, pick: (v: (typeof views)[number]) => number | null | undefined) => {
    family(name, type, help);
    for (const v of views) {
      const value = pick(v);
      if (value !== null && value !== undefined) lines.push(`${name}{${labels(v)}} ${value}`);
    }
  };
  series('gauge', 'leadrelay_upstream_ratelimit_limit', 'Requests allowed in the window, as the upstream last said.', (v) => v.health?.rateLimit?.limit);
  series('gauge', 'leadrelay_upstream_ratelimit_remaining', 'Requests left in the window, as the upstream last said.', (v) => v.health?.rateLimit?.remaining);
  series('gauge', 'leadrelay_upstream_ratelimit_reset_seconds', 'Seconds until the window resets, as of the last answer.', (v) => v.health?.rateLimit?.resetSeconds);
  series('gauge', 'leadrelay_upstream_last_rate_limited_timestamp_seconds', 'When the upstream last refused for a rate limit.', (v) =>
    v.health?.lastRateLimited ? Date.parse(v.health.lastRateLimited.at) / 1000 : null,
  );
  series('gauge', 'leadrelay_connection_needs_reauthorization', '1 when the OAuth grant is gone and someone must re-authorize the connection.', (v) =>
    v.auth.state === 'static' ? null : v.auth.state === 'needs_reauthorization' ? 1 : 0,
  );
  series('counter', 'leadrelay_oauth_refreshes_total', 'OAuth token refreshes asked for.', (v) => (v.auth.state === 'static' ? null : 'refreshes' in v.auth ? v.auth.refreshes : null));
  return `${lines.join('\n')}\n`;
}

/** GET /metrics — unauthenticated, like most Prometheus targets: keep the API port private or turn it off. */
export function metricsRoute(router: Router, ctx: ApiContext): void {
  router.get('/metrics', (_req, res) => {
    if (!ctx.connectors) throw new ApiError(404, 'not_found', 'no worker in this process');
    res.type('text/plain; version=0.0.4').send(metricsText(ctx.connectors, ctx.tenants.list().map((t) => t.id)));
  });
}
