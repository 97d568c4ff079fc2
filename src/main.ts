import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { businessClock } from './clock';
import { resolveTemplates, type TemplateMap } from './distribution/templates';
import { logger } from './log';
import { parsePolicy } from './domain/policy/parse';
import { DEMO_API_KEY, DEMO_CONSOLE_USERS, DEMO_STACK_TENANTS, DEMO_STACKS, DEMO_TENANT_ID, demoConsole, demoIdMap, demoSandboxWorkspace, demoStackTenant, demoStackWorkspace, remapIds, type DemoStack } from '../sandbox/demoTenant';
import { demoMarketplaceBanner, storeDemoMarketplace } from '../sandbox/demoMarketplaceStore';
import { demoSourceCurl } from '../sandbox/demoSources';
import { startMarketplace, type RunningMarketplace } from '../sandbox/marketplace';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { startStack, type RunningStack } from './stack';
import { dataDirFiles, PROJECT_ROOT, resolveTemporalCli, startDevServer, type RunningDevServer } from './temporal/devServer';
import { retryUntil } from './temporal/connection';
import { currentPolicy, publishPolicy } from './temporal/entities';
import { initProcess, loadEncryption, loadSecrets, loadTenants, loadTracing, onShutdown, shutdown, stackOptionsFromEnv, stopOnSignals } from './startup';

const log = logger('leadrelay');

/**
 * `npm start`: the Temporal dev server (unless LEADRELAY_TEMPORAL=external), the sandbox
 * emulators with the demo tenant, the worker and the API — one process tree, stopped by Ctrl-C.
 * (`npm run worker` and `npm run api` run the parts alone against a Temporal cluster: src/serve.ts.)
 */
