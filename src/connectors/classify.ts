import { normalizeRateLimit, type HeaderBag, type RateLimitHeaderNames, type RateLimitState } from './ratelimit';

export type Outcome = 'ok' | 'rate_limited' | 'transient' | 'auth' | 'not_found' | 'permanent';

/** The one verdict on an upstream answer: whether to retry, why, and how long to wait first. */
export interface Classification {
  outcome: Outcome;
  retry: boolean;
  reason: string;
  /** Milliseconds to wait before the next attempt; null means "the retry policy's backoff". */
  waitMs: number | null;
  rateLimit: RateLimitState;
  status: number;
}

export interface UpstreamAnswer {
  status: number;
  headers: HeaderBag;
  body: unknown;
}

/**
 * What a provider's definition says about an answer beyond its status (its `signals`
 * expression): Salesforce's 403 REQUEST_LIMIT_EXCEEDED is a rate limit, Slack's 200 `ok:false`
 * an error, HubSpot's 429 DAILY policy a long wait.
 */
export interface ProviderSignal {
  outcome: Outcome;
  reason?: string;
  /** The wait the provider implies when it sends no header for it (a policy's window). */
  waitSeconds?: number;
}

export interface ClassifyOptions {
  rateLimitHeaders?: RateLimitHeaderNames;
  signal?: ProviderSignal | null;
}

/** A short human message out of the error bodies providers send (objects, arrays, nested). */
export function upstreamMessage(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 300);
  if (Array.isArray(body)) return body.map(upstreamMessage).filter(Boolean).join('; ');
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    const code = o['error_code'] ?? o['errorCode'] ?? o['code'] ?? o['type'];
    const message = o['message'] ?? o['error_description'] ?? o['error'];
    if (message && typeof message === 'object') return upstreamMessage(message);
    return [code, message].filter((v) => typeof v === 'string' || typeof v === 'number').join(': ');
  }
  return '';
}

/** Pure: classify one upstream answer at `nowMs`. */
export function classifyResponse(answer: UpstreamAnswer, nowMs: number, options: ClassifyOptions = {}): Classification {
  const { status } = answer;
  const rateLimit = normalizeRateLimit(answer.headers, nowMs, options.rateLimitHeaders);
  const signal = options.signal ?? null;
  const detail = signal?.reason ?? upstreamMessage(answer.body);
  const withDetail = (text: string) => (detail ? `${text}: ${detail}` : text);
  // Retry-After wins: it is the server's explicit instruction. Then the wait the provider's own
  // signal reads from the answer (HubSpot's DAILY policy outlasts the ten-second window its
  // headers describe), then the window's reset.
  const waitSeconds = rateLimit.retryAfterSeconds ?? signal?.waitSeconds ?? rateLimit.resetSeconds ?? null;
  const waitMs = waitSeconds === null ? null : Math.round(waitSeconds * 1000);
  const outcome = signal?.outcome ?? null;

  if (outcome === 'ok' || (outcome === null && status >= 200 && status < 300)) {
    return { outcome: 'ok', retry: false, reason: `HTTP ${status}`, waitMs: null, rateLimit, status };
  }
  if (outcome === 'transient') {
    return { outcome, retry: true, reason: withDetail(`HTTP ${status} upstream error`), waitMs: rateLimit.retryAfterSeconds === null ? null : Math.round(rateLimit.retryAfterSeconds * 1000), rateLimit, status };
  }
  if (outcome === 'auth' || outcome === 'not_found' || outcome === 'permanent') {
    const text = outcome === 'auth' ? 'not authorized' : outcome === 'not_found' ? 'not found' : 'rejected';
    return { outcome, retry: false, reason: withDetail(`HTTP ${status} ${text}`), waitMs: null, rateLimit, status };
  }
  if (status === 429 || outcome === 'rate_limited') {
    const wait = waitMs === null ? 'after backoff' : `after ${waitMs} ms`;
    return { outcome: 'rate_limited', retry: true, reason: withDetail(`HTTP ${status} rate limited; retry ${wait}`), waitMs, rateLimit, status };
  }
  if (status === 408 || status >= 500) {
    // A 503 with Retry-After says when to come back; other 5xx use the backoff.
    const wait = rateLimit.retryAfterSeconds === null ? null : Math.round(rateLimit.retryAfterSeconds * 1000);
    return { outcome: 'transient', retry: true, reason: withDetail(`HTTP ${status} upstream error`), waitMs: wait, rateLimit, status };
  }
  if (status === 401 || status === 403) {
    return { outcome: 'auth', retry: false, reason: withDetail(`HTTP ${status} not authorized`), waitMs: null, rateLimit, status };
  }
  if (status === 404) {
    return { outcome: 'not_found', retry: false, reason: withDetail('HTTP 404 not found'), waitMs: null, rateLimit, status };
  }
  return { outcome: 'permanent', retry: false, reason: withDetail(`HTTP ${status} rejected`), waitMs: null, rateLimit, status };
}
