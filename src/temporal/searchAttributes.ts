import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes a lead's run carries, so it can be found in the Web UI and through
 * visibility queries (e.g. `LeadDomain = "acme.com"`). Registered on the server at start-up.
 * The API sets the finding ones when it starts a run: `LeadEmailHash` is a keyed hash of the
 * normalized email, never the address (see src/domain/searchKeys.ts), `LeadCompany` the company
 * lower-cased, `LeadSource` the lead's source. No plain email, name or phone is ever one of them.
 * Quarantined source payloads (workflows/quarantine.ts) carry `LeadTenant`, `LeadSource` (the
 * source's ID) and `QuarantineStatus` (held, replayed, discarded or expired): never the payload.
 * `LeadLane` is the lead's lane (interactive, standard, bulk; see src/domain/lane.ts): the API
 * counts a tenant's queued leads by it to push back (src/api/admission.ts).
 */
export const SEARCH_ATTRIBUTES = {
  LeadTenant: 'Keyword',
  LeadDomain: 'Keyword',
  LeadOwner: 'Keyword',
  RoutingStatus: 'Keyword',
  RoutingRule: 'Keyword',
  LeadEmailHash: 'Keyword',
  LeadCompany: 'Keyword',
  LeadSource: 'Keyword',
  QuarantineStatus: 'Keyword',
  LeadLane: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

export const LeadTenant = defineSearchAttributeKey('LeadTenant', SearchAttributeType.KEYWORD);
export const LeadDomain = defineSearchAttributeKey('LeadDomain', SearchAttributeType.KEYWORD);
export const LeadOwner = defineSearchAttributeKey('LeadOwner', SearchAttributeType.KEYWORD);
export const RoutingStatus = defineSearchAttributeKey('RoutingStatus', SearchAttributeType.KEYWORD);
export const RoutingRule = defineSearchAttributeKey('RoutingRule', SearchAttributeType.KEYWORD);
export const LeadEmailHash = defineSearchAttributeKey('LeadEmailHash', SearchAttributeType.KEYWORD);
export const LeadCompany = defineSearchAttributeKey('LeadCompany', SearchAttributeType.KEYWORD);
export const LeadSource = defineSearchAttributeKey('LeadSource', SearchAttributeType.KEYWORD);
export const QuarantineStatus = defineSearchAttributeKey('QuarantineStatus', SearchAttributeType.KEYWORD);
export const LeadLane = defineSearchAttributeKey('LeadLane', SearchAttributeType.KEYWORD);
