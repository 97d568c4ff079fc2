import { classifyResponse } from '../../src/connectors/classify';
import { ConnectionMonitor } from '../../src/connectors/monitor';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { register as globalRegistry, Registry } from 'prom-client';
import type { ApiContext } from '../../src/api/context';
import { metricsRegistry, metricsRoute, metricsText } from '../../src/api/routes/connections';
import { Connectors } from '../../src/connectors/registry';
import { demoTenant } from '../../sandbox/demoTenant';
import { TenantRegistry } from '../../src/tenants/registry';

const NOW = Date.parse('2026-11-21T12:00:00Z');

describe('connection monitor', () => {
  it('keeps the latest rate-limit state, answers by outcome and the last limit hit per connection', () => {
    const monitor = new ConnectionMonitor(() => NOW);
    const call = { provider: 'okta', operation: 'hris.findEmployees' };
    const ok = classifyResponse({ status: 200, headers: { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '3', 'x-rate-limit-reset': String(NOW / 1000 + 42) }, body: [] }, NOW);
    monitor.record('t/hris', ok, call);
    const limited = classifyResponse({ status: 429, headers: { 'retry-after': '42', 'x-rate-limit-remaining': '0' }, body: { errorCode: 'E0000047' } }, NOW);
    monitor.record('t/hris', limited, call);

    const health = monitor.get('t/hris');
    expect(health?.answers).toMatchObject({ ok: 1, rate_limited: 1 });
    expect(health?.rateLimit).toMatchObject({ remaining: 0, retryAfterSeconds: 42 });
    expect(health?.lastRateLimited).toMatchObject({ status: 429, waitMs: 42_000, operation: 'hris.findEmployees' });
    expect(monitor.get('t/crm')).toBeNull();
  });

  it('exposes them as Prometheus metrics, labelled by tenant, connection and provider', async () => {
    const tenants = new TenantRegistry();
    tenants.add(demoTenant('http://127.0.0.1:1'));
    const connectors = new Connectors(tenants, { now: () => NOW });
    connectors.monitor.record(
      'demo/crm',
      classifyResponse({ status: 429, headers: { 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' }, body: {} }, NOW),
      { provider: 'unified', operation: 'crm.findAccounts' },
    );
    const text = await metricsText(connectors, ['demo']);
    const labels = 'tenant="demo",connection="crm",category="crm",provider="unified"';
    expect(text).toContain(`leadrelay_upstream_answers_total{${labels},outcome="rate_limited"} 1`);
    expect(text).toContain(`leadrelay_upstream_ratelimit_remaining{${labels}} 0`);
    expect(text).toContain(`leadrelay_upstream_ratelimit_reset_seconds{${labels}} 30`);
    expect(text).toContain(`leadrelay_upstream_last_rate_limited_timestamp_seconds{${labels}} ${NOW / 1000}`);
    // A connection that never answered has no gauges, and static credentials no OAuth series.
    expect(text).not.toContain('connection="hris",category="hris",provider="unified"} ');
    expect(text).not.toContain('leadrelay_connection_needs_reauthorization{');
  });

  it('gives each API its own registry, read afresh on every scrape, and serves it with the Prometheus content type', async () => {
    const stack = () => {
      const tenants = new TenantRegistry();
      tenants.add(demoTenant('http://127.0.0.1:1'));
      return { tenants, connectors: new Connectors(tenants, { now: () => NOW }) };
    };
    const a = stack();
    const b = stack();
    const rateLimited = classifyResponse({ status: 429, headers: { 'ratelimit-remaining': '0' }, body: {} }, NOW);
    const call = { provider: 'unified', operation: 'crm.findAccounts' };
    a.connectors.monitor.record('demo/crm', rateLimited, call);
    const series = 'leadrelay_upstream_answers_total{tenant="demo",connection="crm",category="crm",provider="unified",outcome="rate_limited"}';

    const registryA = metricsRegistry(a.connectors, () => ['demo']);
    const registryB = metricsRegistry(b.connectors, () => ['demo']);
    expect(await registryA.metrics()).toContain(`${series} 1`);
    expect(await registryB.metrics()).not.toContain(series);
    a.connectors.monitor.record('demo/crm', rateLimited, call);
    expect(await registryA.metrics()).toContain(`${series} 2`);
    expect(await globalRegistry.metrics()).not.toContain('leadrelay_');

    const router = express.Router();
    metricsRoute(router, { tenants: a.tenants, connectors: a.connectors } as unknown as ApiContext);
    const app = express().use(router);
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
      expect(await res.text()).toContain(`${series} 2`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
