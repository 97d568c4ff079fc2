import type { ProviderDefinitionInput } from '../definition';

export const slackProvider: ProviderDefinitionInput = {
  id: 'slack',
  auth: { type: 'bearer' },
  operations: {},
};
