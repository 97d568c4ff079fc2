import demoPolicyJson from '../../examples/policies/demo.policy.json';
import { normalizeLead } from '../../src/domain/lead';
import type { LeadInput } from '../../src/domain/leadSchema';
import { evaluate, fieldValue, routingContext } from '../../src/domain/policy/conditions';
import { parsePolicy } from '../../src/domain/policy/parse';
import type { Condition, Policy, RoutingContext } from '../../src/domain/policy/types';
import type { AccountMatch, EnrichmentFacts } from '../../src/domain/routing';

type Company = Extract<EnrichmentFacts, { status: 'found' }>['company'];

const lead = (over: Partial<LeadInput> = {}) =>
  normalizeLead({
    source: 'form',
    email: 'Jane.Doe@Umbrella.co.uk',
    firstName: 'Jane',
    lastName: 'Doe',
    company: 'Umbrella Corporation',
    country: 'GB',
    title: 'VP Engineering',
    attributes: { plan: 'Enterprise', seats: 250, trial: true, intent: 'demo' },
    ...over,
  });

const company = (over: Partial<Company> = {}): EnrichmentFacts => ({
  status: 'found',
  company: {
    name: 'Umbrella Corporation',
    domain: 'umbrella.co.uk',
    industry: 'Pharmaceuticals',
    sector: 'Health Care',
    country: 'United Kingdom',
    countryCode: 'GB',
    state: 'ENG',
    employees: 12_000,
    employeesRange: '10K-50K',
    annualRevenue: 4_500_000_000,
    ...over,
  },
});

/** A matched account carrying tenant-mapped custom fields as extra keys, as the CRM connector delivers them. */
const matched = (extra: Record<string, unknown> = { territory: 'EMEA-North', tier: 'Gold', tags: ['Partner', 'Pharma'] }): AccountMatch => {
  const account = { id: 'acc_umbrella', name: 'Umbrella Corporation', ownerId: 'usr_chloe', domains: ['umbrella.co.uk'], website: null, ...extra };
  return { status: 'matched', account, matchedDomain: 'umbrella.co.uk', otherMatches: [] };
};

const ctx = (over: { lead?: Partial<LeadInput>; company?: Partial<Company> | null; account?: AccountMatch | null } = {}): RoutingContext =>
  routingContext(
    lead(over.lead),
    over.company === null ? null : company(over.company ?? {}),
    over.account === undefined ? matched() : over.account,
  );

const full = ctx();

describe('fieldValue', () => {
  it('reads dotted paths into the lead, its attributes, the enrichment and the account', () => {
    expect(fieldValue(full, 'lead.country')).toBe('GB');
    expect(fieldValue(full, 'lead.email')).toBe('jane.doe@umbrella.co.uk');
    expect(fieldValue(full, 'lead.attributes.plan')).toBe('Enterprise');
    expect(fieldValue(full, 'enrichment.employees')).toBe(12_000);
    expect(fieldValue(full, 'account.ownerId')).toBe('usr_chloe');
  });

  it('answers undefined for a missing key, a path through null or a scalar, and inherited properties', () => {
    const bare = ctx({ company: null, account: null });
    expect(fieldValue(full, 'lead.attributes.budget')).toBeUndefined();
    expect(fieldValue(bare, 'enrichment.employees')).toBeUndefined();
    expect(fieldValue(bare, 'account.territory')).toBeUndefined();
    expect(fieldValue(full, 'lead.email.length')).toBeUndefined();
    expect(fieldValue(full, 'lead.constructor')).toBeUndefined();
    expect(fieldValue(full, 'lead.attributes.toString')).toBeUndefined();
    expect(fieldValue(full, 'nothing.at.all')).toBeUndefined();
  });
});

