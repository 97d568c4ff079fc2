import { availabilityBoard, periodEnd, type BoardInput, type BoardRep, type PoolFacts } from '../../src/domain/availabilityBoard';
import { nextClosingTime } from '../../src/domain/availability';
import type { CalendarFacts, EmployeeRecord, HrisFacts, TeamMember } from '../../src/domain/routing';

/*
 * The board at fixed instants (never the clock): Tuesday 10 March 2026, New York already on
 * summer time (since 8 March), Berlin not yet (until 29 March).
 */

const WEEKDAYS = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
const ALWAYS = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

const rep = (id: string, timezone: string, workingHours = ALWAYS): TeamMember => ({ id, name: id.toUpperCase(), email: `${id}@example.com`, timezone, workingHours });
const ava = rep('ava', 'America/New_York', WEEKDAYS);
const ben = rep('ben', 'America/Los_Angeles');
const chloe = rep('chloe', 'Europe/Paris');
const dieter = rep('dieter', 'Europe/Berlin');
const mei = rep('mei', 'Asia/Singapore');
const team = [ava, ben, chloe, dieter, mei];

const employee = (member: TeamMember, extra: Partial<EmployeeRecord> = {}): EmployeeRecord => ({ email: member.email, employmentStatus: 'ACTIVE', timezone: null, timeOff: [], ...extra });
const hris: HrisFacts = {
  status: 'ok',
  employees: [
    employee(ava),
    // Ben is not in the HRIS.
    employee(chloe, {
      // Two leaves back to back: she is away until the second ends.
      timeOff: [
        { start: '2026-03-09T00:00:00.000Z', end: '2026-03-12T00:00:00.000Z', type: 'PTO' },
        { start: '2026-03-12T00:00:00.000Z', end: '2026-03-13T00:00:00.000Z', type: 'Sick' },
      ],
    }),
    employee(dieter),
    employee(mei, { employmentStatus: 'INACTIVE' }),
  ],
};
const calendar: CalendarFacts = {
  status: 'ok',
  calendars: [
    // Two meetings back to back, then one later in the afternoon.
    {
      email: dieter.email,
      busy: [
        { start: '2026-03-10T14:00:00.000Z', end: '2026-03-10T15:00:00.000Z' },
        { start: '2026-03-10T15:00:00.000Z', end: '2026-03-10T15:30:00.000Z' },
        { start: '2026-03-10T17:00:00.000Z', end: '2026-03-10T18:00:00.000Z' },
      ],
    },
  ],
};
const pool = (over: Partial<PoolFacts> = {}): PoolFacts => ({
  pool: { id: 'inbound', strategy: 'round_robin', members: team.map((m) => ({ repId: m.id, ...(m.id === 'ava' ? { caps: { day: 2 } } : {}) })) },
  assigned: { day: { ava: 1, dieter: 3 } },
  ...over,
});

const board = (atIso: string, over: Partial<BoardInput> = {}): Record<string, BoardRep> =>
  Object.fromEntries(availabilityBoard({ team, hris, calendar, pools: [pool()], timeZone: 'UTC', atMs: Date.parse(atIso), ...over }).map((r) => [r.repId, r]));

describe('the availability board on a Tuesday morning in New York (2026-03-10T14:30Z)', () => {
  const at = '2026-03-10T14:30:00.000Z';
  const reps = board(at);

  it('shows an available rep in her own zone and local time, changing when her working day ends', () => {
    expect(reps['ava']).toMatchObject({ state: 'available', timezone: 'America/New_York', localTime: '2026-03-10T10:30', reasons: [] });
    // 17:00 in New York on summer time.
    expect(reps['ava']!.changesAt).toBe('2026-03-10T21:00:00.000Z');
    expect(reps['ava']!.pools).toEqual([{ poolId: 'inbound', assigned: 1, cap: 2, period: 'day', paused: false, capped: false, capDetail: '1/2 today' }]);
  });

  it('shows a rep on leave until the end of back-to-back leaves, the state changing then', () => {
    expect(reps['chloe']!.state).toBe('on_leave');
    expect(reps['chloe']!.reasons).toEqual([{ code: 'on_leave', detail: 'PTO from 2026-03-09T00:00:00.000Z to 2026-03-12T00:00:00.000Z', until: '2026-03-13T00:00:00.000Z' }]);
    expect(reps['chloe']!.changesAt).toBe('2026-03-13T00:00:00.000Z');
  });

  it('shows a rep in a meeting until the end of back-to-back meetings', () => {
    expect(reps['dieter']!.state).toBe('busy');
    expect(reps['dieter']!.reasons).toEqual([{ code: 'busy', detail: 'calendar busy from 2026-03-10T14:00:00.000Z to 2026-03-10T15:00:00.000Z', until: '2026-03-10T15:30:00.000Z' }]);
    expect(reps['dieter']!.changesAt).toBe('2026-03-10T15:30:00.000Z');
    expect(reps['dieter']!.localTime).toBe('2026-03-10T15:30');
  });

  it('after the meetings, the next change is the next meeting', () => {
    expect(board('2026-03-10T16:00:00.000Z')['dieter']).toMatchObject({ state: 'available', changesAt: '2026-03-10T17:00:00.000Z' });
  });

  it('an inactive rep and one the HRIS does not know never change by themselves', () => {
    expect(reps['mei']).toMatchObject({ state: 'inactive', changesAt: null, reasons: [{ code: 'inactive', detail: 'HRIS employment status is INACTIVE', until: null }] });
    expect(reps['ben']).toMatchObject({ state: 'unknown', changesAt: null, reasons: [{ code: 'not_in_hris', until: null }] });
  });
});

