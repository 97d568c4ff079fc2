import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { businessClock } from '../../src/clock';
import type { LeadState } from '../../src/domain/leadState';
import type { Policy } from '../../src/domain/policy/types';
import { PROJECT_ROOT } from '../../src/temporal/devServer';
import { leadWorkflowId } from '../../src/protocol/ids';
import { DEMO_QUEUE_USER } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import { freePort } from '../support/ports';
import { demoScenario, type Scenario } from '../support/scenario';
import { eventually, testEnv } from '../support/stack';

/**
 * The production layout, as separate processes: `npm run worker` twice and `npm run api` once
 * (src/serve.ts, each its own Node process), against the run's Temporal: the dev server in
 * `npm test`, the PostgreSQL-backed cluster in `npm run cluster -- test`. The tenants come from a
 * tenants file pointing at this file's sandbox, as a deployment's do.
 */
const REPS = DEMO_REPS.map((r) => r.id);
/** Process starts (each bundles the workflow code) and hundreds of leads on a shared 2-core machine: generous budgets, assertions on counts only. */
const TIMEOUT_MS = 600_000;
const LEADS = 150;
const CAP = 10;

const unlimited = { allAvailable: true, rateLimit: { limit: 1_000_000, windowSeconds: 60 } };
let sandbox: RunningSandbox;
let scenarios: Scenario[];
let dir: string;
let apiUrl: string;
let processEnv: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  /** What it logged that we waited for (the API's URL). */
  line: Record<string, unknown>;
}

