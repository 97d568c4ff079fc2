import '../support/quietRuntime';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoTenant, DEMO_API_KEY } from '../../sandbox/demoTenant';
import { startStack, type RunningStack } from '../../src/stack';
import { resolveTemporalCli, startDevServer, type RunningDevServer } from '../../src/temporal/devServer';
import { TenantRegistry } from '../../src/tenants/registry';
import { freePort } from '../support/ports';
import { eventually } from '../support/stack';

/**
 * The real worker and API against a real dev server that goes away and comes back: /healthz and
 * the API must say so (503, Retry-After) instead of waiting, and recover by themselves.
 */

let dir: string;
let port: number;
let server: RunningDevServer | null = null;
let stack: RunningStack;

const startServer = async () => {
  server = await startDevServer({ cli: resolveTemporalCli(), port, uiPort: 0, headless: true, logFile: path.join(dir, 'temporal.log') });
};
const healthz = async () => {
  const res = await fetch(`${stack.apiUrl}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; checks: Record<string, { ok: boolean; detail: string }> } };
};
const postLead = (email: string) =>
  fetch(`${stack.apiUrl}/v1/leads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-outage-'));
  port = await freePort();
  await startServer();
  const tenants = new TenantRegistry();
  // Nothing answers there: the leads this test posts never need their upstreams.
  tenants.add(demoTenant('http://127.0.0.1:9'));
  stack = await startStack({
    temporalAddress: `127.0.0.1:${port}`,
    namespace: 'default',
    taskQueue: `outage-${process.pid}`,
    tenants,
    apiHost: '127.0.0.1',
    apiPort: 0,
    webUiUrl: null,
    encryption: { active: randomBytes(32) },
  });
});

afterAll(async () => {
  if (!server) await startServer();
  await stack.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('while the server is down, /healthz and the API answer 503 and say why; once it is back, they recover by themselves', async () => {
  await eventually(async () => ((await healthz()).status === 200 ? true : undefined), 60_000, '/healthz 200 before the outage');

  await server!.stop();
  server = null;

  const down = await healthz();
  expect(down.status).toBe(503);
  expect(down.body.ok).toBe(false);
  expect(down.body.checks['temporal']?.ok).toBe(false);
  expect(down.body.checks['temporal']?.detail).toContain(`Temporal at 127.0.0.1:${port} did not answer`);
  // The worker still says RUNNING, but its polls cannot reach the server: not healthy.
  expect(down.body.checks['worker']?.ok).toBe(false);
  expect(down.body.checks['worker']?.detail).toMatch(/^RUNNING, RUNNING on task queue outage-\d+; its polls fail: Temporal at 127\.0\.0\.1:\d+ did not answer/);

  const refused = await postLead('jane@acme.com');
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('2');
  const body = (await refused.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('unavailable');
  expect(body.error.message).toContain('cannot be reached');

  await startServer();
  await eventually(async () => ((await healthz()).status === 200 ? true : undefined), 120_000, '/healthz 200 after the outage');
  // Through to Temporal again (a query of visibility: no lead is started, so nothing is left running).
  expect((await fetch(`${stack.apiUrl}/v1/leads?limit=1`, { headers: { authorization: `Bearer ${DEMO_API_KEY}` } })).status).toBe(200);
});
