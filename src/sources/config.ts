import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { TenantRegistry } from '../tenants/registry';
import type { SourceConfig, Tenant } from '../tenants/schema';
import { SOURCE_KIND_REGISTRY } from './kinds';
import { compileMapping, platformDefinition, SourceDefinitionSchema, type SourceDefinitionOverride } from './mapping';
import type { SourceKind, SourceKindName } from './types';

/**
 * Where a source is found: its public ID `src_<tenantId>_<id>` names the tenant and the source
 * (neither contains `_`), so the endpoint `POST /v1/sources/src_<tenantId>_<id>/events` needs no
 * API key: the source's own signature authenticates it.
 */
const PUBLIC_ID = /^src_([a-z0-9][a-z0-9-]{1,62})_([a-z0-9][a-z0-9-]{0,62})$/;

export function publicSourceId(tenantId: string, sourceId: string): string {
  return `src_${tenantId}_${sourceId}`;
}

export function parsePublicSourceId(value: string): { tenantId: string; sourceId: string } | null {
  const match = PUBLIC_ID.exec(value);
  return match ? { tenantId: match[1] as string, sourceId: match[2] as string } : null;
}

export interface ResolvedSource {
  tenant: Tenant;
  source: SourceConfig;
  kind: SourceKind;
}

/** The tenant and source a public ID names, or null (unknown tenant, source or kind). */
export function findSource(tenants: TenantRegistry, publicId: string): ResolvedSource | null {
  const ids = parsePublicSourceId(publicId);
  if (!ids) return null;
  const tenant = tenants.get(ids.tenantId);
  const source = tenant?.sources?.find((s) => s.id === ids.sourceId);
  const kind = source ? SOURCE_KIND_REGISTRY[source.kind] : undefined;
  return tenant && source && kind ? { tenant, source, kind } : null;
}

/** The public base URL a source's provider calls: the source's own, else the tenant's accept.publicUrl, else this request's. */
export function publicBaseUrl(tenant: Tenant, source: SourceConfig, fallback: string): string {
  return (source.publicUrl ?? tenant.accept.publicUrl ?? fallback).replace(/\/+$/, '');
}

/** The endpoint a provider is given for a source. */
export function sourceEndpoint(base: string, tenantId: string, sourceId: string): string {
  return `${base.replace(/\/+$/, '')}/v1/sources/${publicSourceId(tenantId, sourceId)}/events`;
}

/** Environment-level source mapping overrides: LEADRELAY_SOURCE_MAPPINGS names a JSON file of kind → `{ "mapping": "<JSONata>" }`. */
const EnvironmentFileSchema = z.record(z.string(), SourceDefinitionSchema.partial().strict());

let environmentCache: { file: string | undefined; value: Record<string, SourceDefinitionOverride> } | null = null;

export function environmentSourceMappings(env: Record<string, string | undefined> = process.env): Record<string, SourceDefinitionOverride> {
  const file = env['LEADRELAY_SOURCE_MAPPINGS'];
  if (environmentCache && environmentCache.file === file) return environmentCache.value;
  const value = file ? EnvironmentFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))) : {};
  environmentCache = { file, value };
  return value;
}

/**
 * Checks every tenant's sources at start-up: a kind this build has, its platform definition, the
 * environment's and the tenant's mappings compile. Throws naming the tenant, source and layer.
 */
export function validateSources(tenants: TenantRegistry, env: Record<string, string | undefined> = process.env): void {
  const environment = environmentSourceMappings(env);
  for (const [kind, override] of Object.entries(environment)) {
    if (override.mapping) compileMapping(override.mapping, `LEADRELAY_SOURCE_MAPPINGS: ${kind}.mapping`);
  }
  for (const tenant of tenants.list()) {
    for (const source of tenant.sources ?? []) {
      const where = `tenant ${tenant.id}: sources.${source.id}`;
      if (!SOURCE_KIND_REGISTRY[source.kind]) throw new Error(`${where}: kind ${source.kind} is not available in this build`);
      platformDefinition(source.kind as SourceKindName);
      if (source.mapping) compileMapping(source.mapping, `${where}.mapping`);
    }
  }
}
