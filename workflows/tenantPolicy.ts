import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PolicyVersion, PublishPolicyRequest } from '../src/domain/policy/store';
import { policyVersionQuery, policyVersionsQuery, publishPolicyUpdate } from '../src/protocol/messages';
import { appendVersion } from '../src/protocol/versions';

export interface TenantPolicyInput {
  tenantId: string;
  versions?: PolicyVersion[];
}

/** Versions kept in the entity; older ones stay readable in earlier runs' histories. */
const KEEP_VERSIONS = 50;
const MAX_HISTORY_EVENTS = 2_000;

/**
 * The tenant's routing policies, one durable entity per tenant. Publishing is an Update (the API
 * validates first), so every change is in this workflow's history: who published which version,
 * when, and why. Leads read the current version through a query from their config activity.
 */
export async function tenantPolicy(input: TenantPolicyInput): Promise<void> {
  const versions: PolicyVersion[] = input.versions ?? [];

  setHandler(
    publishPolicyUpdate,
    (req: PublishPolicyRequest): PolicyVersion =>
      appendVersion(
        versions,
        req.hash,
        (version) => ({ version, hash: req.hash, policy: req.policy, publishedAt: new Date(Date.now()).toISOString(), actor: req.actor, note: req.note }),
        KEEP_VERSIONS,
      ),
    {
      validator: (req: PublishPolicyRequest) => {
        if (!req.policy || !req.hash) throw new Error('a policy and its hash are required');
      },
    },
  );

  setHandler(policyVersionQuery, (version?: number) =>
    version === undefined ? (versions[versions.length - 1] ?? null) : (versions.find((v) => v.version === version) ?? null),
  );
  setHandler(policyVersionsQuery, () => versions.map(({ policy: _policy, ...summary }) => summary));

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS);
  await condition(allHandlersFinished);
  await continueAsNew<typeof tenantPolicy>({ tenantId: input.tenantId, versions });
}
