import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyJsonSchema, policyJsonSchemaText } from '../../src/domain/policy/jsonSchema';
import { parsePolicy } from '../../src/domain/policy/parse';
import type { Policy } from '../../src/domain/policy/types';

/** A policy that uses every construct of the format. */
const complete = (): Policy => ({
  timezone: 'Europe/Berlin',
  segments: {
    emea: { field: 'enrichment.countryCode', in: ['GB', 'DE', 'FR'] },
    enterprise: { field: 'enrichment.employees', gte: 1000 },
    'emea-enterprise': { all: [{ segment: 'emea' }, { segment: 'enterprise' }] },
    north: { field: 'account.territory', contains: 'north' },
  },
  pools: [
    {
      id: 'inbound',
      strategy: 'round_robin',
      members: [{ repId: 'usr_ava' }, { repId: 'usr_ben', caps: { day: 20, week: 80, month: 300 } }, { repId: 'usr_mei', paused: true }],
    },
    { id: 'emea', strategy: 'weighted', members: [{ repId: 'usr_chloe', weight: 2 }, { repId: 'usr_dieter', weight: 0.5 }] },
    { id: 'smb', strategy: 'load_balanced', period: 'week', members: [{ repId: 'usr_ava' }] },
  ],
  rules: [
    { id: 'owner', when: { field: 'account.id', exists: true }, action: { type: 'account_owner', otherwise: { pool: 'inbound' } } },
    { id: 'owner-or-manager', when: { field: 'account.tier', equals: 'gold' }, action: { type: 'account_owner', otherwise: 'manager' } },
    { id: 'owner-or-queue', when: { field: 'account.tier', equals: 1 }, action: { type: 'account_owner', otherwise: 'fallback' } },
    { id: 'owner-or-named', when: { field: 'lead.freeEmail', equals: false }, action: { type: 'account_owner', otherwise: { owner: 'usr_ava' } } },
    {
      id: 'emea-enterprise',
      name: 'EMEA enterprise',
      when: { any: [{ segment: 'emea-enterprise' }, { not: { segment: 'north' } }] },
      action: { type: 'pool', pool: 'emea' },
      urgency: 'hot',
      defer: true,
      notify: ['C_EMEA'],
    },
    {
      id: 'students',
      when: { all: [{ field: 'lead.email', regex: '\\.edu$', flags: 'i' }, { field: 'enrichment.employees', gt: 0, lt: 50 }, { field: 'lead.phone', exists: false }] },
      action: { type: 'owner', ownerId: 'usr_inbound_queue' },
      urgency: 'low',
    },
    { id: 'small', when: { field: 'enrichment.employees', lte: 200 }, action: { type: 'pool', pool: 'smb' }, urgency: 'normal', defer: false },
    { id: 'rest', when: { all: [] }, action: { type: 'pool', pool: 'inbound' } },
  ],
  fallback: { ownerId: 'usr_inbound_queue', label: 'Inbound Queue', notifyChannel: 'C_LEAD_TRIAGE' },
});

/** The issues of a policy `complete()` changed by `change`; fails the test if it parses. */
function issuesOf(change: (p: any) => void) {
  const policy = complete();
  change(policy);
  const result = parsePolicy(policy);
  if (result.ok) throw new Error('expected the policy to be rejected');
  return result.issues;
}

describe('parsePolicy accepts', () => {
  it('a complete policy using every operator, action and strategy, unchanged', () => {
    const result = parsePolicy(complete());
    expect(result).toEqual({ ok: true, policy: complete() });
  });

  it('a policy without segments or rules (everything goes to the fallback)', () => {
    const minimal = { timezone: 'UTC', pools: [], rules: [], fallback: { ownerId: 'usr_q', label: 'Queue' } };
    expect(parsePolicy(minimal)).toEqual({ ok: true, policy: minimal });
  });

  it('the demo policy in examples/', () => {
    const demo: unknown = JSON.parse(readFileSync(join(__dirname, '../../examples/policies/demo.policy.json'), 'utf8'));
    const result = parsePolicy(demo);
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (!result.ok) return;
    expect(result.policy.rules.map((r) => r.id)).toEqual(['existing-account', 'emea-enterprise', 'demo-requests', 'content', 'catch-all']);
    expect(result.policy.fallback).toEqual({ ownerId: 'usr_inbound_queue', label: 'Inbound Queue', notifyChannel: 'C0LEADTRIAGE' });
    const reps = ['usr_ava', 'usr_ben', 'usr_chloe', 'usr_dieter', 'usr_mei'];
    for (const pool of result.policy.pools) expect(reps).toEqual(expect.arrayContaining(pool.members.map((m) => m.repId)));
  });
});

