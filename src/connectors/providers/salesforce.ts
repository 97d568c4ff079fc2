import type { ProviderDefinitionInput } from '../definition';

export const salesforceProvider: ProviderDefinitionInput = {
  id: 'salesforce',
  auth: { type: 'oauth2', tokenPath: '/services/oauth2/token', lifetimeSeconds: 7200 },
  operations: {},
};
