/**
 * The SLA queue's buckets, pure: a routed lead awaiting acceptance is "due soon" within 15 minutes
 * of its due time, "overdue" past it, and "escalated" once it has moved on from an owner who let
 * it lapse. Accepted or closed leads are in no bucket.
 */
import type { LeadRow } from './api';

export type SlaBucket = 'escalated' | 'overdue' | 'due_soon' | 'awaiting';

export const SLA_BUCKETS: ReadonlyArray<{ id: SlaBucket; title: string; help: string }> = [
  { id: 'overdue', title: 'Overdue', help: 'Past the time to accept: the owner has been reminded and the lead moves on at its escalation time.' },
  { id: 'due_soon', title: 'Due soon', help: 'Less than 15 minutes left to accept.' },
  { id: 'awaiting', title: 'Awaiting acceptance', help: 'Routed, with time left to accept.' },
  { id: 'escalated', title: 'Escalated', help: 'Moved on to another rep after an owner let the time to accept lapse.' },
];

export const DUE_SOON_MS = 15 * 60_000;

/** Which bucket a lead of the routing log is in at `nowMs`, or null when it awaits nobody. */
export function slaBucket(row: Pick<LeadRow, 'status' | 'sla' | 'escalations' | 'acceptedAt'>, nowMs: number): SlaBucket | null {
  if (row.acceptedAt || row.status === 'accepted') return null;
  if (row.status !== 'routed') return null;
  const due = row.sla ? Date.parse(row.sla.dueAt) : Number.NaN;
  if (Number.isFinite(due) && due <= nowMs) return 'overdue';
  if ((row.escalations ?? 0) > 0) return 'escalated';
  if (Number.isFinite(due) && due - nowMs < DUE_SOON_MS) return 'due_soon';
  return 'awaiting';
}

/** Leads by bucket, each bucket soonest-due first. */
export function bucketLeads(rows: readonly LeadRow[], nowMs: number): Record<SlaBucket, LeadRow[]> {
  const out: Record<SlaBucket, LeadRow[]> = { escalated: [], overdue: [], due_soon: [], awaiting: [] };
  for (const row of rows) {
    const bucket = slaBucket(row, nowMs);
    if (bucket) out[bucket].push(row);
  }
  const dueOf = (r: LeadRow) => (r.sla ? Date.parse(r.sla.dueAt) : Number.MAX_SAFE_INTEGER);
  for (const list of Object.values(out)) list.sort((a, b) => dueOf(a) - dueOf(b));
  return out;
}