describe('routingContext', () => {
  it('exposes the normalized lead with its attributes, and the found company’s fields', () => {
    const context = routingContext(lead(), company(), null);
    expect(context.lead).toMatchObject({ email: 'jane.doe@umbrella.co.uk', emailDomain: 'umbrella.co.uk', freeEmail: false, fullName: 'Jane Doe', source: 'form' });
    expect(context.lead['attributes']).toEqual({ plan: 'Enterprise', seats: 250, trial: true, intent: 'demo' });
    expect(context.enrichment).toEqual({
      name: 'Umbrella Corporation',
      domain: 'umbrella.co.uk',
      industry: 'Pharmaceuticals',
      sector: 'Health Care',
      country: 'United Kingdom',
      countryCode: 'GB',
      state: 'ENG',
      employees: 12_000,
      employeesRange: '10K-50K',
      annualRevenue: 4_500_000_000,
    });
  });

  it('has no enrichment unless the company was found', () => {
    for (const facts of [
      null,
      { status: 'not_found', reason: 'no company for umbrella.co.uk' },
      { status: 'skipped', reason: 'free mail domain' },
      { status: 'unavailable', reason: 'HTTP 503' },
    ] as const) {
      expect(routingContext(lead(), facts, null).enrichment).toBeNull();
    }
  });

  it('keeps the matched account’s tenant-mapped custom fields, and has no account without a match', () => {
    expect(routingContext(lead(), null, matched()).account).toEqual({
      id: 'acc_umbrella',
      name: 'Umbrella Corporation',
      ownerId: 'usr_chloe',
      domains: ['umbrella.co.uk'],
      website: null,
      territory: 'EMEA-North',
      tier: 'Gold',
      tags: ['Partner', 'Pharma'],
    });
    expect(routingContext(lead(), null, { status: 'none', domains: ['umbrella.co.uk'] }).account).toBeNull();
    expect(routingContext(lead(), null, { status: 'unavailable', reason: 'CRM timeout' }).account).toBeNull();
    expect(routingContext(lead(), null, null).account).toBeNull();
  });

  it('copies what it exposes, so evaluation cannot change the lead it was built from', () => {
    const normalized = lead();
    const context = routingContext(normalized, null, null);
    (context.lead['attributes'] as Record<string, unknown>)['plan'] = 'Free';
    expect(normalized.attributes['plan']).toBe('Enterprise');
  });
});

const check = (condition: Condition, context: RoutingContext = full, segments?: Record<string, Condition>) => evaluate(condition, context, segments);

describe('equals', () => {
  it('compares strings case-insensitively', () => {
    expect(check({ field: 'lead.country', equals: 'gb' })).toEqual({ matched: true, detail: 'lead.country "GB" equals "gb"' });
    expect(check({ field: 'lead.attributes.plan', equals: 'ENTERPRISE' }).matched).toBe(true);
  });

  it('says what the value was when it does not match', () => {
    expect(check({ field: 'lead.country', equals: 'DE' })).toEqual({ matched: false, detail: 'lead.country "GB" does not equal "DE"' });
  });

  it('compares numbers and booleans strictly, never across types', () => {
    expect(check({ field: 'lead.attributes.seats', equals: 250 }).matched).toBe(true);
    expect(check({ field: 'lead.attributes.seats', equals: '250' }).matched).toBe(false);
    expect(check({ field: 'lead.attributes.trial', equals: true })).toEqual({ matched: true, detail: 'lead.attributes.trial true equals true' });
    expect(check({ field: 'lead.attributes.trial', equals: 'true' }).matched).toBe(false);
    expect(check({ field: 'lead.freeEmail', equals: false }).matched).toBe(true);
  });
});

describe('in', () => {
  it('matches any listed value, strings case-insensitively, with the list in the trace', () => {
    const context = ctx({ lead: { country: 'DE' } });
    expect(check({ field: 'lead.country', in: ['DE', 'AT', 'CH'] }, context)).toEqual({ matched: true, detail: 'lead.country "DE" in [DE, AT, CH]' });
    expect(check({ field: 'lead.country', in: ['de', 'at'] }, context).matched).toBe(true);
  });

  it('does not match a value outside the list', () => {
    expect(check({ field: 'lead.country', in: ['DE', 'AT', 'CH'] })).toEqual({ matched: false, detail: 'lead.country "GB" not in [DE, AT, CH]' });
  });

  it('compares numbers strictly', () => {
    expect(check({ field: 'lead.attributes.seats', in: [100, 250] }).matched).toBe(true);
    expect(check({ field: 'lead.attributes.seats', in: ['250'] }).matched).toBe(false);
  });

  it('shortens a long list in the trace', () => {
    const codes = ['AA', 'AB', 'AC', 'AD', 'AE', 'AF', 'AG', 'AH', 'AI', 'AJ', 'AK', 'AL'];
    expect(check({ field: 'lead.country', in: codes }).detail).toBe('lead.country "GB" not in [AA, AB, AC, AD, AE, AF, AG, AH, AI, AJ, … 2 more]');
  });
});

