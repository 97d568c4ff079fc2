import type { RoutingConfig } from '../routing';
import type { Policy } from './types';

/**
 * The policy a tenant routes with until it publishes one: the account's owner when available,
 * otherwise strict round robin over the configured pool, otherwise the fallback.
 */
export function defaultPolicy(config: Pick<RoutingConfig, 'pool' | 'fallback' | 'timezone'>): Policy {
  return {
    timezone: config.timezone,
    pools: [{ id: config.pool.id, strategy: 'round_robin', members: config.pool.members.map((repId) => ({ repId })) }],
    rules: [
      {
        id: 'existing-account',
        name: 'Existing account: its owner',
        when: { field: 'account.id', exists: true },
        action: { type: 'account_owner', otherwise: { pool: config.pool.id } },
      },
      { id: 'everyone-else', name: 'Everyone else: the inbound pool', when: { all: [] }, action: { type: 'pool', pool: config.pool.id } },
    ],
    fallback: { ownerId: config.fallback.ownerId, label: config.fallback.label, notifyChannel: config.fallback.notifyChannel },
  };
}
