/** Small builders the distributed-lead workflow hands to its activities. Pure. */
import type { AccountKind, AccountLimits, EndpointResult, StatCounters } from './account';
import type { DeliveryRecord } from './delivery';
import type { Buyer, CountCaps } from './model';

export function accountLimits(timeZone: string, caps: CountCaps, budget: { day?: number | undefined; month?: number | undefined }): AccountLimits {
  return { timeZone, caps, budget: { ...(budget.day !== undefined ? { day: budget.day } : {}), ...(budget.month !== undefined ? { month: budget.month } : {}) } };
}

/** One call's result for a buyer's breaker. */
export interface EndpointReport {
  buyerId: string;
  result: EndpointResult;
}

/** Statistics to add to one account for one lead (counted once per key). */
export interface Tally {
  kind: AccountKind;
  accountId: string;
  key: string;
  atMs: number;
  timeZone: string;
  counters: Partial<StatCounters>;
}

/** What a breaker counts as a failure: a timeout, a connection error, a 5xx or a 429; an answer of any kind is a success. */
export function endpointResult(buyer: Buyer, endpoint: 'ping' | 'post', record: DeliveryRecord, leadId: string, atMs: number): EndpointReport {
  const status = record.response?.status ?? 0;
  const failed = record.error !== null && record.error.type !== 'mapping' ? true : status >= 500 || status === 429;
  return { buyerId: buyer.id, result: { endpoint, ok: !failed, atMs, leadId, settings: buyer.breaker } };
}

/** Endpoint results grouped by buyer, as the account activities take them. */
export function byBuyer(reports: readonly EndpointReport[]): Array<{ accountId: string; results: EndpointResult[] }> {
  const grouped = new Map<string, EndpointResult[]>();
  for (const r of reports) grouped.set(r.buyerId, [...(grouped.get(r.buyerId) ?? []), r.result]);
  return [...grouped].map(([accountId, results]) => ({ accountId, results }));
}

/** Tallies as the account activities take them: one request list per account. */
export function tallyRequests(leadId: string, tallies: readonly Tally[]) {
  return tallies.map((t) => ({ kind: t.kind, accountId: t.accountId, requests: [{ leadId, key: t.key, atMs: t.atMs, timeZone: t.timeZone, counters: t.counters }] }));
}

/**
 * The buyer may have taken the lead: the request left and no definite answer came back (a
 * timeout, a connection lost after sending, a 2xx the mapping could not read) or a gateway in
 * front of the buyer gave up on it (502, 504), which says nothing of what the buyer did. The
 * buyer's own answers are definite: a 4xx (a 429 included) is a refusal, and a 500 or 503 is the
 * buyer saying it failed, so a buyer that is down does not use up its budget one lead at a time.
 */
const GATEWAY_GAVE_UP = new Set([502, 504]);

export function postMayHaveSold(record: DeliveryRecord): boolean {
  if (record.answer.outcome !== 'error' || record.notSent) return false;
  const status = record.response?.status;
  return status === undefined || status < 400 || GATEWAY_GAVE_UP.has(status);
}
