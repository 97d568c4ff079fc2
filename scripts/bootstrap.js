#!/usr/bin/env node
/**
 * Entry point of `npm start`, `npm test`, `npm run bench`, `npm run cluster`, `npm run worker` and
 * `npm run api` on any machine, fresh clone included:
 * installs the npm dependencies when they are missing or older than package-lock.json, then runs
 * the command. (The Temporal CLI is installed by the command itself when it needs a server.)
 * Plain Node, no dependencies: it runs before anything is installed.
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

function depsStale() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(marker)) return true;
  return fs.statSync(path.join(root, 'package-lock.json')).mtimeMs > fs.statSync(marker).mtimeMs;
}

function ensureDeps() {
  if (!depsStale()) return;
  // `npm install` against the committed lock, not `npm ci`: npm 11 can reject its own lock in
  // `ci` over other platforms' optional binaries (@swc/core-*), while `install` installs the
  // locked versions and leaves the lock untouched.
  console.log('[bootstrap] installing npm dependencies (npm install from package-lock.json)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Where Debian's Chromium is, or null (CHROMIUM_PATH overrides). */
function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

/**
 * The console's browser tests drive Debian's Chromium (no browser download at run time): install
 * the distribution's package when it is missing, as root or through password-less sudo.
 */
function ensureChromium() {
  if (chromiumPath()) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = root ? [] : ['sudo', '-n'];
  const apt = (args) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return spawnSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  console.log('[bootstrap] installing Debian\'s chromium for the browser tests (apt-get install chromium)');
  if (!apt(['install', '-y', 'chromium']) && !(apt(['update']) && apt(['install', '-y', 'chromium']))) {
    console.error('[bootstrap] could not install chromium: install it (apt-get install chromium) or set CHROMIUM_PATH');
    process.exit(1);
  }
}

/** Runs a command to completion; Ctrl-C reaches the child (same process group) and we exit with its code. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const RESULTS_DIR = path.join(root, '.data', 'test');
const JEST_RESULTS = path.join(RESULTS_DIR, 'jest-results.json');
const SWEEP_RESULTS = path.join(RESULTS_DIR, 'sweep-results.json');

/** One closing line for the whole run: jest's tests, then the time sweep's runs of them at other instants. */
function printTotals() {
  let passed = 0;
  let failed = 0;
  for (const file of [JEST_RESULTS, SWEEP_RESULTS]) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
}

/** The operations console's bundle (.data/console/), which the API serves at /console: about a second. */
function buildConsole() {
  return run(bin('tsx'), ['scripts/build-console.ts']);
}

async function main() {
  const [command = 'start', ...args] = process.argv.slice(2);
  ensureDeps();
  let code;
  switch (command) {
    case 'start':
      code = await buildConsole();
      if (code === 0) code = await run(bin('tsx'), ['src/main.ts', ...args]);
      break;
    case 'test':
      ensureChromium();
      // The console's bundle, types, then lint (workflow determinism rules), then unit + integration tests, then the
      // time-sensitive scenarios again at other simulated hours, weekdays and dates (the time
      // sweep; skipped when jest is given arguments, e.g. one file).
      code = await buildConsole();
      if (code === 0) code = await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
      // The console's browser code: its own project (DOM and JSX, which the main one has not).
      if (code === 0) code = await run(bin('tsc'), ['--noEmit', '-p', path.join('src', 'console', 'web')]);
      if (code === 0) code = await run(bin('eslint'), ['--max-warnings=0', '.']);
      if (code === 0) {
        fs.mkdirSync(RESULTS_DIR, { recursive: true });
        for (const file of [JEST_RESULTS, SWEEP_RESULTS]) fs.rmSync(file, { force: true });
        code = await run(bin('jest'), ['--ci', '--json', `--outputFile=${JEST_RESULTS}`, ...args]);
        if (code === 0 && args.length === 0) code = await run(bin('tsx'), ['scripts/time-sweep.ts', `--output=${SWEEP_RESULTS}`]);
        printTotals();
      }
      break;
    case 'bench':
      code = await run(bin('tsx'), ['bench/bench.ts', ...args]);
      break;
    case 'cluster':
      // A Temporal cluster (Temporal Server built from source, PostgreSQL): scripts/cluster.ts.
      code = await run(bin('tsx'), ['scripts/cluster.ts', ...args]);
      break;
    case 'worker':
    case 'api':
      // The production entry points, against an external Temporal: src/serve.ts.
      code = await run(bin('tsx'), ['src/serve.ts', command, ...args]);
      break;
    default:
      console.error(`unknown command ${command}: use start, test, bench, cluster, worker or api`);
      code = 2;
  }
  process.exit(code);
}

void main();
