/**
 * The benchmark, on the full local stack: a fresh Temporal dev server, the worker and the API over
 * real HTTP, with emulated upstreams. Modes (default: both, one after the other, on one stack):
 *
 *   npm run bench [-- routing | distribution] [options]      (e.g. npm run bench -- distribution --concurrency 8)
 *
 * routing: end-to-end latency of routing.
 *   --leads 200 --rate 20 --latency 50 --jitter 25 [--db] [--stack unified|salesforce|hubspot|pipedrive]
 * Each lead's end-to-end time runs from just before its POST to the moment the messaging
 * emulator receives its notification. The engine's overhead is that minus the upstream time on
 * the lead's critical path: the slowest of the four reads made in parallel (enrichment, account
 * match, HRIS, calendar), then the CRM write, as the connector timed each call (emulated latency
 * plus loopback HTTP).
 *
 * distribution: a supplier's POST to its answer, auction and waterfall, on the marketplace
 * emulator (see ./distribution.ts); --latency and --jitter are the ten fast buyers' too.
 *   --slow 3000 --ping-timeout 1000 --concurrency 4 --dist-leads 100 --step-start 2 --step-max 32 --step-seconds 8 --step-min-leads 20 [--methods auction,waterfall]
 *
 * curve (only when named): the overload curve, Leadrelay beside a plain in-process pipeline with no
 * Temporal (./plain.ts), alternated at each offered rate, one table and the knee (see ./curve.ts).
 *   npm run bench -- curve --rates 10,20,30,40,60 --leads-per-rate 400 --latency 50 --jitter 25 [--lead-timeout 120] [--knee-p99 <ms>]
 *
 * priority (only when named): hot leads behind a bulk import (see ./priority.ts): form leads at
 * --form-rate/s, idle (--idle-forms of them), then while --imports `import` leads are posted by
 * --import-concurrency clients as fast as the API takes them (honouring its 429 push-back).
 *   npm run bench -- priority --imports 5000 --form-rate 2 [--bulk-window 40] [--max-queued 2000]
 *
 * Temporal, every mode: --temporal <host:port> runs against that server (e.g. `npm run cluster`'s)
 * instead of a fresh dev server; the demo tenant then runs under an ID of the run's own (a server that
 * outlives the run keeps its entity workflows).
 *
 * Emulated quotas, every mode: --quotas off|sandbox|real (default off: the providers' limits are
 * lifted, so the figures are the engine's capacity; sandbox: the sandbox's own 1000 requests per
 * 60 s per provider and system; real: the providers' published limits, sandbox/quotaPresets.ts),
 * and --quota key=limit/seconds[/per-parameter] or key=off, repeatable (e.g. --quota crm=500/60;
 * keys in sandbox/quotas.ts). Time spent waiting out limit answers (429 → Retry-After) is reported
 * apart from the engine's overhead (./rateLimits.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { LeadState } from '../src/domain/leadState';
import { DEMO_STACK_TENANTS, DEMO_STACKS, demoStackTenant, demoStackWorkspace, type DemoStack } from '../sandbox/demoTenant';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { startStack, type RunningStack } from '../src/stack';
import { resolveTemporalCli, startDevServer } from '../src/temporal/devServer';
import { TenantRegistry } from '../src/tenants/registry';
import { freePort } from '../test/support/ports';
import { REAL_QUOTAS } from '../sandbox/quotaPresets';
import { describeQuotas, QUOTA_MODES, quotasFor, type QuotaMode } from '../sandbox/quotas';
import { runCurve } from './curve';
import { countLeadHistory } from './events';
import { runPriority } from './priority';
import { runDistributionBench, type BenchMethod } from './distribution';
import { createPlainPipeline } from './plain';
import { postLead } from './poster';
import { waitsByLead, watchRateLimits, type LimitAnswer } from './rateLimits';
import { fmt, percentile } from './stats';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    leads: { type: 'string', default: '200' },
    rate: { type: 'string', default: '20' },
    latency: { type: 'string', default: '50' },
    jitter: { type: 'string', default: '25' },
    db: { type: 'boolean', default: false },
    /** Which providers the tenant connects (see DEMO_STACKS): the unified API, or a direct mix. */
    stack: { type: 'string', default: 'unified' },
    slow: { type: 'string', default: '3000' },
    'ping-timeout': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    'dist-leads': { type: 'string', default: '100' },
    'step-start': { type: 'string', default: '2' },
    'step-max': { type: 'string', default: '32' },
    'step-seconds': { type: 'string', default: '8' },
    'step-min-leads': { type: 'string', default: '20' },
    methods: { type: 'string', default: 'auction,waterfall' },
    quotas: { type: 'string', default: 'off' },
    quota: { type: 'string', multiple: true, default: [] },
    rates: { type: 'string', default: '10,20,30,40,60' },
    'leads-per-rate': { type: 'string', default: '400' },
    'lead-timeout': { type: 'string', default: '120' },
    imports: { type: 'string', default: '5000' },
    'import-concurrency': { type: 'string', default: '32' },
    'form-rate': { type: 'string', default: '2' },
    'idle-forms': { type: 'string', default: '60' },
    /** The tenant's bulk window and queue limit (its intake settings; see src/api/admission.ts). */
    'bulk-window': { type: 'string' },
    'max-queued': { type: 'string' },
    'knee-p99': { type: 'string' },
    temporal: { type: 'string' },
  },
});
const MODES = ['routing', 'distribution', 'curve', 'priority'] as const;
type Mode = (typeof MODES)[number];
for (const p of positionals) if (!(MODES as readonly string[]).includes(p)) throw new Error(`unknown mode ${p}: use ${MODES.join(', ')} (no mode: routing and distribution)`);
const modes: Mode[] = positionals.length ? (positionals as Mode[]) : ['routing', 'distribution'];
if (!(QUOTA_MODES as readonly string[]).includes(args.quotas)) throw new Error(`--quotas must be one of ${QUOTA_MODES.join(', ')}`);
const QUOTAS = quotasFor(args.quotas as QuotaMode, args.quota, REAL_QUOTAS);
const methods = args.methods.split(',').map((m) => m.trim());
for (const m of methods) if (m !== 'auction' && m !== 'waterfall') throw new Error(`--methods: ${m} is not auction or waterfall`);
if (!(args.stack in DEMO_STACKS)) throw new Error(`--stack must be one of ${Object.keys(DEMO_STACKS).join(', ')}`);
const STACK = args.stack as DemoStack;
const { apiKey: API_KEY, tenantId: DEMO_TENANT_ID } = DEMO_STACK_TENANTS[STACK];
// On an external Temporal the tenant and the task queue are this run's own: entity workflows
// (pool, policy) and unfinished leads outlive a run, and another process (npm start) may own the demo tenant's.
const RUN = args.temporal ? `-run-${randomBytes(4).toString('hex')}` : '';
const TENANT_ID = `${DEMO_TENANT_ID}${RUN}`;
const N = Number(args.leads);
const RATE = Number(args.rate);
const LATENCY = Number(args.latency);
const JITTER = Number(args.jitter);

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'leadrelay-bench-'));
  const port = await freePort();
  const server = args.temporal
    ? null
    : await startDevServer({
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
    ...(QUOTAS ? { quotas: QUOTAS } : {}),
  });
  const tenants = new TenantRegistry();
  const tenant = demoStackTenant(sandbox.url, STACK);
  // Around the clock, so the figures do not depend on the hour the benchmark runs.
  tenant.routing.team = tenant.routing.team.map((m) => ({ ...m, workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' } }));
  if (args['bulk-window'] !== undefined || args['max-queued'] !== undefined) {
    tenant.intake = {
      ...(args['bulk-window'] !== undefined ? { bulkInFlight: Number(args['bulk-window']) } : {}),
      ...(args['max-queued'] !== undefined ? { maxQueuedLeads: Number(args['max-queued']) } : {}),
    };
  }
  tenants.add({ ...tenant, id: TENANT_ID });
  const stack = await startStack({
    temporalAddress: args.temporal ?? server!.address,
    namespace: 'default',
    taskQueue: `bench${RUN}`,
    tenants,
    apiHost: '127.0.0.1',
    apiPort: 0,
    webUiUrl: null,
    // The marketplace's buyers are local emulators.
    allowPrivateBuyerUrls: true,
    // Payloads encrypted as in production (a key of this run's own: its dev server is in memory).
    encryption: { active: randomBytes(32) },
  });

  const limits = watchRateLimits(stack.connectors);
  process.stdout.write(`emulated quotas (--quotas ${args.quotas}): ${describeQuotas(QUOTAS)}\n`);
  const started = Date.now();
  if (modes.includes('routing')) {
    process.stdout.write('\n== routing ==\n');
    await runRouting(stack, sandbox, limits.answers);
  }
  if (modes.includes('curve')) {
    process.stdout.write('\n== curve ==\n');
    await runCurve({
      stack,
      sandbox,
      plain: await createPlainPipeline({ tenants, tenantId: TENANT_ID, temporal: stack.temporal.client }),
      tenantId: TENANT_ID,
      apiKey: API_KEY,
      limitAnswers: limits.answers,
      rates: args.rates.split(',').map(Number),
      leadsPerRate: Number(args['leads-per-rate']),
      leadTimeoutMs: Number(args['lead-timeout']) * 1000,
      ...(args['knee-p99'] !== undefined ? { kneeBoundMs: Number(args['knee-p99']) } : {}),
      out: (line) => process.stdout.write(`${line}\n`),
    });
  }
  if (modes.includes('priority')) {
    process.stdout.write('\n== priority ==\n');
    await runPriority({
      stack,
      sandbox,
      apiKey: API_KEY,
      imports: Number(args.imports),
      importConcurrency: Number(args['import-concurrency']),
      formRate: Number(args['form-rate']),
      idleForms: Number(args['idle-forms']),
      leadTimeoutMs: Number(args['lead-timeout']) * 1000,
      out: (line) => process.stdout.write(`${line}\n`),
    });
  }
  if (modes.includes('distribution')) {
    process.stdout.write('\n== distribution ==\n');
    await runDistributionBench({
      apiUrl: stack.apiUrl,
      tenantId: TENANT_ID,
      apiKey: API_KEY,
      methods: methods as BenchMethod[],
      latencyMs: LATENCY,
      jitterMs: JITTER,
      slowMs: Number(args.slow),
      pingTimeoutMs: Number(args['ping-timeout']),
      concurrency: Number(args.concurrency),
      leads: Number(args['dist-leads']),
      stepStart: Number(args['step-start']),
      stepMax: Number(args['step-max']),
      stepSeconds: Number(args['step-seconds']),
      stepMinLeads: Number(args['step-min-leads']),
      idle: async () => {
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          const { count } = await stack.temporal.client.workflow.count(`WorkflowType = 'distributeLead' AND ExecutionStatus = 'Running'`);
          if (count === 0) return;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error('distributed leads still running after 120 s');
      },
      out: (line) => process.stdout.write(`${line}\n`),
    });
  }
  process.stdout.write(`\npersistence: ${args.temporal ? `external Temporal at ${args.temporal}` : `${args.db ? 'SQLite file (WAL)' : 'in-memory'} dev server`}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

  await stack.close();
  await sandbox.close();
  await server?.stop();
  process.exit(0);
}

async function runRouting(stack: RunningStack, sandbox: RunningSandbox, limitAnswers: readonly LimitAnswer[]): Promise<void> {
  // Warm-up: the first workflow pays for worker and connection start-up.
  const domains = ['acme.com', 'globex.com', 'initech.com', 'hooli.com', 'piedpiper.com', 'newco.io'];
  let pushbacks = 0;
  const post = async (i: number, tag: string) => {
    // A push-back (429 + Retry-After) is waited out and the POST sent again (./poster.ts).
    const posted = await postLead(stack.apiUrl, API_KEY, { email: `${tag}${i}@${domains[i % domains.length]}`, firstName: 'Bench', source: 'form' }, null);
    pushbacks += posted.pushbacks;
    return posted.leadId;
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
  const results: Array<{ e2e: number; upstream: number; wait: number; rule: string }> = [];
  const stepTotals: Record<string, number[]> = {};
  for (const { leadId, t0 } of sent) {
    const event = await waitNotified(leadId, 120_000);
    const state = (await stack.temporal.client.workflow.getHandle(`lead:${TENANT_ID}:${leadId}`).query('leadState')) as LeadState;
    const call = (step: string) => state.upstream.filter((c) => c.step === step).reduce((sum, c) => sum + c.durationMs, 0);
    // Enrichment runs beside the account match and the availability reads, not before them.
    const upstream = Math.max(call('enrich'), call('match_account'), call('check_hris'), call('check_calendar')) + call('assign_crm');
    // Limit answers' waits on the critical path (./rateLimits.ts): not the engine's time.
    // Read once the lead is notified: its limit answers all came before its notification.
    const wait = waitsByLead(limitAnswers).get(`lead:${TENANT_ID}:${leadId}`)?.criticalMs ?? 0;
    results.push({ e2e: event.receivedAt - t0, upstream, wait, rule: state.owner?.via ?? state.status });
    const first = Date.parse(state.timings[0]?.startedAt ?? state.receivedAt);
    (stepTotals['(POST → first step)'] ??= []).push(first - t0);
    for (const timing of state.timings) (stepTotals[timing.step.replace(/:.*/, '')] ??= []).push(timing.durationMs ?? 0);
  }
  const last = Math.max(...sent.map(({ leadId }) => notified(leadId)!.receivedAt));
  const e2e = results.map((r) => r.e2e).sort((a, b) => a - b);
  const overhead = results.map((r) => r.e2e - r.upstream - r.wait).sort((a, b) => a - b);
  const rateLimitWaits = results.map((r) => r.wait).sort((a, b) => a - b);
  const upstream = results.map((r) => r.upstream).sort((a, b) => a - b);
  const rules = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.rule]: (acc[r.rule] ?? 0) + 1 }), {});

  const rows = [
    ['end-to-end (POST → message received)', e2e],
    ['upstream time on critical path', upstream],
    ['rate-limit waits (429 → Retry-After)', rateLimitWaits],
    ['engine overhead (e2e − upstream − waits)', overhead],
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
  const leadIds = new Set(sent.map(({ leadId }) => `lead:${TENANT_ID}:${leadId}`));
  const limited = limitAnswers.filter((a) => a.workflowId !== null && leadIds.has(a.workflowId)).length;
  process.stdout.write(`limit answers (429s) to these leads' calls: ${limited}; to any call: ${sandbox.events().filter((e) => e.rateLimited).length}; POSTs pushed back: ${pushbacks}\n`);
  process.stdout.write(`${await historyLine(stack, [...leadIds].slice(0, 20))}\n`);
}

/** Events and workflow tasks per lead, from a sample of the run's histories (see ./events.ts). */
async function historyLine(stack: RunningStack, workflowIds: string[]): Promise<string> {
  const counts = await Promise.all(workflowIds.map((id) => countLeadHistory(stack.temporal.client, id)));
  const median = (pick: (c: (typeof counts)[number]) => number) => percentile(counts.map(pick).sort((a, b) => a - b), 50);
  return `history per lead (median of ${counts.length}): ${median((c) => c.untilNotified)} events until the owner is notified, ${median((c) => c.workflowTasksUntilNotified)} workflow tasks; ${median((c) => c.total)} events so far`;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
