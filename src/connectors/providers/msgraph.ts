import type { ProviderDefinitionInput } from '../definition';

/**
 * Windows time-zone names (what Exchange keeps in mailbox settings) → IANA, after CLDR's
 * windowsZones (territory "001"). Data, not code: it is embedded in the response mapping, so a
 * tenant override can extend it like any other part of the definition.
 */
const WINDOWS_ZONES: Record<string, string> = {
  'Dateline Standard Time': 'Etc/GMT+12',
  'Hawaiian Standard Time': 'Pacific/Honolulu',
  'Alaskan Standard Time': 'America/Anchorage',
  'Pacific Standard Time': 'America/Los_Angeles',
  'US Mountain Standard Time': 'America/Phoenix',
  'Mountain Standard Time': 'America/Denver',
  'Central Standard Time': 'America/Chicago',
  'Central America Standard Time': 'America/Guatemala',
  'Canada Central Standard Time': 'America/Regina',
  'Central Standard Time (Mexico)': 'America/Mexico_City',
  'Eastern Standard Time': 'America/New_York',
  'SA Pacific Standard Time': 'America/Bogota',
  'Venezuela Standard Time': 'America/Caracas',
  'Atlantic Standard Time': 'America/Halifax',
  'Newfoundland Standard Time': 'America/St_Johns',
  'Pacific SA Standard Time': 'America/Santiago',
  'E. South America Standard Time': 'America/Sao_Paulo',
  'Argentina Standard Time': 'America/Argentina/Buenos_Aires',
  'UTC': 'UTC',
  'GMT Standard Time': 'Europe/London',
  'Greenwich Standard Time': 'Atlantic/Reykjavik',
  'Morocco Standard Time': 'Africa/Casablanca',
  'W. Europe Standard Time': 'Europe/Berlin',
  'Central Europe Standard Time': 'Europe/Budapest',
  'Central European Standard Time': 'Europe/Warsaw',
  'Romance Standard Time': 'Europe/Paris',
  'W. Central Africa Standard Time': 'Africa/Lagos',
  'GTB Standard Time': 'Europe/Bucharest',
  'E. Europe Standard Time': 'Europe/Chisinau',
  'FLE Standard Time': 'Europe/Kiev',
  'Egypt Standard Time': 'Africa/Cairo',
  'South Africa Standard Time': 'Africa/Johannesburg',
  'Israel Standard Time': 'Asia/Jerusalem',
  'Turkey Standard Time': 'Europe/Istanbul',
  'Russian Standard Time': 'Europe/Moscow',
  'E. Africa Standard Time': 'Africa/Nairobi',
  'Arab Standard Time': 'Asia/Riyadh',
  'Arabic Standard Time': 'Asia/Baghdad',
  'Iran Standard Time': 'Asia/Tehran',
  'Arabian Standard Time': 'Asia/Dubai',
  'Afghanistan Standard Time': 'Asia/Kabul',
  'Pakistan Standard Time': 'Asia/Karachi',
  'West Asia Standard Time': 'Asia/Tashkent',
  'India Standard Time': 'Asia/Kolkata',
  'Sri Lanka Standard Time': 'Asia/Colombo',
  'Nepal Standard Time': 'Asia/Kathmandu',
  'Bangladesh Standard Time': 'Asia/Dhaka',
  'SE Asia Standard Time': 'Asia/Bangkok',
  'China Standard Time': 'Asia/Shanghai',
  'Singapore Standard Time': 'Asia/Singapore',
  'Taipei Standard Time': 'Asia/Taipei',
  'W. Australia Standard Time': 'Australia/Perth',
  'Tokyo Standard Time': 'Asia/Tokyo',
  'Korea Standard Time': 'Asia/Seoul',
  'Cen. Australia Standard Time': 'Australia/Adelaide',
  'AUS Central Standard Time': 'Australia/Darwin',
  'E. Australia Standard Time': 'Australia/Brisbane',
  'AUS Eastern Standard Time': 'Australia/Sydney',
  'New Zealand Standard Time': 'Pacific/Auckland',
  'Fiji Standard Time': 'Pacific/Fiji',
  // Graph's own spelling of UTC in some mailbox settings.
  'tzone://Microsoft/Utc': 'UTC',
};

/**
 * Microsoft Graph v1.0 (base `https://graph.microsoft.com/v1.0`: the base URL carries the version).
 * OAuth 2.0 against `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`: the
 * connection's token URL names the tenant.
 *
 * Availability is `getSchedule`, read as the connection's account (the mailbox the app reads
 * as, e.g. a scheduling service account). We ask in UTC, so item times are UTC wall times without
 * an offset and with a 7-digit fraction: the mapping keeps milliseconds and appends `Z` (and
 * fails loudly if Graph ever answers in another zone).
 *
 * Busy means `busy`, `oof` and `tentative`: a tentatively accepted meeting is time the rep has
 * half-promised, and routing a hot lead into it risks a slow first touch, so it counts against
 * them. `free` and `workingElsewhere` leave the rep available.
 *
 * Working hours come from the mailbox settings, with a Windows zone name mapped to IANA by the
 * table above; IANA names pass through; anything else (a custom zone) gives `workingHours: null`,
 * so the configured hours apply. A schedule Graph could not read (`error.responseCode`, e.g.
 * `UserNotFound`) is unknown availability, reported as `error`.
 *
 * Limits: 429 `TooManyRequests` with `Retry-After` seconds, which the classifier honours; the
 * general `RateLimit-*` headers some Graph workloads send are read by their default names.
 */
export const msgraphProvider: ProviderDefinitionInput = {
  id: 'msgraph',
  auth: { type: 'oauth2', tokenPath: '/oauth2/v2.0/token', lifetimeSeconds: 3600, invalidGrant: 'error = "invalid_grant"' },
  timeoutMs: 8000,
  operations: {
    'calendar.availability': {
      method: 'POST',
      path: '/users/{accountId}/calendar/getSchedule',
      body: `(
        $utc := function($instant) { { "dateTime": $fromMillis($toMillis($instant), "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]"), "timeZone": "UTC" } };
        {
          "schedules": [input.emails],
          "startTime": $utc(input.start),
          "endTime": $utc(input.end),
          "availabilityViewInterval": 30
        }
      )`,
      response: `(
        $zones := ${JSON.stringify(WINDOWS_ZONES)};
        $days := { "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7 };
        $instant := function($t) {
          $t.timeZone = "UTC"
            ? $fromMillis($toMillis($substring($t.dateTime, 0, 23) & "Z"))
            : $error("schedule item time is in " & $t.timeZone & ", not the UTC asked for")
        };
        $zone := function($name) {
          $lookup($zones, $name) ? $lookup($zones, $name)
            : $contains($name, /^[A-Za-z]+(\\/[A-Za-z0-9_+\\-]+)+$/) ? $name
            : null
        };
        $hours := function($w) { (
          $tz := $w.timeZone.name ? $zone($w.timeZone.name) : null;
          $w and $tz ? {
            "days": [$w.daysOfWeek.$lookup($days, $lowercase($))],
            "start": $substring($w.startTime, 0, 5),
            "end": $substring($w.endTime, 0, 5),
            "timezone": $tz
          } : null
        ) };
        [value.(
          $exists(error)
            ? { "email": $lowercase(scheduleId), "busy": [], "workingHours": null, "error": error.responseCode }
            : {
              "email": $lowercase(scheduleId),
              "busy": [scheduleItems[status in ["busy", "oof", "tentative"]].{ "start": $instant(start), "end": $instant(end) }],
              "workingHours": $hours(workingHours)
            }
        )]
      )`,
    },
  },
};
