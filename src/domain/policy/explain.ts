/**
 * Turning zod's issues about a policy into precise, readable ones: a misspelt key gets a "did you
 * mean", a condition that failed every branch of the condition union is reported by the branch
 * it evidently meant, a missing value is "is required".
 *
 * What keys an object may have, which key selects which condition branch, and whether a path
 * holds a condition are read from the zod schema (./schema.ts), not kept here by hand.
 */
import type { z } from 'zod';
import type { Path } from './checks';
import { ConditionSchema, PolicySchema } from './schema';

type ZodIssue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;
type Explained = { path: Path; message: string };

// ---------------------------------------------------------------------------------------------
// Reading the schema.

function defOf(schema: Schema): z.core.$ZodTypes['_zod']['def'] {
  return (schema as z.core.$ZodTypes)._zod.def;
}

/** The schema a value is checked against, through optional, nullable, lazy and pipe wrappers. */
function unwrap(schema: Schema): Schema {
  for (;;) {
    const def = defOf(schema);
    if (def.type === 'optional' || def.type === 'nullable') schema = def.innerType;
    else if (def.type === 'lazy') schema = def.getter();
    else if (def.type === 'pipe') schema = def.in;
    else return schema;
  }
}

/** The options of a union (a discriminated one included); none for anything else. */
function unionOptions(schema: Schema): readonly Schema[] {
  const def = defOf(unwrap(schema));
  return def.type === 'union' ? def.options : [];
}

/** The shape of each object the value may be: the object itself, or each object option of a union. */
function shapesOf(schema: Schema): Array<Record<string, Schema>> {
  const def = defOf(unwrap(schema));
  if (def.type === 'object') return [def.shape];
  if (def.type === 'union') return def.options.flatMap(shapesOf);
  return [];
}

/** The schema of the value at `path` of a policy; undefined where the schema has no such place. */
function schemaAt(path: Path): Schema | undefined {
  let current: Schema = PolicySchema;
  for (const key of path) {
    const def = defOf(unwrap(current));
    let next: Schema | undefined;
    if (def.type === 'record') next = def.valueType;
    else if (def.type === 'array') next = typeof key === 'number' ? def.element : undefined;
    else if (typeof key === 'string') next = shapesOf(current).find((shape) => Object.hasOwn(shape, key))?.[key];
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/** Whether the value at `path` is a condition (a rule's `when`, a segment, or inside either). */
function isConditionPath(path: Path): boolean {
  return schemaAt(path) === ConditionSchema;
}

const isOptional = (schema: Schema): boolean => schema._zod.optin === 'optional';

/**
 * The condition union's branches, each with its operator: the keys no other branch has, the
 * required ones (`flags` goes with `regex` but is not its operator); the one branch whose own keys
 * are all optional bounds is the numeric range.
 */
const CONDITION_BRANCHES = (() => {
  const shapes = unionOptions(ConditionSchema).map((option) => shapesOf(option)[0] ?? {});
  const branchesWith = (key: string) => shapes.filter((shape) => Object.hasOwn(shape, key)).length;
  return shapes.map((shape) => {
    const own = Object.keys(shape).filter((key) => branchesWith(key) === 1);
    const required = own.filter((key) => !isOptional(shape[key]!));
    const operatorKeys = required.length ? required : own;
    return { shape, operatorKeys, operator: operatorKeys.length === 1 ? operatorKeys[0]! : 'range' };
  });
})();

/** Which branch (by index in the union) each operator key selects. */
const BRANCH_OF_KEY = new Map(CONDITION_BRANCHES.flatMap((branch, index) => branch.operatorKeys.map((key) => [key, index] as const)));

/** Every key a condition may have: the operators in branch order, then the others (field, flags). */
const CONDITION_KEYS = [...new Set([...BRANCH_OF_KEY.keys(), ...CONDITION_BRANCHES.flatMap((branch) => Object.keys(branch.shape))])];

const CONDITION_SHAPES =
  'must be a condition: { "all": [...] }, { "any": [...] }, { "not": {...} }, { "segment": name }, ' +
  'or { "field": path } with one of equals, in, contains, regex, exists, gt, gte, lt, lte';

/** The keys an object at `path` may have, for "did you mean" hints. */
function keysAt(path: Path): string[] {
  const schema = schemaAt(path);
  if (schema === undefined) return [];
  if (schema === ConditionSchema) return CONDITION_KEYS;
  return [...new Set(shapesOf(schema).flatMap((shape) => Object.keys(shape)))];
}

// ---------------------------------------------------------------------------------------------
// Explaining the issues.

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), case-blind. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[x.length]![y.length]!;
}

