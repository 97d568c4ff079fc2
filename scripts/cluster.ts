/**
 * `npm run cluster`: a real Temporal cluster on this machine, without Docker. The Temporal Server
 * (all services in one process) built from its Go module at a pinned release, on PostgreSQL for
 * persistence and visibility, with the Web UI. Runs in the foreground; Ctrl-C or SIGTERM stops
 * the UI, the server, then PostgreSQL.
 *
 *   npm run cluster                  start it (builds the binaries into .tools/ on the first run)
 *   npm run cluster -- test [files]  start it (or use the one already running), run the
 *                                    integration tests that matter for production against it, stop
 *
 * Settings: LEADRELAY_CLUSTER_PORT (frontend gRPC, default 7233; the other server ports follow it,
 * see src/temporal/cluster.ts), LEADRELAY_CLUSTER_PG_PORT (default 55432),
 * LEADRELAY_CLUSTER_UI_PORT (default 8080; `off` for no Web UI), LEADRELAY_CLUSTER_DIR (default
 * .data/cluster: PostgreSQL's data, the server's config, logs and pid files).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import {
  allClusterPorts,
  CLUSTER_DATABASES,
  CLUSTER_DYNAMIC_CONFIG,
  CLUSTER_HISTORY_SHARDS,
  CLUSTER_SERVER_VERSION,
  CLUSTER_SQL_PLUGIN,
  CLUSTER_UI_VERSION,
  clusterPorts,
  clusterServerConfigYaml,
} from '../src/temporal/cluster';
import { ensureSearchAttributes, retryUntil } from '../src/temporal/connection';
import { PROJECT_ROOT } from '../src/temporal/devServer';
import { inspectPidFile, processIdentity, removePidFile, stopProcess, writePidFile, type ProcessIdentity } from '../src/temporal/pidFile';
import { DEFAULT_RETENTION_DAYS } from '../src/temporal/retention';

const NAMESPACE = 'default';
const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';
const SERVER_TOOLS = path.join(PROJECT_ROOT, '.tools', `temporal-server-${CLUSTER_SERVER_VERSION}`);
const UI_TOOLS = path.join(PROJECT_ROOT, '.tools', `temporal-ui-server-${CLUSTER_UI_VERSION}`);
const WATCHDOG = path.join(PROJECT_ROOT, 'src', 'temporal', 'devServerWatchdog.js');
/** The integration tests `npm run cluster -- test` runs when given no files. */
const CLUSTER_TESTS = ['test/integration/routing.test.ts', 'test/integration/worker-processes.test.ts'];

const say = (message: string) => process.stdout.write(`[cluster] ${message}\n`);

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${name}=${raw}: not a port`);
  return port;
}

const settings = (() => {
  const uiRaw = process.env['LEADRELAY_CLUSTER_UI_PORT'];
  return {
    ports: clusterPorts(envPort('LEADRELAY_CLUSTER_PORT', 7233)),
    pgPort: envPort('LEADRELAY_CLUSTER_PG_PORT', 55432),
    uiPort: uiRaw === 'off' ? null : envPort('LEADRELAY_CLUSTER_UI_PORT', 8080),
    dir: path.resolve(PROJECT_ROOT, process.env['LEADRELAY_CLUSTER_DIR'] ?? path.join('.data', 'cluster')),
  };
})();
const files = {
  pgData: path.join(settings.dir, 'postgres'),
  pgPassword: path.join(settings.dir, 'postgres.password'),
  pgLog: path.join(settings.dir, 'postgres.log'),
  pgPid: path.join(settings.dir, 'postgres.pid'),
  serverConfig: path.join(settings.dir, 'temporal.yaml'),
  serverLog: path.join(settings.dir, 'temporal.log'),
  serverPid: path.join(settings.dir, 'temporal.pid'),
  uiConfigDir: path.join(settings.dir, 'ui'),
  uiLog: path.join(settings.dir, 'ui.log'),
  uiPid: path.join(settings.dir, 'ui.pid'),
};
const address = `127.0.0.1:${settings.ports.frontend}`;

// ---------------------------------------------------------------------------------------------
// Building the binaries (once; cached under .tools/)

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: 'utf8', cwd: options.cwd ?? PROJECT_ROOT, env: options.env ?? process.env, ...(options.input !== undefined ? { input: options.input } : {}), maxBuffer: 64 * 1024 * 1024 });
}

function must(result: SpawnSyncReturns<string>, what: string): string {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n')}`);
  return result.stdout;
}

