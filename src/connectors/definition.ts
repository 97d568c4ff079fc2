import jsonata from 'jsonata';
import { z } from 'zod';

/**
 * Providers are data: every operation's request and response mapping is a JSONata expression
 * kept in a declarative definition, validated (schema and expression syntax) before use.
 *
 * Request expressions see `{ input, connection: { accountId } }`.
 * Response expressions see the upstream body as `$`, with `$status` and `$input` bound.
 */
const Expression = z.string().min(1);

export const OperationDefinitionSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
    /** Path with `{name}` placeholders filled from the operation input (URI-encoded). */
    path: z.string().startsWith('/'),
    query: Expression.optional(),
    body: Expression.optional(),
    headers: Expression.optional(),
    response: Expression,
    /** Statuses other than 2xx that the response mapping handles itself (e.g. 404 = no match). */
    acceptStatuses: z.array(z.number().int().min(200).max(599)).default([]),
    pagination: z
      .object({
        /** Expression on the page body giving the next cursor, or null/empty when done. */
        nextCursor: Expression,
        cursorParam: z.string().min(1),
        maxPages: z.number().int().min(1).max(1000).default(20),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ProviderDefinitionSchema = z
  .object({
    id: z.string().min(1),
    auth: z.discriminatedUnion('type', [
      z.object({ type: z.literal('bearer') }).strict(),
      z.object({ type: z.literal('header'), name: z.string().min(1) }).strict(),
    ]),
    rateLimitHeaders: z
      .object({
        limit: z.array(z.string()),
        remaining: z.array(z.string()),
        reset: z.array(z.string()),
        resetUnit: z.enum(['delay-seconds', 'epoch-seconds', 'delay-ms']).optional(),
      })
      .strict()
      .optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    operations: z.record(z.string(), OperationDefinitionSchema),
  })
  .strict();

export type OperationDefinition = z.infer<typeof OperationDefinitionSchema>;
export type ProviderDefinition = z.infer<typeof ProviderDefinitionSchema>;
export type ProviderDefinitionInput = z.input<typeof ProviderDefinitionSchema>;

/** A partial definition layered over another: environment- or tenant-level overrides. */
export type DefinitionOverride = Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else (arrays included) is replaced by the later layer. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

export class DefinitionError extends Error {
  constructor(
    readonly provider: string,
    readonly path: string,
    message: string,
  ) {
    super(`provider ${provider}: ${path}: ${message}`);
    this.name = 'DefinitionError';
  }
}

export interface CompiledOperation {
  name: string;
  definition: OperationDefinition;
  query: jsonata.Expression | null;
  body: jsonata.Expression | null;
  headers: jsonata.Expression | null;
  response: jsonata.Expression;
  nextCursor: jsonata.Expression | null;
}

export interface CompiledProvider {
  definition: ProviderDefinition;
  operations: Map<string, CompiledOperation>;
}

function compileExpression(provider: string, path: string, source: string): jsonata.Expression {
  try {
    return jsonata(source);
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new DefinitionError(provider, path, `invalid JSONata at position ${e.position ?? '?'}: ${e.message ?? String(err)}`);
  }
}

/**
 * Resolve the override stack (platform default → environment → tenant connection), validate the
 * result, and compile every expression. Throws a DefinitionError naming the provider and path.
 */
export function compileProvider(base: ProviderDefinitionInput, ...overrides: Array<DefinitionOverride | undefined>): CompiledProvider {
  const merged = overrides.reduce<unknown>((acc, o) => deepMerge(acc, o), base);
  const providerId = isPlainObject(merged) && typeof merged['id'] === 'string' ? merged['id'] : 'unknown';
  const parsed = ProviderDefinitionSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DefinitionError(providerId, issue?.path.join('.') || '(root)', issue?.message ?? 'invalid definition');
  }
  const definition = parsed.data;
  const operations = new Map<string, CompiledOperation>();
  for (const [name, op] of Object.entries(definition.operations)) {
    const at = (field: string) => `operations.${name}.${field}`;
    const opt = (field: 'query' | 'body' | 'headers') =>
      op[field] === undefined ? null : compileExpression(definition.id, at(field), op[field]);
    operations.set(name, {
      name,
      definition: op,
      query: opt('query'),
      body: opt('body'),
      headers: opt('headers'),
      response: compileExpression(definition.id, at('response'), op.response),
      nextCursor: op.pagination ? compileExpression(definition.id, at('pagination.nextCursor'), op.pagination.nextCursor) : null,
    });
  }
  return { definition, operations };
}
