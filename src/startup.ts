import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSessionKey } from './api/session';
import { loadEnv, type Env } from './config';
import type { DefinitionOverride } from './connectors/definition';
import { loadDistributionTemplates } from './distribution/environmentTemplates';
import { logger, setLogLevel, temporalLogger } from './log';
import { installSdkRuntime } from './metrics/sdkRuntime';
import type { StackOptions } from './stack';
import { loadDeploymentKeys } from './temporal/codec';
import { PROJECT_ROOT } from './temporal/devServer';
import { TenantRegistry } from './tenants/registry';
import { tracesUrl, tracingFromEnv, type Tracing } from './tracing/tracing';

/**
 * What every Leadrelay process reads and checks at start-up, the same way: `npm start` (src/main.ts,
 * everything in one process) and the production entry points `npm run worker` and `npm run api`
 * (src/serve.ts). Settings come from the environment (src/config.ts).
 */

const log = logger('leadrelay');

export interface ProcessBasics {
  env: Env;
  /** LEADRELAY_DATA_DIR, absolute. */
  dataDir: string;
}

/** Parses the environment, sets the log level, and sends the Temporal SDK's own logs through ours. */
export function initProcess(source: Record<string, string | undefined> = process.env): ProcessBasics {
  const env = loadEnv(source);
  setLogLevel(env.LOG_LEVEL);
  // The Temporal SDK's own logs (worker state, activity retries, Core's warnings) through the same
  // logger, and its own Prometheus metrics when LEADRELAY_SDK_METRICS_ADDRESS is set.
  installSdkRuntime({ logger: temporalLogger(), telemetryOptions: { logging: { forward: {} } }, sdkMetricsAddress: env.LEADRELAY_SDK_METRICS_ADDRESS });
  if (env.LEADRELAY_SDK_METRICS_ADDRESS) log.info('Temporal SDK metrics', { url: `http://${env.LEADRELAY_SDK_METRICS_ADDRESS}/metrics` });
  return { env, dataDir: path.resolve(PROJECT_ROOT, env.LEADRELAY_DATA_DIR) };
}

/** Whatever has been started, in start order; stopped in reverse. */
const stops: Array<() => Promise<void>> = [];
let stopping = false;

export function onShutdown(stop: () => Promise<void>): void {
  stops.push(stop);
}

