import type { ProviderDefinitionInput } from '../definition';

export const pipedriveProvider: ProviderDefinitionInput = {
  id: 'pipedrive',
  auth: { type: 'header', name: 'x-api-token', prefix: '' },
  operations: {},
};
