import type { Router } from 'express';
import { LeadCreateBody } from '../contracts';
import { tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { parseHeader, parseRequest } from '../errors';
import { IdempotencyKeySchema } from '../ids';
import { startLead } from '../leadStart';

/**
 * POST /v1/leads — accept a lead and start its routing workflow. The same Idempotency-Key (or
 * externalId) returns the first lead's answer and starts nothing; the same key with a different
 * body is a client bug and gets 409. The start itself is shared with the lead sources (../leadStart).
 */
export function postLeads(router: Router, ctx: ApiContext): void {
  router.post('/v1/leads', async (req, res) => {
    const tenant = tenantOf(req);
    const lead = parseRequest(LeadCreateBody, req.body, 'body');
    const headerKey = parseHeader(IdempotencyKeySchema, req, 'Idempotency-Key');
    const idempotencyKey = headerKey ?? (lead.externalId ? `external:${lead.externalId}` : undefined);
    const { answer, replayed } = await startLead(ctx, tenant.id, lead, { ...(idempotencyKey !== undefined ? { idempotencyKey } : {}), onKeyReuse: 'reject' });
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).json(answer);
  });
}
