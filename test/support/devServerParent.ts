/**
 * A stand-in for the `npm start` process in tests that kill it: starts the Temporal dev server as
 * src/main.ts does (same files in the data dir, Web UI on), prints one JSON line
 * `{ pid, watchdogPid, address }` once it serves, then idles until killed.
 *
 * Run with `node --import tsx test/support/devServerParent.ts <dataDir> <port> <uiPort>`.
 */
import { dataDirFiles, resolveTemporalCli, startDevServer } from '../../src/temporal/devServer';

async function main(): Promise<void> {
  const [dataDir, port, uiPort] = process.argv.slice(2);
  if (!dataDir || !port || !uiPort) throw new Error('usage: devServerParent.ts <dataDir> <port> <uiPort>');
  const server = await startDevServer({
    cli: resolveTemporalCli(),
    port: Number(port),
    uiPort: Number(uiPort),
    ...dataDirFiles(dataDir),
    log: (message) => process.stderr.write(`${message}\n`),
  });
  process.stdout.write(`${JSON.stringify({ pid: server.pid, watchdogPid: server.watchdogPid, address: server.address })}\n`);
  setInterval(() => {}, 60_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
