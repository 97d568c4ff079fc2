/**
 * Failure types: how an activity tells its workflow what went wrong. Workflows branch on these,
 * never on messages; the audit and metrics name them. Pure, so workflows import it too.
 */

/** Failure types an upstream call can end with. */
export const UpstreamFailure = {
  RateLimited: 'UpstreamRateLimited',
  Unavailable: 'UpstreamUnavailable',
  Timeout: 'UpstreamTimeout',
  Network: 'UpstreamNetworkError',
  AuthFailed: 'UpstreamAuthFailed',
  /** An OAuth access token was rejected early: retry with a fresh one. */
  AuthExpired: 'UpstreamAuthExpired',
  /** The connection's OAuth grant is gone (invalid_grant): nothing works until someone re-authorizes. */
  NeedsReauthorization: 'ConnectionNeedsReauthorization',
  /** The token endpoint failed recently: wait out the cool-down before asking it again. */
  AuthRefreshFailed: 'AuthRefreshFailed',
  NotFound: 'UpstreamNotFound',
  Rejected: 'UpstreamRejected',
  Mapping: 'MappingError',
  Misconfigured: 'ConnectionMisconfigured',
} as const;

export type UpstreamFailureType = (typeof UpstreamFailure)[keyof typeof UpstreamFailure];

/** A pool entity refused a claim (its validator): asking again cannot help. */
export const POOL_CLAIM_REJECTED = 'PoolClaimRejected';

/** Errors that retrying cannot fix: the activity fails at once and the lead takes its degraded path. */
export const PERMANENT_FAILURES: readonly string[] = [
  UpstreamFailure.Rejected,
  UpstreamFailure.AuthFailed,
  UpstreamFailure.NotFound,
  UpstreamFailure.Mapping,
  UpstreamFailure.Misconfigured,
  UpstreamFailure.NeedsReauthorization,
  POOL_CLAIM_REJECTED,
];
