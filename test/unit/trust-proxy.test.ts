import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { demoTenant } from '../../sandbox/demoTenant';
import { createApp } from '../../src/api/app';
import { Sessions } from '../../src/api/session';
import { EnvSchema } from '../../src/config';
import { hashPasswordSync } from '../../src/console/users';
import { sha256Hex, TenantRegistry } from '../../src/tenants/registry';

/** The API behind a TLS-terminating proxy: only proxies the operator names are believed. */
async function signInThrough(trustProxy: number | string | undefined, headers: Record<string, string>) {
  const tenants = new TenantRegistry();
  tenants.add({
    ...demoTenant('http://127.0.0.1:4010'),
    id: 'proxied',
    apiKeys: [{ id: 'k', sha256: sha256Hex('key-proxied') }],
    console: { users: [{ email: 'ana@proxied.example', name: 'Ana', role: 'ops', passwordHash: hashPasswordSync('pw-proxied', { N: 1024, r: 8, p: 1 }) }] },
  });
  const app = createApp({
    client: {} as Client,
    tenants,
    taskQueue: 'q',
    namespace: 'default',
    webUiUrl: null,
    bodyLimit: '4kb',
    temporalTimeoutMs: 1000,
    health: async () => ({ ok: true, checks: {} }),
    onError: () => undefined,
    sessions: new Sessions(Buffer.alloc(32, 3)),
    ...(trustProxy !== undefined ? { trustProxy } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ email: 'ana@proxied.example', password: 'pw-proxied' }),
    });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie()[0] ?? '';
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('LEADRELAY_TRUST_PROXY', () => {
  it('gives the session cookie its Secure flag when a trusted proxy says the request came over https', async () => {
    expect(await signInThrough('loopback', { 'x-forwarded-proto': 'https' })).toMatch(/; Secure/);
    expect(await signInThrough(1, { 'x-forwarded-proto': 'https' })).toMatch(/; Secure/);
  });

  it('ignores X-Forwarded-Proto from a proxy nobody named, and plain http stays without Secure', async () => {
    expect(await signInThrough(undefined, { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/);
    expect(await signInThrough('10.0.0.0/8', { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/);
    expect(await signInThrough('loopback', {})).not.toMatch(/Secure/);
  });

  it('takes hop counts and address lists, and refuses "true", which would believe any client', () => {
    const parse = (v: string) => EnvSchema.safeParse({ LEADRELAY_TRUST_PROXY: v });
    expect(parse('1').success).toBe(true);
    expect(parse('loopback, 10.0.0.0/8, fd00::/8').success).toBe(true);
    expect(parse('true').success).toBe(false);
    expect(parse('10.0.0.1; rm -rf').success).toBe(false);
  });
});
