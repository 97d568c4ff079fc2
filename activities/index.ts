import type { Client } from '@temporalio/client';
import { businessClock, type BusinessClock } from '../src/clock';
import type { Connectors } from '../src/connectors/registry';
import type { BreakerBoard } from '../src/distribution/breakerBoard';
import type { TenantRegistry } from '../src/tenants/registry';
import { createAccountActivities } from './accounts';
import { createBuyerActivities } from './buyers';
import { createCalendarActivities } from './calendar';
import { createConfigActivities } from './config';
import { createCrmActivities } from './crm';
import { createDedupeActivities } from './dedupe';
import { createDistributionActivities } from './distribution';
import { createEnrichmentActivities } from './enrichment';
import { createHrisActivities } from './hris';
import { createMessagingActivities } from './messaging';
import { createPoolActivities } from './pools';

export interface ActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  /** Client used to reach pool entity workflows (update-with-start). */
  temporal: Client;
  /** Where `{ env: NAME }` secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Task queue of the pool and policy entity workflows (see `entityTaskQueue`). */
  entityTaskQueue: string;
  /** What time it is for routing (default the process's business clock: real time unless simulated). */
  clock?: BusinessClock;
  /** Where buyer breaker states go for /metrics (default the connectors' board). */
  breakers?: BreakerBoard;
  /** Environment-level buyer request templates (ID → JSONata); each tenant's come from its configuration. */
  distributionTemplates?: Record<string, string>;
  /** Buyer endpoints may name loopback and private addresses (sandbox and tests only). */
  allowPrivateBuyerUrls?: boolean;
}

/**
 * Every activity the worker registers, by name: workflows call them by these names and recorded
 * histories carry them, so names and input/output shapes are fixed. Activities are thin: each
 * resolves the tenant's connector (or an entity workflow) and calls one or a few operations;
 * one file per system they reach.
 */
export function createActivities(deps: ActivityDeps) {
  const clock = deps.clock ?? businessClock;
  const accounts = createAccountActivities({ temporal: deps.temporal, entityTaskQueue: deps.entityTaskQueue, breakers: deps.breakers ?? deps.connectors.breakers });
  const dedupe = createDedupeActivities({ temporal: deps.temporal, entityTaskQueue: deps.entityTaskQueue, ...(deps.env ? { env: deps.env } : {}) });
  return {
    ...createConfigActivities({ tenants: deps.tenants, connectors: deps.connectors, temporal: deps.temporal, clock }),
    ...createEnrichmentActivities({ connectors: deps.connectors }),
    ...createCrmActivities({ connectors: deps.connectors }),
    ...createHrisActivities({ tenants: deps.tenants, connectors: deps.connectors, clock }),
    ...createCalendarActivities({ connectors: deps.connectors }),
    ...createPoolActivities({ temporal: deps.temporal, entityTaskQueue: deps.entityTaskQueue, clock }),
    ...accounts,
    ...dedupe,
    ...createDistributionActivities({ temporal: deps.temporal, clock, accounts, dedupe }),
    ...createMessagingActivities({ tenants: deps.tenants, connectors: deps.connectors, ...(deps.env ? { env: deps.env } : {}) }),
    ...createBuyerActivities({
      tenants: deps.tenants,
      connectors: deps.connectors,
      ...(deps.env ? { env: deps.env } : {}),
      allowPrivateUrls: deps.allowPrivateBuyerUrls === true,
      templates: {
        ...(deps.distributionTemplates ? { environment: deps.distributionTemplates } : {}),
        tenant: (tenantId) => deps.tenants.get(tenantId)?.distribution?.templates,
      },
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
