import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../canonicalJson';

/** An Idempotency-Key header: it becomes part of workflow IDs and upstream idempotency keys. */
export const IdempotencyKeySchema = z.string().trim().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/**
 * A lead's ID derives from its tenant and idempotency key, so a resubmission maps to the same
 * lead and the same workflow; without a key, a random one is used.
 */
export function leadIdFor(tenantId: string, idempotencyKey: string): string {
  return `ld_${createHash('sha256').update(`${tenantId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}`;
}

export function newKey(): string {
  return randomUUID();
}

export function payloadHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}
