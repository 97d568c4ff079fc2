import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { entityTaskQueue } from '../protocol/ids';
import { sourceMappings } from '../../workflows';
import { currentSourceMappingsQuery, publishSourceMappingUpdate, sourceMappingsWorkflowId, sourceMappingVersionsQuery, type SourceMappingVersion } from './messages';

/** The tenant's published source mapping overrides, read live (source ID → newest version); none when nothing was published. */
export async function publishedSourceMappings(client: Client, tenantId: string): Promise<Record<string, SourceMappingVersion>> {
  try {
    return await client.workflow.getHandle(sourceMappingsWorkflowId(tenantId)).query(currentSourceMappingsQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return {};
    throw err;
  }
}

export async function sourceMappingVersions(client: Client, tenantId: string, sourceId: string): Promise<SourceMappingVersion[]> {
  try {
    return await client.workflow.getHandle(sourceMappingsWorkflowId(tenantId)).query(sourceMappingVersionsQuery, sourceId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
}

/** Publishes a source's mapping override (null withdraws it) as its next version; the same text keeps its version. */
export async function publishSourceMapping(
  client: Client,
  taskQueue: string,
  tenantId: string,
  sourceId: string,
  mapping: string | null,
  actor: string,
  note: string | null,
): Promise<SourceMappingVersion> {
  const hash = createHash('sha256').update(mapping === null ? '\u0000withdrawn' : mapping).digest('hex');
  return client.workflow.executeUpdateWithStart(publishSourceMappingUpdate, {
    args: [{ sourceId, mapping, hash, actor, note }],
    startWorkflowOperation: new WithStartWorkflowOperation(sourceMappings, {
      workflowId: sourceMappingsWorkflowId(tenantId),
      taskQueue: entityTaskQueue(taskQueue),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ tenantId }],
    }),
  });
}
