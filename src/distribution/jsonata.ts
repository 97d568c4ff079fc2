/**
 * Compiled JSONata for distribution mappings, kept apart from delivery so the tenant schema can
 * check templates without importing the distribution model (which imports the tenant schema).
 */
import jsonata from 'jsonata';

const EXPRESSION_CACHE_SIZE = 500;
const expressions = new Map<string, jsonata.Expression>();

/** A compiled expression by source text (least recently used dropped past 500). Throws on bad syntax. */
export function compileJsonata(source: string): jsonata.Expression {
  const cached = expressions.get(source);
  if (cached) {
    expressions.delete(source);
    expressions.set(source, cached);
    return cached;
  }
  const compiled = jsonata(source);
  expressions.set(source, compiled);
  if (expressions.size > EXPRESSION_CACHE_SIZE) expressions.delete(expressions.keys().next().value as string);
  return compiled;
}

/** A JSONata error (compile or evaluation) as one line, with its position when known. */
export function jsonataError(err: unknown): string {
  const e = err as { message?: string; position?: number; code?: string };
  return `${e.message ?? String(err)}${e.position !== undefined ? ` (position ${e.position})` : ''}`;
}
