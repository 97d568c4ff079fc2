import type { ProviderDefinitionInput } from '../definition';

/**
 * Clearbit-style company enrichment. A 404 means "no such company" and a 202 means "queued, ask
 * again later": both are answers, not failures, so the mapping handles them.
 */
export const clearbitProvider: ProviderDefinitionInput = {
  id: 'clearbit',
  auth: { type: 'bearer' },
  timeoutMs: 3000,
  operations: {
    'enrichment.company': {
      method: 'GET',
      path: '/v2/companies/find',
      query: '{ "domain": input.domain }',
      acceptStatuses: [202, 404],
      response: `$status = 404 ? { "status": "not_found", "reason": "no company record for " & $input.domain }
        : $status = 202 ? { "status": "pending", "reason": "enrichment queued upstream" }
        : {
          "status": "found",
          "company": {
            "name": $exists(name) ? name : null,
            "domain": domain ? domain : $input.domain,
            "industry": $exists(category.industry) ? category.industry : null,
            "sector": $exists(category.sector) ? category.sector : null,
            "country": $exists(geo.country) ? geo.country : null,
            "countryCode": $exists(geo.countryCode) ? geo.countryCode : null,
            "state": $exists(geo.state) ? geo.state : null,
            "employees": $exists(metrics.employees) ? metrics.employees : null,
            "employeesRange": $exists(metrics.employeesRange) ? metrics.employeesRange : null,
            "annualRevenue": $exists(metrics.annualRevenue) ? metrics.annualRevenue : null
          }
        }`,
    },
  },
};
