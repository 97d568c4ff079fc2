/**
 * The latest breaker state of every buyer endpoint this process has heard of, for /metrics. The
 * account activities update it with what the buyer entities answer (states, and each entity's
 * running transition counts, which carry across continue-as-new, so a counter only grows).
 * In-process and best effort: a restarted worker starts empty and fills as leads flow.
 */
import type { BreakerStateName, EndpointBreaker, EndpointName } from './account';

export interface BoardEntry {
  tenantId: string;
  buyerId: string;
  endpoint: EndpointName;
  state: BreakerStateName;
  /** Transitions by target state, as the entity counts them. */
  transitions: Partial<Record<BreakerStateName, number>>;
}

/** Gauge value of a state: 0 closed, 1 half_open, 2 open. */
export const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, half_open: 1, open: 2 };

export class BreakerBoard {
  private readonly entries = new Map<string, BoardEntry>();

  private entry(tenantId: string, buyerId: string, endpoint: EndpointName): BoardEntry {
    const key = JSON.stringify([tenantId, buyerId, endpoint]);
    let e = this.entries.get(key);
    if (!e) {
      e = { tenantId, buyerId, endpoint, state: 'closed', transitions: {} };
      this.entries.set(key, e);
    }
    return e;
  }

  /** An endpoint's state as its entity answered; counts only grow (an older answer never lowers them). */
  observe(tenantId: string, buyerId: string, endpoint: EndpointName, state: BreakerStateName, transitions?: Partial<Record<BreakerStateName, number>>): void {
    const e = this.entry(tenantId, buyerId, endpoint);
    e.state = state;
    for (const [to, n] of Object.entries(transitions ?? {}) as Array<[BreakerStateName, number]>) e.transitions[to] = Math.max(e.transitions[to] ?? 0, n);
  }

  /** Every endpoint of a buyer, as an account entity answers them. */
  observeAll(tenantId: string, buyerId: string, breakers: EndpointBreaker[]): void {
    for (const b of breakers) this.observe(tenantId, buyerId, b.endpoint, b.view.state, b.transitionCounts);
  }

  list(): BoardEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e, transitions: { ...e.transitions } }));
  }
}
