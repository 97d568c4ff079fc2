/**
 * End-to-end latency of routing, on the full local stack: a fresh Temporal dev server, the
 * sandbox emulators with configurable latency, the worker and the API over real HTTP.
 *
 *   npm run bench -- --leads 200 --rate 20 --latency 50 --jitter 25 [--db] [--stack unified|salesforce|hubspot|pipedrive]
 *
 * Each lead's end-to-end time runs from just before its POST to the moment the messaging
 * emulator receives its notification. The engine's overhead is that minus the upstream time on
 * the lead's critical path: enrich + the slowest of (account match, HRIS, calendar) + CRM write,
 * as the connector timed each call (emulated latency plus loopback HTTP).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { LeadState } from '../src/domain/leadState';
import { DEMO_STACK_TENANTS, DEMO_STACKS, demoStackTenant, demoStackWorkspace, type DemoStack } from '../sandbox/demoTenant';
import { startSandbox } from '../sandbox/server';
import { startStack } from '../src/stack';
import { resolveTemporalCli, startDevServer } from '../src/temporal/devServer';
import { TenantRegistry } from '../src/tenants/registry';
import { freePort } from '../test/support/ports';

const { values: args } = parseArgs({
  options: {
    leads: { type: 'string', default: '200' },
    rate: { type: 'string', default: '20' },
    latency: { type: 'string', default: '50' },
    jitter: { type: 'string', default: '25' },
    db: { type: 'boolean', default: false },
    /** Which providers the tenant connects (see DEMO_STACKS): the unified API, or a direct mix. */
    stack: { type: 'string', default: 'unified' },
  },
});
if (!(args.stack in DEMO_STACKS)) throw new Error(`--stack must be one of ${Object.keys(DEMO_STACKS).join(', ')}`);
const STACK = args.stack as DemoStack;
const { apiKey: API_KEY, tenantId: TENANT_ID } = DEMO_STACK_TENANTS[STACK];
const N = Number(args.leads);
const RATE = Number(args.rate);
const LATENCY = Number(args.latency);
const JITTER = Number(args.jitter);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'leadrelay-bench-'));
  const port = await freePort();
  const server = await startDevServer({
    cli: resolveTemporalCli(),
    port,
    uiPort: 0,
    headless: true,
    logFile: path.join(work, 'temporal.log'),
    ...(args.db ? { dbFile: path.join(work, 'temporal.sqlite') } : {}),
  });
  const latency = { baseMs: LATENCY, jitterMs: JITTER };
  const sandbox = await startSandbox({
    workspaces: [demoStackWorkspace(new Date(), STACK)],
    latency: { crm: latency, hris: latency, calendar: latency, messaging: latency, enrichment: latency, auth: latency },
  });
  const tenants = new TenantRegistry();
  const tenant = demoStackTenant(sandbox.url, STACK);
  // Around the clock, so the figures do not depend on the hour the benchmark runs.
  tenant.routing.team = tenant.routing.team.map((m) => ({ ...m, workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' } }));
  tenants.add(tenant);
  const stack = await startStack({
    temporalAddress: server.address,
    namespace: 'default',
    taskQueue: 'bench',
    tenants,
    apiHost: '127.0.0.1',
    apiPort: 0,
    webUiUrl: null,
  });

  // Warm-up: the first workflow pays for worker and connection start-up.
  const domains = ['acme.com', 'globex.com', 'initech.com', 'hooli.com', 'piedpiper.com', 'newco.io'];
  const post = async (i: number, tag: string) => {
    const res = await fetch(`${stack.apiUrl}/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${tag}${i}@${domains[i % domains.length]}`, firstName: 'Bench', source: 'form' }),
    });
    if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { leadId: string }).leadId;
  };
  const notified = (leadId: string) =>
    sandbox.events().find((e) => e.system === 'messaging' && e.status < 300 && JSON.stringify(e.body).includes(leadId));
  const waitNotified = async (leadId: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const e = notified(leadId);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`lead ${leadId} was not notified within ${timeoutMs} ms`);
  };
  for (let i = 0; i < 5; i++) await waitNotified(await post(i, 'warmup'), 30_000);

  process.stdout.write(`stack ${STACK} (${Object.values(DEMO_STACKS[STACK]).join(' + ')}): posting ${N} leads at ${RATE}/s; emulated upstream latency ${LATENCY} ms + up to ${JITTER} ms jitter per call\n`);
  const started = Date.now();
  const sent: Array<{ leadId: string; t0: number }> = [];
  const posts: Array<Promise<void>> = [];
  for (let i = 0; i < N; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = Date.now();
    posts.push(post(i, 'lead').then((leadId) => void sent.push({ leadId, t0 })));
  }
  await Promise.all(posts);
  const results: Array<{ e2e: number; upstream: number; rule: string }> = [];
  const stepTotals: Record<string, number[]> = {};
  for (const { leadId, t0 } of sent) {
    const event = await waitNotified(leadId, 120_000);
    const state = (await stack.temporal.client.workflow.getHandle(`lead:${TENANT_ID}:${leadId}`).query('leadState')) as LeadState;
    const call = (step: string) => state.upstream.filter((c) => c.step === step).reduce((sum, c) => sum + c.durationMs, 0);
    const upstream = call('enrich') + Math.max(call('match_account'), call('check_hris'), call('check_calendar')) + call('assign_crm');
    results.push({ e2e: event.receivedAt - t0, upstream, rule: state.owner?.via ?? state.status });
    const first = Date.parse(state.timings[0]?.startedAt ?? state.receivedAt);
    (stepTotals['(POST → first step)'] ??= []).push(first - t0);
    for (const timing of state.timings) (stepTotals[timing.step.replace(/:.*/, '')] ??= []).push(timing.durationMs ?? 0);
  }
  const last = Math.max(...sent.map(({ leadId }) => notified(leadId)!.receivedAt));
  const e2e = results.map((r) => r.e2e).sort((a, b) => a - b);
  const overhead = results.map((r) => r.e2e - r.upstream).sort((a, b) => a - b);
  const upstream = results.map((r) => r.upstream).sort((a, b) => a - b);
  const rules = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.rule]: (acc[r.rule] ?? 0) + 1 }), {});

  const rows = [
    ['end-to-end (POST → message received)', e2e],
    ['upstream time on critical path', upstream],
    ['engine overhead (end-to-end − upstream)', overhead],
  ] as const;
  process.stdout.write(`\n${'figure'.padEnd(42)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}\n`);
  for (const [name, values] of rows) {
    process.stdout.write(`${name.padEnd(42)}${fmt(percentile(values, 50))}${fmt(percentile(values, 95)).padStart(10)}${fmt(percentile(values, 99)).padStart(10)}${fmt(values[values.length - 1] ?? NaN).padStart(10)}\n`);
  }
  process.stdout.write('\nper step (workflow time, includes scheduling):\n');
  for (const [step, values] of Object.entries(stepTotals)) {
    const sorted = values.sort((a, b) => a - b);
    process.stdout.write(`  ${step.padEnd(40)}${fmt(percentile(sorted, 50))}${fmt(percentile(sorted, 95)).padStart(10)}\n`);
  }
  const seconds = (last - started) / 1000;
  process.stdout.write(`\nleads routed: ${results.length}/${N} in ${seconds.toFixed(1)} s → throughput ${(results.length / seconds).toFixed(1)} leads/s (offered ${RATE}/s)\n`);
  process.stdout.write(`rules: ${Object.entries(rules).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  process.stdout.write(`persistence: ${args.db ? 'SQLite file (WAL)' : 'in-memory'} dev server\n`);

  await stack.close();
  await sandbox.close();
  await server.stop();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
