import type { ProviderDefinitionInput } from '../definition';

export const hubspotProvider: ProviderDefinitionInput = {
  id: 'hubspot',
  auth: { type: 'oauth2', tokenPath: '/oauth/v1/token', lifetimeSeconds: 1800 },
  operations: {},
};
