import { defineQuery, defineUpdate } from '@temporalio/workflow';

/*
 * The per-tenant entity that keeps published source mapping overrides (workflow ID
 * `sourcemap:<tenantId>`, on the entity task queue). Workflow-safe: types and message
 * definitions only.
 */

export interface SourceMappingVersion {
  version: number;
  /** SHA-256 of the mapping text: publishing the same text again is not a new version. */
  hash: string;
  /** The JSONata mapping; null withdraws the override (the configured mapping applies again). */
  mapping: string | null;
  publishedAt: string;
  actor: string;
  note: string | null;
}

export interface PublishSourceMappingRequest {
  sourceId: string;
  mapping: string | null;
  hash: string;
  actor: string;
  note: string | null;
}

export interface SourceMappingsInput {
  tenantId: string;
  /** Source ID → its versions, oldest first (carried over continue-as-new). */
  sources?: Record<string, SourceMappingVersion[]>;
}

export const publishSourceMappingUpdate = defineUpdate<SourceMappingVersion, [PublishSourceMappingRequest]>('publishSourceMapping');
/** Every source's newest version (source ID → version). */
export const currentSourceMappingsQuery = defineQuery<Record<string, SourceMappingVersion>>('currentSourceMappings');
/** One source's versions, newest last. */
export const sourceMappingVersionsQuery = defineQuery<SourceMappingVersion[], [string]>('sourceMappingVersions');

export function sourceMappingsWorkflowId(tenantId: string): string {
  return `sourcemap:${tenantId}`;
}
