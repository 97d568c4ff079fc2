/**
 * The benchmark's client of POST /v1/leads. The API may push back when a tenant has too much
 * queued: `429` with `Retry-After`. The poster waits as told and sends the same request again with
 * the same Idempotency-Key (the API answers a repeat with the first lead), so no lead is lost and
 * none is started twice; it counts the push-backs.
 */
import { parseRetryAfter } from '../src/connectors/ratelimit';

export interface PostedLead {
  leadId: string;
  /** 429 answers before the lead was accepted. */
  pushbacks: number;
}

/** Without a usable Retry-After, the poster waits this long before sending again. */
const DEFAULT_PUSHBACK_WAIT_MS = 1000;

/** How long to wait after a push-back: its Retry-After (seconds or an HTTP date), else a second. Pure. */
export function pushbackWaitMs(retryAfter: string | null, nowMs: number): number {
  const seconds = parseRetryAfter(retryAfter ?? undefined, nowMs);
  return seconds === null ? DEFAULT_PUSHBACK_WAIT_MS : Math.max(0, seconds * 1000);
}

/**
 * POSTs one lead until it is accepted. With `idempotencyKey` null the request carries none (the
 * routing mode, as its earlier figures were measured: a keyed POST costs the API a look-up first);
 * sending it again after a 429 is still safe, as a push-back starts nothing.
 */
export async function postLead(apiUrl: string, apiKey: string, body: unknown, idempotencyKey: string | null, giveUpAfterMs = 600_000): Promise<PostedLead> {
  const started = Date.now();
  let pushbacks = 0;
  for (;;) {
    const res = await fetch(`${apiUrl}/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...(idempotencyKey === null ? {} : { 'idempotency-key': idempotencyKey }) },
      body: JSON.stringify(body),
    });
    if (res.status === 202) return { leadId: ((await res.json()) as { leadId: string }).leadId, pushbacks };
    const text = await res.text();
    if (res.status !== 429) throw new Error(`POST answered ${res.status}: ${text}`);
    pushbacks++;
    const wait = pushbackWaitMs(res.headers.get('retry-after'), Date.now());
    if (Date.now() + wait - started > giveUpAfterMs) throw new Error(`POST still pushed back after ${pushbacks} tries over ${Math.round((Date.now() - started) / 1000)} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
}
