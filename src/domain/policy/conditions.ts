/**
 * Pure condition evaluation over the routing context. No runtime imports: workflow code runs this.
 *
 * Semantics:
 * - A field is addressed by a dotted path from the context root (`lead.country`,
 *   `lead.attributes.plan`, `enrichment.employees`, `account.territory`). A path through anything
 *   that is not an object, or to a key that is not the object's own, is missing.
 * - Missing means `undefined` or `null` (as `exists` defines it). A missing field matches nothing
 *   but `exists: false`.
 * - `equals` / `in` compare strings case-insensitively and other scalars strictly (`1` is not `"1"`).
 * - `contains` is a case-insensitive substring test on strings and a case-insensitive membership
 *   test on arrays (numbers and booleans in an array compare by their text).
 * - `regex` tests strings, and numbers as their text; anything else does not match.
 * - Ranges test numbers only (a numeric string is not a number); every given bound must hold.
 * - `all` / `any` short-circuit: the trace names the first failing (all) or first matching (any)
 *   sub-condition; otherwise it joins every sub-condition's detail.
 */
import type { AccountMatch, EnrichmentFacts } from '../routing';
import type { NormalizedLead } from '../lead';
import type { Condition, RoutingContext, Scalar } from './types';

export interface ConditionTrace {
  matched: boolean;
  /** A short human explanation, for decision traces. */
  detail: string;
}

