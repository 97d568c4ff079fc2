import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { dataDirFiles, PROJECT_ROOT, resolveTemporalCli, startDevServer, type RunningDevServer } from '../../src/temporal/devServer';
import { alive, processIdentity, readPidFile, writePidFile, type ProcessIdentity } from '../../src/temporal/pidFile';
import { freePort } from '../support/ports';
import { eventually } from '../support/stack';

/**
 * A crash of the `npm start` process must not leave a dev server that blocks the next start.
 * Real processes: a parent started like src/main.ts starts the server, is SIGKILLed, and a second
 * start on the same data dir must serve the same data. Nothing that is not ours is touched.
 */

let dataDir: string;
const children: ChildProcess[] = [];
const servers: RunningDevServer[] = [];

interface Parent {
  child: ChildProcess;
  exited: Promise<void>;
  /** The dev server process and the watchdog between the parent and it. */
  server: ProcessIdentity;
  watchdogPid: number;
  address: string;
}

/** Starts test/support/devServerParent.ts (a stand-in for `npm start`) and waits until its server serves. */
async function startParent(port: number, uiPort: number): Promise<Parent> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/devServerParent.ts', dataDir, String(port), String(uiPort)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    void exited.then(() => reject(new Error(`the parent exited before its server served: ${stderr}`)));
  });
  const started = JSON.parse(line) as { pid: number; watchdogPid: number; address: string };
  const server = processIdentity(started.pid);
  if (!server) throw new Error(`server ${started.pid} is not running`);
  return { child, exited, server, watchdogPid: started.watchdogPid, address: started.address };
}

async function startHere(port: number, uiPort: number, log: (m: string) => void = () => {}): Promise<RunningDevServer> {
  const server = await startDevServer({ cli: resolveTemporalCli(), port, uiPort, ...dataDirFiles(dataDir), log });
  servers.push(server);
  return server;
}

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

/** A workflow nobody works on stays RUNNING: proof that a later server reads the same data file. */
const startMarker = (address: string, workflowId: string) =>
  withClient(address, (client) => client.workflow.start('nobodyRunsThis', { workflowId, taskQueue: 'nobody-polls-this' }).then(() => undefined));
const markerStatus = (address: string, workflowId: string) => withClient(address, async (client) => (await client.workflow.getHandle(workflowId).describe()).status.name);

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-crash-'));
});

afterAll(async () => {
  for (const server of servers) await server.stop().catch(() => {});
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('after the npm start process is SIGKILLed', () => {
  it('its dev server stops with it, and a plain second start on the same data file serves that data', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const parent = await startParent(port, uiPort);
    await startMarker(parent.address, 'before-the-crash');

    parent.child.kill('SIGKILL');
    await parent.exited;
    await eventually(() => (alive(parent.server) ? undefined : true), 60_000, `dev server ${parent.server.pid} to exit with its parent`);

    const second = await startHere(port, uiPort);
    expect(second.pid).not.toBe(parent.server.pid);
    expect(await markerStatus(second.address, 'before-the-crash')).toBe('RUNNING');
    expect(readPidFile(dataDirFiles(dataDir).pidFile)?.server.pid).toBe(second.pid);
    await second.stop();
    expect(readPidFile(dataDirFiles(dataDir).pidFile)).toBeNull();
  });

  it('a server left behind with its watchdog gone is recognised by the pid file and stopped by the next start', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const parent = await startParent(port, uiPort);
    await startMarker(parent.address, 'before-the-orphan');
    // Both the watchdog and the parent die at once: only the pid file knows whose server this is.
    process.kill(parent.watchdogPid, 'SIGKILL');
    parent.child.kill('SIGKILL');
    await parent.exited;
    expect(alive(parent.server)).toBe(true);

    const logged: string[] = [];
    const next = await startHere(port, uiPort, (m) => logged.push(m));
    expect(alive(parent.server)).toBe(false);
    expect(logged.join('\n')).toContain(`left behind by a crashed Leadrelay process (pid ${parent.server.pid}`);
    expect(await markerStatus(next.address, 'before-the-orphan')).toBe('RUNNING');
    await next.stop();
  });
});

describe('a start never touches a server that is not its own', () => {
  it('refuses while the Leadrelay process that started the server on this data file still runs, and leaves that server alone', async () => {
    const running = await startHere(await freePort(), await freePort());
    const server = processIdentity(running.pid)!;
    await expect(startHere(await freePort(), await freePort())).rejects.toThrow(`belongs to a Leadrelay process that is still running (pid ${process.pid})`);
    expect(alive(server)).toBe(true);
    await expect(withClient(running.address, (client) => client.connection.workflowService.getSystemInfo({}))).resolves.toBeDefined();
    await running.stop();
  });

  it('gives the clear "port in use" error for a foreign process on the port, also when a stale pid file names that PID', async () => {
    const port = await freePort();
    // Another program listening on the port, in its own process.
    const foreign = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(foreign);
    await new Promise<void>((resolve) => foreign.stdout?.once('data', () => resolve()));
    const identity = processIdentity(foreign.pid!)!;
    await expect(startHere(port, await freePort())).rejects.toThrow(`port ${port} is already in use`);

    // A pid file from a crash long ago whose PIDs now belong to other processes: same PID, another start time.
    const { pidFile } = dataDirFiles(dataDir);
    writePidFile(pidFile, { server: { ...identity, startTicks: '1' }, owner: { pid: 1, startTicks: '1', command: ['leadrelay'] }, port });
    await expect(startHere(port, await freePort())).rejects.toThrow(`port ${port} is already in use`);
    expect(alive(identity)).toBe(true);
    expect(foreign.exitCode).toBeNull();
    expect(foreign.signalCode).toBeNull();
    foreign.kill();
  });
});
