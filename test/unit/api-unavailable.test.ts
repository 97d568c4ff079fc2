import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { demoTenant, DEMO_API_KEY } from '../../src/sandbox/demoTenant';
import { TenantRegistry } from '../../src/tenants/registry';

let server: Server;
let url: string;
const unexpected: unknown[] = [];

beforeAll(async () => {
  // Nothing listens on port 1: every Temporal call fails as the service being unavailable.
  const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
  const tenants = new TenantRegistry();
  tenants.add(demoTenant('http://127.0.0.1:4010'));
  const app = createApp({
    client: new Client({ connection }),
    tenants,
    taskQueue: 'q',
    namespace: 'default',
    webUiUrl: null,
    bodyLimit: '16kb',
    temporalTimeoutMs: 1000,
    health: async () => ({ ok: false, checks: {} }),
    onError: (err) => unexpected.push(err),
  });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('answers 503 in the error envelope, not 500, when Temporal cannot be reached', async () => {
  const res = await fetch(`${url}/v1/leads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'jane@acme.com' }),
  });
  expect(res.status).toBe(503);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('unavailable');
  expect(body.error.message).toContain('retry the request');
  expect(unexpected).toHaveLength(1);
}, 20_000);
