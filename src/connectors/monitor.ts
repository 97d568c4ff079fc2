import type { Classification, Outcome } from './classify';
import type { RateLimitState } from './ratelimit';

/**
 * What each connection's upstream has been answering, as operators need it to see a 429 storm
 * coming: the latest normalized rate-limit state, answers by outcome, and the last limit hit.
 * Fed by every answer the connectors classify; read by the API (`GET /v1/connections`) and
 * the metrics endpoint. In memory, per worker process.
 */
export interface ConnectionHealth {
  connectionId: string;
  provider: string;
  answers: Record<Outcome, number>;
  lastAnswer: { at: string; status: number; operation: string; outcome: Outcome } | null;
  /** The latest rate-limit state any answer carried (IETF terms: reset in delay-seconds, as of `at`). */
  rateLimit: (RateLimitState & { at: string }) | null;
  lastRateLimited: { at: string; status: number; operation: string; waitMs: number | null; reason: string } | null;
}

const NO_ANSWERS = (): Record<Outcome, number> => ({ ok: 0, rate_limited: 0, transient: 0, auth: 0, not_found: 0, permanent: 0 });

export class ConnectionMonitor {
  private readonly connections = new Map<string, ConnectionHealth>();

  constructor(private readonly now: () => number = Date.now) {}

  record(connectionId: string, c: Classification, call: { provider: string; operation: string }): void {
    let health = this.connections.get(connectionId);
    if (!health) {
      health = { connectionId, provider: call.provider, answers: NO_ANSWERS(), lastAnswer: null, rateLimit: null, lastRateLimited: null };
      this.connections.set(connectionId, health);
    }
    const at = new Date(this.now()).toISOString();
    health.provider = call.provider;
    health.answers[c.outcome]++;
    health.lastAnswer = { at, status: c.status, operation: call.operation, outcome: c.outcome };
    const r = c.rateLimit;
    if (r.limit !== null || r.remaining !== null || r.resetSeconds !== null || r.retryAfterSeconds !== null) health.rateLimit = { ...r, at };
    if (c.outcome === 'rate_limited') health.lastRateLimited = { at, status: c.status, operation: call.operation, waitMs: c.waitMs, reason: c.reason };
  }

  get(connectionId: string): ConnectionHealth | null {
    const h = this.connections.get(connectionId);
    return h ? structuredClone(h) : null;
  }

  all(): ConnectionHealth[] {
    return [...this.connections.values()].map((h) => structuredClone(h));
  }
}
