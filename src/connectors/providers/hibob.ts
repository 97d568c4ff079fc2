import type { ProviderDefinitionInput } from '../definition';

export const hibobProvider: ProviderDefinitionInput = {
  id: 'hibob',
  auth: { type: 'basic', username: '{accountId}', password: '{secret}' },
  operations: {},
};
