import { createHmac } from 'node:crypto';
import { normalizeEmail, type NormalizedLead } from './lead';

/*
 * What a lead's run carries in Temporal's visibility store so it can be found again without the
 * store holding contact details. Pure (no I/O, no environment: the secret comes in), but it uses
 * node:crypto, so only the API imports it, never workflow code.
 *
 * The email is kept as a keyed hash (`LeadEmailHash`): hex HMAC-SHA-256 of the normalized address
 * (trimmed, lower-cased, as normalizeLead has it), so a lookup by exact email works while anyone
 * reading the store, or a list of candidate addresses, learns nothing without the deployment's
 * secret. The secret is the one that keys dedupe marks (LEADRELAY_DEDUPE_KEY, see
 * src/distribution/dedupe.ts), but the hash is never computed with it directly: a key of its own is
 * derived first, HMAC(secret, SEARCH_KEY_LABEL), and the email hashed under that. A dedupe hash is
 * HMAC(secret, "<scope>\0<field>\0<value>") under the secret itself, so the two can never be the
 * same value (different keys), and knowing one says nothing about the other.
 */

/** The derivation label of the search-attribute key; changing it changes every stored hash. */
export const SEARCH_KEY_LABEL = 'leadrelay/search-attributes/LeadEmailHash/v1';

/** The key email hashes are made with, derived from the deployment secret. */
export function searchKey(secret: string): Buffer {
  return createHmac('sha256', secret).update(SEARCH_KEY_LABEL).digest();
}

/**
 * `LeadEmailHash`: 64 hex digits, the same for every spelling of the address that normalizes the
 * same, within one tenant. The tenant is hashed in too, so the same person's leads in two tenants
 * carry different values: nobody reading the visibility store can link them across tenants.
 */
export function emailSearchHash(secret: string, tenantId: string, email: string): string {
  return createHmac('sha256', searchKey(secret)).update(tenantId).update('\0').update(normalizeEmail(email)).digest('hex');
}

/** `LeadCompany`: the company as the lead gave it (trimmed), lower-cased so a lookup ignores case; null without one. */
export function companySearchValue(company: string | null | undefined): string | null {
  const value = company?.trim().replace(/\s+/g, ' ').toLowerCase();
  return value ? value : null;
}

/** The three finding attributes of a normalized lead (no plain email, name or phone among them). */
export function leadSearchValues(secret: string, tenantId: string, lead: Pick<NormalizedLead, 'email' | 'company' | 'source'>): { emailHash: string; company: string | null; source: string } {
  return { emailHash: emailSearchHash(secret, tenantId, lead.email), company: companySearchValue(lead.company), source: lead.source };
}
