import type { ProviderDefinitionInput } from '../definition';

/**
 * HubSpot CRM v3 (base `https://api.hubapi.com`), OAuth 2.0.
 *
 * - Accounts are companies found with the search API by their `domain` property (HubSpot fills it
 *   from the website), secondary domains come from `hs_additional_domains` (`;`-separated).
 *   Companies without `hubspot_owner_id` are left out: nobody owns them, so for routing they are
 *   the same as no account (rules route the lead), and the account schema needs an owner.
 * - Leads are contacts, upserted by email (batch upsert), so a retried create updates the contact
 *   it made instead of making a second one; HubSpot's `new` flag says which happened.
 *   `leadrelay_key` is a custom contact property the portal gets when the app is installed: it
 *   records which Leadrelay assignment wrote the contact.
 * - Limits: the ten-secondly rolling window's `X-HubSpot-RateLimit-Max/-Remaining` and its length
 *   in `-Interval-Milliseconds` (an upper bound on the wait: the window rolls). The 429 body's
 *   `policyName` says which limit was hit; a DAILY limit is a long wait that a lead's urgency cap
 *   turns into its fallback path. CRM search is outside the ten-secondly window: it has its own
 *   limit, five requests a second per account, its answers carry no window headers, and its 429
 *   names no policy, only "You have reached your secondly limit." (the message HubSpot's own
 *   client retries on, after a second): that is a one-second wait.
 */
const SECONDLY_MESSAGE = 'You have reached your secondly limit.';
export const hubspotProvider: ProviderDefinitionInput = {
  id: 'hubspot',
  auth: {
    type: 'oauth2',
    tokenPath: '/oauth/v1/token',
    lifetimeSeconds: 1800,
    // HubSpot answers a revoked or unknown refresh token with its own body, not the RFC's `error`.
    invalidGrant: 'error = "invalid_grant" or status = "BAD_REFRESH_TOKEN"',
  },
  timeoutMs: 5000,
  rateLimitHeaders: {
    limit: ['x-hubspot-ratelimit-max', 'x-hubspot-ratelimit-secondly'],
    remaining: ['x-hubspot-ratelimit-remaining', 'x-hubspot-ratelimit-secondly-remaining'],
    reset: ['x-hubspot-ratelimit-interval-milliseconds'],
    resetUnit: 'delay-ms',
  },
  // Waits by policy, for 429s whose headers give none. A batch write answers 207 when inputs
  // failed: a status that looks like success but is a rejection.
  // The interval header describes the short windows exactly, so for those the policy's wait is
  // only a default; a DAILY refusal outlasts any window header, so its wait always applies.
  signals: `(
    $waits := { "SECONDLY": 1, "TEN_SECONDLY_ROLLING": 10, "DAILY": 3600 };
    $windowKnown := $exists($headers."x-hubspot-ratelimit-interval-milliseconds");
    $policy := $type(policyName) = "string" ? policyName : message = ${JSON.stringify(SECONDLY_MESSAGE)} ? "SECONDLY";
    $status = 429 and $exists($lookup($waits, $policy)) ? {
      "outcome": "rate_limited",
      "reason": $policy = "DAILY"
        ? "HubSpot daily limit reached (policy DAILY; it resets at midnight): " & message
        : $policy = "SECONDLY" and $not($exists(policyName))
          ? "HubSpot secondly limit (CRM search: five requests a second per account): " & message
          : "HubSpot " & $policy & " limit: " & message,
      "waitSeconds": $policy = "DAILY" or $not($windowKnown) ? $lookup($waits, $policy) : undefined
    }
    : $status = 207 and numErrors > 0 ? {
      "outcome": "permanent",
      "reason": "batch write rejected: " & $join(errors.message, "; ")
    }
  )`,
  operations: {
    'crm.findAccounts': {
      method: 'POST',
      path: '/crm/v3/objects/companies/search',
      body: `$merge([
        {
          "filterGroups": [{ "filters": [{ "propertyName": "domain", "operator": "EQ", "value": input.domain }] }],
          "properties": ["name", "domain", "hs_additional_domains", "website", "hubspot_owner_id"],
          "limit": 100
        },
        cursor ? { "after": cursor } : {}
      ])`,
      response: `[results[$type(properties.hubspot_owner_id) = "string" and properties.hubspot_owner_id != ""].(
        $p := properties;
        {
          "id": id,
          "name": $p.name ? $p.name : $p.domain ? $p.domain : "",
          "ownerId": $p.hubspot_owner_id,
          "domains": [$distinct($filter(
            [$p.domain, $split($p.hs_additional_domains ? $p.hs_additional_domains : "", ";")][$type($) = "string"].$lowercase($trim($)),
            function($d) { $d != "" }
          ))],
          "website": $p.website ? $p.website : null
        }
      )]`,
      pagination: { nextCursor: 'paging.next.after' },
    },
    'crm.createLead': {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/upsert',
      // Absent lead fields are left out rather than sent as null, so an upsert never blanks a
      // value the contact already has.
      body: `{
        "inputs": [{
          "idProperty": "email",
          "id": input.lead.email,
          "properties": $sift({
            "email": input.lead.email,
            "firstname": input.lead.firstName,
            "lastname": input.lead.lastName,
            "company": input.lead.company,
            "jobtitle": input.lead.title,
            "phone": input.lead.phone,
            "hubspot_owner_id": input.ownerId,
            "leadrelay_key": input.idempotencyKey
          }, function($v) { $v != null })
        }]
      }`,
      response: `results[0].{
        "crmLeadId": id,
        "ownerId": properties.hubspot_owner_id,
        "created": new
      }`,
    },
    'crm.updateLeadOwner': {
      method: 'PATCH',
      path: '/crm/v3/objects/contacts/{crmLeadId}',
      body: '{ "properties": { "hubspot_owner_id": input.ownerId } }',
      response: '{ "crmLeadId": id, "ownerId": properties.hubspot_owner_id }',
    },
  },
};
