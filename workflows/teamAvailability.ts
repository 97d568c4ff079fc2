import { availabilityBoard, type BoardRep, type PoolFacts } from '../src/domain/availabilityBoard';
import { checkAvailability, local, summary } from './steps';
import { LeadTracker } from './tracker';

export interface TeamAvailabilityInput {
  tenantId: string;
  /**
   * The published policy's pools with each member's assignments in the current periods, as the
   * API read them from the pool entities at the same business time (workflows cannot query).
   */
  pools: PoolFacts[];
}

export interface TeamAvailabilityResult {
  /** The business time the board is judged at (src/clock.ts). */
  at: string;
  /** The policy's zone (pool periods), the tenant's when nothing is published. */
  timezone: string;
  policyVersion: string;
  reps: BoardRep[];
  /** Reads that failed (HRIS, calendar): the board then shows `unknown` where it could not tell. */
  failures: LeadTracker['state']['failures'];
  upstream: LeadTracker['state']['upstream'];
}

/**
 * The availability board, read live: the same HRIS and calendar reads a lead's routing makes
 * (checkAvailability), the tenant's team and working hours, and the pools' pauses and caps, judged
 * at one business instant by the pure availabilityBoard. Writes nothing; short-lived.
 */
export async function teamAvailability(input: TeamAvailabilityInput): Promise<TeamAvailabilityResult> {
  const t = new LeadTracker({ leadId: 'availability', tenantId: input.tenantId, lead: { email: 'availability@leadrelay.invalid', source: 'api' }, receivedAt: new Date(Date.now()).toISOString(), idempotencyKey: 'availability' });
  const loaded = await local.loadRoutingConfig.executeWithOptions(summary(`routing config of ${input.tenantId}`), [{ tenantId: input.tenantId }]);
  t.clockOffsetMs = loaded.clockOffsetMs ?? 0;
  const facts = await checkAvailability(t, input.tenantId, loaded.config, 0);
  const atMs = t.now();
  const timezone = loaded.policy.policy.timezone;
  const reps = availabilityBoard({ team: loaded.config.team, ...facts, pools: input.pools, timeZone: timezone, atMs });
  return { at: new Date(atMs).toISOString(), timezone, policyVersion: loaded.policy.version, reps, failures: t.state.failures, upstream: t.state.upstream };
}
