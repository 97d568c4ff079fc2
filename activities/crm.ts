import type { OperationOutput } from '../src/connectors/normalized';
import type { Connectors } from '../src/connectors/registry';
import type { NormalizedLead } from '../src/domain/lead';
import type { AccountMatch } from '../src/domain/routing';
import type { CallMeta, Upstream } from '../src/domain/upstream';
import { connectorClient } from './context';
import type { OwnerMove } from '../src/protocol/keys';

export interface CrmActivityDeps {
  connectors: Connectors;
}

/** Account matching and lead ownership in the tenant's CRM. */
export function createCrmActivities(deps: CrmActivityDeps) {
  const client = connectorClient(deps.connectors);
  return {
    /**
     * First domain with a matching account wins; domains are tried most specific first. A CRM
     * that can look up several domains in one call (Salesforce composite) gets one call.
     */
    async matchAccount(input: { tenantId: string; domains: string[] }): Promise<AccountMatch & Upstream> {
      const crm = client(input.tenantId, 'crm');
      const calls: CallMeta[] = [];
      const pick = (domain: string, accounts: OperationOutput<'crm.findAccounts'>): (AccountMatch & Upstream) | null => {
        const [first, ...others] = [...accounts].sort((a, b) => a.id.localeCompare(b.id));
        return first ? { status: 'matched', account: first, matchedDomain: domain, otherMatches: others.map((a) => a.id), calls } : null;
      };
      // A batch has a cap in its definition (Salesforce's composite: five queries): more domains than that go one by one.
      const cap = crm.supports('crm.findAccountsByDomains') ? (crm.maxBatch('crm.findAccountsByDomains') ?? Infinity) : 0;
      if (input.domains.length > 1 && input.domains.length <= cap) {
        const result = await crm.call('crm.findAccountsByDomains', { domains: input.domains });
        calls.push(result.meta);
        for (const domain of input.domains) {
          const hit = pick(domain, result.data.find((d) => d.domain === domain)?.accounts ?? []);
          if (hit) return hit;
        }
        return { status: 'none', domains: input.domains, calls };
      }
      for (const domain of input.domains) {
        const result = await crm.call('crm.findAccounts', { domain });
        calls.push(result.meta);
        const hit = pick(domain, result.data);
        if (hit) return hit;
      }
      return { status: 'none', domains: input.domains, calls };
    },

    /**
     * Creates the lead in the CRM with its owner. Idempotent however the CRM offers it: an
     * idempotency key (unified APIs), an upsert by an external key (Salesforce, HubSpot), or,
     * for CRMs with neither (Pipedrive), a search for the lead's email first and an owner update
     * when it is already there.
     */
    /**
     * The lead's CRM record with its owner. The result repeats the owner and the idempotency key:
     * a lean run writes first as a local activity, whose marker records the result, not the input.
     */
    async assignOwner(input: { tenantId: string; lead: NormalizedLead; ownerId: string; idempotencyKey: string }): Promise<{ crmLeadId: string; replayed: boolean; assigned?: { ownerId: string; idempotencyKey: string } } & Upstream> {
      const assigned = { ownerId: input.ownerId, idempotencyKey: input.idempotencyKey };
      const crm = client(input.tenantId, 'crm');
      const calls: CallMeta[] = [];
      if (crm.supports('crm.findLead')) {
        const found = await crm.call('crm.findLead', { email: input.lead.email });
        calls.push(found.meta);
        const existing = found.data[0];
        if (existing) {
          const updated = existing.ownerId === input.ownerId ? null : await crm.call('crm.updateLeadOwner', { ...input, crmLeadId: existing.crmLeadId });
          if (updated) calls.push(updated.meta);
          return { crmLeadId: existing.crmLeadId, replayed: true, assigned, calls };
        }
      }
      const result = await crm.call('crm.createLead', input);
      return { crmLeadId: result.data.crmLeadId, replayed: result.meta.replayed, assigned, calls: [...calls, result.meta] };
    },

    /** `move` says what the change is, for the audit (inputs recorded before it carry none). */
    async changeOwner(input: { tenantId: string; crmLeadId: string; ownerId: string; idempotencyKey: string; move?: OwnerMove }): Promise<{ crmLeadId: string; replayed: boolean } & Upstream> {
      const { move: _move, ...write } = input;
      const result = await client(input.tenantId, 'crm').call('crm.updateLeadOwner', write);
      return { crmLeadId: result.data.crmLeadId, replayed: result.meta.replayed, calls: [result.meta] };
    },
  };
}
