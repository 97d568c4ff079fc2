import { normalizeLead } from '../../src/domain/lead';
import { defaultPolicy } from '../../src/domain/policy/defaults';
import { decidePolicy, earliestOpening, type PolicyDecisionInput } from '../../src/domain/policy/engine';
import type { Policy } from '../../src/domain/policy/types';
import type { AccountMatch, CalendarFacts, EmployeeRecord, EnrichmentFacts, HrisFacts, TeamMember } from '../../src/domain/routing';

const ALWAYS = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
/** Wednesday 2026-11-18 15:00 UTC. */
const AT = Date.parse('2026-11-18T15:00:00Z');

const rep = (id: string, over: Partial<TeamMember> = {}): TeamMember => ({ id, name: id.toUpperCase(), email: `${id}@team.example`, timezone: 'UTC', workingHours: ALWAYS, ...over });
const employee = (id: string, over: Partial<EmployeeRecord> = {}): EmployeeRecord => ({ email: `${id}@team.example`, employmentStatus: 'ACTIVE', timezone: null, timeOff: [], ...over });
const everyone = (...ids: string[]): HrisFacts => ({ status: 'ok', employees: ids.map((id) => employee(id)) });
const free: CalendarFacts = { status: 'ok', calendars: [] };
const matched = (ownerId: string, extra: Record<string, unknown> = {}): AccountMatch => ({
  status: 'matched',
  account: { id: 'acc_1', name: 'Acme', ownerId, domains: ['acme.com'], website: null, ...extra },
  matchedDomain: 'acme.com',
  otherMatches: [],
});
const noMatch: AccountMatch = { status: 'none', domains: ['new.io'] };
const found = (company: Partial<Extract<EnrichmentFacts, { status: 'found' }>['company']>): EnrichmentFacts => ({
  status: 'found',
  company: { name: null, domain: 'x.io', industry: null, sector: null, country: null, countryCode: null, state: null, employees: null, employeesRange: null, annualRevenue: null, ...company },
});

const team = [rep('ana'), rep('ben'), rep('cy', { managerId: 'mgr' }), rep('mgr')];
const base = { pool: { id: 'inbound', members: ['ana', 'ben', 'cy'] }, fallback: { ownerId: 'queue', label: 'Inbound Queue', notifyChannel: null }, timezone: 'UTC' };

function input({ policy, ...over }: Partial<Omit<PolicyDecisionInput, 'policy'>> & { policy?: Policy }): PolicyDecisionInput {
  return {
    team,
    lead: normalizeLead({ email: 'jane@new.io', source: 'form' }),
    enrichment: null,
    account: noMatch,
    hris: everyone('ana', 'ben', 'cy', 'mgr'),
    calendar: free,
    atMs: AT,
    ...over,
    policy: { version: 'v7', policy: policy ?? defaultPolicy(base) },
  };
}

describe('the default policy', () => {
  it('routes to the matched account’s owner when the owner is available', () => {
    const { plan, trace } = decidePolicy(input({ account: matched('ben') }));
    expect(plan).toEqual({ kind: 'direct', via: 'account_owner', ownerId: 'ben' });
    expect(trace.rule).toEqual({ id: 'existing-account', name: 'Existing account: its owner' });
    expect(trace.policyVersion).toBe('v7');
    expect(trace.reason).toContain('owned by BEN, who is available');
  });

  it('falls back to the pool when the owner is on leave, and says why', () => {
    const hris: HrisFacts = { status: 'ok', employees: [employee('ana'), employee('ben', { timeOff: [{ start: '2026-11-18T00:00:00Z', end: '2026-11-19T00:00:00Z', type: 'PTO' }] }), employee('cy')] };
    const { plan, trace } = decidePolicy(input({ account: matched('ben'), hris }));
    expect(plan).toMatchObject({ kind: 'pool', via: 'round_robin', eligible: ['ana', 'cy'] });
    expect(trace.reason).toContain('account owner BEN is unavailable (on_leave)');
    expect(trace.candidates.find((c) => c.repId === 'ben')?.reasons.map((r) => r.code)).toEqual(['on_leave']);
  });

  it('skips an account owner who is not on the routing team', () => {
    const { plan, trace } = decidePolicy(input({ account: matched('former') }));
    expect(plan.kind).toBe('pool');
    expect(trace.candidates.find((c) => c.repId === 'former')?.reasons[0]?.code).toBe('not_on_team');
  });

  it('sends a lead to the fallback when nobody in the pool is available — never nowhere', () => {
    const { plan, trace } = decidePolicy(input({ hris: everyone() }));
    expect(plan).toEqual({ kind: 'fallback', via: 'fallback', ownerId: 'queue' });
    expect(trace.reason).toContain('nobody in pool inbound is available');
    expect(trace.rule?.id).toBe('everyone-else');
  });

  it('is deterministic: the same input gives the same decision', () => {
    const i = input({ account: matched('ana') });
    expect(decidePolicy(i)).toEqual(decidePolicy(structuredClone(i)));
  });
});

