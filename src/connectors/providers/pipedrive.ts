import type { ProviderDefinitionInput } from '../definition';

/**
 * Pipedrive API v2 (base `https://<company>.pipedrive.com`), API token in `x-api-token`.
 *
 * - Accounts are organizations. Pipedrive has no domain field on organizations, so the company's
 *   domain lives in a custom field: the search asks for an exact match in custom fields only, and
 *   the matched domain is the one searched for (search items list custom field values without
 *   saying which field they came from). Search items carry no website.
 * - Leads are persons. Pipedrive has no upsert and no idempotency keys, so `crm.findLead`
 *   (exact email search) lets the caller find a person a retried create already made.
 * - IDs (persons, organizations, owners) are integers on the wire: they are strings here, and an
 *   owner ID is sent back as a number.
 * - Limits, per API token: a 2-second burst window (20 to 120 requests by plan), the Search API's
 *   own window of 10 requests per 2 s, and the company's daily token budget (30,000 base tokens ×
 *   plan multiplier × seats; a search costs 40 tokens). Each answer's `x-ratelimit-*` headers
 *   describe a 2-second window, reset in seconds to wait; a limit is a 429. A 429 with
 *   `x-daily-ratelimit-token-remaining: 0` is the spent daily budget: it comes back at midnight
 *   UTC, a wait a lead's urgency cap turns into its fallback path. Two searches per lead (the
 *   organization, then the person) hold a token to about 5 leads per 2 s.
 */
export const pipedriveProvider: ProviderDefinitionInput = {
  id: 'pipedrive',
  auth: { type: 'header', name: 'x-api-token', prefix: '' },
  timeoutMs: 5000,
  rateLimitHeaders: {
    limit: ['x-ratelimit-limit'],
    remaining: ['x-ratelimit-remaining'],
    reset: ['x-ratelimit-reset'],
    resetUnit: 'delay-seconds',
  },
  signals: `$status = 429 and $headers."x-daily-ratelimit-token-remaining" = "0" ? {
    "outcome": "rate_limited",
    "reason": "Pipedrive daily API token budget spent (it resets at midnight UTC)" & ($type(error) = "string" ? ": " & error : ""),
    "waitSeconds": 86400 - $floor($nowMs / 1000) % 86400
  }`,
  operations: {
    'crm.findAccounts': {
      method: 'GET',
      path: '/api/v2/organizations/search',
      query: '{ "term": input.domain, "fields": "custom_fields", "exact_match": "true", "limit": 100 }',
      // Only owned organizations: the account schema needs an owner (Pipedrive always sets one).
      response: `[data.items.item[$exists(owner.id) and owner.id != null].{
        "id": $string(id),
        "name": name,
        "ownerId": $string(owner.id),
        "domains": [$lowercase($input.domain)],
        "website": null
      }]`,
      pagination: { nextCursor: 'additional_data.next_cursor', cursorParam: 'cursor' },
    },
    'crm.findLead': {
      method: 'GET',
      path: '/api/v2/persons/search',
      query: '{ "term": input.email, "fields": "email", "exact_match": "true" }',
      response: `[data.items.item.{
        "crmLeadId": $string(id),
        "ownerId": $exists(owner.id) and owner.id != null ? $string(owner.id) : null
      }]`,
    },
    'crm.createLead': {
      method: 'POST',
      path: '/api/v2/persons',
      body: `{
        "name": input.lead.fullName ? input.lead.fullName : input.lead.email,
        "owner_id": $number(input.ownerId),
        "emails": [{ "value": input.lead.email, "primary": true, "label": "work" }],
        "phones": input.lead.phone ? [{ "value": input.lead.phone, "primary": true, "label": "work" }]
      }`,
      response: '{ "crmLeadId": $string(data.id), "ownerId": $string(data.owner_id) }',
    },
    'crm.updateLeadOwner': {
      method: 'PATCH',
      path: '/api/v2/persons/{crmLeadId}',
      body: '{ "owner_id": $number(input.ownerId) }',
      response: '{ "crmLeadId": $string(data.id), "ownerId": $string(data.owner_id) }',
    },
  },
};
