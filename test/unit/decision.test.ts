import { localTime, withinWorkingHours, evaluateRep } from '../../src/domain/availability';
import { decide, nextInRotation } from '../../src/domain/decision';
import type { AccountMatch, CalendarFacts, EmployeeRecord, HrisFacts, RoutingConfig, TeamMember } from '../../src/domain/routing';

const ALWAYS = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
/** Wednesday 2026-11-18 15:00 UTC: 10:00 in New York, 16:00 in Berlin, 23:00 in Singapore. */
const AT = Date.parse('2026-11-18T15:00:00Z');

const rep = (id: string, timezone = 'UTC', workingHours = ALWAYS): TeamMember => ({ id, name: id.toUpperCase(), email: `${id}@team.example`, timezone, workingHours });
const employee = (id: string, over: Partial<EmployeeRecord> = {}): EmployeeRecord => ({
  email: `${id}@team.example`,
  employmentStatus: 'ACTIVE',
  timezone: null,
  timeOff: [],
  ...over,
});

function config(team: TeamMember[], pool = team.map((m) => m.id)): RoutingConfig {
  return {
    tenantId: 't',
    version: 'v1',
    team,
    pool: { id: 'inbound', members: pool },
    fallback: { ownerId: 'queue', label: 'Inbound Queue', notifyChannel: null },
    holdOpenSeconds: 0,
  };
}

const hrisOk = (...employees: EmployeeRecord[]): HrisFacts => ({ status: 'ok', employees });
const calendarFree: CalendarFacts = { status: 'ok', calendars: [] };
const matched = (ownerId: string): AccountMatch => ({
  status: 'matched',
  account: { id: 'acc_1', name: 'Acme', ownerId, domains: ['acme.com'], website: null },
  matchedDomain: 'acme.com',
  otherMatches: [],
});
const noMatch: AccountMatch = { status: 'none', domains: ['new.io'] };

describe('working hours', () => {
  it('reads the local weekday and time in the rep’s own time zone', () => {
    expect(localTime(AT, 'America/New_York')).toEqual({ weekday: 3, minutes: 10 * 60 });
    expect(localTime(AT, 'Asia/Singapore')).toEqual({ weekday: 3, minutes: 23 * 60 });
    // Crosses midnight: Thursday already in Auckland (UTC+13 in November).
    expect(localTime(AT, 'Pacific/Auckland').weekday).toBe(4);
  });

  it('includes the start minute and excludes the end minute', () => {
    const hours = { days: [3], start: '10:00', end: '16:00' };
    expect(withinWorkingHours(AT, 'America/New_York', hours)).toBe(true);
    expect(withinWorkingHours(AT, 'Europe/Berlin', hours)).toBe(false);
    expect(withinWorkingHours(AT, 'Europe/London', { days: [3], start: '09:00', end: '15:00' })).toBe(false);
  });

  it('excludes days not listed', () => {
    expect(withinWorkingHours(AT, 'UTC', { days: [1, 2, 4, 5], start: '00:00', end: '24:00' })).toBe(false);
  });
});

