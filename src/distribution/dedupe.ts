import { createHmac } from 'node:crypto';
import type { FieldSpec } from './model';
import type { LeadFields } from './plan';

/**
 * Dedupe keys: a keyed hash (HMAC-SHA-256) of a person's normalized fields, so the marks that hold
 * a window (workflow IDs, see workflows/dedupeMark.ts) never carry contact details. The key comes
 * from LEADRELAY_DEDUPE_KEY; a development default is used without it (set one in production: it
 * keeps the hashes from being guessed from a list of emails).
 */
export const DEV_DEDUPE_KEY = 'leadrelay-development-dedupe-key';

export function dedupeSecret(env: Record<string, string | undefined> = process.env): string {
  return env['LEADRELAY_DEDUPE_KEY'] || DEV_DEDUPE_KEY;
}

/** The comparable form of a field: emails and text lower-cased and trimmed, phones as their last ten digits. */
export function normalizeValue(value: unknown, spec: FieldSpec | undefined): string | null {
  if (value === undefined || value === null) return null;
  let text = String(value).trim().toLowerCase();
  if (spec?.type === 'phone') text = text.replace(/\D/g, '').slice(-10);
  else if (spec?.type === 'zip') text = text.replace(/\s/g, '').slice(0, 5);
  else text = text.replace(/\s+/g, ' ');
  return text.length ? text : null;
}

/**
 * The keys a lead holds in a scope. `all`: one key over every field (none when a field is
 * missing); `any`: one key per present field, so a match on any one of them is the same person.
 */
export function dedupeKeys(
  secret: string,
  scope: string,
  rule: { fields: readonly string[]; match: 'all' | 'any' },
  fields: Record<string, FieldSpec>,
  lead: LeadFields,
): string[] {
  const hash = (label: string, value: string) => createHmac('sha256', secret).update(`${scope}\u0000${label}\u0000${value}`).digest('hex').slice(0, 40);
  const values = rule.fields.map((name) => [name, normalizeValue(lead[name], fields[name])] as const);
  if (rule.match === 'all') {
    if (values.some(([, v]) => v === null)) return [];
    return [hash(rule.fields.join('+'), values.map(([, v]) => v).join('\u0001'))];
  }
  return values.filter((pair): pair is readonly [string, string] => pair[1] !== null).map(([name, v]) => hash(name, v));
}
