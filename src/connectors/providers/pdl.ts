import type { ProviderDefinitionInput } from '../definition';

/**
 * PDL names countries in lower case ("united states") and sends no ISO code: the common ones are
 * mapped here; any other country keeps its name with a null code.
 */
const COUNTRY_CODES: Record<string, string> = {
  'united states': 'US',
  canada: 'CA',
  mexico: 'MX',
  brazil: 'BR',
  argentina: 'AR',
  chile: 'CL',
  colombia: 'CO',
  'united kingdom': 'GB',
  ireland: 'IE',
  germany: 'DE',
  france: 'FR',
  spain: 'ES',
  portugal: 'PT',
  italy: 'IT',
  netherlands: 'NL',
  belgium: 'BE',
  luxembourg: 'LU',
  switzerland: 'CH',
  austria: 'AT',
  sweden: 'SE',
  norway: 'NO',
  denmark: 'DK',
  finland: 'FI',
  poland: 'PL',
  'czech republic': 'CZ',
  romania: 'RO',
  greece: 'GR',
  turkey: 'TR',
  israel: 'IL',
  'united arab emirates': 'AE',
  'saudi arabia': 'SA',
  'south africa': 'ZA',
  nigeria: 'NG',
  egypt: 'EG',
  india: 'IN',
  singapore: 'SG',
  japan: 'JP',
  'south korea': 'KR',
  china: 'CN',
  'hong kong': 'HK',
  taiwan: 'TW',
  australia: 'AU',
  'new zealand': 'NZ',
  indonesia: 'ID',
  malaysia: 'MY',
  philippines: 'PH',
  vietnam: 'VN',
  thailand: 'TH',
};

/**
 * PDL infers revenue as a range string (`"$10M-$25M"`, `"$10B+"`; the canonical list is at
 * docs.peopledatalabs.com, "Inferred Revenue Ranges"). `annualRevenue` is the range's lower
 * bound: what the company is known to make at least, so a rule "revenue at least X" never matches
 * on a guess (`"$0-$1M"` is 0, `"$10B+"` is 10 billion). A value that is no such range is null.
 */
const REVENUE_FLOOR = String.raw`function($r) {(
  $m := $match($r, /^\$(\d+(?:\.\d+)?)([KMB]?)(?:-\$\d+(?:\.\d+)?[KMB]?|\+)$/);
  $m ? $number($m.groups[0]) * $lookup({ "": 1, "K": 1000, "M": 1000000, "B": 1000000000 }, $m.groups[1]) : null
)}`;

const ISO_INSTANT = String.raw`/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/`;
const HTTP_DATE = String.raw`/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/`;

/**
 * People Data Labs Company Enrichment (`X-Api-Key`). A 404 is an answer (no match at the asked
 * likelihood), not a failure. 402 (credits used up) is an ordinary non-retryable rejection: the
 * enrichment step skips and routing goes on without it.
 *
 * Rate limits: `x-ratelimit-limit` / `x-ratelimit-remaining` are dict-like (`{'minute': 100}`),
 * which the header normalization reads as their smallest number. `x-ratelimit-reset` is a UTC
 * timestamp (`2030-01-07T15:01:00Z`), a unit the normalization cannot read, so it is left out of
 * `rateLimitHeaders` (it would misread the date's digits) and `signals` turns it into the wait on
 * a 429: reset minus the answer's own `Date` (both stamped by PDL, so the caller's clock skew does
 * not matter), or PDL's 60 s fixed window when the reset is missing or unreadable.
 */
export const pdlProvider: ProviderDefinitionInput = {
  id: 'pdl',
  auth: { type: 'header', name: 'x-api-key', prefix: '' },
  timeoutMs: 5000,
  rateLimitHeaders: { limit: ['x-ratelimit-limit'], remaining: ['x-ratelimit-remaining'], reset: [] },
  signals: `$status = 429 ? (
    $reset := $headers."x-ratelimit-reset";
    $date := $headers."date";
    $now := $date and $contains($date, ${HTTP_DATE})
      ? $toMillis($date, "[FNn,3-3], [D01] [MNn,3-3] [Y0001] [H01]:[m01]:[s01] GMT")
      : $millis();
    {
      "outcome": "rate_limited",
      "waitSeconds": $reset and $contains($reset, ${ISO_INSTANT})
        ? $max([0, $ceil(($toMillis($reset) - $now) / 1000)])
        : 60
    }
  ) : null`,
  operations: {
    'enrichment.company': {
      method: 'GET',
      path: '/v5/company/enrich',
      query: '{ "website": input.domain, "min_likelihood": 2 }',
      acceptStatuses: [404],
      response: `$status = 404 ? { "status": "not_found", "reason": "no company record for " & $input.domain }
        : (
          $revenueFloor := ${REVENUE_FLOOR};
          $country := location.country ? location.country : null;
          $code := $country ? $lookup(${JSON.stringify(COUNTRY_CODES)}, $lowercase($country));
          {
            "status": "found",
            "company": {
              "name": display_name ? display_name : (name ? name : null),
              "domain": website ? $replace($replace($lowercase(website), /^[a-z]+:\\/\\//, ""), /^www\\.|\\/.*$/, "") : $input.domain,
              "industry": industry ? industry : null,
              "sector": null,
              "country": $country,
              "countryCode": $code ? $code : null,
              "state": location.region ? location.region : null,
              "employees": $type(employee_count) = "number" ? employee_count : null,
              "employeesRange": size ? size : null,
              "annualRevenue": $type(inferred_revenue) = "string" ? $revenueFloor(inferred_revenue)
                : $type(inferred_revenue) = "number" ? inferred_revenue
                : null
            }
          }
        )`,
    },
  },
};
