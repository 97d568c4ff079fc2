/**
 * The zod schema of a routing policy (see ./types.ts), its cross-field validation, and its
 * publication as JSON Schema. Objects are strict, so a misspelt key is an error naming its path.
 *
 * Not for workflow code (it imports zod): workflows receive policies this module validated.
 */
import { z } from 'zod';
import { isTimeZone } from '../availability';
import { hasControlCharacter, NO_CONTROL_CHARACTERS } from '../input';
import type { Condition, Policy } from './types';

/** Metadata for the published JSON Schema. A local registry: nothing lands in zod's global one. */
const policyMeta = z.registry<{ id?: string; title?: string; description?: string }>();

function doc<T extends z.ZodType>(schema: T, description: string): T {
  policyMeta.add(schema, { description });
  return schema;
}

/**
 * A string of the policy: at most `max` characters and no control characters (IDs become search
 * attributes, workflow IDs and CRM values). A fresh instance per use: registry descriptions
 * attach to schema instances.
 */
const Str = (max: number) => z.string().max(max).refine((v) => !hasControlCharacter(v), NO_CONTROL_CHARACTERS);
const Id = () => Str(100).min(1, 'must not be empty');

const Scalar = () =>
  z.union([z.string(), z.number(), z.boolean(), z.null()], {
    error: 'must be a string, number, boolean or null',
  });

const FieldPath = doc(
  z
    .string()
    .max(200)
    .regex(/^(lead|enrichment|account)(\.[^.\s\x00-\x1f\x7f]+)*$/, 'must be a dotted path from lead, enrichment or account (e.g. lead.country)'),
  'Dotted path into the routing context: lead.<field>, lead.attributes.<name>, enrichment.<field> or account.<field> (tenant-mapped custom fields included).',
);

const optionalNumber = () => z.number().exactOptional();

const RANGE_KEYS = ['gt', 'gte', 'lt', 'lte'] as const;
const NO_OPERATOR = 'has no operator: a range needs at least one bound (gt, gte, lt or lte); or use equals, in, contains, regex or exists';

/** The branches of a condition, in the order parsePolicy's error reporting relies on (CONDITION_OPERATORS). */
function conditionUnion() {
  return z.union([
    z.object({ all: doc(z.array(ConditionSchema), 'Matches when every condition matches (an empty list always matches).') }).strict(),
    z.object({ any: doc(z.array(ConditionSchema), 'Matches when at least one condition matches.') }).strict(),
    z.object({ not: ConditionSchema }).strict(),
    z.object({ segment: doc(Id(), 'Name of a segment defined in the policy.') }).strict(),
    z.object({ field: FieldPath, equals: doc(Scalar(), 'Strings compare case-insensitively, other values strictly.') }).strict(),
    z.object({ field: FieldPath, in: doc(z.array(Scalar()).min(1, 'must list at least one value'), 'Equals one of these values.') }).strict(),
    z.object({ field: FieldPath, contains: doc(Str(1000).min(1, 'must not be empty'), 'Case-insensitive substring of a string, or member of a list.') }).strict(),
    z
      .object({
        field: FieldPath,
        regex: doc(Str(1000).min(1, 'must not be empty'), 'JavaScript regular expression tested against text (numbers as their text).'),
        flags: doc(Str(10).exactOptional(), 'Regular expression flags, e.g. "i".'),
      })
      .strict(),
    z
      .object({
        field: FieldPath,
        gt: doc(optionalNumber(), 'Greater than.'),
        gte: doc(optionalNumber(), 'Greater than or equal.'),
        lt: doc(optionalNumber(), 'Less than.'),
        lte: doc(optionalNumber(), 'Less than or equal.'),
      })
      .strict()
      // Also what keeps this all-optional branch from swallowing other branches' errors: a union
      // answers with the one branch whose issues do not abort, and this refinement's issue does.
      .refine((range) => RANGE_KEYS.some((key) => range[key] !== undefined), { message: NO_OPERATOR, abort: true }),
    z.object({ field: FieldPath, exists: doc(z.boolean(), 'true: present and not null; false: missing or null.') }).strict(),
  ]);
}

/** Which union branch an operator key selects, in `conditionUnion` order. */
const CONDITION_OPERATORS = ['all', 'any', 'not', 'segment', 'equals', 'in', 'contains', 'regex', 'range', 'exists'] as const;

export const ConditionSchema: z.ZodType<Condition, Condition> = z.lazy(conditionUnion);
ConditionSchema.register(policyMeta, {
  id: 'Condition',
  description: 'A condition over the routing context: all / any / not / segment, or a field with one operator.',
});

