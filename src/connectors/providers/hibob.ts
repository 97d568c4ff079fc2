import type { ProviderDefinitionInput } from '../definition';

/**
 * HiBob (Bob): Basic auth with the service user's ID (the connection's account ID) and token.
 * People come from `POST /v1/people/search` filtered by `root.email` (inactive people included,
 * so a terminated rep reads as TERMINATED rather than unknown); leave from the who's-out list in
 * whole local days, absences only (not work from home or business travel). Bob's standard
 * fields carry no IANA time zone, so `timezone` is null (a tenant with a custom field for it
 * overrides the fields and the mapping).
 *
 * Limits: `X-RateLimit-Limit/-Remaining/-Reset` (reset in Unix epoch seconds) and 429 over the
 * limit. Errors: `{ "error", "key" }`.
 */
export const hibobProvider: ProviderDefinitionInput = {
  id: 'hibob',
  auth: { type: 'basic', username: '{accountId}', password: '{secret}' },
  timeoutMs: 5000,
  rateLimitHeaders: {
    limit: ['x-ratelimit-limit'],
    remaining: ['x-ratelimit-remaining'],
    reset: ['x-ratelimit-reset'],
    resetUnit: 'epoch-seconds',
  },
  operations: {
    'hris.findEmployees': {
      method: 'POST',
      path: '/v1/people/search',
      body: `{
        "fields": ["root.id", "root.email", "root.displayName", "internal.lifecycleStatus", "internal.status"],
        "filters": [{ "fieldPath": "root.email", "operator": "equals", "values": [input.emails] }],
        "showInactive": true
      }`,
      // Lifecycle: employed works; hired (not started), leave and garden leave do not (yet);
      // terminated has left. Without the lifecycle field (Bob omits fields the service user may
      // not see), internal.status tells Active from Inactive (former employees).
      response: `(
        $wanted := $input.emails.$lowercase($);
        [employees[$type(email) = "string" and $lowercase(email) in $wanted].(
          $lifecycle := $type(internal.lifecycleStatus) = "string" ? $lowercase(internal.lifecycleStatus);
          {
            "id": $string(id),
            "email": $lowercase(email),
            "employmentStatus": $lifecycle = "employed" ? "ACTIVE"
              : $lifecycle = "terminated" ? "TERMINATED"
              : $lifecycle ? "INACTIVE"
              : internal.status = "Active" ? "ACTIVE"
              : internal.status = "Inactive" ? "TERMINATED",
            "timezone": null,
            "timeOff": []
          }
        )]
      )`,
    },
    'hris.timeOff': {
      method: 'GET',
      path: '/v1/timeoff/whosout',
      // Hourly requests are left out (Bob's default): hours off do not make a rep unavailable all day.
      // Working-type requests (work from home, business travel: policies whose activity is work
      // time) are listed by default; `includeWorkingRequests=false` leaves only absences, so a rep
      // working from home is not taken for a rep on leave.
      query: '{ "from": input.startDate, "to": input.endDate, "includeWorkingRequests": "false" }',
      // Dates are inclusive local days. A half day (startPortion afternoon, endPortion morning)
      // counts as the whole day: the portions' hours are company settings this call does not see.
      // An open-ended leave lasts at least to the end of the window asked about.
      response: `(
        $wanted := $input.emails.$lowercase($);
        [outs[$type(employeeEmail) = "string" and $lowercase(employeeEmail) in $wanted].{
          "employeeId": $string(employeeId),
          "email": $lowercase(employeeEmail),
          "start": startDate,
          "end": $type(endDate) = "string" ? endDate : $input.endDate,
          "type": $type(policyTypeDisplayName) = "string" ? policyTypeDisplayName : "Time off",
          "allDay": true
        }]
      )`,
    },
  },
};
