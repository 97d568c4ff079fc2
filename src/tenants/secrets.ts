import type { SecretRef } from './schema';

/** The value a secret reference points at, or null when its variable is not set. */
export function resolveSecret(ref: SecretRef, env: Record<string, string | undefined>): string | null {
  if ('value' in ref) return ref.value;
  return env[ref.env] || null;
}
