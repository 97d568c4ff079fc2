import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPolicy } from '../domain/policy/defaults';
import type { EffectivePolicy, PolicyVersion } from '../domain/policy/store';
import type { Policy } from '../domain/policy/types';
import { canonicalJson } from '../canonicalJson';
import { sha256Hex } from '../tenants/registry';
import type { RoutingConfig } from '../domain/routing';
import { entityTaskQueue, policyWorkflowId } from '../protocol/ids';
import { policyVersionQuery, publishPolicyUpdate } from '../protocol/messages';
import { tenantPolicy } from '../../workflows';

/** The published policy, or the tenant's built-in default when none has been published. Read live. */
export async function currentPolicy(temporal: Client, config: RoutingConfig): Promise<EffectivePolicy & { publishedAt: string | null; actor: string | null }> {
  try {
    const published = await temporal.workflow.getHandle(policyWorkflowId(config.tenantId)).query(policyVersionQuery);
    if (published) return { version: `v${published.version}`, policy: published.policy, publishedAt: published.publishedAt, actor: published.actor };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return { version: `default-${config.version}`, policy: defaultPolicy(config), publishedAt: null, actor: null };
}

/** Publishes a validated policy as the tenant's next version (the same content keeps its version). */
export async function publishPolicy(
  temporal: Client,
  taskQueue: string,
  tenantId: string,
  policy: Policy,
  actor: string,
  note: string | null,
): Promise<PolicyVersion> {
  return temporal.workflow.executeUpdateWithStart(publishPolicyUpdate, {
    args: [{ policy, hash: sha256Hex(canonicalJson(policy)), actor, note }],
    startWorkflowOperation: new WithStartWorkflowOperation(tenantPolicy, {
      workflowId: policyWorkflowId(tenantId),
      taskQueue: entityTaskQueue(taskQueue),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ tenantId }],
    }),
  });
}
