import { readFileSync } from 'node:fs';
import type { SecretRef } from './schema';

/**
 * Secret files are read at most this often: every upstream call resolves its connection's
 * secrets, and a rotated file (a re-authorized refresh token) still shows within seconds.
 */
export const SECRET_FILE_TTL_MS = 5_000;
const fileReads = new Map<string, { value: string | null; readAtMs: number }>();

/** The value a secret reference points at, or null when its variable or file is not set. */
export function resolveSecret(ref: SecretRef, env: Record<string, string | undefined>, nowMs = Date.now()): string | null {
  if ('value' in ref) return ref.value;
  if ('file' in ref) {
    const cached = fileReads.get(ref.file);
    if (cached && nowMs - cached.readAtMs < SECRET_FILE_TTL_MS) return cached.value;
    let value: string | null;
    try {
      value = readFileSync(ref.file, 'utf8').trim() || null;
    } catch {
      value = null;
    }
    fileReads.set(ref.file, { value, readAtMs: nowMs });
    return value;
  }
  return env[ref.env] || null;
}

/** Where a secret reference points, for messages (never the value). */
export function describeSecret(ref: SecretRef): string {
  if ('value' in ref) return 'an inline value';
  if ('file' in ref) return `file ${ref.file}`;
  return `environment variable ${ref.env}`;
}
