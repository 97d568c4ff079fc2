import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { canonicalJson } from '../canonicalJson';
import type { CampaignSnapshot, DocVersion, DocVersionSummary } from '../distribution/catalog';
import { catalogDocQuery, catalogListQuery, catalogSnapshotQuery, catalogVersionsQuery, putCatalogDocUpdate } from '../distribution/catalogMessages';
import type { DistributionDoc, DocKind } from '../distribution/model';
import { catalogWorkflowId, entityTaskQueue } from '../protocol/ids';
import { sha256Hex } from '../tenants/registry';
import { distributionCatalog } from '../../workflows';

/** Reads of the tenant's catalog entity, live; a tenant that never stored a document has an empty catalog. */
async function read<T>(temporal: Client, tenantId: string, ask: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<T>, empty: T): Promise<T> {
  try {
    return await ask(temporal.workflow.getHandle(catalogWorkflowId(tenantId)));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return empty;
    throw err;
  }
}

export const catalogDoc = <D = DistributionDoc>(temporal: Client, tenantId: string, kind: DocKind, id: string, version?: number) =>
  read(temporal, tenantId, (h) => h.query(catalogDocQuery, kind, id, ...(version === undefined ? [] : [version])) as Promise<DocVersion<D> | null>, null);

export const catalogList = (temporal: Client, tenantId: string, kind: DocKind) => read(temporal, tenantId, (h) => h.query(catalogListQuery, kind), [] as DocVersion[]);

export const catalogVersions = (temporal: Client, tenantId: string, kind: DocKind, id: string) =>
  read(temporal, tenantId, (h) => h.query(catalogVersionsQuery, kind, id), [] as DocVersionSummary[]);

export const campaignSnapshot = (temporal: Client, tenantId: string, campaignId: string, supplierId: string | null) =>
  read(temporal, tenantId, (h) => h.query(catalogSnapshotQuery, campaignId, supplierId), null as CampaignSnapshot | null);

/** Stores a validated document as its next version (the same content keeps its version). */
export function putCatalogDoc(temporal: Client, taskQueue: string, tenantId: string, kind: DocKind, doc: DistributionDoc, actor: string, note: string | null): Promise<DocVersion> {
  return temporal.workflow.executeUpdateWithStart(putCatalogDocUpdate, {
    args: [{ kind, id: doc.id, doc, hash: sha256Hex(canonicalJson(doc)), actor, note }],
    startWorkflowOperation: new WithStartWorkflowOperation(distributionCatalog, {
      workflowId: catalogWorkflowId(tenantId),
      taskQueue: entityTaskQueue(taskQueue),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ tenantId }],
    }),
  });
}
