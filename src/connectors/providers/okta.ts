import type { ProviderDefinitionInput } from '../definition';

export const oktaProvider: ProviderDefinitionInput = {
  id: 'okta',
  auth: { type: 'header', name: 'authorization', prefix: 'SSWS ' },
  operations: {},
};