const policy = (over: Partial<Policy>): Policy => ({ ...defaultPolicy(base), ...over });

describe('rules in priority order', () => {
  it('takes the first rule that matches and records every rule tried', () => {
    const p = policy({
      segments: { dach: { field: 'enrichment.countryCode', in: ['DE', 'AT', 'CH'] } },
      pools: [
        { id: 'inbound', strategy: 'round_robin', members: [{ repId: 'ana' }, { repId: 'ben' }] },
        { id: 'dach', strategy: 'weighted', members: [{ repId: 'cy', weight: 3 }, { repId: 'ben', weight: 1 }] },
      ],
      rules: [
        { id: 'enterprise', when: { field: 'enrichment.employees', gte: 1000 }, action: { type: 'owner', ownerId: 'mgr' }, urgency: 'hot' },
        { id: 'dach', when: { segment: 'dach' }, action: { type: 'pool', pool: 'dach' }, notify: ['C_DACH'] },
        { id: 'rest', when: { all: [] }, action: { type: 'pool', pool: 'inbound' } },
      ],
    });
    const { plan, trace } = decidePolicy(input({ policy: p, enrichment: found({ countryCode: 'DE', employees: 40 }) }));
    expect(plan).toMatchObject({ kind: 'pool', via: 'weighted', pool: { id: 'dach' }, eligible: ['cy', 'ben'] });
    expect(trace.rules.map((r) => [r.ruleId, r.matched])).toEqual([
      ['enterprise', false],
      ['dach', true],
    ]);
    expect(trace.notify).toEqual(['C_DACH']);
    expect(trace.urgency).toBe('normal');
  });

  it('routes on a tenant-mapped custom field of the account', () => {
    const p = policy({
      rules: [
        { id: 'strategic', when: { field: 'account.tier', equals: 'strategic' }, action: { type: 'owner', ownerId: 'mgr' }, urgency: 'hot' },
        { id: 'rest', when: { all: [] }, action: { type: 'pool', pool: 'inbound' } },
      ],
    });
    const { plan, trace } = decidePolicy(input({ policy: p, account: matched('ana', { tier: 'Strategic' }) }));
    expect(plan).toEqual({ kind: 'direct', via: 'named_owner', ownerId: 'mgr' });
    expect(trace.urgency).toBe('hot');
  });

  it('flags a lead that matches no rule and sends it to the fallback', () => {
    const p = policy({ rules: [{ id: 'only-demo', when: { field: 'lead.attributes.intent', equals: 'demo' }, action: { type: 'pool', pool: 'inbound' } }] });
    const { plan, trace } = decidePolicy(input({ policy: p }));
    expect(plan).toEqual({ kind: 'fallback', via: 'fallback', ownerId: 'queue' });
    expect(trace.rule).toBeNull();
    expect(trace.flagged).toBe('no rule matched this lead');
  });
});

