import type { ProviderDefinitionInput } from '../definition';

/**
 * Google Calendar API v3 (base `https://www.googleapis.com`). OAuth 2.0: the token endpoint is on
 * another host (`https://oauth2.googleapis.com/token`), so connections set `oauth.tokenUrl`.
 *
 * Availability is one `freeBusy` query for the whole team. Google accepts at most 50 calendars
 * per query (`calendarExpansionMax`); routing teams are far smaller, so one call is enough.
 * A calendar Google cannot read comes back with `errors` (e.g. `notFound`): that is unknown
 * availability, reported as `error`, never as a free calendar.
 *
 * Google sends no rate-limit headers. Its limit answers are 429 `rateLimitExceeded` and 403 with
 * `error.errors[0].reason` in the usage-limit reasons: the `signals` expression turns those 403s
 * into rate limits (no wait is given: Google asks for exponential backoff, the retry policy's),
 * while other 403s (`forbidden`, `insufficientPermissions`) stay authorization failures.
 */
export const googleProvider: ProviderDefinitionInput = {
  id: 'google',
  auth: { type: 'oauth2', tokenPath: '/token', lifetimeSeconds: 3600, invalidGrant: 'error = "invalid_grant"' },
  timeoutMs: 5000,
  signals: `(
    $reason := error.errors[0].reason;
    $status = 403 and $reason in ["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"]
      ? { "outcome": "rate_limited", "reason": "Google " & $reason & ": " & error.message }
  )`,
  operations: {
    'calendar.availability': {
      method: 'POST',
      path: '/calendar/v3/freeBusy',
      body: `{
        "timeMin": input.start,
        "timeMax": input.end,
        "timeZone": "UTC",
        "items": [input.emails.{ "id": $ }]
      }`,
      // Times are re-read as instants: Google answers in RFC 3339 with or without an offset.
      response: `[$each(calendars, function($calendar, $id) {
        $merge([
          {
            "email": $lowercase($id),
            "busy": [$calendar.busy.{ "start": $fromMillis($toMillis(start)), "end": $fromMillis($toMillis(end)) }]
          },
          $exists($calendar.errors) ? { "error": $calendar.errors[0].reason } : {}
        ])
      })]`,
    },
  },
};