/** The value at a dotted path of the context; `undefined` when any step is missing. */
export function fieldValue(ctx: RoutingContext, path: string): unknown {
  let current: unknown = ctx;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The routing context conditions see: the lead, the enrichment when found, the matched account. */
export function routingContext(
  lead: NormalizedLead,
  enrichment: EnrichmentFacts | null,
  account: AccountMatch | null,
): RoutingContext {
  return {
    lead: { ...lead, attributes: { ...lead.attributes } },
    enrichment: enrichment?.status === 'found' ? { ...enrichment.company } : null,
    // Spread, not picked: tenant-mapped custom fields (territory, tier, …) arrive as extra keys.
    account: account?.status === 'matched' ? { ...account.account } : null,
  };
}

/**
 * Evaluate a condition. Throws on a reference to a segment that is not defined, on a cycle of
 * segments, on an invalid regular expression and on a range without bounds (the policy schema
 * rejects all of these, so a validated policy never throws).
 */
export function evaluate(condition: Condition, ctx: RoutingContext, segments: Record<string, Condition> = {}): ConditionTrace {
  const { matched, detail } = evaluateNode(condition, ctx, segments, []);
  return { matched, detail };
}

interface NodeTrace extends ConditionTrace {
  /** The detail joins several parts: parenthesize it inside another composite. */
  composite: boolean;
}

const RANGE_BOUNDS = [
  ['gt', '>'],
  ['gte', '>='],
  ['lt', '<'],
  ['lte', '<='],
] as const;

function evaluateNode(condition: Condition, ctx: RoutingContext, segments: Record<string, Condition>, stack: string[]): NodeTrace {
  if ('all' in condition) {
    if (condition.all.length === 0) return leaf(true, 'always (all of no conditions)');
    const parts: string[] = [];
    for (const sub of condition.all) {
      const trace = evaluateNode(sub, ctx, segments, stack);
      if (!trace.matched) return { matched: false, detail: trace.detail, composite: trace.composite };
      parts.push(nested(trace));
    }
    return join(true, parts);
  }
  if ('any' in condition) {
    if (condition.any.length === 0) return leaf(false, 'never (any of no conditions)');
    const parts: string[] = [];
    for (const sub of condition.any) {
      const trace = evaluateNode(sub, ctx, segments, stack);
      if (trace.matched) return { matched: true, detail: trace.detail, composite: trace.composite };
      parts.push(nested(trace));
    }
    return join(false, parts);
  }
  if ('not' in condition) {
    const trace = evaluateNode(condition.not, ctx, segments, stack);
    return leaf(!trace.matched, `not (${trace.detail})`);
  }
  if ('segment' in condition) {
    const name = condition.segment;
    if (stack.includes(name)) throw new Error(`segment cycle: ${[...stack.slice(stack.indexOf(name)), name].join(' → ')}`);
    if (!Object.hasOwn(segments, name)) throw new Error(`unknown segment "${name}"`);
    const trace = evaluateNode(segments[name]!, ctx, segments, [...stack, name]);
    return leaf(trace.matched, `${trace.matched ? 'in' : 'not in'} segment ${name} (${trace.detail})`);
  }

  const value = fieldValue(ctx, condition.field);
  const subject = `${condition.field} ${show(value)}`;
  if ('exists' in condition) {
    const present = value !== undefined && value !== null;
    return leaf(present === condition.exists, present ? `${subject} is present` : `${condition.field} is missing`);
  }
  if (value === undefined || value === null) return leaf(false, `${condition.field} is missing`);

  if ('equals' in condition) {
    const matched = scalarEquals(value, condition.equals);
    return leaf(matched, `${subject} ${matched ? 'equals' : 'does not equal'} ${show(condition.equals)}`);
  }
  if ('in' in condition) {
    const matched = condition.in.some((candidate) => scalarEquals(value, candidate));
    return leaf(matched, `${subject} ${matched ? 'in' : 'not in'} ${showList(condition.in)}`);
  }
  if ('contains' in condition) {
    const needle = condition.contains.toLowerCase();
    let matched: boolean;
    if (typeof value === 'string') matched = value.toLowerCase().includes(needle);
    else if (Array.isArray(value)) matched = value.some((item) => isScalarText(item) && String(item).toLowerCase() === needle);
    else return leaf(false, `${subject} is neither text nor a list`);
    return leaf(matched, `${subject} ${matched ? 'contains' : 'does not contain'} ${show(condition.contains)}`);
  }
  if ('regex' in condition) {
    const pattern = compile(condition.regex, condition.flags ?? '');
    const shown = `/${condition.regex}/${condition.flags ?? ''}`;
    if (typeof value !== 'string' && typeof value !== 'number') return leaf(false, `${subject} is not text`);
    const matched = pattern.test(String(value));
    return leaf(matched, `${subject} ${matched ? 'matches' : 'does not match'} ${shown}`);
  }

  // A numeric range: every given bound must hold.
  const bounds = RANGE_BOUNDS.flatMap(([key, op]) => {
    const bound = condition[key];
    return bound === undefined ? [] : [{ op, bound }];
  });
  if (bounds.length === 0) throw new Error(`condition on ${condition.field} has no operator`);
  if (typeof value !== 'number' || Number.isNaN(value)) return leaf(false, `${subject} is not a number`);
  for (const { op, bound } of bounds) {
    if (!compare(value, op, bound)) return leaf(false, `${subject} is not ${op} ${bound}`);
  }
  return leaf(true, `${subject} is ${bounds.map(({ op, bound }) => `${op} ${bound}`).join(' and ')}`);
}

function leaf(matched: boolean, detail: string): NodeTrace {
  return { matched, detail, composite: false };
}

function join(matched: boolean, parts: string[]): NodeTrace {
  return parts.length === 1 ? leaf(matched, parts[0]!) : { matched, detail: parts.join(' and '), composite: true };
}

function nested(trace: NodeTrace): string {
  return trace.composite ? `(${trace.detail})` : trace.detail;
}

function compare(value: number, op: (typeof RANGE_BOUNDS)[number][1], bound: number): boolean {
  switch (op) {
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
  }
}

function scalarEquals(value: unknown, expected: Scalar): boolean {
  if (typeof value === 'string' && typeof expected === 'string') return value.toLowerCase() === expected.toLowerCase();
  return value === expected;
}

function isScalarText(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A fresh pattern per test: no `lastIndex` state carries over, even with a `g` or `y` flag. */
function compile(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new Error(`invalid regular expression /${source}/${flags}: ${(err as Error).message}`);
  }
}

const MAX_TEXT = 60;
const MAX_ITEMS = 10;

/** A value as a trace shows it: strings quoted (and shortened), lists bracketed. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value);
  }
  if (Array.isArray(value)) return showList(value);
  if (value === undefined) return 'missing';
  if (value !== null && typeof value === 'object') return '{…}';
  return String(value);
}

/** A list of candidates, items bare (`[DE, AT, CH]`), long lists shortened. */
function showList(values: readonly unknown[]): string {
  const shown = values.slice(0, MAX_ITEMS).map((v) => (typeof v === 'string' ? v : show(v)));
  if (values.length > MAX_ITEMS) shown.push(`… ${values.length - MAX_ITEMS} more`);
  return `[${shown.join(', ')}]`;
}