describe('rep eligibility', () => {
  it('lists every reason a rep is ruled out, not only the first', () => {
    const hris = hrisOk(employee('ana', { employmentStatus: 'INACTIVE', timeOff: [{ start: '2026-11-17T00:00:00Z', end: '2026-11-20T00:00:00Z', type: 'PTO' }] }));
    const calendar: CalendarFacts = { status: 'ok', calendars: [{ email: 'ana@team.example', busy: [{ start: '2026-11-18T14:30:00Z', end: '2026-11-18T15:30:00Z' }] }] };
    const result = evaluateRep(rep('ana', 'Asia/Singapore', { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' }), hris, calendar, AT);
    expect(result.eligible).toBe(false);
    expect(result.reasons.map((r) => r.code)).toEqual(['inactive', 'on_leave', 'busy', 'outside_hours']);
    expect(result.reasons[3]?.detail).toContain('23:00 in Asia/Singapore');
  });

  it('treats leave and meetings as half-open intervals', () => {
    const endsNow = hrisOk(employee('ana', { timeOff: [{ start: '2026-11-17T00:00:00Z', end: '2026-11-18T15:00:00Z', type: 'PTO' }] }));
    const startsNow: CalendarFacts = { status: 'ok', calendars: [{ email: 'ana@team.example', busy: [{ start: '2026-11-18T15:00:00Z', end: '2026-11-18T16:00:00Z' }] }] };
    const result = evaluateRep(rep('ana'), endsNow, startsNow, AT);
    expect(result.reasons.map((r) => r.code)).toEqual(['busy']);
  });

  it('prefers the HRIS time zone over the configured one', () => {
    const hris = hrisOk(employee('ana', { timezone: 'Asia/Singapore' }));
    const result = evaluateRep(rep('ana', 'America/New_York', { days: [3], start: '09:00', end: '17:00' }), hris, calendarFree, AT);
    expect(result.reasons.map((r) => r.code)).toEqual(['outside_hours']);
  });

  it('rules out a rep the HRIS does not know', () => {
    expect(evaluateRep(rep('ghost'), hrisOk(), calendarFree, AT).reasons.map((r) => r.code)).toEqual(['not_in_hris']);
  });

  it('assumes a rep available when an upstream could not answer, and says so', () => {
    const result = evaluateRep(rep('ana'), { status: 'unavailable', reason: 'HTTP 503' }, { status: 'unavailable', reason: 'timeout' }, AT);
    expect(result.eligible).toBe(true);
    expect(result.assumptions).toHaveLength(2);
    expect(result.assumptions.join(' ')).toContain('HTTP 503');
  });
});

describe('the routing decision', () => {
  const team = [rep('ana'), rep('ben'), rep('cy')];

  it('routes to the matched account’s owner when the owner is available', () => {
    const { plan, trace } = decide({ config: config(team), account: matched('ben'), hris: hrisOk(employee('ana'), employee('ben'), employee('cy')), calendar: calendarFree, atMs: AT });
    expect(plan).toMatchObject({ kind: 'direct', rule: 'account_owner', ownerId: 'ben' });
    expect(trace.rule).toBe('account_owner');
    expect(trace.ownerId).toBe('ben');
    expect(trace.policyVersion).toBe('v1');
    expect(trace.evaluatedAt).toBe('2026-11-18T15:00:00.000Z');
  });

  it('falls back to round robin over the available members when the owner is on leave, and says why', () => {
    const hris = hrisOk(employee('ana'), employee('ben', { timeOff: [{ start: '2026-11-18T00:00:00Z', end: '2026-11-19T00:00:00Z', type: 'PTO' }] }), employee('cy'));
    const { plan, trace } = decide({ config: config(team), account: matched('ben'), hris, calendar: calendarFree, atMs: AT });
    expect(plan).toMatchObject({ kind: 'pool', rule: 'round_robin', eligible: ['ana', 'cy'], roster: ['ana', 'ben', 'cy'] });
    expect(trace.reason).toContain('account owner BEN is unavailable (on_leave)');
    expect(trace.ownerId).toBeNull();
  });

  it('skips an account owner who is not on the routing team and records it as a candidate', () => {
    const { plan, trace } = decide({ config: config(team), account: matched('former'), hris: hrisOk(employee('ana'), employee('ben'), employee('cy')), calendar: calendarFree, atMs: AT });
    expect(plan.kind).toBe('pool');
    expect(trace.candidates.find((c) => c.repId === 'former')?.reasons).toEqual([{ code: 'not_on_team', detail: 'account owner former is not on the routing team' }]);
  });

  it('only offers pool members to the round robin, even if other team members are free', () => {
    const { plan } = decide({ config: config(team, ['cy']), account: noMatch, hris: hrisOk(employee('ana'), employee('ben'), employee('cy')), calendar: calendarFree, atMs: AT });
    expect(plan).toMatchObject({ kind: 'pool', eligible: ['cy'] });
  });

  it('sends the lead to the fallback owner when nobody is available — never nowhere', () => {
    const { plan, trace } = decide({ config: config(team), account: noMatch, hris: hrisOk(), calendar: calendarFree, atMs: AT });
    expect(plan).toEqual({ kind: 'fallback', rule: 'fallback', ownerId: 'queue', reason: expect.stringContaining('fallback Inbound Queue') });
    expect(trace.candidates.every((c) => !c.eligible)).toBe(true);
    expect(trace.reason).toContain('no CRM account matches new.io');
  });

  it('routes through the pool when the account match could not be made, naming the reason', () => {
    const { trace } = decide({ config: config(team), account: { status: 'unavailable', reason: 'HTTP 503' }, hris: hrisOk(employee('ana')), calendar: calendarFree, atMs: AT });
    expect(trace.rule).toBe('round_robin');
    expect(trace.reason).toContain('account match unavailable (HTTP 503)');
  });

  it('is deterministic: the same input gives the same decision', () => {
    const input = { config: config(team), account: noMatch, hris: hrisOk(employee('ana'), employee('cy')), calendar: calendarFree, atMs: AT };
    expect(decide(input)).toEqual(decide(structuredClone(input)));
  });
});

describe('strict round-robin order', () => {
  const roster = ['a', 'b', 'c', 'd'];

  it('starts at the top of the roster', () => {
    expect(nextInRotation(roster, roster, null)).toBe('a');
  });

  it('continues after the last assigned member and wraps around', () => {
    expect(nextInRotation(roster, roster, 'b')).toBe('c');
    expect(nextInRotation(roster, roster, 'd')).toBe('a');
  });

  it('passes over unavailable members without losing their place', () => {
    expect(nextInRotation(roster, ['a', 'd'], 'a')).toBe('d');
    expect(nextInRotation(roster, ['b', 'c'], 'c')).toBe('b');
  });

  it('restarts from the top when the last assignee left the roster', () => {
    expect(nextInRotation(roster, ['c'], 'zed')).toBe('c');
  });

  it('gives nobody when nobody is eligible', () => {
    expect(nextInRotation(roster, [], 'a')).toBeNull();
  });
});
