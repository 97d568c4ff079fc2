import type { SearchAttributePair } from '@temporalio/common';
import { dedupeSecret } from '../distribution/dedupe';
import type { NormalizedLead } from '../domain/lead';
import { emailSearchHash, leadSearchValues } from '../domain/searchKeys';
import { LeadCompany, LeadEmailHash, LeadSource } from '../temporal/searchAttributes';

/**
 * The finding attributes the API sets when it starts a lead's run (first run or follow-up): the
 * email's keyed hash, the company lower-cased, the source. The key is the deployment's secret
 * (LEADRELAY_DEDUPE_KEY, a development default without it), read where the API runs.
 */
export function leadSearchAttributes(tenantId: string, lead: Pick<NormalizedLead, 'email' | 'company' | 'source'>, env: Record<string, string | undefined> = process.env): SearchAttributePair[] {
  const values = leadSearchValues(dedupeSecret(env), tenantId, lead);
  return [
    { key: LeadEmailHash, value: values.emailHash },
    { key: LeadSource, value: values.source },
    ...(values.company === null ? [] : [{ key: LeadCompany, value: values.company }]),
  ];
}

/** The `LeadEmailHash` a listing filters by for an email a client typed. */
export function emailFilterHash(tenantId: string, email: string, env: Record<string, string | undefined> = process.env): string {
  return emailSearchHash(dedupeSecret(env), tenantId, email);
}
