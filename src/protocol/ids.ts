/**
 * The names every part of Leadrelay agrees on for its workflows: built here and nowhere else.
 * Pure, so workflows import it too.
 */

/** A lead's ID: derived from its tenant and idempotency key (see `leadIdFor` in src/api/ids.ts). */
export const LEAD_ID_PATTERN = /^ld_[a-f0-9]{24}$/;

/** One workflow per lead; a resubmission finds the same ID, so the same run. */
export function leadWorkflowId(tenantId: string, leadId: string): string {
  return `lead:${tenantId}:${leadId}`;
}

/** One entity workflow per pool serializes its claims. */
export function poolWorkflowId(tenantId: string, poolId: string): string {
  return `pool:${tenantId}:${poolId}`;
}

/** One entity workflow per tenant keeps its policy versions. */
export function policyWorkflowId(tenantId: string): string {
  return `policy:${tenantId}`;
}

/**
 * Entity workflows (pools, policies) get a task queue of their own: every claim of a pool
 * funnels through one workflow, so its tasks must never wait behind the lead traffic.
 */
export function entityTaskQueue(taskQueue: string): string {
  return `${taskQueue}-entities`;
}

/** One entity workflow per tenant keeps its distribution catalog (campaigns, suppliers, buyers). */
export function catalogWorkflowId(tenantId: string): string {
  return `catalog:${tenantId}`;
}

/** A distributed lead's ID: `dl_` and 24 hex digits, derived from its supplier and idempotency key. */
export const DISTRIBUTED_LEAD_ID_PATTERN = /^dl_[a-f0-9]{24}$/;

/** One workflow per distributed lead, open until its return window ends. */
export function distributedLeadWorkflowId(tenantId: string, leadId: string): string {
  return `dlead:${tenantId}:${leadId}`;
}

/** A dedupe mark: running while the window lasts; its ID is a keyed hash, never the contact details. */
export function dedupeWorkflowId(tenantId: string, scope: string, hash: string): string {
  return `dedupe:${tenantId}:${scope}:${hash}`;
}

/** One entity workflow per buyer and per supplier keeps its caps, budget, breakers and statistics exact. */
export function accountWorkflowId(tenantId: string, kind: 'buyer' | 'supplier', id: string): string {
  return `account:${tenantId}:${kind}:${id}`;
}

/** A quarantined source payload's ID: `qr_` and 24 hex digits, derived from its tenant, source and event. */
export const QUARANTINE_ID_PATTERN = /^qr_[a-f0-9]{24}$/;

/** One workflow per quarantined source payload, holding it until it is replayed, discarded or expires. */
export function quarantineWorkflowId(tenantId: string, quarantineId: string): string {
  return `quarantine:${tenantId}:${quarantineId}`;
}
