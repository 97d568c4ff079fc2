import { timingSafeEqual } from 'node:crypto';

/*
 * What every signature check here shares. Secrets are configuration: an empty one is a
 * deployment error, so it throws instead of quietly signing or verifying with a guessable key.
 */

/** timingSafeEqual throws on unequal lengths; a length mismatch is simply "not equal". */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireSecret(secret: string, what: string): void {
  if (secret.length === 0) throw new Error(`${what} must not be empty`);
}
