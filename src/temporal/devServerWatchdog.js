#!/usr/bin/env node
/**
 * Runs the Temporal dev server as its child and ties the server's life to the Leadrelay process
 * that started this watchdog (node has no prctl(PR_SET_PDEATHSIG)):
 * - the parent holds the other end of our IPC channel. When the parent dies, however it dies
 *   (SIGKILL, OOM, a crash), the kernel closes that end and we stop the server;
 * - SIGTERM, SIGINT and SIGHUP stop the server too (SIGTERM, then SIGKILL after a grace time);
 * - we exit when the server exits, with its exit code, so the parent sees the server's end.
 *
 * argv: <temporal cli> <arguments…>. The server writes to our stdout and stderr (the log file).
 * We send the parent `{ pid }` once the server runs. Plain Node, no dependencies and no
 * TypeScript loader: it must start fast and keep nothing but the server alive.
 * `npm run cluster` (scripts/cluster.ts) runs its PostgreSQL and Temporal Server through it too:
 * LEADRELAY_WATCHDOG_NAME names the process in our messages, LEADRELAY_WATCHDOG_STOP_SIGNAL is
 * the signal that stops it (default SIGTERM; PostgreSQL's fast shutdown is SIGINT),
 * LEADRELAY_WATCHDOG_GRACE_MS how long it may take before SIGKILL (default 10 s).
 */
'use strict';
const { spawn } = require('node:child_process');
const { constants } = require('node:os');

const GRACE_MS = Number(process.env.LEADRELAY_WATCHDOG_GRACE_MS) || 10_000;
const NAME = process.env.LEADRELAY_WATCHDOG_NAME || 'the Temporal dev server';
const STOP_SIGNAL = process.env.LEADRELAY_WATCHDOG_STOP_SIGNAL || 'SIGTERM';
const [cli, ...args] = process.argv.slice(2);
if (!cli) {
  process.stderr.write('usage: devServerWatchdog.js <temporal cli> <arguments…>\n');
  process.exit(2);
}

// The server must not think it has a node IPC channel.
const env = { ...process.env };
delete env.NODE_CHANNEL_FD;
delete env.NODE_CHANNEL_SERIALIZATION_MODE;
delete env.LEADRELAY_WATCHDOG_NAME;
delete env.LEADRELAY_WATCHDOG_STOP_SIGNAL;
delete env.LEADRELAY_WATCHDOG_GRACE_MS;
const server = spawn(cli, args, { stdio: ['ignore', 'inherit', 'inherit'], env });

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[leadrelay watchdog] ${why}: stopping ${NAME} (pid ${server.pid})\n`);
  server.kill(STOP_SIGNAL);
  setTimeout(() => server.kill('SIGKILL'), GRACE_MS).unref();
}

server.once('spawn', () => {
  if (process.send) process.send({ pid: server.pid });
});
server.once('error', (err) => {
  process.stderr.write(`[leadrelay watchdog] could not run ${cli}: ${err.message}\n`);
  process.exit(127);
});
server.once('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
});

process.on('disconnect', () => stop('the Leadrelay process that started the server is gone'));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => stop(`received ${signal}`));
