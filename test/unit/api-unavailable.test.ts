import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import type { ApiContext } from '../../src/api/context';
import { Connectors } from '../../src/connectors/registry';
import { demoTenant, DEMO_API_KEY } from '../../sandbox/demoTenant';
import { stackHealth } from '../../src/stack';
import { TemporalReachability } from '../../src/temporal/reachability';
import { TenantRegistry } from '../../src/tenants/registry';

const servers: Server[] = [];
const unexpected: unknown[] = [];
const tenants = new TenantRegistry();
tenants.add(demoTenant('http://127.0.0.1:4010'));

/** The API over `connection`, with the given context overrides; answers at the returned URL. */
async function serveApi(connection: Connection, overrides: Partial<ApiContext> = {}): Promise<string> {
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
    ...overrides,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const postLead = (url: string) =>
  fetch(`${url}/v1/leads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'jane@acme.com' }),
  });

async function expectUnavailable(res: Response, message: string): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('2');
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('unavailable');
  expect(body.error.message).toContain(message);
  expect(body.error.message).toContain('retry the request');
}

// A "Temporal" that accepts connections and never says a word: calls to it hang until their deadline.
const silentSockets: Socket[] = [];
const silent = createTcpServer((socket) => silentSockets.push(socket));
let silentAddress: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentAddress = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it('answers 503 in the error envelope, not 500, when Temporal cannot be reached', async () => {
  // Nothing listens on port 1: every Temporal call fails as the service being unavailable.
  const url = await serveApi(Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }));
  await expectUnavailable(await postLead(url), 'did not answer in time');
  expect(unexpected).toHaveLength(1);
});

it('answers 503 with Retry-After once Temporal does not answer a probe, without waiting out a long request deadline', async () => {
  const url = await serveApi(Connection.lazy({ address: silentAddress }), { temporalTimeoutMs: 600_000 });
  await expectUnavailable(await postLead(url), 'cannot be reached');
});

describe('while Temporal is known to be unreachable', () => {
  let calls = 0;
  let up = false;
  let probes = 0;
  // Counts every call the API makes to (the silent) Temporal.
  type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];
  const count: Interceptor = (options, nextCall) => {
    calls++;
    return nextCall(options) as ReturnType<Interceptor>;
  };
  const counted = () => Connection.lazy({ address: silentAddress, interceptors: [count] });
  const reachability = (freshMs: number) =>
    new TemporalReachability(
      async () => {
        probes++;
        if (!up) throw new Error('connect ECONNREFUSED');
      },
      'Temporal at test',
      { probeTimeoutMs: 1000, freshMs },
    );

  beforeEach(() => {
    calls = 0;
    probes = 0;
    up = false;
  });

  it('refuses API calls at once, without calling Temporal, and says why', async () => {
    const known = reachability(60_000);
    await known.check();
    const url = await serveApi(counted(), { temporalReachability: known, temporalTimeoutMs: 600_000, connectors: new Connectors(tenants) });
    await expectUnavailable(await postLead(url), 'Temporal at test did not answer: connect ECONNREFUSED');
    await expectUnavailable(await fetch(`${url}/v1/leads/ld_x`, { headers: { authorization: `Bearer ${DEMO_API_KEY}` } }), 'cannot be reached');
    expect(calls).toBe(0);
    // What does not need Temporal still answers: a bad key is a 401, connection state a 200.
    expect((await fetch(`${url}/v1/leads/ld_x`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${url}/v1/connections`, { headers: { authorization: `Bearer ${DEMO_API_KEY}` } })).status).toBe(200);
  });

  it('asks again before refusing once that is no longer fresh, and lets requests through when Temporal answers again', async () => {
    const stale = reachability(0);
    await stale.check();
    const url = await serveApi(counted(), { temporalReachability: stale, temporalTimeoutMs: 1500 });
    await expectUnavailable(await postLead(url), 'cannot be reached');
    expect(probes).toBe(2);
    expect(calls).toBe(0);

    up = true;
    // Through to Temporal now (which, being the silent one, lets the request's deadline pass).
    await expectUnavailable(await postLead(url), 'did not answer in time');
    expect(calls).toBeGreaterThan(0);
  });
});