/**
 * Go for the builds. GOTOOLCHAIN=auto (unless LEADRELAY_GOTOOLCHAIN says otherwise): the server's
 * go.mod asks for a newer Go than many machines have, and Go then fetches that toolchain itself,
 * as a module from the Go module proxy.
 */
function goEnv(gobin: string): NodeJS.ProcessEnv {
  const which = run('go', ['version']);
  if (which.error || which.status !== 0) throw new Error('`go` is not on PATH: install Go 1.21 or later (https://go.dev/dl/) to build the Temporal Server');
  return { ...process.env, GOBIN: gobin, GOTOOLCHAIN: process.env['LEADRELAY_GOTOOLCHAIN'] ?? 'auto', GOFLAGS: `${process.env['GOFLAGS'] ?? ''} -buildvcs=false`.trim() };
}

/** `go install`s packages of one module at a version into `dir` (through a staging dir, so a half-done build is never taken for a done one). */
function goInstall(dir: string, packages: string[], version: string): string {
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const env = goEnv(staging);
  const started = Date.now();
  say(`building ${packages.join(' ')} @${version} with Go (a few minutes the first time; cached afterwards)`);
  must(run('go', ['install', ...packages.map((p) => `${p}@${version}`)], { env, cwd: staging }), `go install ${packages.join(' ')}@${version}`);
  say(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return staging;
}

/** The server, the SQL schema tool and the schema files, under .tools/temporal-server-<version>/. */
function ensureServerBinaries(): { server: string; sqlTool: string; schemaDir: string } {
  const out = { server: path.join(SERVER_TOOLS, 'temporal-server'), sqlTool: path.join(SERVER_TOOLS, 'temporal-sql-tool'), schemaDir: path.join(SERVER_TOOLS, 'schema', 'postgresql', 'v12') };
  if (existsSync(out.server) && existsSync(out.sqlTool) && existsSync(out.schemaDir)) return out;
  const staging = goInstall(SERVER_TOOLS, [`${SERVER_MODULE}/cmd/server`, `${SERVER_MODULE}/cmd/tools/sql`], `v${CLUSTER_SERVER_VERSION}`);
  renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
  renameSync(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
  // The schema's .sql files ship in the module: copied beside the binaries, so later runs need no module cache.
  const download = JSON.parse(must(run('go', ['mod', 'download', '-json', `${SERVER_MODULE}@v${CLUSTER_SERVER_VERSION}`], { env: goEnv(staging), cwd: staging }), 'go mod download')) as { Dir: string };
  cpSync(path.join(download.Dir, 'schema', 'postgresql', 'v12'), path.join(staging, 'schema', 'postgresql', 'v12'), { recursive: true });
  rmSync(SERVER_TOOLS, { recursive: true, force: true });
  renameSync(staging, SERVER_TOOLS);
  return out;
}

/** The Web UI server, or null when it cannot be built (the cluster runs without it then). */
function ensureUiBinary(): string | null {
  const binary = path.join(UI_TOOLS, 'temporal-ui-server');
  if (existsSync(binary)) return binary;
  try {
    const staging = goInstall(UI_TOOLS, [`${UI_MODULE}/cmd/server`], `v${CLUSTER_UI_VERSION}`);
    renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-ui-server'));
    rmSync(UI_TOOLS, { recursive: true, force: true });
    renameSync(staging, UI_TOOLS);
    return binary;
  } catch (err) {
    say(`no Web UI: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** PostgreSQL's binaries: the newest /usr/lib/postgresql/<n>/bin, installed from Debian's packages when missing. */
function postgresBin(): string {
  const find = (): string | null => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return null;
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(path.join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    return versions[0] ? path.join(base, versions[0], 'bin') : null;
  };
  const found = find();
  if (found) return found;
  say("installing PostgreSQL (apt-get install -y postgresql)");
  const sudo = asRoot ? [] : ['sudo', '-n'];
  const apt = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return spawnSync(cmd!, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  if (!apt(['install', '-y', 'postgresql']) && !(apt(['update']) && apt(['install', '-y', 'postgresql']))) {
    throw new Error('could not install PostgreSQL: install it (apt-get install postgresql, version 12 or later) and run again');
  }
  const installed = find();
  if (!installed) throw new Error('PostgreSQL was installed but no /usr/lib/postgresql/<version>/bin/postgres is there');
  return installed;
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
function asPostgres(binary: string, args: string[]): [string, string[]] {
  return asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', binary, ...args]] : [binary, args];
}

function pgPassword(): string {
  return readFileSync(files.pgPassword, 'utf8').trim();
}

/** A new database cluster in .data/cluster/postgres, owned by `postgres` (as root), superuser `temporal` with a random password. */
function initPostgres(bin: string): void {
  if (existsSync(path.join(files.pgData, 'PG_VERSION'))) return;
  say(`creating the PostgreSQL data dir ${path.relative(PROJECT_ROOT, files.pgData)}`);
  rmSync(files.pgData, { recursive: true, force: true });
  mkdirSync(files.pgData, { recursive: true, mode: 0o700 });
  const password = randomBytes(18).toString('hex');
  writeFileSync(files.pgPassword, `${password}\n`, { mode: 0o600 });
  // initdb reads the password from a file, as the user it runs as.
  const pwfile = path.join(files.pgData, '..', `.initdb-${process.pid}.pw`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (asRoot) {
      must(run('chown', ['-R', 'postgres:postgres', files.pgData, pwfile]), 'chown');
    }
    const [cmd, args] = asPostgres(path.join(bin, 'initdb'), ['-D', files.pgData, '-U', 'temporal', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-instructions']);
    must(run(cmd, args), 'initdb');
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/**
 * A postmaster.pid left by a PostgreSQL that is gone (a crash, a SIGKILL; its PID possibly reused
 * since) is removed; a PostgreSQL still running on this data dir that is not ours is an error.
 */
function clearStalePostmasterPid(): void {
  const lock = path.join(files.pgData, 'postmaster.pid');
  if (!existsSync(lock)) return;
  const pid = Number(readFileSync(lock, 'utf8').split('\n')[0]);
  const running = processIdentity(pid);
  if (running && running.command.some((a) => a.endsWith('postgres')) && running.command.includes(files.pgData)) {
    throw new Error(`PostgreSQL (pid ${pid}) already runs on ${files.pgData}: stop it first`);
  }
  say(`removing a stale postmaster.pid (pid ${pid} ${running ? 'is another process now' : 'is gone'})`);
  rmSync(lock, { force: true });
}

function psql(bin: string, database: string, sql: string): string {
  return must(
    run(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(settings.pgPort), '-U', 'temporal', '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { env: { ...process.env, PGPASSWORD: pgPassword(), PGCONNECT_TIMEOUT: '5' } }),
    `psql ${database}`,
  ).trim();
}

/** The two databases with their schemas at the server release's version (setup once, then every newer versioned step). */
function ensureSchemas(bin: string, sqlTool: string, schemaDir: string): void {
  const base = ['--plugin', CLUSTER_SQL_PLUGIN, '--endpoint', '127.0.0.1', '--port', String(settings.pgPort), '--user', 'temporal', '--password', pgPassword()];
  for (const [kind, database] of Object.entries(CLUSTER_DATABASES)) {
    const dbArgs = [...base, '--database', database];
    if (psql(bin, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${database}'`) !== '1') {
      say(`creating database ${database}`);
      must(run(sqlTool, [...dbArgs, 'create-database']), `create-database ${database}`);
    }
    if (psql(bin, database, "SELECT to_regclass('public.schema_version') IS NOT NULL") !== 't') {
      must(run(sqlTool, [...dbArgs, 'setup-schema', '-v', '0.0']), `setup-schema ${database}`);
    }
    const versioned = path.join(schemaDir, kind === 'persistence' ? 'temporal' : 'visibility', 'versioned');
    must(run(sqlTool, [...dbArgs, 'update-schema', '-d', versioned]), `update-schema ${database}`);
    say(`database ${database}: schema ${psql(bin, database, 'SELECT curr_version FROM schema_version')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Supervised {
  name: string;
  identity: ProcessIdentity | null;
  watchdog: ChildProcess;
  exited: Promise<number>;
  pidFile: string;
}

/**
 * Starts a process under the dev server's watchdog (src/temporal/devServerWatchdog.js): if this
 * process dies, however it dies, the watchdog stops it. Detached, so a Ctrl-C reaches only us and
 * we stop the parts in order. Output goes to its log file.
 */
async function supervise(name: string, command: string, args: string[], logFile: string, pidFile: string, stop: { signal?: string; graceMs?: number } = {}): Promise<Supervised> {
  const fd = openSync(logFile, 'a');
  let watchdog: ChildProcess;
  try {
    watchdog = spawn(process.execPath, [WATCHDOG, command, ...args], {
      stdio: ['ignore', fd, fd, 'ipc'],
      detached: true,
      env: { ...process.env, LEADRELAY_WATCHDOG_NAME: name, LEADRELAY_WATCHDOG_STOP_SIGNAL: stop.signal ?? 'SIGTERM', LEADRELAY_WATCHDOG_GRACE_MS: String(stop.graceMs ?? 10_000) },
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number>((resolve) => watchdog.once('exit', (code) => resolve(code ?? 1)));
  const pid = await new Promise<number>((resolve, reject) => {
    watchdog.once('message', (m: { pid?: unknown }) => (typeof m.pid === 'number' ? resolve(m.pid) : reject(new Error('the watchdog sent no pid'))));
    watchdog.once('exit', (code) => reject(new Error(`${name} exited with code ${code} at once (see ${path.relative(PROJECT_ROOT, logFile)})`)));
  });
  return { name, identity: processIdentity(pid), watchdog, exited, pidFile };
}

/** Records the process (once it runs its final command: setpriv execs PostgreSQL) and this owner in its pid file. */
function recordPid(part: Supervised, port: number): void {
  const pid = part.identity?.pid;
  const identity = pid ? processIdentity(pid) : null;
  const owner = processIdentity(process.pid);
  part.identity = identity;
  if (identity && owner) writePidFile(part.pidFile, { server: identity, owner, port });
}

async function stopPart(part: Supervised): Promise<void> {
  if (part.watchdog.exitCode === null && part.watchdog.signalCode === null) {
    part.watchdog.kill('SIGTERM');
    const done = await Promise.race([part.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 90_000))]);
    if (!done) {
      if (part.identity) await stopProcess(part.identity, 0);
      part.watchdog.kill('SIGKILL');
      await part.exited;
    }
  }
  if (part.identity) removePidFile(part.pidFile, part.identity);
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, parts: Supervised[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = parts.find((p) => p.watchdog.exitCode !== null || p.watchdog.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

/**
 * What a crash left behind is stopped (UI, server, then PostgreSQL); a cluster whose `npm run
 * cluster` still runs is reported, so `test` can use it.
 */
async function stopOrphans(): Promise<'running' | 'clear'> {
  let running = false;
  for (const [name, pidFile] of [['Web UI', files.uiPid], ['Temporal Server', files.serverPid], ['PostgreSQL', files.pgPid]] as const) {
    const found = inspectPidFile(pidFile);
    if (found.kind === 'in_use') running = true;
    if (found.kind === 'orphan') {
      say(`stopping the ${name} a crashed run left behind (pid ${found.record.server.pid})`);
      await stopProcess(found.record.server, 30_000);
      rmSync(pidFile, { force: true });
    }
    if (found.kind === 'none') rmSync(pidFile, { force: true });
  }
  return running ? 'running' : 'clear';
}

// ---------------------------------------------------------------------------------------------
// The cluster

interface RunningCluster {
  address: string;
  uiUrl: string | null;
  /** Ends with the code to exit with when a part stops on its own. */
  failed: Promise<string>;
  stop(): Promise<void>;
}

/** The namespace `default`, kept as npm start keeps it (the stack sets its retention again at every start). */
async function ensureNamespace(connection: Connection): Promise<void> {
  await retryUntil(`registering namespace ${NAMESPACE}`, 120_000, async () => {
    try {
      await connection.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs(DEFAULT_RETENTION_DAYS * 24 * 3600 * 1000) });
      say(`registered namespace ${NAMESPACE}`);
    } catch (err) {
      if (!(isGrpcServiceError(err) && err.code === 6 /* ALREADY_EXISTS */)) throw err;
    }
  });
}

async function startCluster(): Promise<RunningCluster> {
  mkdirSync(settings.dir, { recursive: true });
  const { server, sqlTool, schemaDir } = ensureServerBinaries();
  const ui = settings.uiPort === null ? null : ensureUiBinary();
  const bin = postgresBin();

  const busy: number[] = [];
  for (const port of [settings.pgPort, ...allClusterPorts(settings.ports), ...(ui && settings.uiPort ? [settings.uiPort] : [])]) if (await portOpen(port)) busy.push(port);
  if (busy.length) {
    throw new Error(`port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use (npm start's dev server takes 7233): set LEADRELAY_CLUSTER_PORT (server ports ${settings.ports.frontend - 300}..${settings.ports.frontendHttp} follow it), LEADRELAY_CLUSTER_PG_PORT or LEADRELAY_CLUSTER_UI_PORT`);
  }

  const parts: Supervised[] = [];
  const stop = async () => {
    for (const part of [...parts].reverse()) await stopPart(part).catch((err: unknown) => say(`stopping ${part.name}: ${String(err)}`));
  };
  try {
    initPostgres(bin);
    clearStalePostmasterPid();
    const [pgCmd, pgArgs] = asPostgres(path.join(bin, 'postgres'), [
      '-D', files.pgData,
      '-p', String(settings.pgPort),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      // A development cluster: commits need not wait for the disk (a crash may lose the last moments, never consistency).
      '-c', 'synchronous_commit=off',
    ]);
    say(`starting PostgreSQL on 127.0.0.1:${settings.pgPort} (log ${path.relative(PROJECT_ROOT, files.pgLog)})`);
    const pg = await supervise('PostgreSQL', pgCmd, pgArgs, files.pgLog, files.pgPid, { signal: 'SIGINT', graceMs: 30_000 });
    parts.push(pg);
    const ready = path.join(bin, 'pg_isready');
    await waitFor('PostgreSQL to accept connections', 60_000, () => run(ready, ['-q', '-h', '127.0.0.1', '-p', String(settings.pgPort)]).status === 0, parts);
    recordPid(pg, settings.pgPort);
    ensureSchemas(bin, sqlTool, schemaDir);

    writeFileSync(
      files.serverConfig,
      clusterServerConfigYaml({
        ports: settings.ports,
        postgres: { host: '127.0.0.1', port: settings.pgPort, user: 'temporal', password: pgPassword() },
        dynamicConfigFile: path.join(PROJECT_ROOT, CLUSTER_DYNAMIC_CONFIG),
      }),
      { mode: 0o600 },
    );
    chmodSync(files.serverConfig, 0o600);
    say(`starting Temporal Server ${CLUSTER_SERVER_VERSION} on ${address} (${CLUSTER_HISTORY_SHARDS} history shards; log ${path.relative(PROJECT_ROOT, files.serverLog)})`);
    // Its services drain and hand their shards over on the way out: more than 10 s on a busy machine.
    const temporal = await supervise('the Temporal Server', server, ['--config-file', files.serverConfig, '--allow-no-auth', 'start'], files.serverLog, files.serverPid, { graceMs: 60_000 });
    parts.push(temporal);
    await waitFor(`the Temporal frontend on ${address}`, 120_000, () => portOpen(settings.ports.frontend), parts);
    recordPid(temporal, settings.ports.frontend);
    const connection = await retryUntil(`connecting to ${address}`, 60_000, () => Connection.connect({ address }));
    try {
      await ensureNamespace(connection);
      const added = await retryUntil('registering the search attributes', 120_000, () => ensureSearchAttributes(connection, NAMESPACE));
      if (added.length) say(`registered search attributes ${added.join(', ')}`);
    } finally {
      await connection.close();
    }

    let uiUrl: string | null = null;
    if (ui && settings.uiPort) {
      mkdirSync(files.uiConfigDir, { recursive: true });
      writeFileSync(path.join(files.uiConfigDir, 'cluster.yaml'), uiConfigYaml(settings.uiPort));
      const uiPart = await supervise('the Temporal Web UI', ui, ['--root', settings.dir, '--config', 'ui', '--env', 'cluster', 'start'], files.uiLog, files.uiPid);
      parts.push(uiPart);
      await waitFor(`the Web UI on port ${settings.uiPort}`, 60_000, () => portOpen(settings.uiPort!), parts);
      recordPid(uiPart, settings.uiPort);
      uiUrl = `http://127.0.0.1:${settings.uiPort}`;
    }

    const failed = Promise.race(parts.map((p) => p.exited.then((code) => `${p.name} exited on its own (code ${code})`)));
    return { address, uiUrl, failed, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The Web UI server's configuration (ui-server reads <root>/<config>/<env>.yaml). */
function uiConfigYaml(port: number): string {
  const apiOrigin = `http://127.0.0.1:${process.env['API_PORT'] ?? 3000}`;
  return [
    '# Written by scripts/cluster.ts at every start.',
    `temporalGrpcAddress: ${address}`,
    'host: 127.0.0.1',
    `port: ${port}`,
    'enableUi: true',
    'hideLogs: true',
    'defaultNamespace: default',
    'cors:',
    '  allowOrigins:',
    `    - ${apiOrigin}`,
    // Payloads are encrypted: the UI decodes them through the API's codec server (see README).
    'codec:',
    `  endpoint: ${apiOrigin}/codec`,
    'disableNewsFetch: true',
    '',
  ].join('\n');
}

function banner(cluster: RunningCluster): void {
  process.stdout.write(
    [
      '',
      'Temporal cluster is running.',
      `  Temporal  ${cluster.address}  (Server ${CLUSTER_SERVER_VERSION}, PostgreSQL persistence and visibility, ${CLUSTER_HISTORY_SHARDS} history shards, namespace ${NAMESPACE})`,
      `  Web UI    ${cluster.uiUrl ?? '(off)'}`,
      `  Postgres  127.0.0.1:${settings.pgPort}  (user temporal, password in ${path.relative(PROJECT_ROOT, files.pgPassword)})`,
      `  Files     ${path.relative(PROJECT_ROOT, settings.dir)}/  (data, config, logs, pid files)`,
      '',
      'Point Leadrelay at it:',
      `  LEADRELAY_TEMPORAL=external TEMPORAL_ADDRESS=${cluster.address} npm start       # all in one, with the sandbox`,
      `  TEMPORAL_ADDRESS=${cluster.address} npm run worker                              # workers only (as many as you like)`,
      `  TEMPORAL_ADDRESS=${cluster.address} npm run api                                 # API only`,
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
}

async function runTests(files: string[]): Promise<number> {
  const jest = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'jest');
  say(`running ${files.join(' ')} against ${address}`);
  const started = Date.now();
  // Files first: --selectProjects takes every value after it.
  const child = spawn(jest, [...files, '--selectProjects', 'integration'], { cwd: PROJECT_ROOT, stdio: 'inherit', env: { ...process.env, LEADRELAY_TEST_TEMPORAL_ADDRESS: address } });
  const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  say(`tests ${code === 0 ? 'passed' : 'failed'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return code;
}

async function main(): Promise<void> {
  const [command = 'run', ...rest] = process.argv.slice(2);
  if (command !== 'run' && command !== 'test') throw new Error(`unknown command ${command}: use \`npm run cluster\` or \`npm run cluster -- test [files]\``);
  mkdirSync(settings.dir, { recursive: true });
  const found = await stopOrphans();
  if (found === 'running') {
    if (command === 'test' && (await portOpen(settings.ports.frontend))) {
      say(`using the cluster already running on ${address}`);
      process.exit(await runTests(rest.length ? rest : CLUSTER_TESTS));
    }
    throw new Error(`a cluster from ${path.relative(PROJECT_ROOT, settings.dir)} is already running (see its pid files there): stop it first`);
  }

  const started = Date.now();
  const cluster = await startCluster();
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping the Web UI, the Temporal Server and PostgreSQL`);
    await cluster.stop();
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  void cluster.failed.then((why) => shutdown(why, 1));

  if (command === 'test') {
    const code = await runTests(rest.length ? rest : CLUSTER_TESTS);
    await shutdown('tests done', code);
    return;
  }
  banner(cluster);
}

main().catch((err: unknown) => {
  process.stderr.write(`[cluster] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
