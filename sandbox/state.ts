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
  /** The key a provider upserts by (Salesforce external ID field, HubSpot email), when one was used. */
  external_key?: string;
}

export interface MessageRecord {
  id: string;
  channel_id: string;
  recipient_email: string | null;
  text: string;
  blocks: unknown[] | null;
  created_at: string;
  /** The emulator that posted it, when it reads its messages back (Slack's conversations.history). */
  provider?: string;
  /** Slack message metadata (`event_type`, `event_payload`) sent with the post. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> } | null;
}

/** A fixed rate-limit window: it opens at the first request after the previous one ended. */
interface RateWindow {
  startedAt: number;
  count: number;
}

/** What the rate limiter tells the caller about the request it just counted. */
export interface RateStatus {
  /** The window's name: `default` for the workspace's own, else the emulator's (`search`, `daily`). */
  window: string;
  limit: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

/**
 * A window a request counts against. `default` is the workspace's own (its seed `rateLimit`);
 * an emulator names others for limits its provider keeps apart (HubSpot's search, Pipedrive's
 * search and daily token budget), with their own size.
 */
export interface RateRule {
  name: string;
  /** Required for windows other than `default`. */
  limit?: number;
  windowSeconds?: number;
  /** A day window: it runs from UTC midnight to the next, whatever windowSeconds says. */
  daily?: boolean;
  /** What this request takes from the window (default 1): a token cost. */
  cost?: number;
}

export const DEFAULT_RATE_RULE: RateRule = { name: 'default' };
const DAY_MS = 24 * 60 * 60 * 1000;

/** A workspace's seed plus everything requests have changed; replaced wholesale with the seed. */
export interface WorkspaceRuntime {
  seed: SandboxWorkspace;
  leads: Map<string, LeadRecord>;
  messages: MessageRecord[];
  nextLeadNo: number;
  nextMessageNo: number;
  /** Idempotency-Key → the reply the first request got. */
  idempotency: Map<string, Reply>;
  /** Rate windows per provider (each provider limits on its own). */
  rate: Map<string, RateWindow>;
  /** Providers whose OAuth grant an operator revoked: refreshing answers invalid_grant. */
  revokedGrants: Set<string>;
}

/** An OAuth access token the sandbox issued. */
export interface IssuedToken {
  workspaceId: string;
  provider: string;
  expiresAt: number;
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
  private readonly anonymousRate = new Map<string, RateWindow>();
  private readonly tokens = new Map<string, IssuedToken>();
  private nextTokenNo = 1;
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
      revokedGrants: new Set(),
    });
    for (const [token, issued] of this.tokens) if (issued.workspaceId === seed.id) this.tokens.delete(token);
  }

  /** The OAuth client a workspace accepts (its own, or the documented defaults). */
  oauthClient(ws: WorkspaceRuntime): { clientId: string; clientSecret: string; refreshToken: string; accessTokenTtlSeconds: number } {
    const o = ws.seed.oauth;
    return {
      clientId: o?.clientId ?? ws.seed.id,
      clientSecret: o?.clientSecret ?? ws.seed.token,
      refreshToken: o?.refreshToken ?? ws.seed.token,
      accessTokenTtlSeconds: o?.accessTokenTtlSeconds ?? 3600,
    };
  }

  issueAccessToken(workspaceId: string, provider: string, ttlSeconds: number, now: number): string {
    const token = `${provider.slice(0, 3)}_at_${this.nextTokenNo++}_${Math.random().toString(36).slice(2, 10)}`;
    this.tokens.set(token, { workspaceId, provider, expiresAt: now + ttlSeconds * 1000 });
    return token;
  }

  accessToken(token: string): IssuedToken | undefined {
    return this.tokens.get(token);
  }

  /** Expires (but keeps) matching access tokens: the next API call with one gets the provider's 401. */
  expireAccessTokens(filter: { workspace?: string; provider?: string }, now: number): number {
    let n = 0;
    for (const issued of this.tokens.values()) {
      if ((filter.workspace === undefined || issued.workspaceId === filter.workspace) && (filter.provider === undefined || issued.provider === filter.provider)) {
        issued.expiresAt = Math.min(issued.expiresAt, now);
        n++;
      }
    }
    return n;
  }

  /** Revokes a workspace's grant for a provider: refreshes answer invalid_grant, its tokens stop working. */
  setGrantRevoked(workspaceId: string, provider: string, revoked: boolean, now: number): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    if (revoked) {
      ws.revokedGrants.add(provider);
      this.expireAccessTokens({ workspace: workspaceId, provider }, now);
    } else {
      ws.revokedGrants.delete(provider);
    }
  }

  workspaceById(id: string): WorkspaceRuntime | undefined {
    return this.workspaces.get(id);
  }

  /** The workspace whose OAuth client has this ID. */
  workspaceByClientId(clientId: string): WorkspaceRuntime | undefined {
    for (const w of this.workspaces.values()) if (this.oauthClient(w).clientId === clientId) return w;
    return undefined;
  }

  workspaceByToken(token: string): WorkspaceRuntime | undefined {
    for (const w of this.workspaces.values()) if (w.seed.token === token) return w;
    return undefined;
  }

  /**
   * Counts one request against the workspace's fixed window `rule` names, kept under `key` (a
   * provider and system, plus the rule's name for windows other than the workspace's own).
   */
  countRequest(workspace: WorkspaceRuntime | null, key: string, at: number, rule: RateRule = DEFAULT_RATE_RULE): RateStatus {
    const own = workspace?.seed.rateLimit ?? DEFAULT_RATE_LIMIT;
    const limit = rule.limit ?? own.limit;
    const windows = workspace ? workspace.rate : this.anonymousRate;
    const windowMs = rule.daily ? DAY_MS : (rule.windowSeconds ?? own.windowSeconds) * 1000;
    const name = rule.name === DEFAULT_RATE_RULE.name ? key : `${key}/${rule.name}`;
    let window = windows.get(name);
    if (!window || at >= window.startedAt + windowMs) {
      window = { startedAt: rule.daily ? at - (at % DAY_MS) : at, count: 0 };
      windows.set(name, window);
    }
    window.count += rule.cost ?? 1;
    return {
      window: rule.name,
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
  takeFault(system: SandboxSystem, provider: string, method: string, path: string): SandboxFault | undefined {
    const hit = this.faults.find(({ fault }) => faultMatches(fault, system, provider, method, path));
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

  events(filter: { system?: SandboxSystem; provider?: string; since?: number } = {}): SandboxEvent[] {
    return this.eventLog
      .list()
      .filter(
        (e) =>
          (filter.system === undefined || e.system === filter.system) &&
          (filter.provider === undefined || e.provider === filter.provider) &&
          e.seq > (filter.since ?? 0),
      );
  }

  clearEvents(): void {
    this.eventLog.clear();
  }
}

function faultMatches(fault: SandboxFault, system: SandboxSystem, provider: string, method: string, path: string): boolean {
  if (fault.system !== undefined && fault.system !== system) return false;
  if (fault.provider !== undefined && fault.provider !== provider) return false;
  if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (fault.pathPrefix !== undefined && !path.startsWith(fault.pathPrefix)) return false;
  return true;
}
