import { createHmac } from 'node:crypto';
import { constantTimeEqual, requireSecret } from '../../accept/hmac';

/*
 * The hex HMAC-SHA256 signatures Meta, Calendly and Cal.com send: computed over the body's exact
 * bytes (never a re-serialised parse), compared in constant time, lower-cased first since hex is
 * case-insensitive. An empty secret is a configuration error and throws.
 */

/** hex(HMAC-SHA256(secret, prefix + body)), the body hashed byte for byte. */
export function hmacSha256Hex(secret: string, body: Buffer | string, prefix = ''): string {
  requireSecret(secret, 'source signing secret');
  const mac = createHmac('sha256', secret);
  if (prefix !== '') mac.update(prefix, 'utf8');
  mac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return mac.digest('hex');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** Whether `given` is a 64-digit hex digest equal to `expected` (compared in constant time). */
export function hexDigestMatches(given: string, expected: string): boolean {
  return HEX_SHA256.test(given) && constantTimeEqual(given.toLowerCase(), expected);
}