describe('the reachability probe', () => {
  it('probes for any number of callers at a time, and calls a server unreachable that answers neither the probe nor its one retry by their deadlines', async () => {
    let probes = 0;
    const hanging = new TemporalReachability(
      () => {
        probes++;
        return new Promise(() => {});
      },
      'Temporal at t:1',
      { probeTimeoutMs: 50, freshMs: 1000 },
    );
    const answers = await Promise.all([hanging.check(), hanging.check(), hanging.check()]);
    // One probe for the three callers, asked once more after it ran out of time.
    expect(probes).toBe(2);
    for (const answer of answers) expect(answer).toMatchObject({ reachable: false, detail: 'Temporal at t:1 did not answer: no answer within 50 ms' });
    expect(hanging.knownUnreachable()).toBe(true);
    expect(hanging.knownUnreachable(answers[0]!.checkedAt + 1000)).toBe(false);
  });

  it('counts a server that answers with a refusal as reachable, and one that does not answer as unreachable', async () => {
    const grpcError = (code: number) => Object.assign(new Error(`${code} refused`), { code, details: 'refused', metadata: {} });
    const refusing = new TemporalReachability(() => Promise.reject(grpcError(7 /* PERMISSION_DENIED */)), 'Temporal at t:1');
    expect(await refusing.check()).toMatchObject({ reachable: true });
    const unavailable = new TemporalReachability(() => Promise.reject(grpcError(14 /* UNAVAILABLE */)), 'Temporal at t:1');
    expect(await unavailable.check()).toMatchObject({ reachable: false, detail: 'Temporal at t:1 did not answer: 14 refused' });
  });

  it('takes a busy server for a busy one, not an unreachable one: a probe outlasted while other calls get their answers still says reachable', async () => {
    const busy = new TemporalReachability(() => new Promise(() => {}), 'Temporal at t:1', { probeTimeoutMs: 50, freshMs: 1000 });
    const probe = busy.check();
    busy.answeredNow();
    expect(await probe).toMatchObject({ reachable: true });
    expect(busy.answeredWithin(2000)).toBe(true);
    // With no answer since the probe began, the same silence is an outage.
    const silent = new TemporalReachability(() => new Promise(() => {}), 'Temporal at t:1', { probeTimeoutMs: 50, freshMs: 1000 });
    silent.answeredNow(Date.now() - 5000);
    expect(await silent.check()).toMatchObject({ reachable: false });
    expect(silent.answeredWithin(2000)).toBe(false);
  });
});

describe('GET /healthz', () => {
  it('answers 503 when its checks do not answer within its deadline', async () => {
    const url = await serveApi(Connection.lazy({ address: silentAddress }), { health: () => new Promise(() => {}), healthTimeoutMs: 200 });
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, checks: { healthz: { ok: false, detail: 'the checks did not answer within 200 ms' } } });
  });

  it("reports a RUNNING worker whose polls cannot reach Temporal as not ok, with the worker's state", async () => {
    const probe = (answers: boolean) => new TemporalReachability(async () => (answers ? undefined : Promise.reject(new Error('DEADLINE_EXCEEDED'))), 'Temporal at t:1');
    const running = { getState: () => 'RUNNING' as const };
    const down = await stackHealth({ temporal: probe(false), workers: [running, running], workerConnection: probe(false), taskQueue: 'q' })();
    expect(down.ok).toBe(false);
    expect(down.checks['temporal']).toEqual({ ok: false, detail: 'Temporal at t:1 did not answer: DEADLINE_EXCEEDED' });
    expect(down.checks['worker']).toEqual({ ok: false, detail: 'RUNNING, RUNNING on task queue q; its polls fail: Temporal at t:1 did not answer: DEADLINE_EXCEEDED' });

    const up = await stackHealth({ temporal: probe(true), workers: [running, running], workerConnection: probe(true), taskQueue: 'q' })();
    expect(up).toEqual({ ok: true, checks: { temporal: { ok: true, detail: 'Temporal at t:1' }, worker: { ok: true, detail: 'RUNNING, RUNNING on task queue q' } } });

    const failed = await stackHealth({ temporal: probe(true), workers: [running, { getState: () => 'FAILED' as const }], workerConnection: probe(true), taskQueue: 'q' })();
    expect(failed.checks['worker']).toEqual({ ok: false, detail: 'RUNNING, FAILED on task queue q' });
  });
});
