import { ApplicationFailure } from '@temporalio/common';
import type { Classification, Outcome } from './classify';
import type { RateLimitState } from './ratelimit';
import { UpstreamFailure, type UpstreamFailureType } from '../protocol/failures';


const TYPE_BY_OUTCOME: Record<Exclude<Outcome, 'ok'>, UpstreamFailureType> = {
  rate_limited: UpstreamFailure.RateLimited,
  transient: UpstreamFailure.Unavailable,
  auth: UpstreamFailure.AuthFailed,
  not_found: UpstreamFailure.NotFound,
  permanent: UpstreamFailure.Rejected,
};

/** What an upstream failure carries into workflow history (never a credential). */
export interface UpstreamFailureDetails {
  provider: string;
  operation: string;
  status: number | null;
  reason: string;
  waitMs: number | null;
  rateLimit: RateLimitState | null;
}

/**
 * Turn a classified upstream answer into the activity failure Temporal acts on: retryable with
 * `nextRetryDelay` = the upstream's own wait when it gave one, non-retryable when retrying cannot help.
 */
export function failureFromClassification(provider: string, operation: string, c: Classification): ApplicationFailure {
  if (c.outcome === 'ok') throw new Error('an ok answer is not a failure');
  const details: UpstreamFailureDetails = {
    provider,
    operation,
    status: c.status,
    reason: c.reason,
    waitMs: c.waitMs,
    rateLimit: c.rateLimit,
  };
  return ApplicationFailure.create({
    type: TYPE_BY_OUTCOME[c.outcome],
    message: `${provider} ${operation}: ${c.reason}`,
    nonRetryable: !c.retry,
    ...(c.retry && c.waitMs !== null ? { nextRetryDelay: Math.max(c.waitMs, 1) } : {}),
    details: [details],
  });
}

/** A failure that did not come from an HTTP answer (network, timeout, mapping, configuration). */
export function upstreamFailure(
  type: UpstreamFailureType,
  provider: string,
  operation: string,
  reason: string,
  retryable: boolean,
  /** For a retryable failure: exactly when to try again. */
  waitMs?: number,
): ApplicationFailure {
  const details: UpstreamFailureDetails = { provider, operation, status: null, reason, waitMs: waitMs ?? null, rateLimit: null };
  return ApplicationFailure.create({
    type,
    message: `${provider} ${operation}: ${reason}`,
    nonRetryable: !retryable,
    ...(retryable && waitMs !== undefined ? { nextRetryDelay: Math.max(1, waitMs) } : {}),
    details: [details],
  });
}