export async function shutdown(why: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${why}, stopping`);
  for (const stop of stops.reverse()) {
    await stop().catch((err) => log.warn('error while stopping', { error: String(err) }));
  }
  log.info('stopped');
  process.exit(code);
}

/** SIGINT and SIGTERM stop what was started, in reverse order, then exit 0. */
export function stopOnSignals(): void {
  process.on('SIGINT', () => void shutdown('received SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('received SIGTERM', 0));
}

/** The payload codec's keys: LEADRELAY_ENCRYPTION_KEY, or with the sandbox a development key made in the data folder. */
export function loadEncryption({ env, dataDir }: ProcessBasics): ReturnType<typeof loadDeploymentKeys> {
  const encryption = loadDeploymentKeys({ env: process.env, dataDir, sandbox: env.LEADRELAY_SANDBOX });
  log.info('payload encryption on', { deploymentKey: encryption.source === 'LEADRELAY_ENCRYPTION_KEY' ? encryption.source : path.relative(PROJECT_ROOT, encryption.source) });
  return encryption;
}

/** The tenants of LEADRELAY_TENANTS_FILE (none without it; the sandbox adds its own). */
export function loadTenants(env: Env): TenantRegistry {
  return env.LEADRELAY_TENANTS_FILE ? TenantRegistry.fromFile(env.LEADRELAY_TENANTS_FILE) : new TenantRegistry();
}

/**
 * Checks the secrets a deployment without the sandbox must set, once the tenants are known, and
 * loads the console's session key (the sandbox makes one in the data folder).
 */
export function loadSecrets({ env, dataDir }: ProcessBasics, tenants: TenantRegistry): ReturnType<typeof loadSessionKey> {
  if (tenants.list().length === 0) throw new Error('no tenants: set LEADRELAY_TENANTS_FILE or leave the sandbox on');
  // Dedupe marks are named by a keyed hash of contact details: with the public development key,
  // anyone who can list workflows could test emails and phone numbers against them.
  if (!env.LEADRELAY_SANDBOX && !process.env['LEADRELAY_DEDUPE_KEY']) {
    throw new Error('set LEADRELAY_DEDUPE_KEY (a long random secret) to run without the sandbox: it keys the hashes that name dedupe marks');
  }
  // Console sessions are signed with this key; the sandbox makes one in the data folder.
  const session = loadSessionKey({ env: process.env, dataDir, sandbox: env.LEADRELAY_SANDBOX });
  if (!session && tenants.hasConsoleUsers()) {
    throw new Error('set LEADRELAY_SESSION_KEY (a long random secret, at least 32 characters) to run without the sandbox: tenants have console users, and it signs their sessions');
  }
  if (session) log.info('console sessions enabled', { key: session.source === 'LEADRELAY_SESSION_KEY' ? session.source : path.relative(PROJECT_ROOT, session.source) });
  else log.info('console sign-in disabled: no tenant has console users and LEADRELAY_SESSION_KEY is not set');
  return session;
}

/**
 * OpenTelemetry traces, only when a collector is named (LEADRELAY_OTEL_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT); flushed and shut down at shutdown, after what is started later.
 */
export function loadTracing(): Tracing | null {
  const tracing = tracingFromEnv(process.env);
  if (tracing) {
    onShutdown(() => tracing.shutdown());
    log.info('tracing on', { traces: tracesUrl(process.env) ?? '' });
  }
  return tracing;
}

/** The stack's options as the environment sets them (src/stack.ts); the caller adds where Temporal is and which parts run. */
export function stackOptionsFromEnv(
  { env, dataDir }: ProcessBasics,
  parts: {
    temporalAddress: string;
    webUiUrl: string | null;
    tenants: TenantRegistry;
    encryption: ReturnType<typeof loadDeploymentKeys>;
    session: ReturnType<typeof loadSessionKey>;
    tracing?: Tracing | null;
  },
): StackOptions {
  const environmentOverrides = env.LEADRELAY_MAPPING_OVERRIDES
    ? (JSON.parse(readFileSync(env.LEADRELAY_MAPPING_OVERRIDES, 'utf8')) as Record<string, DefinitionOverride>)
    : undefined;
  const distributionTemplates = loadDistributionTemplates(env.LEADRELAY_DISTRIBUTION_TEMPLATES);
  const { session } = parts;
  return {
    temporalAddress: parts.temporalAddress,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.LEADRELAY_TASK_QUEUE,
    tenants: parts.tenants,
    apiHost: env.API_HOST,
    apiPort: env.API_PORT,
    bodyLimit: env.API_BODY_LIMIT,
    webUiUrl: parts.webUiUrl,
    ...(environmentOverrides ? { environmentOverrides } : {}),
    ...(distributionTemplates ? { distributionTemplates } : {}),
    // The sandbox marketplace's buyers are on loopback; elsewhere only when the operator says so.
    allowPrivateBuyerUrls: env.LEADRELAY_SANDBOX || env.LEADRELAY_ALLOW_PRIVATE_BUYER_URLS,
    ...(env.LEADRELAY_TRUST_PROXY ? { trustProxy: /^\d+$/.test(env.LEADRELAY_TRUST_PROXY) ? Number(env.LEADRELAY_TRUST_PROXY) : env.LEADRELAY_TRUST_PROXY } : {}),
    // Sign-outs outlive a restart: kept beside the session key (session IDs and expiries only).
    ...(session ? { sessionKey: session.key, sessionRevocationsFile: path.join(dataDir, 'session-revocations.json') } : {}),
    retentionDays: env.LEADRELAY_RETENTION_DAYS,
    encryption: parts.encryption.keys,
    codecCorsOrigins: (env.LEADRELAY_CODEC_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    quarantineHoldMs: env.LEADRELAY_QUARANTINE_HOLD_DAYS * 24 * 60 * 60 * 1000,
    backlogPollSeconds: env.LEADRELAY_BACKLOG_POLL_SECONDS,
    ...(parts.tracing ? { tracing: parts.tracing } : {}),
  };
}
