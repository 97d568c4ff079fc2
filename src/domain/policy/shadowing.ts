/**
 * Rules that can never match: the first rule whose condition matches decides (./engine.ts), so a
 * rule is dead when every lead it would match is caught by a rule before it. Found here:
 * - an earlier rule that matches every lead (`{ all: [] }`, or anything that normalizes to it);
 * - an earlier rule with the same condition, after normalization;
 * - an earlier rule whose condition the later one's implies (earlier `all: [A]`, later
 *   `all: [A, B]`; earlier `in: [DE, FR]`, later `equals: DE`; earlier `gte: 100`, later `gt: 500`).
 *
 * Sound but not complete: a warning is always right, and some dead rules go unnoticed.
 * Warnings, not errors: such a policy is still published. Runs on a validated policy.
 */
import type { Condition, Policy, Scalar } from './types';

export interface PolicyWarning {
  /** Dotted path of the rule that can never match, as issues name paths (`rules.2`). */
  path: string;
  message: string;
}

/** A condition in normal form, with a canonical key: equal keys, equal conditions. */
type Norm =
  | { kind: 'true'; key: string }
  | { kind: 'false'; key: string }
  | { kind: 'all' | 'any'; items: Norm[]; key: string }
  | { kind: 'not'; item: Norm; key: string }
  | { kind: 'leaf'; field: string; test: Leaf; key: string };

/** A field test. `exists: false` is `not` of `exists: true`; `in` of one value is `equals`. */
type Leaf =
  | { op: 'exists' }
  | { op: 'equals'; value: Scalar }
  | { op: 'in'; values: Scalar[] }
  | { op: 'contains'; text: string }
  | { op: 'regex'; source: string; flags: string }
  | { op: 'range'; lower?: Bound; upper?: Bound };

interface Bound {
  value: number;
  /** gt / lt rather than gte / lte. */
  strict: boolean;
}

const TRUE: Norm = { kind: 'true', key: 'true' };
const FALSE: Norm = { kind: 'false', key: 'false' };

/** Strings compare case-insensitively (as ./conditions.ts does), so they normalize to lower case. */
const scalar = (v: Scalar): Scalar => (typeof v === 'string' ? v.toLowerCase() : v);

function leaf(field: string, test: Leaf): Norm {
  return { kind: 'leaf', field, test, key: `${JSON.stringify(field)}:${JSON.stringify(test)}` };
}

function not(item: Norm): Norm {
  if (item.kind === 'true') return FALSE;
  if (item.kind === 'false') return TRUE;
  if (item.kind === 'not') return item.item;
  return { kind: 'not', item, key: `not(${item.key})` };
}

/** `all` (or `any`): nested ones flattened, neutral items dropped, duplicates once, in key order. */
function junction(kind: 'all' | 'any', items: Norm[]): Norm {
  const [neutral, absorbing] = kind === 'all' ? [TRUE, FALSE] : [FALSE, TRUE];
  const byKey = new Map<string, Norm>();
  for (const item of items.flatMap((i) => (i.kind === kind ? i.items : [i]))) {
    if (item.key === absorbing.key) return absorbing;
    if (item.key !== neutral.key) byKey.set(item.key, item);
  }
  // A condition and its negation: always true in an `any`, never in an `all`.
  for (const item of byKey.values()) if (byKey.has(not(item).key)) return absorbing;
  const kept = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (kept.length === 0) return neutral;
  if (kept.length === 1) return kept[0]!;
  return { kind, items: kept, key: `${kind}(${kept.map((i) => i.key).join(',')})` };
}

