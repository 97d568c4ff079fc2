import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { evaluate } from '../../src/domain/policy/conditions';
import { parsePolicy } from '../../src/domain/policy/parse';
import { implies, normalize, shadowedRules } from '../../src/domain/policy/shadowing';
import type { Condition, Policy, RoutingContext } from '../../src/domain/policy/types';

const DE: Condition = { field: 'lead.country', equals: 'DE' };
const BIG: Condition = { field: 'enrichment.employees', gte: 1000 };
const DEMO: Condition = { field: 'lead.attributes.intent', equals: 'demo' };

/** A valid policy whose rules have these conditions, ids r0, r1, … (parsed, so the test cannot pass on an invalid one). */
function policyOf(conditions: Condition[], segments?: Record<string, Condition>): Policy {
  const result = parsePolicy({
    timezone: 'UTC',
    ...(segments ? { segments } : {}),
    pools: [],
    rules: conditions.map((when, i) => ({ id: `r${i}`, when, action: { type: 'owner', ownerId: 'usr_q' } })),
    fallback: { ownerId: 'usr_q', label: 'Queue' },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.policy;
}

const warningsOf = (conditions: Condition[], segments?: Record<string, Condition>) => shadowedRules(policyOf(conditions, segments));

describe('shadowedRules warns about a rule that can never match', () => {
  it('after a rule that matches every lead ({ all: [] }), for every later rule', () => {
    expect(warningsOf([DE, { all: [] }, BIG, DEMO])).toEqual([
      { path: 'rules.2', message: 'rule "r2" can never match: rule "r1" (rules.1) before it matches every lead' },
      { path: 'rules.3', message: 'rule "r3" can never match: rule "r1" (rules.1) before it matches every lead' },
    ]);
  });

  it('after a rule that matches every lead in other words: not any-of-nothing, or a field present or missing', () => {
    expect(warningsOf([{ not: { any: [] } }, DE])).toEqual([
      { path: 'rules.1', message: 'rule "r1" can never match: rule "r0" (rules.0) before it matches every lead' },
    ]);
    const presentOrMissing: Condition = { any: [{ field: 'lead.phone', exists: true }, { field: 'lead.phone', exists: false }] };
    expect(warningsOf([presentOrMissing, DE]).map((w) => w.path)).toEqual(['rules.1']);
  });

  it('after a rule with the same condition, once normalized', () => {
    expect(warningsOf([DE, DE])).toEqual([{ path: 'rules.1', message: 'rule "r1" can never match: rule "r0" (rules.0) before it has the same condition' }]);
    // Order, case, nesting, a one-value list, double negation and a segment's name do not matter.
    const pairs: Array<[Condition, Condition, Record<string, Condition>?]> = [
      [{ all: [DE, BIG] }, { all: [BIG, { all: [DE] }] }],
      [{ field: 'lead.country', equals: 'de' }, { field: 'lead.country', in: ['DE', 'de'] }],
      [{ field: 'lead.phone', exists: false }, { not: { not: { not: { field: 'lead.phone', exists: true } } } }],
      [{ any: [DE, BIG] }, { any: [BIG, DE, BIG] }],
      [{ field: 'lead.email', regex: 'x', flags: 'im' }, { field: 'lead.email', regex: 'x', flags: 'mi' }],
      [{ segment: 'germany' }, DE, { germany: DE }],
      [{ field: 'enrichment.employees', gt: 10, gte: 5 }, { field: 'enrichment.employees', gt: 10 }],
    ];
    for (const [earlier, later, segments] of pairs) {
      expect(warningsOf([earlier, later], segments)).toEqual([{ path: 'rules.1', message: 'rule "r1" can never match: rule "r0" (rules.0) before it has the same condition' }]);
    }
  });

  it('after a rule whose condition the later one implies', () => {
    const shadowed = { path: 'rules.1', message: 'rule "r1" can never match: rule "r0" (rules.0) before it matches every lead it would' };
    const pairs: Array<[Condition, Condition]> = [
      // all of [A] before all of [A, B]
      [{ all: [DE] }, { all: [DE, BIG] }],
      [{ all: [DE, BIG] }, { all: [BIG, DEMO, DE] }],
      // any of [A, B] before A, or before any of [B]
      [{ any: [DE, BIG] }, DE],
      [{ any: [DE, BIG, DEMO] }, { any: [BIG, DEMO] }],
      // a wider list or range before a narrower one
      [{ field: 'lead.country', in: ['DE', 'FR'] }, DE],
      [{ field: 'lead.country', in: ['DE', 'FR', 'AT'] }, { field: 'lead.country', in: ['fr', 'at'] }],
      [{ field: 'enrichment.employees', gte: 100 }, { field: 'enrichment.employees', gt: 500, lt: 1000 }],
      [{ field: 'enrichment.employees', gt: 100 }, { field: 'enrichment.employees', in: [101, 5000] }],
      [{ field: 'enrichment.employees', lte: 50 }, { field: 'enrichment.employees', equals: 50 }],
      // a field present before any test of it
      [{ field: 'lead.country', exists: true }, { field: 'lead.country', regex: '^D' }],
      [{ field: 'lead.email', contains: 'acme' }, { field: 'lead.email', equals: 'Ava@ACME.com' }],
      // not A before not B, where A implies B
      [{ not: DE }, { not: { field: 'lead.country', in: ['DE', 'FR'] } }],
      // a segment inlined
      [{ segment: 'emea' }, { all: [DE, BIG] }],
    ];
    for (const [earlier, later] of pairs) {
      expect(warningsOf([earlier, later], { emea: { field: 'lead.country', in: ['DE', 'FR', 'GB'] } })).toEqual([shadowed]);
    }
  });

  it('once, naming the first rule before it that catches its leads', () => {
    expect(warningsOf([BIG, { any: [DE, DEMO] }, DE, { all: [] }, { all: [DE, BIG] }])).toEqual([
      { path: 'rules.2', message: 'rule "r2" can never match: rule "r1" (rules.1) before it matches every lead it would' },
      { path: 'rules.4', message: 'rule "r4" can never match: rule "r0" (rules.0) before it matches every lead it would' },
    ]);
  });
});

describe('shadowedRules leaves alone', () => {
  it('rules that can still match, a catch-all last, and a rule that matches nothing by itself', () => {
    const conditions: Condition[] = [
      { all: [DE, BIG] }, // narrower before wider
      { all: [DE] },
      { field: 'enrichment.employees', gt: 500 },
      { field: 'enrichment.employees', gte: 100 },
      { field: 'lead.country', equals: 'DE ' }, // not the same value
      { field: 'lead.email', contains: 'acme corp' },
      { field: 'lead.email', contains: 'acme' }, // a list member "acme" does not contain "acme corp"
      { field: 'account.country', equals: 'DE' }, // another field
      { not: DE },
      { field: 'lead.phone', exists: false },
      { any: [] }, // dead, but not because of an earlier rule
      { all: [] },
    ];
    expect(warningsOf(conditions)).toEqual([]);
  });

  it('the demo policy and a policy without rules', () => {
    const demo: unknown = JSON.parse(readFileSync(join(__dirname, '../../examples/policies/demo.policy.json'), 'utf8'));
    const parsed = parsePolicy(demo);
    if (!parsed.ok) throw new Error('the demo policy is valid');
    expect(shadowedRules(parsed.policy)).toEqual([]);
    expect(warningsOf([])).toEqual([]);
  });
});

describe('implies', () => {
  const FIELDS = ['lead.country', 'enrichment.employees'] as const;
  const VALUES = ['DE', 'de', 'FR', 5, 50, 500, true] as const;
  const value = fc.constantFrom(...VALUES);
  const number = fc.constantFrom(5, 50, 500);
  const leaf: fc.Arbitrary<Condition> = fc.constantFrom(...FIELDS).chain((field) =>
    fc.oneof(
      fc.record({ field: fc.constant(field), equals: value }),
      fc.record({ field: fc.constant(field), in: fc.array(value, { minLength: 1, maxLength: 3 }) }),
      fc.record({ field: fc.constant(field), contains: fc.constantFrom('d', 'de', 'f') }),
      fc.record({ field: fc.constant(field), exists: fc.boolean() }),
      fc.record({ field: fc.constant(field), regex: fc.constantFrom('^d', '0$') }),
      fc.record({ field: fc.constant(field), gt: number, lte: number }, { requiredKeys: ['field', 'gt'] }),
      fc.record({ field: fc.constant(field), gte: number, lt: number }, { requiredKeys: ['field'] }).filter((r) => 'gte' in r || 'lt' in r),
    ),
  );
  const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
    c: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ all: fc.array(tie('c'), { maxLength: 3 }) }),
      fc.record({ any: fc.array(tie('c'), { maxLength: 3 }) }),
      fc.record({ not: tie('c') }),
    ),
  })).c;
  const fieldValue = fc.constantFrom<unknown>(undefined, null, 'DE', 'de', 'FR', 'Deutschland', 5, 50, 500, 501, ['de', 'x']);
  const contexts: RoutingContext[] = fc.sample(
    fc.record({ country: fieldValue, employees: fieldValue }).map(({ country, employees }) => ({ lead: { country }, enrichment: { employees }, account: null })),
    { seed: 20261201, numRuns: 120 },
  );

  it('holds on every lead: when x implies y, every lead matching x matches y (seed 20261201)', () => {
    let implied = 0;
    fc.assert(
      // Pairs of field tests as well: most implications between random trees are structural.
      fc.property(fc.oneof(fc.tuple(condition, condition), fc.tuple(leaf, leaf)), ([x, y]) => {
        const [nx, ny] = [normalize(x), normalize(y)];
        if (!implies(nx, ny)) return;
        if (nx.key !== ny.key && nx.kind !== 'false' && ny.kind !== 'true') implied++;
        for (const ctx of contexts) if (evaluate(x, ctx).matched) expect(evaluate(y, ctx).matched).toBe(true);
      }),
      { seed: 20261201, numRuns: 1500 },
    );
    // The property was not vacuous: beyond the trivial (same condition, always true, never true).
    expect(implied).toBeGreaterThan(50);
  });
});
