/**
 * Cross-field validation of a routing policy: what the zod schema (./schema.ts) cannot say about
 * one value alone. Unique IDs, references that resolve, no segment cycles, sound conditions.
 * Runs on a policy the schema's structural checks accepted; every problem goes to a sink with
 * its path.
 */
import type { Condition, Policy } from './types';

export type Path = Array<string | number>;
export type IssueSink = (path: Path, message: string) => void;

export const NO_OPERATOR = 'has no operator: a range needs at least one bound (gt, gte, lt or lte); or use equals, in, contains, regex or exists';

/** Every condition node (itself included) with its path. */
export function walkConditions(condition: Condition, path: Path, visit: (node: Condition, path: Path) => void): void {
  visit(condition, path);
  if ('all' in condition) condition.all.forEach((c, i) => walkConditions(c, [...path, 'all', i], visit));
  else if ('any' in condition) condition.any.forEach((c, i) => walkConditions(c, [...path, 'any', i], visit));
  else if ('not' in condition) walkConditions(condition.not, [...path, 'not'], visit);
}

function listOr(names: string[], none: string): string {
  return names.length ? names.join(', ') : none;
}

const LOWER = [
  ['gt', true],
  ['gte', false],
] as const;
const UPPER = [
  ['lt', true],
  ['lte', false],
] as const;

/** Checks on one condition node that need no other part of the policy. */
export function checkCondition(node: Condition, path: Path, segmentNames: string[], report: IssueSink): void {
  if ('segment' in node) {
    if (!segmentNames.includes(node.segment)) {
      report([...path, 'segment'], `unknown segment "${node.segment}" (defined: ${listOr(segmentNames, 'none')})`);
    }
    return;
  }
  if ('all' in node || 'any' in node || 'not' in node) return;
  if ('equals' in node) {
    if (node.equals === null) report([...path, 'equals'], 'null never matches (a null field is missing); use { "field", "exists": false }');
    return;
  }
  if ('in' in node) {
    node.in.forEach((v, i) => {
      if (v === null) report([...path, 'in', i], 'null never matches (a null field is missing); use { "field", "exists": false }');
    });
    return;
  }
  if ('contains' in node || 'exists' in node) return;
  if ('regex' in node) {
    const flags = node.flags ?? '';
    try {
      new RegExp('', flags);
    } catch {
      report([...path, 'flags'], `invalid regular expression flags "${flags}"`);
      return;
    }
    try {
      new RegExp(node.regex, flags);
    } catch (err) {
      report([...path, 'regex'], (err as Error).message);
    }
    return;
  }
  // A range.
  const lower = LOWER.flatMap(([key, strict]) => (node[key] === undefined ? [] : [{ key, value: node[key], strict }]));
  const upper = UPPER.flatMap(([key, strict]) => (node[key] === undefined ? [] : [{ key, value: node[key], strict }]));
  if (lower.length + upper.length === 0) {
    report(path, NO_OPERATOR); // the range branch refuses this already; kept so no policy slips through
    return;
  }
  for (const lo of lower) {
    for (const hi of upper) {
      if (lo.value > hi.value || (lo.value === hi.value && (lo.strict || hi.strict))) {
        report(path, `never matches: ${lo.key} ${lo.value} and ${hi.key} ${hi.value} leave no value`);
      }
    }
  }
}

/** The segment names a condition refers to, with the path of each reference. */
function segmentRefs(condition: Condition, path: Path): Array<{ name: string; path: Path }> {
  const refs: Array<{ name: string; path: Path }> = [];
  walkConditions(condition, path, (node, p) => {
    if ('segment' in node) refs.push({ name: node.segment, path: [...p, 'segment'] });
  });
  return refs;
}

/** Each cycle of segments once, reported at the reference that closes it. */
function checkSegmentCycles(segments: Record<string, Condition>, report: IssueSink): void {
  const names = Object.keys(segments);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const ref of segmentRefs(segments[name]!, ['segments', name])) {
      if (!Object.hasOwn(segments, ref.name)) continue; // reported as an unknown segment
      const seen = state.get(ref.name);
      if (seen === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(ref.name)), ref.name];
        const key = [...new Set(cycle)].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          report(ref.path, `segment cycle: ${cycle.join(' → ')}`);
        }
      } else if (seen === undefined) {
        visit(ref.name);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of names) if (!state.has(name)) visit(name);
}

/** Items that repeat a key of an earlier item, with the index of the first. */
function duplicates<T>(items: T[], key: (item: T) => string): Array<{ index: number; first: number; value: string }> {
  const firstAt = new Map<string, number>();
  const found: Array<{ index: number; first: number; value: string }> = [];
  items.forEach((item, index) => {
    const value = key(item);
    const first = firstAt.get(value);
    if (first === undefined) firstAt.set(value, index);
    else found.push({ index, first, value });
  });
  return found;
}

/** Cross-field validation: unique IDs, references that resolve, no segment cycles, sound conditions. */
export function checkPolicy(policy: Policy, report: IssueSink): void {
  const segments: Record<string, Condition> = policy.segments ?? {};
  const segmentNames = Object.keys(segments);
  const poolIds = [...new Set(policy.pools.map((p) => p.id))];

  for (const d of duplicates(policy.rules, (r) => r.id)) {
    report(['rules', d.index, 'id'], `duplicate rule id "${d.value}" (also rules.${d.first}.id)`);
  }
  for (const d of duplicates(policy.pools, (p) => p.id)) {
    report(['pools', d.index, 'id'], `duplicate pool id "${d.value}" (also pools.${d.first}.id)`);
  }
  policy.pools.forEach((pool, p) => {
    for (const d of duplicates(pool.members, (m) => m.repId)) {
      report(['pools', p, 'members', d.index, 'repId'], `${d.value} is already a member of pool "${pool.id}" (members.${d.first})`);
    }
  });

  const checkPool = (id: string, path: Path) => {
    if (!poolIds.includes(id)) report(path, `unknown pool "${id}" (defined: ${listOr(poolIds, 'none')})`);
  };
  policy.rules.forEach((rule, r) => {
    const { action } = rule;
    if (action.type === 'pool') checkPool(action.pool, ['rules', r, 'action', 'pool']);
    if (action.type === 'account_owner' && typeof action.otherwise === 'object' && 'pool' in action.otherwise) {
      checkPool(action.otherwise.pool, ['rules', r, 'action', 'otherwise', 'pool']);
    }
    walkConditions(rule.when, ['rules', r, 'when'], (node, path) => checkCondition(node, path, segmentNames, report));
  });
  for (const name of segmentNames) {
    walkConditions(segments[name]!, ['segments', name], (node, path) => checkCondition(node, path, segmentNames, report));
  }
  checkSegmentCycles(segments, report);
}
