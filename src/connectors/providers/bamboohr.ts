import type { ProviderDefinitionInput } from '../definition';

export const bamboohrProvider: ProviderDefinitionInput = {
  id: 'bamboohr',
  auth: { type: 'basic', username: '{secret}', password: 'x' },
  operations: {},
};
