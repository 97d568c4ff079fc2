/**
 * The tenant's distribution catalog as it travels: documents with their versions, and the request
 * that changes one. Pure (the catalog entity workflow imports it).
 */
import type { Buyer, Campaign, DocKind, Supplier } from './model';

export interface DocVersion<D = unknown> {
  kind: DocKind;
  id: string;
  version: number;
  /** Content hash: the same document put twice keeps its version. */
  hash: string;
  doc: D;
  updatedAt: string;
  actor: string;
  note: string | null;
}
export type DocVersionSummary = Omit<DocVersion, 'doc'>;

export interface PutDocRequest {
  kind: DocKind;
  id: string;
  doc: unknown;
  hash: string;
  actor: string;
  note: string | null;
}

/** What one lead needs from the catalog, read once when it starts. */
export interface CampaignSnapshot {
  campaign: DocVersion<Campaign>;
  supplier: DocVersion<Supplier> | null;
  buyers: Array<DocVersion<Buyer>>;
}

/** Versions kept per document in the entity; every change stays in the entity's history. */
export const KEEP_VERSIONS_PER_DOC = 5;