const OtherwiseSchema = doc(
  z.union(
    [
      z.object({ pool: doc(Id(), 'ID of a pool defined in the policy.') }).strict(),
      z.object({ owner: doc(Id(), 'CRM user ID of an owner or queue.') }).strict(),
      z.literal('manager'),
      z.literal('fallback'),
    ],
    { error: 'must be { "pool": <pool id> }, { "owner": <CRM user id> }, "manager" or "fallback"' },
  ),
  'Where the lead goes when the account owner is unavailable or there is no matched account.',
);

const ActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('account_owner'), otherwise: OtherwiseSchema }).strict(),
  z.object({ type: z.literal('pool'), pool: doc(Id(), 'ID of a pool defined in the policy.') }).strict(),
  z.object({ type: z.literal('owner'), ownerId: doc(Id(), 'CRM user ID of an owner or queue, taken as is.') }).strict(),
]);

const UrgencySchema = z.enum(['hot', 'normal', 'low']);
const StrategySchema = z.enum(['round_robin', 'weighted', 'load_balanced']);
const PeriodSchema = z.enum(['day', 'week', 'month']);

const RuleSchema = z
  .object({
    id: doc(Id(), 'Unique rule ID, recorded in decision traces.'),
    name: doc(Str(200).exactOptional(), 'Human description, shown in traces.'),
    when: ConditionSchema,
    action: ActionSchema,
    urgency: doc(UrgencySchema.exactOptional(), 'How urgent leads this rule routes are (default normal).'),
    defer: doc(
      z.boolean().exactOptional(),
      'When nobody is eligible now: wait for the earliest opening (true) or take the fallback (false, default).',
    ),
    notify: doc(z.array(Id()).exactOptional(), 'Extra messaging channel IDs told about every lead this rule routes.'),
    slaSeconds: doc(Seconds().exactOptional(), 'Seconds the owner has to accept a lead this rule routes (default: the policy SLA for its urgency).'),
  })
  .strict();

function Seconds() {
  return z.number().int('must be a whole number of seconds').positive('must be at least 1').max(30 * 86_400, 'must be at most 30 days');
}

const EscalationSchema = z
  .object({
    graceSeconds: doc(Seconds().exactOptional(), 'Seconds after the SLA lapses (and the owner is reminded) before the lead moves on (default: half the SLA).'),
    maxEscalations: doc(z.number().int().min(0).max(10).exactOptional(), 'How many times a lead moves to the next eligible rep (default 2).'),
    then: doc(z.enum(['manager', 'fallback']).exactOptional(), "After the last escalation: the lapsing owner's manager, or the fallback (default)."),
  })
  .strict();

const CapCount = z.number().int('must be a whole number').positive('must be at least 1').exactOptional();

const PoolMemberSchema = z
  .object({
    repId: doc(Id(), 'The rep’s CRM user ID.'),
    weight: doc(z.number().positive('must be greater than 0').exactOptional(), 'Relative share for weighted pools (default 1).'),
    caps: doc(
      z.object({ day: CapCount, week: CapCount, month: CapCount }).strict().exactOptional(),
      'Most leads per calendar period, in the policy’s time zone.',
    ),
    paused: doc(z.boolean().exactOptional(), 'Paused by an operator: never eligible.'),
  })
  .strict();

const PoolSchema = z
  .object({
    id: doc(Id(), 'Unique pool ID that rules refer to.'),
    strategy: doc(StrategySchema, 'How the pool picks among eligible members.'),
    members: z.array(PoolMemberSchema).min(1, 'a pool needs at least one member'),
    period: doc(PeriodSchema.exactOptional(), 'The period load_balanced balances over and stats report on (default day).'),
  })
  .strict();

