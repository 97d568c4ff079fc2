import { logger } from './log';
import { serveMetrics } from './metrics/server';
import { startStack } from './stack';
import { initProcess, loadEncryption, loadSecrets, loadTenants, loadTracing, onShutdown, shutdown, stackOptionsFromEnv, stopOnSignals } from './startup';

/**
 * The production entry points, against a Temporal cluster (`npm run cluster`, or any other):
 *
 *   npm run worker   the lead worker and the entity worker (as many processes as you like, on
 *                    one machine or several: they share the task queues)
 *   npm run api      the HTTP API alone
 *
 * Configured as `npm start` is (src/config.ts, src/startup.ts) with two differences: Temporal is
 * always external (TEMPORAL_ADDRESS; LEADRELAY_TEMPORAL=embedded is refused, one dev server per
 * process would be no cluster), and there is no sandbox (it runs only in `npm start`): tenants
 * come from LEADRELAY_TENANTS_FILE, with the production secrets (LEADRELAY_ENCRYPTION_KEY,
 * LEADRELAY_DEDUPE_KEY, LEADRELAY_SESSION_KEY when tenants have console users). A worker serves
 * no HTTP API; LEADRELAY_METRICS_PORT gives it its own GET /metrics.
 */
const log = logger('leadrelay');

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role !== 'worker' && role !== 'api') throw new Error(`usage: serve.ts worker|api (got ${role ?? 'nothing'})`);
  if (process.env['LEADRELAY_TEMPORAL'] === 'embedded') {
    throw new Error(`npm run ${role} runs against a Temporal cluster: unset LEADRELAY_TEMPORAL=embedded and set TEMPORAL_ADDRESS (npm start runs everything with a dev server)`);
  }
  const sandbox = process.env['LEADRELAY_SANDBOX'];
  if (sandbox !== undefined && !['off', 'false', '0'].includes(sandbox)) {
    throw new Error(`npm run ${role} has no sandbox (it runs only in npm start): unset LEADRELAY_SANDBOX and give the tenants in LEADRELAY_TENANTS_FILE`);
  }
  const basics = initProcess({ ...process.env, LEADRELAY_TEMPORAL: 'external', LEADRELAY_SANDBOX: 'off' });
  const { env } = basics;
  stopOnSignals();
  const encryption = loadEncryption(basics);
  const tenants = loadTenants(env);
  const session = loadSecrets(basics, tenants);
  const tracing = loadTracing();
  const options = stackOptionsFromEnv(basics, { temporalAddress: env.TEMPORAL_ADDRESS, webUiUrl: null, tenants, encryption, session, tracing });
  log.info(`starting the ${role === 'worker' ? 'workers' : 'API'}`, { temporal: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.LEADRELAY_TASK_QUEUE, tenants: tenants.list().length });
  const stack = await startStack({ ...options, runWorker: role === 'worker', serveApi: role === 'api' });
  onShutdown(() => stack.close());
  if (role === 'worker' && env.LEADRELAY_METRICS_PORT !== undefined) {
    const metrics = await serveMetrics(env.LEADRELAY_METRICS_PORT, { host: env.API_HOST });
    onShutdown(() => metrics.close());
    log.info('worker metrics', { url: metrics.url });
  }
  if (role === 'worker') log.info('workers running', { taskQueue: env.LEADRELAY_TASK_QUEUE, pid: process.pid });
  else log.info('API listening', { url: stack.apiUrl, pid: process.pid });
}

main().catch((err) => {
  log.error('failed to start', { error: err instanceof Error ? err.message : String(err) });
  void shutdown('start-up failed', 1);
});
