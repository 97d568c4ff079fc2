import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { Admission, visibilityQueueCounter } from './api/admission';
import { createApp } from './api/app';
import { Sessions } from './api/session';
import { businessClock, type BusinessClock } from './clock';
import type { HealthReport } from './api/context';
import { Connectors } from './connectors/registry';
import type { DefinitionOverride } from './connectors/definition';
import { checkDistributionTemplates } from './distribution/environmentTemplates';
import { logger } from './log';
import { BacklogPoller } from './metrics/backlog';
import { processLeadMetrics, type LeadMetrics } from './metrics/leadMetrics';
import { entityTaskQueue } from './protocol/ids';
import { connectTemporal, ensureSearchAttributes, type TemporalConnections } from './temporal/connection';
import { dataConverterOf, KeyRing, TenantPayloadCodec, type DeploymentKeys } from './temporal/codec';
import { TemporalReachability } from './temporal/reachability';
import { ensureRetention } from './temporal/retention';
import type { TenantRegistry } from './tenants/registry';
import type { Tracing } from './tracing/tracing';
import { bundleWorkflows, createWorkers } from './worker';

export interface StackOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  tenants: TenantRegistry;
  apiHost: string;
  /** 0 = any free port. */
  apiPort: number;
  bodyLimit?: string;
  webUiUrl: string | null;
  workflowBundle?: { codePath: string } | { code: string };
  environmentOverrides?: Record<string, DefinitionOverride>;
  /** Environment-level buyer request templates (ID → JSONata): over the platform's, under each tenant's. */
  distributionTemplates?: Record<string, string>;
  /**
   * Buyer endpoints may name loopback and private addresses (the sandbox's and tests' local
   * buyers); off by default, so a tenant's buyer cannot make the worker call into its own network.
   */
  allowPrivateBuyerUrls?: boolean;
  /** The reverse proxies in front of the API (see LEADRELAY_TRUST_PROXY); none by default. */
  trustProxy?: number | string;
  /** Run the worker in this process (default) — off for an API-only process. */
  runWorker?: boolean;
  /** Serve the HTTP API from this process (default) — off for a worker-only process (`npm run worker`). */
  serveApi?: boolean;
  /** What time it is for routing (default the process's business clock; see src/clock.ts). */
  clock?: BusinessClock;
  /** Signs console sessions (see src/api/session.ts); without it the console cannot be signed in to. */
  sessionKey?: Buffer;
  /** Keeps console sign-outs across restarts (see Sessions); without it they hold for this process. */
  sessionRevocationsFile?: string;
  /**
   * Sets the namespace's retention period to this many days after connecting: how long Temporal
   * keeps a closed run's history and visibility (see src/temporal/retention.ts). Unset: the
   * namespace keeps its own (the tests' shared dev server).
   */
  retentionDays?: number;
  /**
   * The deployment key of the payload codec (src/temporal/codec.ts): every payload the client and
   * the worker send to Temporal is encrypted, with the tenant's own keys where it has them.
   */
  encryption: DeploymentKeys;
  /** Web UI origins allowed to call the codec server (/codec/decode) from a browser, besides `webUiUrl`'s. */
  codecCorsOrigins?: string[];
  /** How long a quarantined source payload is held before it expires (default 30 days). */
  quarantineHoldMs?: number;
  /** Where the worker records the lead metrics and GET /metrics reads them (default the process's). */
  metrics?: LeadMetrics;
  /**
   * How often the worker reads its task queues' backlog for the metrics (DescribeTaskQueue), in
   * seconds; 0 turns it off (default 15).
   */
  backlogPollSeconds?: number;
  /**
   * OpenTelemetry tracing (src/tracing/tracing.ts); off when absent. A `workflowBundle` given
   * with it must have been made with `bundleWorkflows({ tracing: true })`.
   */
  tracing?: Tracing;
}

export interface RunningStack {
  /** Empty when the process serves no API (`serveApi: false`). */
  apiUrl: string;
  taskQueue: string;
  tenants: TenantRegistry;
  temporal: TemporalConnections;
  connectors: Connectors;
  workers: Worker[];
  /** The payload codec the client and the workers use (tests decode raw histories with it). */
  codec: TenantPayloadCodec;
  close(): Promise<void>;
}

const log = logger('stack');

/**
 * The /healthz checks. `temporal`: the API's connection reaches Temporal. `worker`: every worker of
 * this process is RUNNING and its own connection, the one its polls use, reaches Temporal too
 * (a worker whose polls fail still says RUNNING). Each probe is bounded (see TemporalReachability).
 */