async function main(): Promise<void> {
  const basics = initProcess();
  const { env, dataDir } = basics;
  // Payloads are encrypted before they reach Temporal (src/temporal/codec.ts): LEADRELAY_ENCRYPTION_KEY,
  // or with the sandbox a development key made in the data folder.
  const encryption = loadEncryption(basics);
  // Where the Web UI's browser reaches the codec server (the API's /codec).
  const localApiUrl = `http://${env.API_HOST === '0.0.0.0' ? '127.0.0.1' : env.API_HOST}:${env.API_PORT}`;
  stopOnSignals();

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let webUiUrl: string | null = null;
  if (env.LEADRELAY_TEMPORAL === 'embedded') {
    const cli = resolveTemporalCli(process.env, (m) => log.info(m));
    const port = Number(temporalAddress.split(':').pop() ?? 7233);
    const files = dataDirFiles(dataDir);
    log.info('starting Temporal dev server', { cli, port, db: path.relative(PROJECT_ROOT, files.dbFile) });
    const server: RunningDevServer = await startDevServer({
      cli,
      port,
      uiPort: env.TEMPORAL_UI_PORT,
      ...files,
      namespace: env.TEMPORAL_NAMESPACE,
      codecEndpoint: `${localApiUrl}/codec`,
      log: (message) => log.warn(message),
    });
    onShutdown(() => server.stop());
    temporalAddress = server.address;
    webUiUrl = server.uiUrl;
    log.info('Temporal dev server ready', { address: server.address, ui: server.uiUrl ?? 'off' });
  } else {
    log.info('using an external Temporal server', { address: temporalAddress });
  }

  const tenants = loadTenants(env);
  let sandbox: RunningSandbox | null = null;
  let marketplace: RunningMarketplace | null = null;
  if (env.LEADRELAY_SANDBOX) {
    const latency = { baseMs: env.SANDBOX_LATENCY_MS, jitterMs: env.SANDBOX_LATENCY_MS };
    // The demo's leave and meeting sit around the engine's now (a simulated one too).
    const now = new Date(businessClock.now());
    if (businessClock.offsetMs) log.warn('business time is simulated (LEADRELAY_SIMULATED_NOW)', { now: now.toISOString() });
    sandbox = await startSandbox({
      port: env.SANDBOX_PORT,
      workspaces: STACKS.map((stack) => demoStackWorkspace(now, stack)),
      latency: { crm: latency, hris: latency, calendar: latency, messaging: latency, enrichment: latency, auth: latency },
    });
    const running = sandbox;
    onShutdown(() => running.close());
    const apiUrl = `http://${env.API_HOST === '0.0.0.0' ? '127.0.0.1' : env.API_HOST}:${env.API_PORT}`;
    for (const stack of STACKS) {
      const consoleSettings = demoConsole(stack);
      tenants.add({ ...demoStackTenant(sandbox.url, stack, undefined, apiUrl), ...(consoleSettings ? { console: consoleSettings } : {}) }, 'sandbox');
    }
    log.info('sandbox emulators ready', { url: sandbox.url, latencyMs: `${env.SANDBOX_LATENCY_MS}+jitter` });
    // The demo tenant's lead buyers (distribution), on a port of their own.
    marketplace = await startMarketplace({ port: env.SANDBOX_MARKETPLACE_PORT });
    const runningMarketplace = marketplace;
    onShutdown(() => runningMarketplace.close());
    log.info('sandbox marketplace ready', { url: marketplace.url, buyers: marketplace.buyers().length });
  }
  const session = loadSecrets(basics, tenants);
  const tracing = loadTracing();
  const options = stackOptionsFromEnv(basics, { temporalAddress, webUiUrl, tenants, encryption, session, tracing });
  const { distributionTemplates } = options;
  const stack: RunningStack = await startStack(options);
  onShutdown(() => stack.close());
  if (sandbox) for (const demo of STACKS) await publishDemoPolicy(stack, demo);
  if (marketplace) {
    // Validated as PUT /v1/buyers validates the demo tenant's: its templates over the environment's and the platform's.
    const templates = resolveTemplates({ environment: distributionTemplates, tenant: stack.tenants.get(DEMO_TENANT_ID)?.distribution?.templates });
    await storeDemoCatalog(stack, marketplace, templates);
  }
  log.info('worker running', { taskQueue: env.LEADRELAY_TASK_QUEUE });
  log.info('API listening', { url: stack.apiUrl });

  const banner = [
    '',
    'Leadrelay is running.',
    `  API          ${stack.apiUrl}`,
    `  Web UI       ${webUiUrl ?? '(external Temporal: use its UI)'}`,
    `  Temporal     ${temporalAddress} (namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.LEADRELAY_TASK_QUEUE}, closed runs kept ${env.LEADRELAY_RETENTION_DAYS} days)`,
    `  Codec server ${stack.apiUrl}/codec  (payloads are encrypted in Temporal; the Web UI decodes through it, see README)`,
    `  Console      ${session ? `${stack.apiUrl}/console/` : '(off: set LEADRELAY_SESSION_KEY and give a tenant console users)'}`,
  ];
  if (sandbox && session) {
    banner.push(
      '  Console sign-ins (development only; email / password, role):',
      ...STACKS.flatMap((s) => (DEMO_CONSOLE_USERS[s] ?? []).map((u) => `    ${`${u.email} / ${u.password}`.padEnd(48)} ${u.role.padEnd(7)} tenant ${DEMO_STACK_TENANTS[s].tenantId}`)),
    );
  }
  if (sandbox) {
    const key = DEMO_STACK_TENANTS[env.SANDBOX_TENANT].apiKey;
    banner.push(
      `  Sandbox      ${sandbox.url}  (everything the emulated upstreams received: ${sandbox.url}/_sandbox/events)`,
      '  Sandbox tenants (development API keys; each reaches its providers\' emulators):',
      ...STACKS.map((s) => `    ${DEMO_STACK_TENANTS[s].apiKey.padEnd(20)} ${Object.values(DEMO_STACKS[s]).join(' + ')}${s === env.SANDBOX_TENANT ? '   <- used below (SANDBOX_TENANT)' : ''}`),
      '',
      'Route a demo lead (acme.com is an existing account):',
      `  curl -s -X POST ${stack.apiUrl}/v1/leads -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`,
      `    -d '{"email":"jane.doe@acme.com","firstName":"Jane","lastName":"Doe","company":"Acme","source":"form"}'`,
      'Then read its status (replace LEAD_ID with the leadId returned):',
      `  curl -s ${stack.apiUrl}/v1/leads/LEAD_ID -H 'Authorization: Bearer ${key}'`,
      'Watch each connection (OAuth state, rate limits):',
      `  curl -s ${stack.apiUrl}/v1/connections -H 'Authorization: Bearer ${key}'`,
      '',
      `A lead from the ${DEMO_TENANT_ID} tenant's Typeform source, signed just now with its sandbox secret (sent again, it answers the same lead):`,
      ...demoSourceCurl(stack.apiUrl, DEMO_TENANT_ID),
      'Its sources (HubSpot, Typeform, Segment, Marketo, generic JSON, …): endpoints, last event, counts:',
      `  curl -s ${stack.apiUrl}/v1/sources -H 'Authorization: Bearer ${DEMO_API_KEY}'`,
    );
  }
  if (marketplace) {
    // After the Sandbox line: where the buyers run; the selling examples go last.
    const at = banner.findIndex((l) => l.startsWith('  Sandbox tenants'));
    banner.splice(at < 0 ? banner.length : at, 0, `  Marketplace  ${marketplace.url}  (the demo tenant's emulated lead buyers; what they received: ${marketplace.url}/_marketplace/requests)`);
    banner.push('', ...demoMarketplaceBanner({ apiUrl: stack.apiUrl, tenantKey: DEMO_API_KEY }));
  }
  banner.push('', 'Ctrl-C stops everything.', '');
  process.stdout.write(`${banner.join('\n')}\n`);
}

