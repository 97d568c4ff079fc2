/**
 * What each source has received, counted in this process (GET /v1/sources): since the process
 * started, per API process; a restart starts again from zero. Events themselves are in Temporal
 * (the leads, the quarantine); these counts only say how a source is doing right now.
 */
export type SourceOutcome = 'accepted' | 'duplicate' | 'rejected' | 'quarantined';

export interface SourceCounts {
  accepted: number;
  duplicate: number;
  rejected: number;
  quarantined: number;
  /** When the last delivery arrived (verified or not), ISO 8601; null when none since start. */
  lastEventAt: string | null;
  /** When the last delivery was refused (bad signature) and why; null when none. */
  lastRejection: { at: string; reason: string } | null;
}

const counts = new Map<string, SourceCounts>();
const key = (tenantId: string, sourceId: string) => `${tenantId}\n${sourceId}`;

function entry(tenantId: string, sourceId: string): SourceCounts {
  let c = counts.get(key(tenantId, sourceId));
  if (!c) {
    c = { accepted: 0, duplicate: 0, rejected: 0, quarantined: 0, lastEventAt: null, lastRejection: null };
    counts.set(key(tenantId, sourceId), c);
  }
  return c;
}

export function recordDelivery(tenantId: string, sourceId: string, atMs: number): void {
  entry(tenantId, sourceId).lastEventAt = new Date(atMs).toISOString();
}

export function recordOutcome(tenantId: string, sourceId: string, outcome: SourceOutcome, atMs: number, reason?: string): void {
  const c = entry(tenantId, sourceId);
  c[outcome] += 1;
  if (outcome === 'rejected') c.lastRejection = { at: new Date(atMs).toISOString(), reason: reason ?? 'rejected' };
}

export function sourceCounts(tenantId: string, sourceId: string): SourceCounts {
  const c = counts.get(key(tenantId, sourceId));
  return c ? { ...c, lastRejection: c.lastRejection ? { ...c.lastRejection } : null } : { accepted: 0, duplicate: 0, rejected: 0, quarantined: 0, lastEventAt: null, lastRejection: null };
}
