import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { clockFields, type BusinessClock } from '../src/clock';
import type { Connectors } from '../src/connectors/registry';
import type { EffectivePolicy } from '../src/domain/policy/store';
import type { LoadedRoutingConfig, RoutingConfig } from '../src/domain/routing';
import { currentPolicy } from '../src/temporal/entities';
import type { TenantRegistry } from '../src/tenants/registry';
import { cancellable } from './context';

export interface ConfigActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  /** Client that reads the tenant's policy entity workflow. */
  temporal: Client;
  clock: BusinessClock;
}

/** The tenant's routing configuration and the policy version it routes with. */
export function createConfigActivities(deps: ConfigActivityDeps) {
  const { tenants, connectors, temporal, clock } = deps;
  /**
   * Leads of one tenant that load the policy at the same moment share one read (single flight):
   * a burst of leads would otherwise queue hundreds of queries on the one policy workflow. Not a
   * cache: an answer is never reused once its read has finished.
   */
  const policyReads = new Map<string, Promise<{ version: string; policy: EffectivePolicy['policy'] }>>();
  const readPolicy = (config: RoutingConfig) => {
    let read = policyReads.get(config.tenantId);
    if (!read) {
      read = cancellable(temporal, () => currentPolicy(temporal, config)).finally(() => policyReads.delete(config.tenantId));
      policyReads.set(config.tenantId, read);
    }
    return read;
  };

  return {
    /** The tenant's team and settings, and the policy version new leads route with (read live, never cached). */
    async loadRoutingConfig(input: { tenantId: string }): Promise<LoadedRoutingConfig> {
      if (!tenants.get(input.tenantId)) {
        throw ApplicationFailure.nonRetryable(`unknown tenant ${input.tenantId}`, 'ConnectionMisconfigured');
      }
      const config = { ...tenants.routingConfig(input.tenantId), connections: connectors.summaries(input.tenantId) };
      const { version, policy } = await readPolicy(config);
      // A simulated business clock is recorded with the config, so the run (and its replay) judges
      // hours, leave and SLAs at the simulated time; absent in real time, as in older histories.
      return { config, policy: { version, policy }, ...clockFields(clock) };
    },
  };
}
