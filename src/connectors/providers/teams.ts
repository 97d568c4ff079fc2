import type { ProviderDefinitionInput } from '../definition';

export const teamsProvider: ProviderDefinitionInput = {
  id: 'teams',
  auth: { type: 'query', name: 'sig' },
  operations: {},
};
