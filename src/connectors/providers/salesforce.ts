import type { ProviderDefinitionInput } from '../definition';

/**
 * Salesforce REST API v60.0 on the org's instance URL (`https://acme.my.salesforce.com`).
 * Accounts are found by SOQL on `Website` (Salesforce has no domain list), paged through
 * `nextRecordsUrl`; several domains go in one Composite call; leads are upserted by the
 * `Leadrelay_Key__c` external ID so a retried create finds the first record.
 */
const API = '/services/data/v60.0';

/** Domains compare trimmed and lower-case, in the query and in the filter alike. */
const DOMAIN_FUNCTION = '$normalDomain := function($d) { $lowercase($trim($d)) };';

/**
 * The accounts query for a domain. The domain goes into a SOQL string literal inside LIKE, so
 * backslashes and quotes are escaped and LIKE's own wildcards (`%`, `_`) made literal.
 */
const QUERY_FUNCTIONS = String.raw`
  ${DOMAIN_FUNCTION}
  $soqlContains := function($d) {
    "'%" & $replace($replace($replace($replace($d, "\\", "\\\\"), "'", "\\'"), "%", "\\%"), "_", "\\_") & "%'"
  };
  $accountsQuery := function($d) {
    "SELECT Id, Name, Website, OwnerId, Owner.Email FROM Account WHERE Website LIKE " & $soqlContains($d) & " ORDER BY Id LIMIT 200"
  };
`;

/**
 * Record → normalized account. `Website LIKE '%acme.com%'` also finds acme.com.evil.io, so only
 * accounts whose website host is the domain or one of its subdomains are kept.
 */
const ACCOUNT_FUNCTIONS = String.raw`
  ${DOMAIN_FUNCTION}
  $host := function($w) {
    $type($w) = "string"
      ? $replace($replace($replace($lowercase($trim($w)), /^[a-z][a-z0-9+.\-]*:\/\//, ""), /[\/?#:].*$/, ""), /^www\./, "")
  };
  $isDomainOf := function($h, $d) { $h = $d or $substring($h, -($length($d) + 1)) = "." & $d };
  $account := function($r) {
    {
      "id": $r.Id,
      "name": $r.Name,
      "ownerId": $r.OwnerId,
      "ownerEmail": $r.Owner.Email,
      "domains": [$host($r.Website)],
      "website": $r.Website
    }
  };
  $accountsOf := function($records, $d) { [$records[$isDomainOf($host(Website), $d)].$account($)] };
`;

export const salesforceProvider: ProviderDefinitionInput = {
  id: 'salesforce',
  // Salesforce's token answer has no expires_in: sessions last as the org's policy says (2 h by default).
  // The token answer's instance_url is the org's API host: calls go there, whatever login host issued the token.
  auth: { type: 'oauth2', tokenPath: '/services/oauth2/token', lifetimeSeconds: 7200, invalidGrant: 'error = "invalid_grant"', instanceUrlField: 'instance_url' },
  // Sforce-Limit-Info: api-usage=18/5000 is a rolling 24 h allowance; no reset is given.
  rateLimitHeaders: { limit: [], remaining: [], reset: [], usage: ['sforce-limit-info'] },
  /*
   * An exhausted allowance is a 403 (not 429) REQUEST_LIMIT_EXCEEDED, on its own or inside a
   * Composite answer; Composite always answers 200, so a failed subrequest fails the call here.
   */
  signals: String.raw`(
    $errors := $status >= 400 ? $ : compositeResponse[httpStatusCode >= 400].body;
    $limit := $errors[errorCode = "REQUEST_LIMIT_EXCEEDED"][0];
    $failed := compositeResponse[httpStatusCode >= 400][0];
    $limit ? { "outcome": "rate_limited", "reason": $limit.errorCode & ": " & $limit.message }
    : $failed ? {
        "outcome": $failed.httpStatusCode in [401, 403] ? "auth"
          : $failed.httpStatusCode = 404 ? "not_found"
          : $failed.httpStatusCode >= 500 ? "transient"
          : "permanent",
        "reason": "composite subrequest " & ($failed.referenceId ? $failed.referenceId : "(request)") & " failed with HTTP "
          & $failed.httpStatusCode & ": " & $join([$failed.body.(errorCode & ": " & message)], "; ")
      }
    : null
  )`,
  timeoutMs: 8000,
  operations: {
    'crm.findAccounts': {
      method: 'GET',
      path: `${API}/query`,
      query: `(${QUERY_FUNCTIONS} { "q": $accountsQuery($normalDomain(input.domain)) })`,
      response: `(${ACCOUNT_FUNCTIONS} $accountsOf(records, $normalDomain($input.domain)))`,
      pagination: { nextCursor: 'nextRecordsUrl', nextUrl: true },
    },
    'crm.findAccountsByDomains': {
      method: 'POST',
      path: `${API}/composite`,
      // Composite takes at most 5 query subrequests per call (more is refused with LIMIT_EXCEEDED).
      maxBatch: 5,
      // One query subrequest per domain, d0, d1, ... in input order.
      body: `(${QUERY_FUNCTIONS} {
        "allOrNone": false,
        "compositeRequest": [$map(input.domains, function($d, $i) {
          {
            "method": "GET",
            "url": "${API}/query?q=" & $encodeUrlComponent($accountsQuery($normalDomain($d))),
            "referenceId": "d" & $i
          }
        })]
      })`,
      response: `(${ACCOUNT_FUNCTIONS}
        $answers := compositeResponse;
        [$map($input.domains, function($d, $i) {
          { "domain": $d, "accounts": $accountsOf($answers[referenceId = "d" & $i].body.records, $normalDomain($d)) }
        })]
      )`,
    },
    'crm.createLead': {
      method: 'PATCH',
      // Upsert by external ID: a retry with the same key updates the lead it created (200, created: false).
      path: `${API}/sobjects/Lead/Leadrelay_Key__c/{idempotencyKey}`,
      // Without it the org's active assignment rules would overrule the owner Leadrelay chose.
      headers: '{ "Sforce-Auto-Assign": "FALSE" }',
      // LastName and Company are required on a Lead; a lead without them still has to land.
      body: `{
        "FirstName": input.lead.firstName,
        "LastName": input.lead.lastName ? input.lead.lastName : "[not provided]",
        "Company": input.lead.company ? input.lead.company : "[not provided]",
        "Email": input.lead.email,
        "Title": input.lead.title,
        "Phone": input.lead.phone,
        "LeadSource": input.lead.source,
        "OwnerId": input.ownerId
      }`,
      response: '{ "crmLeadId": id, "ownerId": $input.ownerId, "created": created }',
    },
    'crm.updateLeadOwner': {
      method: 'PATCH',
      path: `${API}/sobjects/Lead/{crmLeadId}`,
      headers: '{ "Sforce-Auto-Assign": "FALSE" }',
      body: '{ "OwnerId": input.ownerId }',
      // 204 without a body: the answer is what was asked.
      response: '{ "crmLeadId": $input.crmLeadId, "ownerId": $input.ownerId }',
    },
  },
};