/** The normal form of a condition, segments inlined (a cycle, which validation refuses, stays opaque). */
export function normalize(condition: Condition, segments: Record<string, Condition> = {}, stack: string[] = []): Norm {
  if ('all' in condition) return junction('all', condition.all.map((c) => normalize(c, segments, stack)));
  if ('any' in condition) return junction('any', condition.any.map((c) => normalize(c, segments, stack)));
  if ('not' in condition) return not(normalize(condition.not, segments, stack));
  if ('segment' in condition) {
    const name = condition.segment;
    if (stack.includes(name) || !Object.hasOwn(segments, name)) return leaf(`segment:${name}`, { op: 'exists' });
    return normalize(segments[name]!, segments, [...stack, name]);
  }
  const { field } = condition;
  if ('exists' in condition) return condition.exists ? leaf(field, { op: 'exists' }) : not(leaf(field, { op: 'exists' }));
  if ('equals' in condition) return leaf(field, { op: 'equals', value: scalar(condition.equals) });
  if ('in' in condition) {
    const values = [...new Map(condition.in.map((v) => [JSON.stringify(scalar(v)), scalar(v)])).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    return values.length === 1 ? leaf(field, { op: 'equals', value: values[0]! }) : leaf(field, { op: 'in', values });
  }
  if ('contains' in condition) return leaf(field, { op: 'contains', text: condition.contains.toLowerCase() });
  if ('regex' in condition) return leaf(field, { op: 'regex', source: condition.regex, flags: [...(condition.flags ?? '')].sort().join('') });
  // Both bounds of a side given (gt and gte): the tighter one decides.
  const bound = (value: number | undefined, strict: boolean): Bound | undefined => (value === undefined ? undefined : { value, strict });
  const tighter = (a: Bound | undefined, b: Bound | undefined, sign: 1 | -1) => (a && b ? (atLeastAsTight(a, b, sign) ? a : b) : (a ?? b));
  const lo = tighter(bound(condition.gt, true), bound(condition.gte, false), 1);
  const hi = tighter(bound(condition.lt, true), bound(condition.lte, false), -1);
  return leaf(field, { op: 'range', ...(lo ? { lower: lo } : {}), ...(hi ? { upper: hi } : {}) });
}

/** Whether `a` is at least as tight a bound as `b` on its side (sign 1: lower bounds, -1: upper). */
function atLeastAsTight(a: Bound | undefined, b: Bound | undefined, sign: 1 | -1): boolean {
  if (!b) return true;
  if (!a) return false;
  return sign * (a.value - b.value) > 0 || (a.value === b.value && (a.strict || !b.strict));
}

function inRange(v: Scalar, range: Extract<Leaf, { op: 'range' }>): boolean {
  if (typeof v !== 'number') return false;
  const { lower, upper } = range;
  return (!lower || v > lower.value || (v === lower.value && !lower.strict)) && (!upper || v < upper.value || (v === upper.value && !upper.strict));
}

/** Whether every lead that passes field test `x` passes `y` too (same field). */
function leafImplies(x: Leaf, y: Leaf): boolean {
  // Every test but exists: false needs the field present, and that is exists: true.
  if (y.op === 'exists') return true;
  const values = x.op === 'equals' ? [x.value] : x.op === 'in' ? x.values : undefined;
  if (y.op === 'in' && values) return values.every((v) => y.values.some((w) => JSON.stringify(w) === JSON.stringify(v)));
  if (y.op === 'range') {
    if (values) return values.every((v) => inRange(v, y));
    return x.op === 'range' && atLeastAsTight(x.lower, y.lower, 1) && atLeastAsTight(x.upper, y.upper, -1);
  }
  if (y.op === 'contains' && x.op === 'equals') return typeof x.value === 'string' && x.value.includes(y.text);
  return false;
}

/** Whether `x` implies `y`: every lead matching `x` matches `y`. Sound, not complete. */
export function implies(x: Norm, y: Norm): boolean {
  if (y.kind === 'true' || x.kind === 'false' || x.key === y.key) return true;
  if (y.kind === 'all') return y.items.every((yi) => implies(x, yi));
  if (x.kind === 'any') return x.items.every((xi) => implies(xi, y));
  if (x.kind === 'all' && x.items.some((xi) => implies(xi, y))) return true;
  if (y.kind === 'any' && y.items.some((yi) => implies(x, yi))) return true;
  if (x.kind === 'not' && y.kind === 'not') return implies(y.item, x.item);
  if (x.kind === 'leaf' && y.kind === 'leaf') return x.field === y.field && leafImplies(x.test, y.test);
  return false;
}

/** One warning per rule that can never match, naming the first earlier rule that catches its leads. */
export function shadowedRules(policy: Policy): PolicyWarning[] {
  const segments = policy.segments ?? {};
  const conditions = policy.rules.map((rule) => normalize(rule.when, segments));
  const warnings: PolicyWarning[] = [];
  policy.rules.forEach((rule, index) => {
    const later = conditions[index]!;
    // A rule that matches nothing is dead by itself, not through an earlier rule.
    if (later.kind === 'false') return;
    for (let e = 0; e < index; e++) {
      const earlier = conditions[e]!;
      const by = `rule "${policy.rules[e]!.id}" (rules.${e}) before it`;
      let why: string | undefined;
      if (earlier.kind === 'true') why = `${by} matches every lead`;
      else if (earlier.key === later.key) why = `${by} has the same condition`;
      else if (implies(later, earlier)) why = `${by} matches every lead it would`;
      if (why) {
        warnings.push({ path: `rules.${index}`, message: `rule "${rule.id}" can never match: ${why}` });
        return;
      }
    }
  });
  return warnings;
}