const STACKS = Object.keys(DEMO_STACKS) as DemoStack[];

/** Temporal's answer to a query while the workflow's task is being retried: FAILED_PRECONDITION "Workflow Task in failed state". */
function workflowTaskFailed(err: unknown): boolean {
  const cause = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(cause) && cause.code === 9 /* FAILED_PRECONDITION */ && /workflow task in failed state/i.test(cause.details);
}

/**
 * Each sandbox tenant routes with the example policy until someone publishes another (with its
 * CRM's IDs in place of the seed's).
 */
async function publishDemoPolicy(stack: RunningStack, demo: DemoStack): Promise<void> {
  const tenantId = DEMO_STACK_TENANTS[demo].tenantId;
  const config = stack.tenants.routingConfig(tenantId);
  // After a crash, a policy workflow whose last task died with the old worker refuses queries
  // until the new worker has run that task again, moments after start: wait for it, do not fail.
  const current = await retryUntil(`reading ${tenantId}'s policy`, 60_000, () => currentPolicy(stack.temporal.client, config), workflowTaskFailed);
  if (!current.version.startsWith('default-')) return;
  const raw: unknown = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'examples/policies/demo.policy.json'), 'utf8'));
  const parsed = parsePolicy(remapIds(raw, demoIdMap(demo, demoSandboxWorkspace(new Date(businessClock.now())))));
  if (!parsed.ok) throw new Error(`examples/policies/demo.policy.json: ${parsed.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  const version = await publishPolicy(stack.temporal.client, stack.taskQueue, tenantId, parsed.policy, 'sandbox', 'demo policy');
  log.info('published the demo policy', { tenant: tenantId, version: `v${version.version}` });
}

/**
 * The demo tenant's distribution catalog (campaign auto-insurance-us, its suppliers and buyers,
 * the buyers' endpoints on the marketplace), stored at every start: the same content keeps its
 * version, so a restart adds none.
 */
async function storeDemoCatalog(stack: RunningStack, marketplace: RunningMarketplace, templates: TemplateMap): Promise<void> {
  // After a crash the catalog workflow's last task may wait for the new worker (see publishDemoPolicy).
  const stored = await retryUntil(
    `storing ${DEMO_TENANT_ID}'s marketplace catalog`,
    60_000,
    () => storeDemoMarketplace({ client: stack.temporal.client, taskQueue: stack.taskQueue, tenantId: DEMO_TENANT_ID, marketplaceUrl: marketplace.url, templates }),
    workflowTaskFailed,
  );
  const changed = stored.filter((d) => d.changed);
  log.info('stored the demo marketplace catalog', {
    tenant: DEMO_TENANT_ID,
    documents: stored.length,
    newVersions: changed.length ? changed.map((d) => `${d.kind} ${d.id} v${d.version}`).join(', ') : 'none (unchanged)',
  });
}

main().catch((err) => {
  log.error('failed to start', { error: err instanceof Error ? err.message : String(err) });
  void shutdown('start-up failed', 1);
});