describe('outside working hours', () => {
  it('on a Saturday, until Monday 09:00 in the rep’s zone', () => {
    const ava6 = board('2026-03-14T15:00:00.000Z')['ava']!;
    expect(ava6.state).toBe('outside_hours');
    expect(ava6.localTime).toBe('2026-03-14T11:00');
    expect(ava6.reasons).toEqual([{ code: 'outside_hours', detail: '11:00 in America/New_York is outside 09:00-17:00 on days 1,2,3,4,5', until: '2026-03-16T13:00:00.000Z' }]);
    expect(ava6.changesAt).toBe('2026-03-16T13:00:00.000Z');
  });

  it('over the weekend the clocks change: Friday evening on winter time, Monday morning on summer time', () => {
    const friday = board('2026-03-06T23:00:00.000Z')['ava']!;
    expect(friday.localTime).toBe('2026-03-06T18:00');
    expect(friday.state).toBe('outside_hours');
    // 09:00 EDT (UTC-4), not 09:00 EST (UTC-5).
    expect(friday.changesAt).toBe('2026-03-09T13:00:00.000Z');
  });

  it('the hours a calendar states (Outlook) are the rep’s, as routing judges them', () => {
    const withOwnHours: CalendarFacts = { status: 'ok', calendars: [{ email: dieter.email, busy: [], workingHours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '12:00', timezone: 'Europe/Berlin' } }] };
    const d = board('2026-03-10T14:30:00.000Z', { calendar: withOwnHours })['dieter']!;
    expect(d).toMatchObject({ state: 'outside_hours', timezone: 'Europe/Berlin' });
    expect(d.reasons[0]!.detail).toContain('(working hours from the calendar)');
    // 08:00 in Berlin on Wednesday (UTC+1).
    expect(d.reasons[0]!.until).toBe('2026-03-11T07:00:00.000Z');
  });

  it('a leave starting before the hours open is the next change', () => {
    const leaving: HrisFacts = { status: 'ok', employees: [employee(ava, { timeOff: [{ start: '2026-03-15T00:00:00.000Z', end: '2026-03-20T00:00:00.000Z', type: 'PTO' }] })] };
    expect(board('2026-03-14T15:00:00.000Z', { hris: leaving })['ava']).toMatchObject({ state: 'outside_hours', changesAt: '2026-03-15T00:00:00.000Z' });
  });

  it('the state beats a lesser reason: on leave and in a meeting is on leave, until the leave ends', () => {
    const busyChloe: CalendarFacts = { status: 'ok', calendars: [{ email: chloe.email, busy: [{ start: '2026-03-10T14:00:00.000Z', end: '2026-03-10T15:00:00.000Z' }] }] };
    const c = board('2026-03-10T14:30:00.000Z', { calendar: busyChloe })['chloe']!;
    expect(c.state).toBe('on_leave');
    expect(c.reasons.map((r) => [r.code, r.until])).toEqual([
      ['on_leave', '2026-03-13T00:00:00.000Z'],
      ['busy', '2026-03-10T15:00:00.000Z'],
    ]);
    expect(c.changesAt).toBe('2026-03-13T00:00:00.000Z');
  });
});

