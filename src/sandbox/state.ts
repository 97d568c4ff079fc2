import type { SandboxEvent, SandboxFault, SandboxLatency, SandboxSystem, SandboxWorkspace } from './types';
import type { Reply } from './wire';

export interface LeadRecord {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  title: string | null;
  phone: string | null;
  source: string | null;
  owner_id: string;
  created_at: string;
  updated_at: string;
}

export interface MessageRecord {
  id: string;
  channel_id: string;
  recipient_email: string | null;
  text: string;
  blocks: unknown[] | null;
  created_at: string;
}

/** A fixed rate-limit window: it opens at the first request after the previous one ended. */
interface RateWindow {
  startedAt: number;
  count: number;
}

/** What the rate limiter tells the caller about the request it just counted. */
export interface RateStatus {
  limit: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

/** A workspace's seed plus everything requests have changed; replaced wholesale with the seed. */
export interface WorkspaceRuntime {
  seed: SandboxWorkspace;
  leads: Map<string, LeadRecord>;
  messages: MessageRecord[];
  nextLeadNo: number;
  nextMessageNo: number;
  /** Idempotency-Key → the reply the first request got. */
  idempotency: Map<string, Reply>;
  rate: Map<SandboxSystem, RateWindow>;
}

interface ActiveFault {
  id: string;
  fault: SandboxFault;
  remaining: number;
}

const DEFAULT_RATE_LIMIT = { limit: 1000, windowSeconds: 60 };
const DEFAULT_MAX_EVENTS = 100_000;

/**
 * Append-only event log that keeps the latest `max` entries. Dropping from the front by moving a
 * start index (and compacting only occasionally) keeps appends O(1) once the log is full.
 */
class EventLog {
  private items: SandboxEvent[] = [];
  private start = 0;
  private nextSeq = 1;

  constructor(private readonly max: number) {}

  append(event: Omit<SandboxEvent, 'seq'>): SandboxEvent {
    const full: SandboxEvent = { seq: this.nextSeq++, ...event };
    this.items.push(full);
    if (this.items.length - this.start > this.max) this.start++;
    if (this.start > this.max) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
    return full;
  }

  list(): SandboxEvent[] {
    return this.items.slice(this.start);
  }

  /** Sequence numbers keep counting after a clear so pollers using `since` never see a seq twice. */
  clear(): void {
    this.items = [];
    this.start = 0;
  }
}

export class SandboxState {
  private readonly workspaces = new Map<string, WorkspaceRuntime>();
  /** Windows for requests that could not be tied to a workspace (bad token, unknown workspace). */
  private readonly anonymousRate = new Map<SandboxSystem, RateWindow>();
  private readonly eventLog: EventLog;
  private faults: ActiveFault[] = [];
  private nextFaultNo = 1;
  private latency: SandboxLatency = {};

  constructor(
    workspaces: SandboxWorkspace[],
    latency: SandboxLatency | undefined,
    readonly now: () => number,
    maxEvents = DEFAULT_MAX_EVENTS,
  ) {
    this.eventLog = new EventLog(maxEvents);
    for (const w of workspaces) this.upsertWorkspace(w);
    if (latency) this.setLatency(latency);
  }

  /** Adds or replaces a workspace; replacing also forgets its leads, messages, keys and windows. */
  upsertWorkspace(seed: SandboxWorkspace): void {
    this.workspaces.set(seed.id, {
      seed,
      leads: new Map(),
      messages: [],
      nextLeadNo: 1,
      nextMessageNo: 1,
      idempotency: new Map(),
      rate: new Map(),
    });
  }

  workspaceById(id: string): WorkspaceRuntime | undefined {
    return this.workspaces.get(id);
  }

  workspaceByToken(token: string): WorkspaceRuntime | undefined {
    for (const w of this.workspaces.values()) if (w.seed.token === token) return w;
    return undefined;
  }

  /** Counts one request against the (workspace, system) fixed window. */
  countRequest(workspace: WorkspaceRuntime | null, system: SandboxSystem, at: number): RateStatus {
    const { limit, windowSeconds } = workspace?.seed.rateLimit ?? DEFAULT_RATE_LIMIT;
    const windows = workspace ? workspace.rate : this.anonymousRate;
    const windowMs = windowSeconds * 1000;
    let window = windows.get(system);
    if (!window || at >= window.startedAt + windowMs) {
      window = { startedAt: at, count: 0 };
      windows.set(system, window);
    }
    window.count++;
    return {
      limit,
      remaining: Math.max(0, limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.startedAt + windowMs - at) / 1000)),
      exceeded: window.count > limit,
    };
  }

  addFault(fault: SandboxFault): string {
    const id = `fault_${this.nextFaultNo++}`;
    this.faults.push({ id, fault, remaining: fault.times });
    return id;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** The first armed fault matching the request, consuming one of its `times`. */
  takeFault(system: SandboxSystem, method: string, path: string): SandboxFault | undefined {
    const hit = this.faults.find(({ fault }) => faultMatches(fault, system, method, path));
    if (!hit) return undefined;
    hit.remaining--;
    if (hit.remaining <= 0) this.faults = this.faults.filter((f) => f !== hit);
    return hit.fault;
  }

  setLatency(latency: SandboxLatency): void {
    this.latency = { ...latency };
  }

  /** Milliseconds to wait before answering a request to `system`: base + uniform jitter. */
  latencyFor(system: SandboxSystem): number {
    const cfg = this.latency[system];
    if (!cfg) return 0;
    return Math.max(0, Math.round(cfg.baseMs + Math.random() * cfg.jitterMs));
  }

  record(event: Omit<SandboxEvent, 'seq'>): SandboxEvent {
    return this.eventLog.append(event);
  }

  events(filter: { system?: SandboxSystem; since?: number } = {}): SandboxEvent[] {
    return this.eventLog
      .list()
      .filter((e) => (filter.system === undefined || e.system === filter.system) && e.seq > (filter.since ?? 0));
  }

  clearEvents(): void {
    this.eventLog.clear();
  }
}

function faultMatches(fault: SandboxFault, system: SandboxSystem, method: string, path: string): boolean {
  if (fault.system !== undefined && fault.system !== system) return false;
  if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (fault.pathPrefix !== undefined && !path.startsWith(fault.pathPrefix)) return false;
  return true;
}