/** `npm run worker` / `npm run api` as its own process (node with tsx's loader, no wrapper: a kill reaches the worker itself). */
function startRole(role: 'worker' | 'api'): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'serve.ts'), role], { cwd: PROJECT_ROOT, env: processEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const ready = role === 'worker' ? 'workers running' : 'API listening';
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 300 s: ${output.slice(-2000)}`)), 300_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const text of output.split('\n')) {
        if (!text.includes(ready)) continue;
        clearTimeout(timer);
        resolve({ child, line: JSON.parse(text) as Record<string, unknown> });
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${code ?? signal}) before it was ready: ${output.slice(-2000)}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  await exited(child);
}

async function request(key: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A fixed-offset zone where it is about noon in business time, so no daily count resets during the test. */
function noonZone(): string {
  let offset = 12 - new Date(businessClock.now()).getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

function poolPolicy(members: Policy['pools'][number]['members']): Policy {
  return {
    timezone: noonZone(),
    pools: [{ id: 'p', strategy: 'round_robin', members }],
    rules: [{ id: 'all', when: { all: [] }, action: { type: 'pool', pool: 'p' } }],
    fallback: { ownerId: DEMO_QUEUE_USER.id, label: 'Inbound Queue' },
  };
}

async function routedState(key: string, leadId: string, timeoutMs = 300_000): Promise<LeadState> {
  return eventually(
    async () => {
      const res = await request(key, 'GET', `/v1/leads/${leadId}`);
      return res.status === 200 && res.body.status === 'routed' ? (res.body as LeadState) : undefined;
    },
    timeoutMs,
    `lead ${leadId} routed`,
  );
}

async function poolStats(key: string): Promise<Record<string, number>> {
  const res = await request(key, 'GET', '/v1/pools/p/stats?period=day');
  return Object.fromEntries(res.body.members.map((m: { repId: string; assigned: number }) => [m.repId, m.assigned]));
}

/** CRM lead creations for an email that changed something (an Idempotency-Key replay changes nothing). */
const crmCreates = (email: string) =>
  sandbox.events().filter((e) => e.system === 'crm' && e.method === 'POST' && e.path === '/unified/crm/leads' && !e.replayed && (e.body as { email?: string }).email === email);

/** The worker identities (`<pid>@<host>`) that ran a workflow's tasks and activities. */
async function identitiesOf(connection: Connection, workflowId: string): Promise<Set<string>> {
  const seen = new Set<string>();
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await connection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId }, ...(nextPageToken ? { nextPageToken } : {}) });
    for (const event of page.history?.events ?? []) {
      const identity = event.workflowTaskCompletedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity;
      if (identity) seen.add(identity);
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return seen;
}

let workerA: Started;
let workerB: Started;

beforeAll(async () => {
  const env = testEnv();
  sandbox = await startSandbox({ workspaces: [] });
  scenarios = [demoScenario(unlimited), demoScenario(unlimited)].map((s) => s(sandbox.url));
  for (const s of scenarios) sandbox.addWorkspace(s.workspace);
  dir = mkdtempSync(path.join(tmpdir(), 'leadrelay-processes-'));
  const tenantsFile = path.join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify({ tenants: scenarios.map((s) => s.tenant) }), { mode: 0o600 });
  const { LEADRELAY_SANDBOX: _sandbox, LEADRELAY_TEMPORAL: _temporal, ...inherited } = process.env;
  processEnv = {
    ...inherited,
    TEMPORAL_ADDRESS: env.address,
    LEADRELAY_TASK_QUEUE: `test-${randomBytes(4).toString('hex')}`,
    LEADRELAY_TENANTS_FILE: tenantsFile,
    LEADRELAY_DATA_DIR: dir,
    LEADRELAY_ENCRYPTION_KEY: env.encryptionKey,
    LEADRELAY_DEDUPE_KEY: randomBytes(32).toString('hex'),
    API_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  };
  [workerA, workerB] = await Promise.all([startRole('worker'), startRole('worker')]);
  const api = await startRole('api');
  apiUrl = String(api.line['url']);
}, TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(children.map((c) => kill(c, 'SIGTERM')));
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, TIMEOUT_MS);

it('two worker processes claiming from one capped pool: each lead assigned exactly once, the cap never exceeded', async () => {
  const key = scenarios[0]!.apiKey;
  const [capped, ...others] = REPS;
  const published = await request(key, 'PUT', '/v1/policy', poolPolicy([{ repId: capped!, caps: { day: CAP } }, ...others.map((repId) => ({ repId }))]));
  expect(published.status).toBe(200);

  const emails = Array.from({ length: LEADS }, (_, i) => `two${i}@two-${i}.example`);
  const leadIds = await Promise.all(
    emails.map(async (email) => {
      const res = await request(key, 'POST', '/v1/leads', { email });
      expect(res.status).toBe(202);
      return res.body.leadId as string;
    }),
  );

  const counts: Record<string, number> = {};
  for (const leadId of leadIds) {
    const state = await routedState(key, leadId);
    counts[state.owner!.id] = (counts[state.owner!.id] ?? 0) + 1;
  }
  // The capped rep gets exactly the cap; the rest go strictly round the other four (140 = 35 × 4).
  expect(counts[capped!]).toBe(CAP);
  expect(others.map((r) => counts[r])).toEqual(others.map(() => (LEADS - CAP) / others.length));
  expect(counts[DEMO_QUEUE_USER.id]).toBeUndefined();
  // The pool entity counted each claim once, and the CRM got one write per lead.
  expect(await poolStats(key)).toEqual({ [capped!]: CAP, ...Object.fromEntries(others.map((r) => [r, (LEADS - CAP) / others.length])) });
  for (const email of emails) expect({ email, writes: crmCreates(email).length }).toEqual({ email, writes: 1 });

  // Both processes did the work: their identities (pid@host) are in the leads' histories.
  const connection = await Connection.connect({ address: testEnv().address });
  try {
    const seen = new Set<string>();
    for (const leadId of leadIds) for (const identity of await identitiesOf(connection, leadWorkflowId(scenarios[0]!.tenant.id, leadId))) seen.add(identity);
    const pids = [...seen].map((identity) => Number(identity.split('@')[0]));
    expect(pids).toEqual(expect.arrayContaining([workerA.child.pid, workerB.child.pid]));
  } finally {
    await connection.close();
  }
}, TIMEOUT_MS);

it('finishes a lead whose worker process is killed in the middle of it, on a worker started afterwards', async () => {
  const key = scenarios[1]!.apiKey;
  expect((await request(key, 'PUT', '/v1/policy', poolPolicy(REPS.map((repId) => ({ repId }))))).status).toBe(200);
  // The CRM answers slowly, so the lead is still in flight when its workers die.
  sandbox.setLatency({ crm: { baseMs: 3_000, jitterMs: 0 } });
  const email = 'killed@killed-worker.example';
  const { leadId } = (await request(key, 'POST', '/v1/leads', { email })).body as { leadId: string };
  await eventually(() => (sandbox.events().some((e) => e.system === 'crm' && JSON.stringify(e).includes('killed-worker.example')) ? true : undefined), 120_000, 'the lead reaching the CRM');
  // Every worker process dies at once, without a chance to finish anything (a crash, an OOM kill).
  await Promise.all([kill(workerA.child, 'SIGKILL'), kill(workerB.child, 'SIGKILL')]);
  // Mid-lead: its account lookup was under way, its CRM lead not created yet.
  expect(crmCreates(email)).toHaveLength(0);

  sandbox.setLatency({ crm: { baseMs: 0, jitterMs: 0 } });
  await startRole('worker');
  const state = await routedState(key, leadId);
  expect(REPS).toContain(state.owner!.id);
  // Claimed once from the pool, created once in the CRM.
  expect(Object.values(await poolStats(key)).reduce((a, b) => a + b, 0)).toBe(1);
  expect(crmCreates(email)).toHaveLength(1);
}, TIMEOUT_MS);
