import type { ProviderDefinitionInput } from '../definition';

/**
 * BambooHR: the company subdomain (the connection's account ID) is a path segment, the API key
 * is the Basic user name. The directory lists active employees only and knows no time zone;
 * leave comes from the who's-out list, whole days with an inclusive end, plus company holidays
 * that name no employee (they apply to everyone).
 *
 * Limits: BambooHR sends no rate-limit headers. Over its limit it answers 429 with `Retry-After`
 * (since 2026-09-16; it used to answer 503). A 503 now means the API is unavailable: an outage,
 * retried (after its `Retry-After` when it sends one), never counted as a rate limit.
 * Error bodies are mostly empty: the detail travels in `X-BambooHR-Error-Message`.
 */
export const bamboohrProvider: ProviderDefinitionInput = {
  id: 'bamboohr',
  auth: { type: 'basic', username: '{secret}', password: 'x' },
  timeoutMs: 5000,
  // None of the usual names: only `Retry-After` on a limit carries anything.
  rateLimitHeaders: { limit: [], remaining: [], reset: [] },
  signals: `(
    $detail := $lookup($headers, "x-bamboohr-error-message");
    $status >= 400 and $detail ? {
      "outcome": $status = 429 ? "rate_limited"
        : $status = 401 or $status = 403 ? "auth"
        : $status = 404 ? "not_found"
        : $status = 408 or $status >= 500 ? "transient"
        : "permanent",
      "reason": $detail
    }
  )`,
  operations: {
    'hris.findEmployees': {
      method: 'GET',
      path: '/api/gateway.php/{accountId}/v1/employees/directory',
      // The directory holds every active employee: the input's emails are picked out here.
      response: `(
        $wanted := $input.emails.$lowercase($);
        [employees[$type(workEmail) = "string" and $lowercase(workEmail) in $wanted].{
          "id": $string(id),
          "email": $lowercase(workEmail),
          "employmentStatus": "ACTIVE",
          "timezone": null,
          "timeOff": []
        }]
      )`,
    },
    'hris.timeOff': {
      method: 'GET',
      path: '/api/gateway.php/{accountId}/v1/time_off/whos_out/',
      query: '{ "start": input.startDate, "end": input.endDate }',
      // Who's-out entries name no leave type: a "timeOff" entry is an approved request (PTO).
      response: `[$[type = "timeOff" or type = "holiday"].(
        type = "timeOff"
          ? { "employeeId": $string(employeeId), "start": start, "end": end, "type": "PTO", "allDay": true }
          : { "start": start, "end": end, "type": "HOLIDAY", "allDay": true }
      )]`,
    },
  },
};
