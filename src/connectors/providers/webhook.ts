import type { ProviderDefinitionInput } from '../definition';

export const webhookProvider: ProviderDefinitionInput = {
  id: 'webhook',
  auth: { type: 'hmac', header: 'x-leadrelay-signature' },
  operations: {},
};