describe('parsePolicy rejects, naming the path', () => {
  it('a rule action naming an undefined pool', () => {
    expect(issuesOf((p) => (p.rules[4].action.pool = 'apac'))).toEqual([
      { path: 'rules.4.action.pool', message: 'unknown pool "apac" (defined: inbound, emea, smb)' },
    ]);
  });

  it('an account-owner fallback pool that is not defined', () => {
    expect(issuesOf((p) => (p.rules[0].action.otherwise = { pool: 'overflow' }))).toEqual([
      { path: 'rules.0.action.otherwise.pool', message: 'unknown pool "overflow" (defined: inbound, emea, smb)' },
    ]);
  });

  it('a reference to an undefined segment, in a rule or in another segment', () => {
    expect(issuesOf((p) => (p.rules[4].when.any[1].not.segment = 'nordics'))).toEqual([
      { path: 'rules.4.when.any.1.not.segment', message: 'unknown segment "nordics" (defined: emea, enterprise, emea-enterprise, north)' },
    ]);
    expect(issuesOf((p) => (p.segments['emea-enterprise'].all[1].segment = 'enterprize'))).toEqual([
      { path: 'segments.emea-enterprise.all.1.segment', message: 'unknown segment "enterprize" (defined: emea, enterprise, emea-enterprise, north)' },
    ]);
    expect(issuesOf((p) => delete p.segments)).toEqual([
      { path: 'rules.4.when.any.0.segment', message: 'unknown segment "emea-enterprise" (defined: none)' },
      { path: 'rules.4.when.any.1.not.segment', message: 'unknown segment "north" (defined: none)' },
    ]);
  });

  it('a cycle of segments, once, spelling it out', () => {
    expect(
      issuesOf((p) => {
        p.segments.emea = { any: [{ segment: 'emea-enterprise' }] };
        p.segments.north = { not: { segment: 'north' } };
      }),
    ).toEqual([
      { path: 'segments.emea-enterprise.all.0.segment', message: 'segment cycle: emea → emea-enterprise → emea' },
      { path: 'segments.north.not.segment', message: 'segment cycle: north → north' },
    ]);
  });

  it('duplicate rule ids, pool ids and pool members', () => {
    expect(
      issuesOf((p) => {
        p.rules[6].id = 'owner';
        p.pools[2].id = 'emea';
        p.pools[0].members.push({ repId: 'usr_ava' });
      }),
    ).toEqual([
      { path: 'rules.6.id', message: 'duplicate rule id "owner" (also rules.0.id)' },
      { path: 'pools.2.id', message: 'duplicate pool id "emea" (also pools.1.id)' },
      { path: 'pools.0.members.3.repId', message: 'usr_ava is already a member of pool "inbound" (members.0)' },
      // Renaming the smb pool leaves the rule that used it pointing nowhere.
      { path: 'rules.6.action.pool', message: 'unknown pool "smb" (defined: inbound, emea)' },
    ]);
  });

  it('a regular expression that does not compile, and flags that do not exist', () => {
    expect(issuesOf((p) => (p.rules[5].when.all[0].regex = '([a-z]+\\.edu$'))).toEqual([
      { path: 'rules.5.when.all.0.regex', message: 'Invalid regular expression: /([a-z]+\\.edu$/i: Unterminated group' },
    ]);
    expect(issuesOf((p) => (p.rules[5].when.all[0].flags = 'iq'))).toEqual([{ path: 'rules.5.when.all.0.flags', message: 'invalid regular expression flags "iq"' }]);
  });

  it('a time zone that does not exist', () => {
    expect(issuesOf((p) => (p.timezone = 'Europe/Atlantis'))).toEqual([{ path: 'timezone', message: 'must be an IANA time zone (e.g. America/New_York)' }]);
    expect(issuesOf((p) => (p.timezone = ''))).toEqual([{ path: 'timezone', message: 'must be an IANA time zone (e.g. America/New_York)' }]);
  });

  it('a misspelt key, suggesting the right one', () => {
    expect(
      issuesOf((p) => {
        p.pools[1].stratgy = p.pools[1].strategy;
        delete p.pools[1].strategy;
      }),
    ).toEqual([
      { path: 'pools.1.strategy', message: 'is required (one of round_robin, weighted, load_balanced)' },
      { path: 'pools.1.stratgy', message: 'is not a recognized field (did you mean "strategy"?)' },
    ]);
    expect(issuesOf((p) => (p.rules[0].nmae = 'Owners'))).toEqual([{ path: 'rules.0.nmae', message: 'is not a recognized field (did you mean "name"?)' }]);
    expect(issuesOf((p) => (p.fallback.channel = 'C_X'))).toEqual([{ path: 'fallback.channel', message: 'is not a recognized field' }]);
  });

  it('a misspelt key in any object of the policy, the keys it may have read from the schema', () => {
    expect(
      issuesOf((p) => {
        p.sla = { hott: 60 };
        p.escalation = { maxEscalation: 1 };
        p.rules[0].action.otherwise = { pool: 'inbound', ownr: 'usr_ava' };
        p.rules[6].when = { field: 'enrichment.employees', lte: 200, gtee: 10 };
      }),
    ).toEqual([
      { path: 'rules.0.action.otherwise.ownr', message: 'is not a recognized field (did you mean "owner"?)' },
      { path: 'rules.6.when.gtee', message: 'is not a recognized field (did you mean "gte"?)' },
      { path: 'sla.hott', message: 'is not a recognized field (did you mean "hot"?)' },
      { path: 'escalation.maxEscalation', message: 'is not a recognized field (did you mean "maxEscalations"?)' },
    ]);
  });

  it('a misspelt condition operator, inside nested conditions', () => {
    expect(issuesOf((p) => (p.rules[5].when.all[2] = { field: 'lead.country', equal: 'DE' }))).toEqual([
      { path: 'rules.5.when.all.2.equal', message: 'is not a recognized field (did you mean "equals"?)' },
      { path: 'rules.5.when.all.2', message: expect.stringContaining('has no operator') },
    ]);
  });

  it('a bad value inside a nested condition, at the value', () => {
    expect(issuesOf((p) => (p.rules[4].when.any[1].not = { field: 'lead.phone', exists: 'yes' }))).toEqual([
      { path: 'rules.4.when.any.1.not.exists', message: 'expected boolean, received string' },
    ]);
    expect(issuesOf((p) => (p.segments.emea.in[1] = { code: 'DE' }))).toEqual([{ path: 'segments.emea.in.1', message: 'must be a string, number, boolean or null' }]);
  });

  it('a condition with two operators', () => {
    expect(issuesOf((p) => (p.rules[1].when = { field: 'account.tier', equals: 'gold', exists: true }))).toEqual([
      { path: 'rules.1.when', message: 'has several operators (equals, exists): a condition takes one; combine conditions with all or any' },
    ]);
  });

  it('something that is not a condition at all', () => {
    expect(issuesOf((p) => (p.rules[7].when = 'always'))).toEqual([{ path: 'rules.7.when', message: expect.stringMatching(/^must be a condition: /) }]);
  });

  it('a field path outside the routing context', () => {
    expect(issuesOf((p) => (p.rules[1].when.field = 'tier'))).toEqual([
      { path: 'rules.1.when.field', message: 'must be a dotted path from lead, enrichment or account (e.g. lead.country)' },
    ]);
  });

  it('a weight of 0 and caps that are not positive whole numbers', () => {
    expect(
      issuesOf((p) => {
        p.pools[1].members[1].weight = 0;
        p.pools[0].members[1].caps.day = 0;
        p.pools[0].members[1].caps.week = 2.5;
      }),
    ).toEqual([
      { path: 'pools.0.members.1.caps.day', message: 'must be at least 1' },
      { path: 'pools.0.members.1.caps.week', message: 'must be a whole number' },
      { path: 'pools.1.members.1.weight', message: 'must be greater than 0' },
    ]);
  });

  it('a range without bounds, and one no value can satisfy', () => {
    expect(issuesOf((p) => (p.rules[6].when = { field: 'enrichment.employees' }))).toEqual([
      {
        path: 'rules.6.when',
        message: 'has no operator: a range needs at least one bound (gt, gte, lt or lte); or use equals, in, contains, regex or exists',
      },
    ]);
    expect(issuesOf((p) => (p.rules[6].when = { field: 'enrichment.employees', gte: 500, lt: 500 }))).toEqual([
      { path: 'rules.6.when', message: 'never matches: gte 500 and lt 500 leave no value' },
    ]);
  });

  it('null as a value to compare with (a null field is missing, so it could never match)', () => {
    expect(issuesOf((p) => (p.rules[1].when.equals = null))).toEqual([
      { path: 'rules.1.when.equals', message: 'null never matches (a null field is missing); use { "field", "exists": false }' },
    ]);
  });

  it('an action of an unknown type, and an account-owner fallback of the wrong shape', () => {
    expect(issuesOf((p) => (p.rules[7].action = { type: 'queue', pool: 'inbound' }))).toEqual([
      { path: 'rules.7.action.type', message: 'must be one of account_owner, pool, owner' },
    ]);
    expect(issuesOf((p) => (p.rules[0].action.otherwise = 'round_robin'))).toEqual([
      { path: 'rules.0.action.otherwise', message: 'must be { "pool": <pool id> }, { "owner": <CRM user id> }, "manager" or "fallback"' },
    ]);
  });

  it('a missing required part: the fallback, a rule’s condition or action; and a policy that is not an object', () => {
    expect(issuesOf((p) => delete p.fallback)).toEqual([{ path: 'fallback', message: 'is required' }]);
    expect(issuesOf((p) => p.rules.push({ id: 'half-written' }))).toEqual([
      { path: 'rules.8.when', message: 'is required' },
      { path: 'rules.8.action', message: 'is required' },
    ]);
    expect(parsePolicy(null)).toEqual({ ok: false, issues: [{ path: '(root)', message: 'expected object, received null' }] });
  });

  it('every problem at once, structural and cross-field', () => {
    const issues = issuesOf((p) => {
      p.pools[0].stratgy = 'round_robin';
      p.rules[7].action.pool = 'apac';
    });
    expect(issues.map((i) => i.path)).toEqual(['pools.0.stratgy', 'rules.7.action.pool']);
  });
});

describe('the policy JSON Schema', () => {
  it('is draft 2020-12 with the published $id and a title, and rejects unknown keys', () => {
    const schema = policyJsonSchema() as Record<string, any>;
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['$id']).toBe('https://leadrelay.dev/schemas/policy.json');
    expect(schema['title']).toBe('Leadrelay routing policy');
    expect(schema['required']).toEqual(['timezone', 'pools', 'rules', 'fallback']);
    expect(schema['additionalProperties']).toBe(false);
    expect(schema['properties'].rules.items.properties.when).toEqual({ $ref: '#/$defs/Condition' });
    expect(schema['$defs'].Condition.anyOf).toHaveLength(10);
  });

  it('is what schemas/policy.schema.json holds (regenerate: npx tsx scripts/write-policy-schema.ts)', () => {
    const committed = readFileSync(join(__dirname, '../../schemas/policy.schema.json'), 'utf8');
    expect(committed).toBe(policyJsonSchemaText());
    expect(JSON.parse(committed)).toEqual(policyJsonSchema());
  });
});
