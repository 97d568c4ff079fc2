import { createHmac } from 'node:crypto';

/**
 * The signature an `hmac` connection sends with every body and a signed-webhook receiver checks:
 * `<header>: t=<unix seconds>,v1=<v1>` where v1 is the hex HMAC-SHA256, keyed with the shared
 * secret, of `"<t>.<raw body>"` (the body exactly as sent).
 */
export function webhookSignature(secret: string, timestampSeconds: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex');
}

/** The signature header's value for a body sent at `nowMs`. */
export function webhookSignatureHeader(secret: string, nowMs: number, rawBody: string): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${webhookSignature(secret, t, rawBody)}`;
}
