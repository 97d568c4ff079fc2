import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CampaignSnapshot, DocVersion, DocVersionSummary, PutDocRequest } from './catalog';
import type { DocKind } from './model';

/** Put a validated document; answers with the version it became (the same content keeps its version). */
export const putCatalogDocUpdate = defineUpdate<DocVersion, [PutDocRequest]>('putCatalogDoc');
/** A document's current version, or a given one; null when there is none. */
export const catalogDocQuery = defineQuery<DocVersion | null, [DocKind, string, number?]>('catalogDoc');
/** Every document of a kind, current versions. */
export const catalogListQuery = defineQuery<DocVersion[], [DocKind]>('catalogList');
/** A document's versions kept in the entity (older ones are in its history). */
export const catalogVersionsQuery = defineQuery<DocVersionSummary[], [DocKind, string]>('catalogVersions');
/** What a lead needs: the campaign, its supplier and its buyers, current versions; null for an unknown campaign. */
export const catalogSnapshotQuery = defineQuery<CampaignSnapshot | null, [string, string | null]>('catalogSnapshot');