function unknownKey(path: Path, key: string, present: unknown): Explained {
  const candidates = keysAt(path).filter((k) => !(isRecord(present) && Object.hasOwn(present, k)));
  const best = candidates
    .map((k) => ({ k, d: distance(key, k) }))
    .filter(({ k, d }) => d <= Math.max(1, Math.floor(Math.min(k.length, key.length) / 3)))
    .sort((a, b) => a.d - b.d)[0];
  return { path: [...path, key], message: `is not a recognized field${best ? ` (did you mean "${best.k}"?)` : ''}` };
}

/** zod's issues about `input` as readable ones, each at the path of the value at fault. */
export function explain(issues: readonly ZodIssue[], base: Path, input: unknown): Explained[] {
  return issues.flatMap((issue) => {
    const path: Path = [...base, ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))];
    const value = valueAt(input, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => unknownKey(path, key, value));
      case 'invalid_type':
        if (value === undefined) return [{ path, message: 'is required' }];
        return [{ path, message: issue.message.replace(/^Invalid input: /, '') }];
      case 'invalid_value':
        if (value === undefined) return [{ path, message: `is required (one of ${issue.values.map(String).join(', ')})` }];
        return [{ path, message: `must be one of ${issue.values.map(String).join(', ')}` }];
      case 'invalid_key':
        return explain(issue.issues, path, input);
      case 'invalid_union':
        return explainUnion(issue, path, value, input);
      default:
        return [{ path, message: issue.message }];
    }
  });
}

/** A union failed: report the branch the input evidently meant, not every branch's complaint. */
function explainUnion(issue: Extract<ZodIssue, { code: 'invalid_union' }>, path: Path, value: unknown, input: unknown): Explained[] {
  if ('note' in issue && issue.note === 'No matching discriminator') {
    const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.join(', ') : '';
    return [{ path, message: value === undefined ? `is required (one of ${options})` : `must be one of ${options}` }];
  }
  const branch = (index: number) => explain(issue.errors[index] ?? [], path, input);
  if (isConditionPath(path)) {
    if (value === undefined) return [{ path, message: 'is required' }];
    if (!isRecord(value)) return [{ path, message: CONDITION_SHAPES }];
    const chosen = [...new Set(Object.keys(value).flatMap((k) => (BRANCH_OF_KEY.has(k) ? [BRANCH_OF_KEY.get(k)!] : [])))];
    if (chosen.length > 1) {
      const operators = chosen.map((index) => CONDITION_BRANCHES[index]!.operator);
      return [{ path, message: `has several operators (${operators.join(', ')}): a condition takes one; combine conditions with all or any` }];
    }
    if (chosen.length === 1) return branch(chosen[0]!);
    // A field without an operator: the range branch says what is missing.
    if (Object.hasOwn(value, 'field')) return branch(CONDITION_BRANCHES.findIndex((b) => b.operator === 'range'));
    const unknown = Object.keys(value).filter((k) => !CONDITION_KEYS.includes(k));
    return [{ path, message: CONDITION_SHAPES }, ...unknown.map((k) => unknownKey(path, k, value))];
  }
  // An object meant for a union of objects (an account owner's `otherwise`): the first branch
  // with one of its keys.
  if (isRecord(value)) {
    const schema = schemaAt(path);
    const options = schema === undefined ? [] : unionOptions(schema);
    const index = options.findIndex((option) => shapesOf(option).some((shape) => Object.keys(value).some((k) => Object.hasOwn(shape, k))));
    if (index >= 0) return branch(index);
  }
  return [{ path, message: issue.message }];
}
