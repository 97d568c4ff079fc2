/**
 * The zod schema of a routing policy (see ./types.ts). Objects are strict, so a misspelt key is an
 * error naming its path. Around it: ./checks.ts (cross-field validation, run as the schema's
 * refinement), ./parse.ts (parsePolicy, with ./explain.ts turning zod issues into readable ones),
 * ./jsonSchema.ts (the published JSON Schema) and ./shadowing.ts (warnings about rules that can
 * never match).
 *
 * Not for workflow code (it imports zod): workflows receive policies this module validated.
 */
import { z } from 'zod';
import { isTimeZone } from '../availability';
import { hasControlCharacter, NO_CONTROL_CHARACTERS } from '../input';
import { checkPolicy, NO_OPERATOR } from './checks';
import type { Condition, Policy } from './types';

/** Metadata for the published JSON Schema. A local registry: nothing lands in zod's global one. */
export const policyMeta = z.registry<{ id?: string; title?: string; description?: string }>();

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

/**
 * The branches of a condition. parsePolicy's error reporting (./explain.ts) reads them from here:
 * a branch's operator is the key no other branch has (required ones first; the range's are all
 * optional), and `field` and `flags` are not operators.
 */
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

export const PolicySchema = PolicyObjectSchema.superRefine((policy, ctx) =>
  checkPolicy(policy, (path, message) => ctx.addIssue({ code: 'custom', path, message })),
);

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
