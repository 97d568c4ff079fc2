import type { Client } from '@temporalio/client';
import type { Lane } from '../domain/lane';

/**
 * How much of a tenant's routing may wait at once (tenant setting `intake`):
 * - `maxQueuedLeads`: leads received and not yet decided, all lanes together. Past it, a new lead
 *   is answered `429 too_many_queued` with `Retry-After`, rather than queued behind a backlog
 *   that would hold it for minutes;
 * - `bulkInFlight`: the bulk lane's window (imports, `priority: bulk`): at most this many bulk
 *   leads queued at once, so an import runs at the engine's pace and interactive leads keep
 *   their headroom. An importer that honours `Retry-After` is fed as fast as leads drain.
 */
export interface IntakeLimits {
  maxQueuedLeads: number;
  bulkInFlight: number;
}

export const DEFAULT_INTAKE: IntakeLimits = { maxQueuedLeads: 2000, bulkInFlight: 8 };

export type AdmissionAnswer =
  | { admitted: true }
  | { admitted: false; lane: Lane; queued: number; limit: number; limitName: keyof IntakeLimits; retryAfterSeconds: number };

/** A tenant's queue as last counted, and what this process has started since. */
interface Snapshot {
  atMs: number;
  queued: number;
  bulk: number;
  startedSince: number;
  bulkStartedSince: number;
  /** Leads decided per second, smoothed over the last counts (at least 1). */
  drainPerSecond: number;
}

export interface AdmissionOptions {
  /** How old a count may be before a request counts again (default 250 ms). */
  refreshMs?: number;
  now?: () => number;
}

/** Counts of a tenant's queued leads: all lanes, and the bulk lane. */
export type QueueCounter = (tenantId: string) => Promise<{ queued: number; bulk: number }>;

/**
 * The queue a lead would wait in, counted where it is: Temporal's visibility store, by the
 * search attributes each lead run carries (`RoutingStatus = 'received'` until it is decided,
 * `LeadLane`). One count per tenant at most every `refreshMs`, shared by the requests that
 * arrive meanwhile, plus what this process started since. A count that fails (Temporal
 * unreachable) admits: the start itself then answers 503.
 */
export function visibilityQueueCounter(client: Client, workflowType = 'routeLead'): QueueCounter {
  return async (tenantId) => {
    const base = `WorkflowType = '${workflowType}' AND LeadTenant = '${tenantId}' AND RoutingStatus = 'received' AND ExecutionStatus = 'Running'`;
    const [all, bulk] = await Promise.all([client.workflow.count(base), client.workflow.count(`${base} AND LeadLane = 'bulk'`)]);
    return { queued: all.count, bulk: bulk.count };
  };
}

export class Admission {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly counting = new Map<string, Promise<Snapshot | null>>();
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly count: QueueCounter,
    options: AdmissionOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /** Whether a lead of `lane` may start now; if not, how long to wait. */
  async admit(tenantId: string, lane: Lane, limits: IntakeLimits): Promise<AdmissionAnswer> {
    const snap = await this.snapshot(tenantId);
    if (!snap) return { admitted: true };
    const queued = snap.queued + snap.startedSince;
    if (queued >= limits.maxQueuedLeads) return this.refuse(snap, lane, queued, limits.maxQueuedLeads, 'maxQueuedLeads');
    if (lane === 'bulk') {
      const bulk = snap.bulk + snap.bulkStartedSince;
      if (bulk >= limits.bulkInFlight) return this.refuse(snap, lane, bulk, limits.bulkInFlight, 'bulkInFlight');
    }
    return { admitted: true };
  }

  /** A lead was started: it counts as queued until the next count sees it. */
  started(tenantId: string, lane: Lane): void {
    const snap = this.snapshots.get(tenantId);
    if (!snap) return;
    snap.startedSince++;
    if (lane === 'bulk') snap.bulkStartedSince++;
  }

  private refuse(snap: Snapshot, lane: Lane, queued: number, limit: number, limitName: keyof IntakeLimits): AdmissionAnswer {
    // Long enough for the excess, and one more, to drain at the rate leads have been decided.
    const excess = queued - limit + 1;
    const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil(excess / snap.drainPerSecond)));
    return { admitted: false, lane, queued, limit, limitName, retryAfterSeconds };
  }

  private async snapshot(tenantId: string): Promise<Snapshot | null> {
    const current = this.snapshots.get(tenantId);
    if (current && this.now() - current.atMs < this.refreshMs) return current;
    let pending = this.counting.get(tenantId);
    if (!pending) {
      pending = this.recount(tenantId, current).finally(() => this.counting.delete(tenantId));
      this.counting.set(tenantId, pending);
    }
    const fresh = await pending;
    return fresh ?? current ?? null;
  }

  private async recount(tenantId: string, previous: Snapshot | undefined): Promise<Snapshot | null> {
    const atMs = this.now();
    let counted: { queued: number; bulk: number };
    try {
      counted = await this.count(tenantId);
    } catch {
      return null;
    }
    let drainPerSecond = previous?.drainPerSecond ?? 1;
    if (previous && atMs > previous.atMs) {
      // Decided since the last count: what was queued then, plus what started since, minus what is queued now.
      const drained = Math.max(0, previous.queued + previous.startedSince - counted.queued);
      const rate = (drained * 1000) / (atMs - previous.atMs);
      drainPerSecond = Math.max(1, 0.7 * drainPerSecond + 0.3 * rate);
    }
    const snap: Snapshot = { atMs, queued: counted.queued, bulk: counted.bulk, startedSince: 0, bulkStartedSince: 0, drainPerSecond };
    this.snapshots.set(tenantId, snap);
    return snap;
  }
}
