import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes a lead's run carries, so it can be found in the Web UI and through
 * visibility queries (e.g. `LeadDomain = "acme.com"`). Registered on the server at start-up.
 */
export const SEARCH_ATTRIBUTES = {
  LeadTenant: 'Keyword',
  LeadDomain: 'Keyword',
  LeadOwner: 'Keyword',
  RoutingStatus: 'Keyword',
  RoutingRule: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

export const LeadTenant = defineSearchAttributeKey('LeadTenant', SearchAttributeType.KEYWORD);
export const LeadDomain = defineSearchAttributeKey('LeadDomain', SearchAttributeType.KEYWORD);
export const LeadOwner = defineSearchAttributeKey('LeadOwner', SearchAttributeType.KEYWORD);
export const RoutingStatus = defineSearchAttributeKey('RoutingStatus', SearchAttributeType.KEYWORD);
export const RoutingRule = defineSearchAttributeKey('RoutingRule', SearchAttributeType.KEYWORD);