describe('contains', () => {
  it('is a case-insensitive substring test on strings', () => {
    expect(check({ field: 'lead.title', contains: 'engineer' })).toEqual({ matched: true, detail: 'lead.title "VP Engineering" contains "engineer"' });
    expect(check({ field: 'lead.title', contains: 'sales' })).toEqual({ matched: false, detail: 'lead.title "VP Engineering" does not contain "sales"' });
  });

  it('is a case-insensitive membership test on lists, not a substring test on their items', () => {
    expect(check({ field: 'account.tags', contains: 'partner' })).toEqual({ matched: true, detail: 'account.tags [Partner, Pharma] contains "partner"' });
    expect(check({ field: 'account.tags', contains: 'part' }).matched).toBe(false);
  });

  it('does not match a number', () => {
    expect(check({ field: 'enrichment.employees', contains: '12' })).toEqual({ matched: false, detail: 'enrichment.employees 12000 is neither text nor a list' });
  });
});

describe('regex', () => {
  it('tests strings, honouring flags', () => {
    expect(check({ field: 'lead.title', regex: '^vp\\b' })).toEqual({ matched: false, detail: 'lead.title "VP Engineering" does not match /^vp\\b/' });
    expect(check({ field: 'lead.title', regex: '^vp\\b', flags: 'i' })).toEqual({ matched: true, detail: 'lead.title "VP Engineering" matches /^vp\\b/i' });
    expect(check({ field: 'lead.emailDomain', regex: '\\.co\\.uk$' }).matched).toBe(true);
  });

  it('tests numbers as their text and refuses other values', () => {
    expect(check({ field: 'enrichment.employees', regex: '^12\\d{3}$' }).matched).toBe(true);
    expect(check({ field: 'lead.attributes.trial', regex: 'true' })).toEqual({ matched: false, detail: 'lead.attributes.trial true is not text' });
  });

  it('gives the same answer every time, even with a global flag', () => {
    const condition: Condition = { field: 'lead.country', regex: 'gb', flags: 'gi' };
    expect([1, 2, 3].map(() => check(condition).matched)).toEqual([true, true, true]);
  });

  it('refuses an invalid pattern', () => {
    expect(() => check({ field: 'lead.title', regex: '([' })).toThrow(/invalid regular expression \/\(\[\//);
  });
});

describe('ranges', () => {
  const employees = (n: number | null) => ctx({ company: { employees: n } });

  it('gt excludes the bound', () => {
    expect(check({ field: 'enrichment.employees', gt: 1000 }, employees(1001))).toEqual({ matched: true, detail: 'enrichment.employees 1001 is > 1000' });
    expect(check({ field: 'enrichment.employees', gt: 1000 }, employees(1000))).toEqual({ matched: false, detail: 'enrichment.employees 1000 is not > 1000' });
  });

  it('gte includes the bound', () => {
    expect(check({ field: 'enrichment.employees', gte: 100 }, employees(100)).matched).toBe(true);
    expect(check({ field: 'enrichment.employees', gte: 100 }, employees(40))).toEqual({ matched: false, detail: 'enrichment.employees 40 is not >= 100' });
  });

  it('lt excludes the bound', () => {
    expect(check({ field: 'enrichment.employees', lt: 50 }, employees(49)).matched).toBe(true);
    expect(check({ field: 'enrichment.employees', lt: 50 }, employees(50))).toEqual({ matched: false, detail: 'enrichment.employees 50 is not < 50' });
  });

  it('lte includes the bound', () => {
    expect(check({ field: 'enrichment.employees', lte: 50 }, employees(50)).matched).toBe(true);
    expect(check({ field: 'enrichment.employees', lte: 50 }, employees(51)).matched).toBe(false);
  });

  it('requires every bound of a band, naming the one that fails', () => {
    const band: Condition = { field: 'enrichment.employees', gte: 250, lt: 1000 };
    expect(check(band, employees(850))).toEqual({ matched: true, detail: 'enrichment.employees 850 is >= 250 and < 1000' });
    expect(check(band, employees(1000))).toEqual({ matched: false, detail: 'enrichment.employees 1000 is not < 1000' });
    expect(check(band, employees(35))).toEqual({ matched: false, detail: 'enrichment.employees 35 is not >= 250' });
  });

  it('does not match text, even numeric text, or a missing value', () => {
    const context = ctx({ lead: { attributes: { budget: '50000' } } });
    expect(check({ field: 'lead.attributes.budget', gte: 1 }, context)).toEqual({ matched: false, detail: 'lead.attributes.budget "50000" is not a number' });
    expect(check({ field: 'enrichment.employees', gte: 1 }, employees(null))).toEqual({ matched: false, detail: 'enrichment.employees is missing' });
  });

  it('refuses a range without bounds', () => {
    expect(() => check({ field: 'enrichment.employees' })).toThrow('condition on enrichment.employees has no operator');
  });
});

describe('exists', () => {
  it('exists: true matches a present value and not a missing or null one', () => {
    expect(check({ field: 'account.territory', exists: true })).toEqual({ matched: true, detail: 'account.territory "EMEA-North" is present' });
    expect(check({ field: 'account.territory', exists: true }, ctx({ account: null }))).toEqual({ matched: false, detail: 'account.territory is missing' });
    expect(check({ field: 'enrichment.state', exists: true }, ctx({ company: { state: null } })).matched).toBe(false);
  });

  it('exists: false matches a missing or null value and not a present one', () => {
    expect(check({ field: 'lead.phone', exists: false })).toEqual({ matched: true, detail: 'lead.phone is missing' });
    expect(check({ field: 'account.id', exists: false }, ctx({ account: { status: 'none', domains: [] } })).matched).toBe(true);
    expect(check({ field: 'lead.country', exists: false })).toEqual({ matched: false, detail: 'lead.country "GB" is present' });
  });
});

describe('a missing field', () => {
  const bare = ctx({ company: null, account: null, lead: { country: undefined, attributes: {} } });

  it.each<[string, Condition & { field: string }]>([
    ['equals', { field: 'lead.country', equals: 'GB' }],
    ['in', { field: 'lead.country', in: ['GB', 'DE'] }],
    ['contains', { field: 'lead.attributes.plan', contains: 'e' }],
    ['regex', { field: 'enrichment.industry', regex: '.*' }],
    ['range', { field: 'account.employees', gte: 0 }],
  ])('matches nothing but exists: false (%s)', (_name, condition) => {
    expect(check(condition, bare)).toEqual({ matched: false, detail: `${condition.field} is missing` });
    expect(check({ field: condition.field, exists: false }, bare)).toEqual({ matched: true, detail: `${condition.field} is missing` });
  });

  it('makes a negated comparison match, since the comparison failed', () => {
    expect(check({ not: { field: 'account.tier', equals: 'Gold' } }, bare)).toEqual({ matched: true, detail: 'not (account.tier is missing)' });
  });
});

describe('all / any / not', () => {
  const de = ctx({ lead: { country: 'DE' }, company: { countryCode: 'DE', employees: 120 } });

  it('all matches when every condition does, joining their details', () => {
    expect(check({ all: [{ field: 'lead.country', equals: 'GB' }, { field: 'enrichment.employees', gte: 1000 }] })).toEqual({
      matched: true,
      detail: 'lead.country "GB" equals "GB" and enrichment.employees 12000 is >= 1000',
    });
  });

  it('all fails with the first failing condition', () => {
    expect(check({ all: [{ field: 'lead.country', equals: 'DE' }, { field: 'enrichment.employees', gte: 1000 }] }, de)).toEqual({
      matched: false,
      detail: 'enrichment.employees 120 is not >= 1000',
    });
  });

  it('any matches with the first matching condition', () => {
    expect(check({ any: [{ field: 'lead.country', equals: 'FR' }, { field: 'lead.country', equals: 'DE' }, { field: 'lead.title', exists: true }] }, de)).toEqual({
      matched: true,
      detail: 'lead.country "DE" equals "DE"',
    });
  });

  it('any fails with every condition’s reason', () => {
    expect(check({ any: [{ field: 'lead.country', equals: 'FR' }, { field: 'enrichment.employees', gte: 1000 }] }, de)).toEqual({
      matched: false,
      detail: 'lead.country "DE" does not equal "FR" and enrichment.employees 120 is not >= 1000',
    });
  });

  it('not inverts, and says so', () => {
    expect(check({ not: { field: 'lead.freeEmail', equals: true } })).toEqual({ matched: true, detail: 'not (lead.freeEmail false does not equal true)' });
    expect(check({ not: { field: 'lead.country', equals: 'GB' } }).matched).toBe(false);
  });

  it('an empty all always matches; an empty any never does', () => {
    expect(check({ all: [] })).toEqual({ matched: true, detail: 'always (all of no conditions)' });
    expect(check({ any: [] })).toEqual({ matched: false, detail: 'never (any of no conditions)' });
  });

  it('nests, parenthesizing joined details inside a join', () => {
    const condition: Condition = {
      all: [
        { any: [{ field: 'lead.country', equals: 'FR' }, { field: 'lead.country', equals: 'GB' }] },
        { all: [{ field: 'enrichment.employees', gte: 1000 }, { not: { field: 'lead.freeEmail', equals: true } }] },
      ],
    };
    expect(check(condition)).toEqual({
      matched: true,
      detail: 'lead.country "GB" equals "GB" and (enrichment.employees 12000 is >= 1000 and not (lead.freeEmail false does not equal true))',
    });
    expect(check(condition, ctx({ lead: { country: 'US' } }))).toEqual({
      matched: false,
      detail: 'lead.country "US" does not equal "FR" and lead.country "US" does not equal "GB"',
    });
  });
});

describe('segments', () => {
  const segments: Record<string, Condition> = {
    emea: { field: 'enrichment.countryCode', in: ['GB', 'DE', 'FR', 'NL', 'AE'] },
    enterprise: { field: 'enrichment.employees', gte: 1000 },
    'emea-enterprise': { all: [{ segment: 'emea' }, { segment: 'enterprise' }] },
  };

  it('matches a territory by country list and says which segment matched', () => {
    expect(check({ segment: 'emea' }, full, segments)).toEqual({ matched: true, detail: 'in segment emea (enrichment.countryCode "GB" in [GB, DE, FR, NL, AE])' });
    expect(check({ segment: 'emea' }, ctx({ company: { countryCode: 'US' } }), segments)).toEqual({
      matched: false,
      detail: 'not in segment emea (enrichment.countryCode "US" not in [GB, DE, FR, NL, AE])',
    });
  });

  it('matches enterprise companies by head count, and not a company enrichment could not find', () => {
    expect(check({ segment: 'enterprise' }, full, segments).matched).toBe(true);
    expect(check({ segment: 'enterprise' }, ctx({ company: { employees: 850 } }), segments)).toEqual({
      matched: false,
      detail: 'not in segment enterprise (enrichment.employees 850 is not >= 1000)',
    });
    expect(check({ segment: 'enterprise' }, ctx({ company: null }), segments).detail).toBe('not in segment enterprise (enrichment.employees is missing)');
  });

  it('resolves segments built from other segments', () => {
    expect(check({ segment: 'emea-enterprise' }, full, segments)).toEqual({
      matched: true,
      detail: 'in segment emea-enterprise (in segment emea (enrichment.countryCode "GB" in [GB, DE, FR, NL, AE]) and in segment enterprise (enrichment.employees 12000 is >= 1000))',
    });
    expect(check({ segment: 'emea-enterprise' }, ctx({ company: { countryCode: 'DE', employees: 120 } }), segments)).toEqual({
      matched: false,
      detail: 'not in segment emea-enterprise (not in segment enterprise (enrichment.employees 120 is not >= 1000))',
    });
  });

  it('routes by a tenant-mapped custom field of the account', () => {
    const byTerritory = { 'north-territory': { field: 'account.territory', contains: 'north' } } satisfies Record<string, Condition>;
    expect(check({ segment: 'north-territory' }, full, byTerritory)).toEqual({
      matched: true,
      detail: 'in segment north-territory (account.territory "EMEA-North" contains "north")',
    });
    expect(check({ field: 'account.tier', in: ['gold', 'platinum'] })).toEqual({ matched: true, detail: 'account.tier "Gold" in [gold, platinum]' });
    expect(check({ field: 'account.territory', equals: 'EMEA-North' }, ctx({ account: matched({}) })).matched).toBe(false);
  });

  it('refuses a segment that is not defined, naming it', () => {
    expect(() => check({ any: [{ field: 'lead.country', equals: 'US' }, { segment: 'apac' }] }, full, segments)).toThrow('unknown segment "apac"');
    expect(() => check({ segment: 'emea' })).toThrow('unknown segment "emea"');
  });

  it('refuses a cycle of segments, naming it', () => {
    const cyclic: Record<string, Condition> = {
      a: { all: [{ field: 'lead.country', exists: true }, { segment: 'b' }] },
      b: { any: [{ segment: 'a' }] },
      self: { not: { segment: 'self' } },
    };
    expect(() => check({ segment: 'a' }, full, cyclic)).toThrow('segment cycle: a → b → a');
    expect(() => check({ segment: 'self' }, full, cyclic)).toThrow('segment cycle: self → self');
  });

  it('allows the same segment twice when it is not a cycle', () => {
    expect(check({ all: [{ segment: 'emea' }, { not: { not: { segment: 'emea' } } }] }, full, segments).matched).toBe(true);
  });
});

describe('trace details', () => {
  it('shortens long text values', () => {
    const context = ctx({ lead: { title: 'Senior Vice President of Global Engineering, Platform Infrastructure and Developer Experience' } });
    expect(check({ field: 'lead.title', contains: 'sales' }, context).detail).toBe(
      'lead.title "Senior Vice President of Global Engineering, Platform Infra…" does not contain "sales"',
    );
  });
});

describe('the demo policy', () => {
  const parsed = parsePolicy(demoPolicyJson);
  if (!parsed.ok) throw new Error(`demo policy invalid: ${JSON.stringify(parsed.issues)}`);
  const policy: Policy = parsed.policy;

  /** The first rule whose `when` matches, as the decision takes it. */
  const firstRule = (context: RoutingContext) => policy.rules.find((rule) => evaluate(rule.when, context, policy.segments).matched)?.id;
  const seeded = (email: string, facts: Partial<Company> | null, account: AccountMatch | null, over: Partial<LeadInput> = {}) =>
    routingContext(lead({ email, country: undefined, attributes: {}, ...over }), facts === null ? null : company(facts), account);
  const none: AccountMatch = { status: 'none', domains: [] };

  it('sends a lead from an existing account to the account rule', () => {
    expect(firstRule(seeded('buyer@umbrella.co.uk', {}, matched()))).toBe('existing-account');
  });

  it('sends a net-new EMEA enterprise lead to the EMEA team', () => {
    expect(firstRule(seeded('it@bigco.de', { countryCode: 'DE', employees: 4000 }, none))).toBe('emea-enterprise');
    // Enrichment found nothing, but the form said Germany: still EMEA, but not known to be enterprise.
    expect(firstRule(seeded('it@bigco.de', null, none, { country: 'Germany', attributes: { intent: 'demo' } }))).toBe('demo-requests');
  });

  it('routes by intent and source, then catches everything else', () => {
    const hooli = { domain: 'hooli.com', countryCode: 'US', employees: 2500 };
    expect(firstRule(seeded('cto@hooli.com', hooli, none, { attributes: { intent: 'Demo' } }))).toBe('demo-requests');
    expect(firstRule(seeded('cto@hooli.com', hooli, none, { attributes: { intent: 'content' } }))).toBe('content');
    expect(firstRule(seeded('cto@hooli.com', hooli, none, { source: 'import' }))).toBe('content');
    expect(firstRule(seeded('dev@piedpiper.com', { countryCode: 'US', employees: 35 }, none))).toBe('catch-all');
    expect(firstRule(seeded('someone@gmail.com', null, null))).toBe('catch-all');
  });
});