describe('actions', () => {
  const ownerOr = (otherwise: Policy['rules'][number]['action'] & { type: 'account_owner' }): Policy =>
    policy({ rules: [{ id: 'accounts', when: { all: [] }, action: otherwise }] });
  const cyOnLeave: HrisFacts = { status: 'ok', employees: [employee('ana'), employee('ben'), employee('cy', { timeOff: [{ start: '2026-11-18T00:00:00Z', end: '2026-11-20T00:00:00Z', type: 'PTO' }] }), employee('mgr')] };

  it("routes to the unavailable owner's manager when the rule says so", () => {
    const { plan } = decidePolicy(input({ policy: ownerOr({ type: 'account_owner', otherwise: 'manager' }), account: matched('cy'), hris: cyOnLeave }));
    expect(plan).toEqual({ kind: 'direct', via: 'manager', ownerId: 'mgr' });
  });

  it('routes to a named owner when the account owner is unavailable', () => {
    const { plan } = decidePolicy(input({ policy: ownerOr({ type: 'account_owner', otherwise: { owner: 'ana' } }), account: matched('cy'), hris: cyOnLeave }));
    expect(plan).toEqual({ kind: 'direct', via: 'named_owner', ownerId: 'ana' });
  });

  it('never offers a paused member, and says so in the trace', () => {
    const p = policy({ pools: [{ id: 'inbound', strategy: 'round_robin', members: [{ repId: 'ana', paused: true }, { repId: 'ben' }] }] });
    const { plan, trace } = decidePolicy(input({ policy: p }));
    expect(plan).toMatchObject({ kind: 'pool', eligible: ['ben'] });
    expect(trace.candidates.find((c) => c.repId === 'ana')?.reasons).toEqual([{ code: 'paused', detail: 'paused by an operator' }]);
  });

  it('defers until the earliest opening when nobody is in hours and the rule says defer', () => {
    const nineToFive = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    const nightTeam = [rep('ana', { timezone: 'America/New_York', workingHours: nineToFive }), rep('ben', { timezone: 'Europe/Berlin', workingHours: nineToFive })];
    const p = policy({
      pools: [{ id: 'inbound', strategy: 'round_robin', members: [{ repId: 'ana' }, { repId: 'ben' }] }],
      rules: [{ id: 'demo', when: { all: [] }, action: { type: 'pool', pool: 'inbound' }, defer: true }],
    });
    // Saturday 2026-11-21 12:00 UTC: a weekend for both.
    const atMs = Date.parse('2026-11-21T12:00:00Z');
    const { plan, trace } = decidePolicy(input({ policy: p, team: nightTeam, hris: everyone('ana', 'ben'), atMs }));
    // Berlin opens first on Monday: 09:00 CET = 08:00 UTC.
    expect(plan).toEqual({ kind: 'defer', poolId: 'inbound', until: '2026-11-23T08:00:00.000Z' });
    expect(trace.reason).toContain('deferred until 2026-11-23T08:00:00.000Z');
  });

  it('takes the fallback instead of deferring when the rule does not say defer', () => {
    const p = policy({ rules: [{ id: 'now', when: { all: [] }, action: { type: 'pool', pool: 'inbound' } }] });
    expect(decidePolicy(input({ policy: p, hris: everyone() })).plan.kind).toBe('fallback');
  });
});

describe('the earliest opening', () => {
  it('waits for the end of a meeting when the rep is otherwise in hours', () => {
    const busy: CalendarFacts = { status: 'ok', calendars: [{ email: 'ana@team.example', busy: [{ start: '2026-11-18T14:30:00Z', end: '2026-11-18T15:45:00Z' }] }] };
    const pool = { id: 'p', strategy: 'round_robin' as const, members: [{ repId: 'ana' }] };
    const candidates = [{ repId: 'ana', name: 'ANA', eligible: false, reasons: [{ code: 'busy' as const, detail: '' }], assumptions: [] }];
    expect(earliestOpening(pool, [rep('ana')], candidates, everyone('ana'), busy, AT)).toBe(Date.parse('2026-11-18T15:45:00Z'));
  });

  it('waits for the end of leave, then for working hours', () => {
    const hris: HrisFacts = { status: 'ok', employees: [employee('ana', { timeOff: [{ start: '2026-11-17T00:00:00Z', end: '2026-11-19T00:00:00Z', type: 'PTO' }] })] };
    const pool = { id: 'p', strategy: 'round_robin' as const, members: [{ repId: 'ana' }] };
    const candidates = [{ repId: 'ana', name: 'ANA', eligible: false, reasons: [{ code: 'on_leave' as const, detail: '' }], assumptions: [] }];
    const team9to5 = [rep('ana', { workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' } })];
    expect(earliestOpening(pool, team9to5, candidates, hris, free, AT)).toBe(Date.parse('2026-11-19T09:00:00Z'));
  });

  it('never opens for an inactive rep', () => {
    const pool = { id: 'p', strategy: 'round_robin' as const, members: [{ repId: 'ana' }] };
    const candidates = [{ repId: 'ana', name: 'ANA', eligible: false, reasons: [{ code: 'inactive' as const, detail: '' }], assumptions: [] }];
    expect(earliestOpening(pool, [rep('ana')], candidates, everyone('ana'), free, AT)).toBeNull();
  });
});
