import type { Router } from 'express';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ConnectionView, Connectors } from '../../connectors/registry';
import { BREAKER_STATE_VALUE } from '../../distribution/breakerBoard';
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

const CONNECTION_LABELS = ['tenant', 'connection', 'category', 'provider'] as const;
type ConnectionLabel = (typeof CONNECTION_LABELS)[number];

/**
 * Every connection's health and rate-limit state as Prometheus metrics, in a registry of its own
 * (one per API, so several stacks in one process do not share series). Each scrape reads the
 * connectors' current state: the series are set from it when the registry is collected.
 */
export function metricsRegistry(connectors: Connectors, tenantIds: () => string[]): Registry {
  const registry = new Registry();
  const views = () => tenantIds().flatMap((t) => connectors.describe(t));
  const labels = (v: ConnectionView): Record<ConnectionLabel, string> => ({ tenant: v.tenantId, connection: v.id, category: v.category, provider: v.provider });

  new Counter({
    name: 'leadrelay_upstream_answers_total',
    help: 'Upstream answers by outcome (ok, rate_limited, transient, auth, not_found, permanent).',
    labelNames: [...CONNECTION_LABELS, 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of views()) for (const [outcome, n] of Object.entries(v.health?.answers ?? {})) this.inc({ ...labels(v), outcome }, n);
    },
  });
  const series = (Metric: typeof Gauge | typeof Counter, name: string, help: string, pick: (v: ConnectionView) => number | null | undefined) =>
    new Metric({
      name,
      help,
      labelNames: CONNECTION_LABELS,
      registers: [registry],
      collect(this: Gauge<ConnectionLabel> | Counter<ConnectionLabel>) {
        this.reset();
        for (const v of views()) {
          const value = pick(v);
          if (value === null || value === undefined) continue;
          if (this instanceof Gauge) this.set(labels(v), value);
          else this.inc(labels(v), value);
        }
      },
    });
  series(Gauge, 'leadrelay_upstream_ratelimit_limit', 'Requests allowed in the window, as the upstream last said.', (v) => v.health?.rateLimit?.limit);
  series(Gauge, 'leadrelay_upstream_ratelimit_remaining', 'Requests left in the window, as the upstream last said.', (v) => v.health?.rateLimit?.remaining);
  series(Gauge, 'leadrelay_upstream_ratelimit_reset_seconds', 'Seconds until the window resets, as of the last answer.', (v) => v.health?.rateLimit?.resetSeconds);
  series(Gauge, 'leadrelay_upstream_last_rate_limited_timestamp_seconds', 'When the upstream last refused for a rate limit.', (v) =>
    v.health?.lastRateLimited ? Date.parse(v.health.lastRateLimited.at) / 1000 : null,
  );
  series(Gauge, 'leadrelay_connection_needs_reauthorization', '1 when the OAuth grant is gone and someone must re-authorize the connection.', (v) =>
    v.auth.state === 'static' ? null : v.auth.state === 'needs_reauthorization' ? 1 : 0,
  );
  series(Counter, 'leadrelay_oauth_refreshes_total', 'OAuth token refreshes asked for.', (v) => (v.auth.state === 'static' ? null : 'refreshes' in v.auth ? v.auth.refreshes : null));

  // Buyer endpoint breakers, as the account activities of this process last learned them.
  const boardOf = () => connectors.breakers.list().filter((e) => tenantIds().includes(e.tenantId));
  new Gauge({
    name: 'leadrelay_buyer_breaker_state',
    help: "A buyer endpoint's circuit breaker: 0 closed, 1 half_open, 2 open.",
    labelNames: ['tenant', 'buyer', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of boardOf()) this.set({ tenant: e.tenantId, buyer: e.buyerId, endpoint: e.endpoint }, BREAKER_STATE_VALUE[e.state]);
    },
  });
  new Counter({
    name: 'leadrelay_buyer_breaker_transitions_total',
    help: "Transitions of a buyer endpoint's circuit breaker, by the state entered.",
    labelNames: ['tenant', 'buyer', 'endpoint', 'to'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of boardOf()) for (const [to, n] of Object.entries(e.transitions)) this.inc({ tenant: e.tenantId, buyer: e.buyerId, endpoint: e.endpoint, to }, n);
    },
  });
  return registry;
}

/** Prometheus text exposition of every connection's health and rate-limit state. */
export function metricsText(connectors: Connectors, tenantIds: string[]): Promise<string> {
  return metricsRegistry(connectors, () => tenantIds).metrics();
}

/**
 * GET /metrics — unauthenticated, like most Prometheus targets: keep the API port private or turn
 * it off. The connections' metrics, and the lead metrics the worker of this process records.
 */
export function metricsRoute(router: Router, ctx: ApiContext): void {
  const connections = ctx.connectors ? metricsRegistry(ctx.connectors, () => ctx.tenants.list().map((t) => t.id)) : null;
  const registry = connections && ctx.leadMetrics ? Registry.merge([connections, ctx.leadMetrics.registry]) : connections;
  router.get('/metrics', async (_req, res) => {
    if (!registry) throw new ApiError(404, 'not_found', 'no worker in this process');
    const text = await registry.metrics();
    res.type(registry.contentType).send(text);
  });
}
