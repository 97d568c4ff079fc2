import type { SandboxQuotas } from './quotas';

/**
 * The providers' own published limits, as sandbox quotas (`npm run bench -- --quotas real`; see
 * ./quotas.ts for the keys). One plan per provider, named below; change one with `--quota`
 * (e.g. `--quota hubspot/crm=100/10` for a Starter account). Read from each provider's public
 * documentation, late 2026; providers change them, so check the page before quoting a figure.
 *
 * What the sandbox does not model: rolling windows (its windows are fixed: a window opens at the
 * first request after the last one closed), bursts a provider tolerates over its stated rate
 * (Slack), limits shared with other apps of the same account, and concurrency limits.
 *
 * Providers with no entry keep the sandbox's own window (1,000 requests per 60 s):
 *  - the unified API (`unified`): no single provider; a unified-API vendor's limits vary by vendor and plan;
 *  - BambooHR, HiBob, Google Calendar, the Teams Workflows webhook and the generic webhook: no fixed
 *    figure we could find in their public documentation (Google's per-project and per-user quotas are
 *    set per project in the Cloud console);
 *  - the OAuth token endpoints.
 */
export const REAL_QUOTAS: SandboxQuotas = {
  // HubSpot, "API usage guidelines and limits", apps installed in one account (private apps),
  // Professional and Enterprise: 190 requests per 10 s (Free and Starter: 100 per 10 s), plus a
  // daily limit (Professional 650,000, Enterprise 1,000,000) no benchmark run reaches. CRM search
  // has its own limit, which the HubSpot emulator keeps (5 a second per account).
  // https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
  'hubspot/crm': { limit: 190, windowSeconds: 10 },

  // Salesforce, "API Request Limits and Allocations": Enterprise Edition, 100,000 requests per
  // 24 h plus 1,000 per Salesforce licence (the demo org's 6 users), over a rolling 24 h (fixed here).
  // https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
  'salesforce/crm': { limit: 106_000, windowSeconds: 86_400 },

  // Pipedrive, "Rate limiting" (token-based): Lite plan burst limit, 20 requests per 2 s per user
  // (more on higher plans, up to 120 on Ultimate). The Pipedrive emulator keeps the Search API's
  // own window (10 per 2 s) and the daily token budget (30,000 × plan multiplier × seats).
  // https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting
  'pipedrive/crm': { limit: 20, windowSeconds: 2 },

  // Slack, "Rate limits": chat.postMessage is special tier, about one message per second per
  // channel (short bursts tolerated, not modelled here), with a workspace-wide limit Slack does not
  // state. users.lookupByEmail, conversations.open and conversations.history are Tier 3, 50+ a
  // minute per method (conversations.history: 1 a minute for commercially distributed apps not in
  // the Slack Marketplace since 2025).
  // https://docs.slack.dev/apis/web-api/rate-limits
  // https://docs.slack.dev/reference/methods/chat.postMessage
  'slack:/api/chat.postMessage': { limit: 1, windowSeconds: 1, per: 'channel' },
  'slack:/api/users.lookupByEmail': { limit: 50, windowSeconds: 60 },
  'slack:/api/conversations.open': { limit: 50, windowSeconds: 60 },
  'slack:/api/conversations.history': { limit: 50, windowSeconds: 60 },

  // Clearbit (now HubSpot's Breeze Intelligence), API reference, "Rate limiting": 600 requests
  // per minute per API.
  // https://dashboard.clearbit.com/docs#rate-limiting
  clearbit: { limit: 600, windowSeconds: 60 },

  // People Data Labs, "Usage limits": per-minute limits per API key and endpoint, fixed 60 s
  // windows; 100 a minute is the enrichment default of paid plans (free plans: less).
  // https://docs.peopledatalabs.com/docs/usage-limits
  pdl: { limit: 100, windowSeconds: 60 },

  // Microsoft Graph, "throttling limits", Outlook service: 10,000 API requests per 10 minutes per
  // app per mailbox (the demo reads every rep's schedule through one mailbox).
  // https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits
  'msgraph/calendar': { limit: 10_000, windowSeconds: 600 },

  // Okta, "Management rate limits": /api/v1/users, 600 requests a minute for most Workforce
  // Identity orgs (the figure varies by org type and plan; the Admin Console shows the org's own).
  // https://developer.okta.com/docs/reference/rl-global-mgmt/
  'okta/hris': { limit: 600, windowSeconds: 60 },
};
