import type { ProviderDefinitionInput } from '../definition';

export const googleProvider: ProviderDefinitionInput = {
  id: 'google',
  auth: { type: 'oauth2', tokenPath: '/token', lifetimeSeconds: 3600 },
  operations: {},
};
