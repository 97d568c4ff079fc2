import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { KEEP_VERSIONS_PER_DOC, type DocVersion, type DocVersionSummary, type PutDocRequest } from '../src/distribution/catalog';
import type { Buyer, Campaign, DocKind, Supplier } from '../src/distribution/model';
import { appendVersion } from '../src/protocol/versions';
import { catalogDocQuery, catalogListQuery, catalogSnapshotQuery, catalogVersionsQuery, putCatalogDocUpdate } from '../src/distribution/catalogMessages';

export interface DistributionCatalogInput {
  tenantId: string;
  /** kind → id → versions, oldest first (the last is current). */
  docs?: Record<DocKind, Record<string, DocVersion[]>>;
}

const MAX_HISTORY_EVENTS = 2_000;

/**
 * A tenant's campaigns, suppliers and buyers: one durable entity per tenant. Every change is an
 * Update (the API validates first), so this workflow's history says who changed what, when and
 * why; leads read the current versions through a query when they start.
 */
export async function distributionCatalog(input: DistributionCatalogInput): Promise<void> {
  const docs: Record<DocKind, Record<string, DocVersion[]>> = input.docs ?? { campaign: {}, supplier: {}, buyer: {} };
  /** A document's versions: own keys only, so an ID such as `constructor` never names Object's own. */
  const versionsOf = (kind: DocKind, id: string): DocVersion[] | undefined => (Object.hasOwn(docs, kind) && Object.hasOwn(docs[kind], id) ? docs[kind][id] : undefined);
  const current = <D>(kind: DocKind, id: string): DocVersion<D> | null => {
    const versions = versionsOf(kind, id);
    return versions && versions.length ? (versions[versions.length - 1] as DocVersion<D>) : null;
  };

  setHandler(
    putCatalogDocUpdate,
    (req: PutDocRequest): DocVersion =>
      appendVersion(
        versionsOf(req.kind, req.id) ?? (docs[req.kind][req.id] = []),
        req.hash,
        (version) => ({ kind: req.kind, id: req.id, version, hash: req.hash, doc: req.doc, updatedAt: new Date(Date.now()).toISOString(), actor: req.actor, note: req.note }),
        KEEP_VERSIONS_PER_DOC,
      ),
    {
      validator: (req: PutDocRequest) => {
        if (!req || !Object.hasOwn(docs, req.kind) || !req.id || !req.hash || req.doc === undefined) throw new Error('kind, id, doc and hash are required');
        if (['__proto__', 'constructor', 'prototype'].includes(req.id)) throw new Error(`${req.id} is not a document ID`);
      },
    },
  );

  setHandler(catalogDocQuery, (kind: DocKind, id: string, version?: number) => {
    if (version === undefined) return current(kind, id);
    return versionsOf(kind, id)?.find((v) => v.version === version) ?? null;
  });
  setHandler(catalogListQuery, (kind: DocKind) => Object.keys(Object.hasOwn(docs, kind) ? docs[kind] : {}).sort().map((id) => current(kind, id)).filter((v): v is DocVersion => v !== null));
  setHandler(catalogVersionsQuery, (kind: DocKind, id: string): DocVersionSummary[] => (versionsOf(kind, id) ?? []).map(({ doc: _doc, ...summary }) => summary));
  setHandler(catalogSnapshotQuery, (campaignId: string, supplierId: string | null) => {
    const campaign = current<Campaign>('campaign', campaignId);
    if (!campaign) return null;
    const buyers = campaign.doc.buyers.map((id) => current<Buyer>('buyer', id)).filter((b): b is DocVersion<Buyer> => b !== null);
    return { campaign, supplier: supplierId ? current<Supplier>('supplier', supplierId) : null, buyers };
  });

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS);
  await condition(allHandlersFinished);
  await continueAsNew<typeof distributionCatalog>({ tenantId: input.tenantId, docs });
}