describe('pools: caps and pauses', () => {
  it('a rep at her cap in her only pool is capped until the period resets, unless her day ends first', () => {
    const capped = board('2026-03-10T14:30:00.000Z', { pools: [pool({ assigned: { day: { ava: 2 } } })] })['ava']!;
    expect(capped.state).toBe('capped');
    expect(capped.reasons).toEqual([{ code: 'cap_reached', detail: 'pool inbound: cap 2/day reached (2 assigned today)', until: '2026-03-11T00:00:00.000Z' }]);
    expect(capped.pools[0]).toMatchObject({ assigned: 2, cap: 2, capped: true });
    // 17:00 in New York comes before midnight UTC.
    expect(capped.changesAt).toBe('2026-03-10T21:00:00.000Z');
  });

  it('periods reset in the policy’s zone: a week cap until Monday 00:00 there', () => {
    const weekly = pool({ pool: { id: 'inbound', strategy: 'round_robin', members: [{ repId: 'dieter', caps: { week: 3 } }] }, assigned: { day: { dieter: 1 }, week: { dieter: 3 } } });
    const d = board('2026-03-10T16:00:00.000Z', { pools: [weekly], timeZone: 'Europe/Berlin', calendar: { status: 'ok', calendars: [] } })['dieter']!;
    expect(d).toMatchObject({ state: 'capped', changesAt: '2026-03-15T23:00:00.000Z' });
    // With the meeting at 17:00, the meeting comes first.
    expect(board('2026-03-10T16:00:00.000Z', { pools: [weekly], timeZone: 'Europe/Berlin' })['dieter']).toMatchObject({ state: 'capped', changesAt: '2026-03-10T17:00:00.000Z' });
    expect(d.pools[0]).toMatchObject({ assigned: 1, cap: null, period: 'day', capped: true });
  });

  it('capped in one pool but free in another is available, with the cap as a reason', () => {
    const second: PoolFacts = { pool: { id: 'emea', strategy: 'weighted', members: [{ repId: 'ava' }] }, assigned: {} };
    const a = board('2026-03-10T14:30:00.000Z', { pools: [pool({ assigned: { day: { ava: 2 } } }), second] })['ava']!;
    expect(a.state).toBe('available');
    expect(a.reasons.map((r) => r.code)).toEqual(['cap_reached']);
  });

  it('paused in every pool is paused, with no end', () => {
    const paused = pool({ pool: { id: 'inbound', strategy: 'round_robin', members: [{ repId: 'dieter', paused: true }] } });
    const d = board('2026-03-10T16:00:00.000Z', { pools: [paused] })['dieter']!;
    expect(d).toMatchObject({ state: 'paused', changesAt: null, reasons: [{ code: 'paused', detail: 'paused in pool inbound by an operator', until: null }] });
  });
});

describe('upstreams that could not answer', () => {
  it('an unreadable HRIS makes an otherwise free rep unknown, saying what was assumed; what the calendar says still shows', () => {
    const reps = board('2026-03-10T14:30:00.000Z', { hris: { status: 'unavailable', reason: 'HRIS timed out' } });
    expect(reps['ava']).toMatchObject({ state: 'unknown', reasons: [{ code: 'unverified', detail: expect.stringContaining('HRIS unavailable (HRIS timed out)'), until: null }] });
    expect(reps['dieter']!.state).toBe('busy');
  });
});

describe('time helpers', () => {
  it('the end of a period in a zone', () => {
    const at = Date.parse('2026-03-31T22:30:00.000Z'); // 1 April 00:30 in Berlin (summer time)
    expect(new Date(periodEnd(at, 'Europe/Berlin', 'day')).toISOString()).toBe('2026-04-01T22:00:00.000Z');
    expect(new Date(periodEnd(at, 'Europe/Berlin', 'week')).toISOString()).toBe('2026-04-05T22:00:00.000Z');
    expect(new Date(periodEnd(at, 'Europe/Berlin', 'month')).toISOString()).toBe('2026-04-30T22:00:00.000Z');
    expect(new Date(periodEnd(Date.parse('2026-12-31T12:00:00Z'), 'UTC', 'month')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('hours that run through midnight close when they really close; hours that never close have no close', () => {
    const nights = { days: [1, 2], start: '00:00', end: '24:00' };
    expect(new Date(nextClosingTime(Date.parse('2026-03-09T12:00:00Z'), 'UTC', nights)!).toISOString()).toBe('2026-03-11T00:00:00.000Z');
    expect(nextClosingTime(Date.parse('2026-03-09T12:00:00Z'), 'UTC', ALWAYS)).toBeNull();
  });
});
