import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Who a process is, beyond its PID (PIDs are reused): its start time in clock ticks since boot
 * and its command line, from /proc. Null when the process is gone (or a zombie), or when this
 * system has no /proc: then nothing can be proven ours, and nothing is touched.
 */
export interface ProcessIdentity {
  pid: number;
  startTicks: string;
  command: string[];
}

export function processIdentity(pid: number): ProcessIdentity | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const startTicks = fields[19]; // field 22 of proc(5), "starttime"
    if (!startTicks || state === 'Z' || state === 'X') return null;
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (command[command.length - 1] === '') command.pop();
    return { pid, startTicks, command };
  } catch {
    return null;
  }
}

export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.startTicks === b.startTicks && a.command.length === b.command.length && a.command.every((arg, i) => arg === b.command[i]);
}

/** Is the process this identity names still running (the same process, not a reused PID)? */
export function alive(identity: ProcessIdentity): boolean {
  const now = processIdentity(identity.pid);
  return now !== null && sameProcess(now, identity);
}

/** What the data dir's pid file records: the dev server, and the Leadrelay process that owns it. */
export interface DevServerRecord {
  server: ProcessIdentity;
  owner: ProcessIdentity;
  port: number;
}

export function writePidFile(file: string, record: DevServerRecord): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, file);
}

export function readPidFile(file: string): DevServerRecord | null {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevServerRecord>;
    const valid = (p: unknown): p is ProcessIdentity =>
      typeof p === 'object' && p !== null && Number.isInteger((p as ProcessIdentity).pid) && typeof (p as ProcessIdentity).startTicks === 'string' && Array.isArray((p as ProcessIdentity).command);
    return valid(record.server) && valid(record.owner) && typeof record.port === 'number' ? (record as DevServerRecord) : null;
  } catch {
    return null;
  }
}

/** Removes the pid file if it still records this server (a later start may have replaced it). */
export function removePidFile(file: string, server: ProcessIdentity): void {
  const record = readPidFile(file);
  if (record && sameProcess(record.server, server)) rmSync(file, { force: true });
}

/**
 * What a start finds in the pid file:
 * - `none`: no file, or the server it names has exited (or its PID now belongs to another process);
 * - `in_use`: the server runs and so does the Leadrelay process that started it;
 * - `orphan`: the server runs but its Leadrelay process is gone: a crash left it behind.
 */
export type PidFileFinding = { kind: 'none' } | { kind: 'in_use'; record: DevServerRecord } | { kind: 'orphan'; record: DevServerRecord };

export function inspectPidFile(file: string): PidFileFinding {
  const record = readPidFile(file);
  if (!record || !alive(record.server)) return { kind: 'none' };
  return alive(record.owner) ? { kind: 'in_use', record } : { kind: 'orphan', record };
}

/**
 * Stops a process only while it is still the one identified: SIGTERM, then SIGKILL after
 * `graceMs`. Resolves once it is gone.
 */
export async function stopProcess(identity: ProcessIdentity, graceMs = 10_000): Promise<void> {
  const gone = async (withinMs: number): Promise<boolean> => {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      if (!alive(identity)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return !alive(identity);
  };
  for (const [signal, waitMs] of [['SIGTERM', graceMs], ['SIGKILL', 5_000]] as const) {
    if (!alive(identity)) return;
    try {
      process.kill(identity.pid, signal);
    } catch {
      return; // exited between the look and the signal
    }
    if (await gone(waitMs)) return;
  }
  throw new Error(`process ${identity.pid} (${identity.command.join(' ')}) did not exit after SIGKILL`);
}
