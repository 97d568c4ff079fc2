import type { ProviderDefinitionInput } from '../definition';

/**
 * Okta as a directory: users found by a `search` expression on their email, paged with a
 * `Link: <...>; rel="next"` header. Okta knows employment (its user lifecycle) and the profile's
 * IANA time zone, but no leave. Its limit headers carry the reset as UTC epoch seconds; errors
 * are `{ errorCode, errorSummary, ... }`.
 */
export const oktaProvider: ProviderDefinitionInput = {
  id: 'okta',
  auth: { type: 'header', name: 'authorization', prefix: 'SSWS ' },
  timeoutMs: 5000,
  rateLimitHeaders: {
    limit: ['x-rate-limit-limit'],
    remaining: ['x-rate-limit-remaining'],
    reset: ['x-rate-limit-reset'],
    resetUnit: 'epoch-seconds',
  },
  // Only to put Okta's summary into the reason: the status alone decides the outcome.
  signals: `$status >= 400 and $type(errorCode) = "string" ? {
    "outcome": $status = 429 ? "rate_limited"
      : $status = 401 or $status = 403 ? "auth"
      : $status = 404 ? "not_found"
      : $status = 408 or $status >= 500 ? "transient"
      : "permanent",
    "reason": errorCode & ": " & errorSummary
  }`,
  operations: {
    'hris.findEmployees': {
      method: 'GET',
      path: '/api/v1/users',
      // profile.email eq "a@x" or profile.email eq "b@y", with `\` and `"` escaped inside the quotes.
      query: `{
        "search": $join(input.emails.(
          'profile.email eq "' & $replace($replace($, '\\\\', '\\\\\\\\'), '"', '\\\\"') & '"'
        ), " or "),
        "limit": 200
      }`,
      // ACTIVE, RECOVERY, LOCKED_OUT and PASSWORD_EXPIRED users are still employed; STAGED and
      // PROVISIONED have not started, SUSPENDED are paused; DEPROVISIONED have left.
      response: `(
        $wanted := $input.emails.$lowercase($);
        $statuses := {
          "ACTIVE": "ACTIVE", "RECOVERY": "ACTIVE", "LOCKED_OUT": "ACTIVE", "PASSWORD_EXPIRED": "ACTIVE",
          "STAGED": "INACTIVE", "PROVISIONED": "INACTIVE", "SUSPENDED": "INACTIVE",
          "DEPROVISIONED": "TERMINATED"
        };
        [$[$type(profile.email) = "string" and $lowercase(profile.email) in $wanted].{
          "id": id,
          "email": $lowercase(profile.email),
          "employmentStatus": $lookup($statuses, status),
          "timezone": $type(profile.timezone) = "string" and profile.timezone != "" ? profile.timezone : null,
          "timeOff": []
        }]
      )`,
      pagination: {
        nextCursor: `(
          $next := $match($headers.link, /<([^>]*)>\\s*;\\s*rel="next"/);
          $next ? $next[0].groups[0] : null
        )`,
        nextUrl: true,
        maxPages: 20,
      },
    },
  },
};
