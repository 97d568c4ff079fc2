import type { ProviderDefinitionInput } from '../definition';

export const msgraphProvider: ProviderDefinitionInput = {
  id: 'msgraph',
  auth: { type: 'oauth2', tokenPath: '/oauth2/v2.0/token', lifetimeSeconds: 3600 },
  operations: {},
};
