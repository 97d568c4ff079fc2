/**
 * A provider's rate-limit state in IETF RateLimit terms: `resetSeconds` is always a delay in
 * seconds (never a timestamp); `retryAfterSeconds` is the parsed `Retry-After`.
 */
export interface RateLimitState {
  limit: number | null;
  remaining: number | null;
  resetSeconds: number | null;
  retryAfterSeconds: number | null;
}

/** What one upstream call answered: recorded in activity results, hence in workflow history. */
export interface CallMeta {
  provider: string;
  operation: string;
  status: number;
  pages: number;
  durationMs: number;
  rateLimit: RateLimitState;
  /** The upstream said it replayed a stored answer for our idempotency key (or an upsert found the record). */
  replayed: boolean;
  /** Which effective mapping (provider definition after overrides) read the answer: `provider@digest`. */
  mapping?: string;
}

/** Activity results that called upstreams carry their calls. */
export interface Upstream {
  calls: CallMeta[];
}

export type UpstreamCallRecord = CallMeta & { step: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A result with its `calls` taken out (they go to the lead's upstream log). */
export type WithoutCalls<T> = T extends Upstream ? DistributiveOmit<T, 'calls'> : T;
