import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT, resolveTemporalCli, startDevServer, type RunningDevServer } from '../../src/temporal/devServer';
import { bundleWorkflows } from '../../src/worker';

export const TEST_ENV_FILE = path.join(PROJECT_ROOT, '.data', 'test', 'env.json');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One real Temporal dev server (in memory, headless) and one workflow bundle for the whole
 * integration run; each test file then starts its own worker, API and sandbox against it.
 */
export default async function globalSetup(): Promise<void> {
  const dir = path.dirname(TEST_ENV_FILE);
  mkdirSync(dir, { recursive: true });
  const cli = resolveTemporalCli(process.env, (m) => process.stdout.write(`\n${m}\n`));
  const port = await freePort();
  const server = await startDevServer({ cli, port, uiPort: 0, headless: true, logFile: path.join(dir, 'temporal.log') });
  (globalThis as { __temporalDevServer?: RunningDevServer }).__temporalDevServer = server;

  const { code } = await bundleWorkflows();
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  writeFileSync(TEST_ENV_FILE, JSON.stringify({ address: server.address, bundlePath }));
}
