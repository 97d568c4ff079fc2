import { addWorkingTime, evaluateRep, withinWorkingHours } from '../../src/domain/availability';
import { localTime } from '../../src/domain/calendar';
import { nextInRotation } from '../../src/domain/decision';
import type { CalendarFacts, EmployeeRecord, HrisFacts, TeamMember } from '../../src/domain/routing';

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

const hrisOk = (...employees: EmployeeRecord[]): HrisFacts => ({ status: 'ok', employees });
const calendarFree: CalendarFacts = { status: 'ok', calendars: [] };

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

  it('uses the working hours the calendar states (Outlook) over the configured ones, and says so', () => {
    // Configured: always on. Outlook says 09:00–17:00 in Berlin, Monday to Friday: 16:00 there is in, 18:00 is out.
    const calendar = (start: string, end: string): CalendarFacts => ({
      status: 'ok',
      calendars: [{ email: 'ana@team.example', busy: [], workingHours: { days: [1, 2, 3, 4, 5], start, end, timezone: 'Europe/Berlin' } }],
    });
    expect(evaluateRep(rep('ana'), hrisOk(employee('ana')), calendar('09:00', '17:00'), AT)).toMatchObject({ eligible: true, timezone: 'Europe/Berlin' });
    const out = evaluateRep(rep('ana'), hrisOk(employee('ana')), calendar('08:00', '16:00'), AT);
    expect(out.reasons.map((r) => r.code)).toEqual(['outside_hours']);
    expect(out.reasons[0]?.detail).toBe('16:00 in Europe/Berlin is outside 08:00-16:00 on days 1,2,3,4,5 (working hours from the calendar)');
  });

  it('treats a calendar that could not be read as unknown, recorded as an assumption, not as free by omission', () => {
    const calendar: CalendarFacts = { status: 'ok', calendars: [{ email: 'ana@team.example', busy: [], error: 'notFound' }] };
    const result = evaluateRep(rep('ana'), hrisOk(employee('ana')), calendar, AT);
    expect(result.eligible).toBe(true);
    expect(result.assumptions).toEqual(['calendar of ana@team.example could not be read (notFound); assumed free']);
  });

  it('treats leave and meetings as half-open intervals', () => {
    const endsNow = hrisOk(employee('ana', { timeOff: [{ start: '2026-11-17T00:00:00Z', end: '2026-11-18T15:00:00Z', type: 'PTO' }] }));
    const startsNow: CalendarFacts = { status: 'ok', calendars: [{ email: 'ana@team.example', busy: [{ start: '2026-11-18T15:00:00Z', end: '2026-11-18T16:00:00Z' }] }] };
    const result = evaluateRep(rep('ana'), endsNow, startsNow, AT);
    expect(result.reasons.map((r) => r.code)).toEqual(['busy']);
  });

  it('prefers the HRIS time zone over the configured one, and records which it used', () => {
    const hris = hrisOk(employee('ana', { timezone: 'Asia/Singapore' }));
    const result = evaluateRep(rep('ana', 'America/New_York', { days: [3], start: '09:00', end: '17:00' }), hris, calendarFree, AT);
    expect(result.reasons.map((r) => r.code)).toEqual(['outside_hours']);
    expect(result.timezone).toBe('Asia/Singapore');
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

describe('SLA time in business hours', () => {
  const nineToFive = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

  it('counts only working time: an hour asked at 16:30 on Friday ends at 09:30 on Monday', () => {
    // Friday 2026-11-20 16:30 in New York (21:30 UTC).
    const due = addWorkingTime(Date.parse('2026-11-20T21:30:00Z'), 3600, 'America/New_York', nineToFive);
    expect(new Date(due).toISOString()).toBe('2026-11-23T14:30:00.000Z');
  });

  it('starts counting at the opening when asked outside hours', () => {
    const due = addWorkingTime(Date.parse('2026-11-18T03:00:00Z'), 300, 'Europe/Berlin', nineToFive);
    expect(new Date(due).toISOString()).toBe('2026-11-18T08:05:00.000Z');
  });

  it('is plain addition inside a long enough window, and around the clock', () => {
    expect(addWorkingTime(AT, 600, 'America/New_York', nineToFive)).toBe(AT + 600_000);
    expect(addWorkingTime(AT, 90_000, 'UTC', ALWAYS)).toBe(AT + 90_000_000);
  });
});
