import { readFileSync } from 'node:fs';
import type { SecretRef } from './schema';

/** The value a secret reference points at, or null when its variable or file is not set. */
export function resolveSecret(ref: SecretRef, env: Record<string, string | undefined>): string | null {
  if ('value' in ref) return ref.value;
  if ('file' in ref) {
    try {
      return readFileSync(ref.file, 'utf8').trim() || null;
    } catch {
      return null;
    }
  }
  return env[ref.env] || null;
}

/** Where a secret reference points, for messages (never the value). */
export function describeSecret(ref: SecretRef): string {
  if ('value' in ref) return 'an inline value';
  if ('file' in ref) return `file ${ref.file}`;
  return `environment variable ${ref.env}`;
}
