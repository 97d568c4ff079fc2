import type { RateLimitState } from '../domain/upstream';

/**
 * Rate-limit header normalization. Whatever a provider sends, the result follows the IETF
 * RateLimit fields: `limit`, `remaining`, and `resetSeconds` as a delay in seconds (never a
 * timestamp). `retryAfterSeconds` is the parsed `Retry-After` (delay-seconds or HTTP-date).
 */
export type { RateLimitState };

/** How a provider expresses its reset value, when the header name does not say. */
export type ResetUnit = 'delay-seconds' | 'epoch-seconds' | 'delay-ms';

export interface RateLimitHeaderNames {
  limit: string[];
  remaining: string[];
  reset: string[];
  resetUnit?: ResetUnit;
  /** Headers carrying `used/limit` pairs (Salesforce `Sforce-Limit-Info: api-usage=18/5000`). */
  usage?: string[];
}

/** The names most providers use, IETF draft first. */
export const DEFAULT_RATE_LIMIT_HEADERS: RateLimitHeaderNames = {
  limit: ['ratelimit-limit', 'x-ratelimit-limit', 'x-rate-limit-limit'],
  remaining: ['ratelimit-remaining', 'x-ratelimit-remaining', 'x-rate-limit-remaining'],
  reset: ['ratelimit-reset', 'x-ratelimit-reset', 'x-rate-limit-reset'],
};

export type HeaderBag = Record<string, string | undefined>;

/** Lower-cases header names so look-ups do not depend on the provider's spelling. */
export function lowerCaseHeaders(headers: Iterable<[string, string]> | HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Symbol.iterator in headers ? [...(headers as Iterable<[string, string]>)] : Object.entries(headers);
  for (const [k, v] of entries) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

/**
 * A number out of a header value. Providers send plain numbers, lists ("100, 100;w=60"), and even
 * dict-like strings (`{'minute': 99}`): the smallest number found is the binding constraint.
 */
export function headerNumber(value: string | undefined): number | null {
  if (value === undefined) return null;
  const plain = Number(value.trim());
  if (value.trim() !== '' && Number.isFinite(plain)) return plain;
  const numbers = [...value.matchAll(/(?<![\w;=])(-?\d+(?:\.\d+)?)/g)].map((m) => Number(m[1]));
  return numbers.length ? Math.min(...numbers) : null;
}

/** The three HTTP-date forms RFC 9110 §5.6.7 allows: IMF-fixdate, RFC 850, asctime. */
const HTTP_DATE = [
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/**
 * `Retry-After` as seconds from `nowMs`: delay-seconds or an HTTP-date (RFC 9110). Anything
 * else is ignored (null), never read as "retry now".
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (!HTTP_DATE.some((form) => form.test(trimmed))) return null;
  // asctime carries no zone: it is GMT by definition.
  const date = Date.parse(/GMT$/.test(trimmed) ? trimmed : `${trimmed} GMT`);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** Reset as delay-seconds whatever the unit; values that look like epoch seconds are converted. */
export function toResetSeconds(raw: number, unit: ResetUnit | undefined, nowMs: number): number {
  const effective: ResetUnit = unit ?? (raw > 1_000_000_000 ? 'epoch-seconds' : 'delay-seconds');
  switch (effective) {
    case 'epoch-seconds':
      return Math.max(0, Math.ceil(raw - nowMs / 1000));
    case 'delay-ms':
      return Math.max(0, Math.ceil(raw / 1000));
    case 'delay-seconds':
      return Math.max(0, raw);
  }
}

/** Parameters of the structured `RateLimit: "default";r=50;t=30` field (later IETF drafts). */
function structuredParams(value: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!value) return out;
  for (const m of value.matchAll(/;\s*([a-z]+)=(\d+(?:\.\d+)?)/g)) {
    if (m[1] !== undefined && out[m[1]] === undefined) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The first `used/limit` pair in a header value: `api-usage=18/5000; per-app-api-usage=17/250(appName=x)` → 18 of 5000. */
function usagePair(value: string | undefined): { used: number; limit: number } | null {
  const m = value === undefined ? null : /(\d+)\s*\/\s*(\d+)/.exec(value);
  return m ? { used: Number(m[1]), limit: Number(m[2]) } : null;
}

function first(headers: Record<string, string>, names: string[]): string | undefined {
  for (const name of names) {
    const v = headers[name.toLowerCase()];
    if (v !== undefined) return v;
  }
  return undefined;
}

export function normalizeRateLimit(
  rawHeaders: HeaderBag,
  nowMs: number,
  names: RateLimitHeaderNames = DEFAULT_RATE_LIMIT_HEADERS,
): RateLimitState {
  const headers = lowerCaseHeaders(rawHeaders);
  let limit = headerNumber(first(headers, names.limit));
  let remaining = headerNumber(first(headers, names.remaining));
  const rawReset = headerNumber(first(headers, names.reset));
  let resetSeconds = rawReset === null ? null : toResetSeconds(rawReset, names.resetUnit, nowMs);

  const usage = usagePair(first(headers, names.usage ?? []));
  if (usage) {
    limit ??= usage.limit;
    remaining ??= Math.max(0, usage.limit - usage.used);
  }

  const structured = structuredParams(headers['ratelimit']);
  const policy = structuredParams(headers['ratelimit-policy']);
  remaining ??= structured['r'] ?? null;
  resetSeconds ??= structured['t'] ?? null;
  limit ??= policy['q'] ?? null;

  return { limit, remaining, resetSeconds, retryAfterSeconds: parseRetryAfter(headers['retry-after'], nowMs) };
}
