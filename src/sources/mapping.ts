import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsonata from 'jsonata';
import { z } from 'zod';
import { deepMerge } from '../connectors/definition';
import { LeadInputSchema, type LeadInput } from '../domain/leadSchema';
import { fieldIssues } from '../api/errors';
import type { SourceKindName } from './types';

/**
 * Source mappings are data: a JSONata expression per kind producing Leadrelay's lead input
 * (src/domain/leadSchema.ts) from one event. The same three-level stack as provider definitions:
 * the platform's definition (`definitions/<kind>.json`), the environment's override
 * (LEADRELAY_SOURCE_MAPPINGS, kind → `{ mapping }`) and the tenant's (the source's published
 * override, else its configured `mapping`), deep-merged with the connectors' deepMerge.
 * Each level's expression can use the result of the level below as `$base`, so an override may
 * adjust the platform mapping (`$merge([$base, { "company": answers.company }])`) instead of
 * rewriting it. Also bound: `$kind` and `$sourceId`.
 */
export const SourceDefinitionSchema = z
  .object({
    mapping: z.string().min(1),
    description: z.string().optional(),
  })
  .strict();
export type SourceDefinition = z.infer<typeof SourceDefinitionSchema>;
export type SourceDefinitionOverride = { mapping?: string | undefined; description?: string | undefined };

const DEFINITIONS_DIR = path.join(__dirname, 'definitions');
const platformCache = new Map<string, SourceDefinition>();

/** The platform's definition of a kind (read once per process). */
export function platformDefinition(kind: SourceKindName): SourceDefinition {
  const known = platformCache.get(kind);
  if (known) return known;
  const file = path.join(DEFINITIONS_DIR, `${kind}.json`);
  const definition = SourceDefinitionSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  compileMapping(definition.mapping, `definitions/${kind}.json`);
  platformCache.set(kind, definition);
  return definition;
}

export class MappingSyntaxError extends Error {
  constructor(
    readonly where: string,
    readonly position: number | null,
    readonly detail: string,
  ) {
    super(`${where}: invalid JSONata at position ${position ?? '?'}: ${detail}`);
    this.name = 'MappingSyntaxError';
  }
}

const compiledCache = new Map<string, jsonata.Expression>();

/** Compiles (and caches, by text) one JSONata mapping; throws MappingSyntaxError naming where. */
export function compileMapping(source: string, where: string): jsonata.Expression {
  const known = compiledCache.get(source);
  if (known) return known;
  try {
    const expression = jsonata(source);
    if (compiledCache.size > 500) compiledCache.clear();
    compiledCache.set(source, expression);
    return expression;
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new MappingSyntaxError(where, e.position ?? null, e.message ?? String(err));
  }
}

export interface MappingLayer {
  layer: 'platform' | 'environment' | 'tenant';
  definition: SourceDefinitionOverride;
}

/** The layers of a kind's stack that say something, bottom first. */
export function mappingLayers(kind: SourceKindName, environment: SourceDefinitionOverride | undefined, tenant: SourceDefinitionOverride | undefined): MappingLayer[] {
  const layers: MappingLayer[] = [{ layer: 'platform', definition: platformDefinition(kind) }];
  if (environment && Object.keys(environment).length > 0) layers.push({ layer: 'environment', definition: environment });
  if (tenant && Object.keys(tenant).length > 0) layers.push({ layer: 'tenant', definition: tenant });
  return layers;
}

/** The effective definition: every layer deep-merged over the one below (as provider definitions are). */
export function effectiveDefinition(layers: MappingLayer[]): SourceDefinition {
  return SourceDefinitionSchema.parse(layers.reduce<unknown>((acc, l) => deepMerge(acc, l.definition), {}));
}

export interface FieldProblem {
  field: string;
  message: string;
}

export type MappingOutcome = { ok: true; lead: LeadInput } | { ok: false; reason: string; issues: FieldProblem[] };

const MAPPING_TIMEOUT_MS = 1_000;

/** Empty values a provider sends for unset fields (Marketo's empty tokens, null answers) are absent, not errors. */
function dropEmpty(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null || v === '') continue;
    if (k === 'attributes' && typeof v === 'object' && !Array.isArray(v)) {
      const attributes = Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, a]) => a !== undefined && a !== null && a !== ''));
      if (Object.keys(attributes).length > 0) out[k] = attributes;
      continue;
    }
    out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}

/** A JSONata result as plain JSON (JSONata marks sequences with extra properties). */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

async function evaluate(expression: jsonata.Expression, event: unknown, bindings: Record<string, unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`took longer than ${MAPPING_TIMEOUT_MS} ms`)), MAPPING_TIMEOUT_MS);
  });
  try {
    return plain(await Promise.race([expression.evaluate(event, bindings), timeout]));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Maps one event through the stack: each level's expression evaluated with `$base` = the result
 * of the level below (only computed when the expression mentions it), the top level's result
 * cleaned of empty values, given the kind's lead `source` when it sets none, and checked with
 * LeadInputSchema. Failures name the field (`email`, `attributes.x`) or `(mapping)`.
 */
export async function applyMapping(
  layers: MappingLayer[],
  event: unknown,
  context: { kind: SourceKindName; sourceId: string; leadSource: LeadInput['source'] },
): Promise<MappingOutcome> {
  // Layers that only add fields other than `mapping` (a description) reuse the mapping below.
  const withMapping = layers.filter((l) => typeof l.definition.mapping === 'string');
  const run = async (index: number): Promise<unknown> => {
    const layer = withMapping[index] as MappingLayer;
    const source = layer.definition.mapping as string;
    const expression = compileMapping(source, `${layer.layer} mapping`);
    const bindings: Record<string, unknown> = { kind: context.kind, sourceId: context.sourceId };
    if (index > 0 && source.includes('$base')) bindings['base'] = await run(index - 1);
    return evaluate(expression, event, bindings);
  };
  let result: unknown;
  try {
    result = await run(withMapping.length - 1);
  } catch (err) {
    const message = err instanceof MappingSyntaxError ? err.message : `the mapping failed: ${(err as { message?: string }).message ?? String(err)}`;
    return { ok: false, reason: 'mapping_failed', issues: [{ field: '(mapping)', message }] };
  }
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return { ok: false, reason: 'mapping_failed', issues: [{ field: '(mapping)', message: `must produce an object (the lead), produced ${Array.isArray(result) ? 'an array' : result === null ? 'null' : typeof result}` }] };
  }
  const cleaned = dropEmpty(result) as Record<string, unknown>;
  if (cleaned['source'] === undefined) cleaned['source'] = context.leadSource;
  const parsed = LeadInputSchema.safeParse(cleaned);
  if (!parsed.success) return { ok: false, reason: 'invalid_lead', issues: fieldIssues(parsed.error) };
  return { ok: true, lead: parsed.data };
}