export function stackHealth(parts: {
  temporal: TemporalReachability;
  workers: ReadonlyArray<Pick<Worker, 'getState'>>;
  /** Probes the workers' connection; null without workers. */
  workerConnection: TemporalReachability | null;
  taskQueue: string;
}): () => Promise<HealthReport> {
  return async () => {
    const [temporal, polls] = await Promise.all([parts.temporal.check(), parts.workerConnection?.check() ?? null]);
    const states = parts.workers.map((w) => w.getState());
    const running = states.length > 0 && states.every((s) => s === 'RUNNING');
    const checks: HealthReport['checks'] = {
      temporal: { ok: temporal.reachable, detail: temporal.detail },
      worker: parts.workers.length
        ? {
            ok: running && polls?.reachable !== false,
            detail: `${states.join(', ')} on task queue ${parts.taskQueue}${polls && !polls.reachable ? `; its polls fail: ${polls.detail}` : ''}`,
          }
        : { ok: true, detail: 'no worker in this process' },
    };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
}

async function waitStopped(worker: Worker): Promise<void> {
  while (!['STOPPED', 'FAILED'].includes(worker.getState())) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Worker + API against a Temporal server: the same assembly for `npm start`, the integration
 * tests and the benchmark. Mapping definitions are compiled up front so bad configuration fails
 * here, naming the provider, operation and path, not on the first lead.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const clock = options.clock ?? businessClock;
  const connectors = new Connectors(options.tenants, options.environmentOverrides ? { environmentOverrides: options.environmentOverrides } : {});
  connectors.validateAll();
  const distributionTemplates = options.distributionTemplates ? checkDistributionTemplates(options.distributionTemplates) : undefined;
  const distribution = { ...(distributionTemplates ? { distributionTemplates } : {}), allowPrivateBuyerUrls: options.allowPrivateBuyerUrls === true };

  const codec = new TenantPayloadCodec(new KeyRing(options.tenants, options.encryption));
  // A key reference that resolves to nothing fails here, naming the tenant and key, not on the first lead.
  codec.keys.validate(options.tenants.list());
  const dataConverter = dataConverterOf(codec);
  const temporal = await connectTemporal(options.temporalAddress, options.namespace, dataConverter, undefined, options.tracing?.clientInterceptors());
  const added = await ensureSearchAttributes(temporal.connection, options.namespace);
  if (added.length) log.info('registered search attributes', { added: added.join(',') });
  if (options.retentionDays !== undefined) {
    const retention = await ensureRetention(temporal.connection, options.namespace, options.retentionDays);
    if (retention.refused) log.warn('the namespace refused a retention change: its own applies', { namespace: options.namespace, days: retention.days ?? 'unknown', wanted: options.retentionDays, reason: retention.refused });
    else log.info('namespace retention', { namespace: options.namespace, days: options.retentionDays, ...(retention.changed ? { was: retention.beforeDays ?? 'unset' } : {}) });
  }

  const metrics = options.metrics ?? processLeadMetrics();
  let workers: Worker[] = [];
  let running: Promise<unknown> = Promise.resolve();
  let backlog: BacklogPoller | null = null;
  if (options.runWorker !== false) {
    workers = await createWorkers({
      connection: temporal.native,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      deps: { tenants: options.tenants, connectors, temporal: temporal.client, clock, ...distribution },
      dataConverter,
      workflowBundle: options.workflowBundle ?? (await bundleWorkflows({ tracing: options.tracing !== undefined })),
      metrics,
      ...(options.tracing ? { tracing: options.tracing } : {}),
    });
    running = Promise.all(workers.map((w) => w.run().catch((err) => log.error('worker stopped with an error', { error: String(err) }))));
    const pollSeconds = options.backlogPollSeconds ?? 15;
    if (pollSeconds > 0) backlog = new BacklogPoller(temporal.connection, options.namespace, [options.taskQueue, entityTaskQueue(options.taskQueue)], metrics, pollSeconds * 1000).start();
  }

  const reachability = TemporalReachability.of(temporal.connection, `Temporal at ${options.temporalAddress}`);
  const workerReachability = workers.length ? TemporalReachability.of(temporal.native, `Temporal at ${options.temporalAddress}`) : null;
  const health = stackHealth({ temporal: reachability, workers, workerConnection: workerReachability, taskQueue: options.taskQueue });

  const app = createApp({
    client: temporal.client,
    tenants: options.tenants,
    taskQueue: options.taskQueue,
    namespace: options.namespace,
    webUiUrl: options.webUiUrl,
    bodyLimit: options.bodyLimit ?? '64kb',
    temporalTimeoutMs: 10_000,
    temporalReachability: reachability,
    health,
    clock,
    ...distribution,
    ...(options.runWorker !== false ? { connectors, leadMetrics: metrics } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    ...(options.sessionKey ? { sessions: new Sessions(options.sessionKey, options.sessionRevocationsFile ? { revocationsFile: options.sessionRevocationsFile } : {}) } : {}),
    codec,
    codecCorsOrigins: options.codecCorsOrigins ?? [],
    admission: new Admission(visibilityQueueCounter(temporal.client)),
    // Eager start needs the worker's own connection (see ApiContext.eagerStartClient).
    ...(workers.length ? { eagerStartClient: new Client({ connection: temporal.native, namespace: options.namespace, dataConverter, ...(options.tracing ? { interceptors: options.tracing.clientInterceptors() } : {}) }) } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    ...(options.quarantineHoldMs !== undefined ? { quarantineHoldMs: options.quarantineHoldMs } : {}),
    onError: (err) => log.error('unexpected API error', { error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  });
  const server: Server | null =
    options.serveApi === false
      ? null
      : await new Promise((resolve, reject) => {
          const s = app.listen(options.apiPort, options.apiHost, () => resolve(s));
          s.once('error', reject);
        });

  return {
    apiUrl: server ? `http://${options.apiHost}:${(server.address() as AddressInfo).port}` : '',
    taskQueue: options.taskQueue,
    tenants: options.tenants,
    temporal,
    connectors,
    workers,
    codec,
    close: async () => {
      if (server) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      await backlog?.stop();
      // In order: the lead worker's activities wait on the entity workflows, so the entities stop last.
      for (const w of workers) {
        if (w.getState() === 'RUNNING') w.shutdown();
        await waitStopped(w);
      }
      await running;
      await Promise.all([reachability.idle(), workerReachability?.idle()]);
      await temporal.close();
      // Spans of this stack's last requests and activities leave now, not at the next batch.
      await options.tracing?.flush();
    },
  };
}