const PolicyObjectSchema = z
  .object({
    $schema: doc(Str(500).exactOptional(), 'The JSON Schema this document follows, for editors (ignored by the engine).'),
    timezone: doc(
      z.string().refine(isTimeZone, 'must be an IANA time zone (e.g. America/New_York)'),
      'IANA time zone for calendar periods (cap resets, stats).',
    ),
    segments: doc(
      z
        .record(z.string().max(100).regex(/^[A-Za-z0-9_-]+$/, 'segment names are letters, digits, - and _'), ConditionSchema)
        .exactOptional(),
      'Named, reusable conditions (territories), referred to as { "segment": name }.',
    ),
    pools: z.array(PoolSchema),
    rules: doc(z.array(RuleSchema), 'Priority order: the first rule whose `when` matches decides.'),
    fallback: doc(
      z
        .object({
          ownerId: doc(Id(), 'CRM user ID of the fallback owner or queue.'),
          label: doc(Id(), 'Human name of the fallback, shown in traces and notifications.'),
          notifyChannel: doc(
            Id().nullable().exactOptional(),
            'Messaging channel ID told about every fallback lead.',
          ),
        })
        .strict(),
      'Where a lead goes when no rule matches, or a rule can place it nowhere.',
    ),
    sla: doc(
      z.object({ hot: Seconds().exactOptional(), normal: Seconds().exactOptional(), low: Seconds().exactOptional() }).strict().exactOptional(),
      'Seconds to accept a lead, by urgency (defaults: hot 300, normal 3600, low 86400).',
    ),
    slaBusinessHours: doc(z.boolean().exactOptional(), "Count SLA time only inside the owner's working hours (default false: wall-clock time)."),
    maxWaitSeconds: doc(
      z.object({ hot: Seconds().exactOptional(), normal: Seconds().exactOptional(), low: Seconds().exactOptional() }).strict().exactOptional(),
      'Longest a lead of this urgency waits on a rate-limited or failing CRM or messaging upstream before it takes its fallback path (defaults: hot 120, normal 600, low 3600). A wait the upstream asks for that is longer fails at once.',
    ),
    escalation: doc(EscalationSchema.exactOptional(), 'What happens when an owner lets a lead’s SLA lapse.'),
  })
  .strict();

export const PolicySchema = PolicyObjectSchema.superRefine(checkReferences);

// Compile-time proof that the schema and ./types.ts describe the same shapes, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _policyMatches: Same<z.output<typeof PolicySchema>, Policy> = true;
const _policyInputMatches: Same<z.input<typeof PolicySchema>, Policy> = true;
const _conditionMatches: Same<z.output<ReturnType<typeof conditionUnion>>, Condition> = true;
const _conditionInputMatches: Same<z.input<ReturnType<typeof conditionUnion>>, Condition> = true;
void _policyMatches;
void _policyInputMatches;
void _conditionMatches;
void _conditionInputMatches;

type Path = Array<string | number>;
type IssueSink = (path: Path, message: string) => void;

