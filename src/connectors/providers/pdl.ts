import type { ProviderDefinitionInput } from '../definition';

export const pdlProvider: ProviderDefinitionInput = {
  id: 'pdl',
  auth: { type: 'header', name: 'x-api-key', prefix: '' },
  operations: {},
};
