import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, resolveTemporalCli, startDevServer, type RunningDevServer } from '../../src/temporal/devServer';
import { bundleWorkflows } from '../../src/worker';
import { buildConsole } from '../../src/console/build';
import { freePort } from './ports';

export const TEST_ENV_FILE = path.join(PROJECT_ROOT, '.data', 'test', 'env.json');

/**
 * One real Temporal dev server (in memory, headless), one workflow bundle and one console build
 * for the whole integration run; each test file then starts its own worker, API and sandbox against it.
 * With LEADRELAY_TEST_TEMPORAL_ADDRESS the run uses that Temporal instead of a dev server: the
 * cluster of `npm run cluster -- test` (its namespace `default`, search attributes registered).
 */
export default async function globalSetup(): Promise<void> {
  const dir = path.dirname(TEST_ENV_FILE);
  mkdirSync(dir, { recursive: true });
  let address = process.env['LEADRELAY_TEST_TEMPORAL_ADDRESS'];
  if (!address) {
    const cli = resolveTemporalCli(process.env, (m) => process.stdout.write(`\n${m}\n`));
    const port = await freePort();
    const server = await startDevServer({ cli, port, uiPort: 0, headless: true, logFile: path.join(dir, 'temporal.log') });
    (globalThis as { __temporalDevServer?: RunningDevServer }).__temporalDevServer = server;
    address = server.address;
  }

  // The console the API serves at /console (browser tests load it); quick, and never stale.
  await buildConsole();
  const { code } = await bundleWorkflows();
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  // The run's deployment key of the payload codec: every test stack of the run shares it, as
  // entity workflows (a tenant's policy, its pools) outlive one file's stack on the shared server.
  const encryptionKey = randomBytes(32).toString('base64');
  writeFileSync(TEST_ENV_FILE, JSON.stringify({ address, bundlePath, encryptionKey }), { mode: 0o600 });
}