/** Every condition node (itself included) with its path. */
function walkConditions(condition: Condition, path: Path, visit: (node: Condition, path: Path) => void): void {
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
function checkCondition(node: Condition, path: Path, segmentNames: string[], report: IssueSink): void {
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
function checkReferences(policy: z.output<typeof PolicyObjectSchema>, ctx: z.RefinementCtx): void {
  const report: IssueSink = (path, message) => ctx.addIssue({ code: 'custom', path, message });
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

export interface PolicyIssue {
  /** Dotted path, array indexes as numbers (`rules.2.when.any.0.regex`); `(root)` for the whole. */
  path: string;
  message: string;
}

export type ParsePolicyResult = { ok: true; policy: Policy } | { ok: false; issues: PolicyIssue[] };

/** Validate a policy. On failure, one issue per problem, each naming the exact path. */
export function parsePolicy(input: unknown): ParsePolicyResult {
  const result = PolicySchema.safeParse(input);
  if (result.success) return { ok: true, policy: result.data };
  const issues: PolicyIssue[] = [];
  const seen = new Set<string>();
  for (const { path, message } of explain(result.error.issues, [], input)) {
    const dotted = path.map(String).join('.') || '(root)';
    const key = `${dotted}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: dotted, message });
  }
  return { ok: false, issues };
}

/** The published JSON Schema (draft 2020-12) of a policy file. Cross-field checks are parsePolicy's. */
export function policyJsonSchema(): object {
  const generated = z.toJSONSchema(PolicySchema, { target: 'draft-2020-12', metadata: policyMeta, io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'https://leadrelay.dev/schemas/policy.json',
    title: 'Leadrelay routing policy',
    description:
      'Rules in priority order route a lead to its account owner, a pool of reps or a named owner; segments name reusable conditions; ' +
      'the fallback takes what nothing else can. Cross-field rules (unique IDs, references that resolve, valid regular expressions) ' +
      'are checked by the service on upload.',
    ...rest,
  };
}

/** The JSON Schema as the committed file holds it: pretty-printed, with a final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Turning zod issues into precise, readable ones.

type ZodIssue = z.core.$ZodIssue;

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

/** Whether a union issue at `path` is about a condition (rather than a scalar or `otherwise`). */
function isConditionPath(path: Path): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (path.length === 2 && path[0] === 'segments') return true;
  if (path.length === 3 && path[0] === 'rules' && last === 'when') return true;
  if (path.length > 2 && last === 'not') return true;
  return typeof last === 'number' && (parent === 'all' || parent === 'any') && path.length > 3;
}

const OPERATOR_OF_KEY: Record<string, (typeof CONDITION_OPERATORS)[number]> = {
  all: 'all',
  any: 'any',
  not: 'not',
  segment: 'segment',
  equals: 'equals',
  in: 'in',
  contains: 'contains',
  regex: 'regex',
  gt: 'range',
  gte: 'range',
  lt: 'range',
  lte: 'range',
  exists: 'exists',
};
const CONDITION_KEYS = [...Object.keys(OPERATOR_OF_KEY), 'field', 'flags'];
const CONDITION_SHAPES =
  'must be a condition: { "all": [...] }, { "any": [...] }, { "not": {...} }, { "segment": name }, ' +
  'or { "field": path } with one of equals, in, contains, regex, exists, gt, gte, lt, lte';

/** The keys an object at `path` may have, for "did you mean" hints. */
function keysAt(path: Path): string[] {
  const p = path.map((k) => (typeof k === 'number' ? '#' : k));
  const tail = p.slice(-2).join('/');
  if (p.length === 0) return Object.keys(PolicyObjectSchema.shape);
  if (p.length === 1 && p[0] === 'fallback') return ['ownerId', 'label', 'notifyChannel'];
  if (p.length === 2 && p[0] === 'pools') return Object.keys(PoolSchema.shape);
  if (p.length === 4 && p[0] === 'pools') return Object.keys(PoolMemberSchema.shape);
  if (p.length === 5 && p[0] === 'pools') return ['day', 'week', 'month'];
  if (p.length === 2 && p[0] === 'rules') return Object.keys(RuleSchema.shape);
  if (p.length === 3 && tail === '#/action') return ['type', 'otherwise', 'pool', 'ownerId'];
  if (p.length === 4 && p[2] === 'action') return ['pool', 'owner'];
  return isConditionPath(path) ? CONDITION_KEYS : [];
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

function unknownKey(path: Path, key: string, present: unknown): { path: Path; message: string } {
  const candidates = keysAt(path).filter((k) => !(isRecord(present) && Object.hasOwn(present, k)));
  const best = candidates
    .map((k) => ({ k, d: distance(key, k) }))
    .filter(({ k, d }) => d <= Math.max(1, Math.floor(Math.min(k.length, key.length) / 3)))
    .sort((a, b) => a.d - b.d)[0];
  return { path: [...path, key], message: `is not a recognized field${best ? ` (did you mean "${best.k}"?)` : ''}` };
}

function explain(issues: readonly ZodIssue[], base: Path, input: unknown): Array<{ path: Path; message: string }> {
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
function explainUnion(
  issue: Extract<ZodIssue, { code: 'invalid_union' }>,
  path: Path,
  value: unknown,
  input: unknown,
): Array<{ path: Path; message: string }> {
  if ('note' in issue && issue.note === 'No matching discriminator') {
    const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.join(', ') : '';
    return [{ path, message: value === undefined ? `is required (one of ${options})` : `must be one of ${options}` }];
  }
  const branch = (index: number) => explain(issue.errors[index] ?? [], path, input);
  if (isConditionPath(path)) {
    if (value === undefined) return [{ path, message: 'is required' }];
    if (!isRecord(value)) return [{ path, message: CONDITION_SHAPES }];
    const operators = [...new Set(Object.keys(value).flatMap((k) => (Object.hasOwn(OPERATOR_OF_KEY, k) ? [OPERATOR_OF_KEY[k]!] : [])))];
    if (operators.length > 1) {
      return [{ path, message: `has several operators (${operators.join(', ')}): a condition takes one; combine conditions with all or any` }];
    }
    if (operators.length === 1) return branch(CONDITION_OPERATORS.indexOf(operators[0]!));
    if (Object.hasOwn(value, 'field')) return branch(CONDITION_OPERATORS.indexOf('range'));
    const unknown = Object.keys(value).filter((k) => !CONDITION_KEYS.includes(k));
    return [{ path, message: CONDITION_SHAPES }, ...unknown.map((k) => unknownKey(path, k, value))];
  }
  if (path[path.length - 1] === 'otherwise' && isRecord(value)) {
    if (Object.hasOwn(value, 'pool')) return branch(0);
    if (Object.hasOwn(value, 'owner')) return branch(1);
  }
  return [{ path, message: issue.message }];
}
