/**
 * Stable JSON: object keys sorted (by UTF-16 code units) and `undefined` members left out, so equal
 * values serialize, and hash, equally whatever order their keys were written in. Request bodies
 * (idempotent lead IDs), policies and routing configurations (their versions), connection mappings
 * and provider definitions (their digests) are hashed through it.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
