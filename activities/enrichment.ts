import type { Connectors } from '../src/connectors/registry';
import type { EnrichmentFacts } from '../src/domain/routing';
import type { Upstream } from '../src/domain/upstream';
import { connectorClient } from './context';

export interface EnrichmentActivityDeps {
  connectors: Connectors;
}

/** Company facts from the tenant's enrichment provider, when it has one. */
export function createEnrichmentActivities(deps: EnrichmentActivityDeps) {
  const { connectors } = deps;
  const client = connectorClient(connectors);
  return {
    async enrichCompany(input: { tenantId: string; domain: string }): Promise<EnrichmentFacts & Upstream> {
      if (!connectors.connection(input.tenantId, 'enrichment')) {
        return { status: 'skipped', reason: 'no enrichment connection configured', calls: [] };
      }
      const result = await client(input.tenantId, 'enrichment').call('enrichment.company', { domain: input.domain });
      return { ...result.data, calls: [result.meta] };
    },
  };
}
