import { allDayInterval, appliesTo, employeeZone, mergeTimeOff, timeOffWindow, type HrisEmployee } from '../../src/domain/timeOff';

const defaults = {
  team: [
    { email: 'ava@acme.example', timezone: 'America/New_York' },
    { email: 'ben@acme.example', timezone: 'Asia/Tokyo' },
  ],
  timezone: 'Europe/Berlin',
};

const employee = (email: string, over: Partial<HrisEmployee> = {}): HrisEmployee => ({
  email,
  employmentStatus: 'ACTIVE',
  timezone: null,
  timeOff: [],
  ...over,
});

describe('whole-day time off in the rep’s zone', () => {
  it('spans from midnight of the first day to midnight after the last, in the zone given', () => {
    expect(allDayInterval({ start: '2031-03-10', end: '2031-03-12', type: 'Sick' }, 'UTC')).toEqual({
      start: '2031-03-10T00:00:00.000Z',
      end: '2031-03-13T00:00:00.000Z',
      type: 'Sick',
    });
    expect(allDayInterval({ start: '2031-03-10', end: '2031-03-10', type: 'Vacation' }, 'Asia/Tokyo')).toEqual({
      start: '2031-03-09T15:00:00.000Z',
      end: '2031-03-10T15:00:00.000Z',
      type: 'Vacation',
    });
  });

  it('rolls the end over a month boundary and spans a DST change at its true length', () => {
    expect(allDayInterval({ start: '2031-01-31', end: '2031-01-31', type: 'PTO' }, 'UTC').end).toBe('2031-02-01T00:00:00.000Z');
    // New York moves to summer time on Sunday 9 March 2031: that day has 23 hours.
    const dst = allDayInterval({ start: '2031-03-09', end: '2031-03-09', type: 'PTO' }, 'America/New_York');
    expect(dst).toMatchObject({ start: '2031-03-09T05:00:00.000Z', end: '2031-03-10T04:00:00.000Z' });
  });
});

describe('whose time off an entry is', () => {
  it('matches by HRIS ID or by email (any case); an entry naming nobody is everyone’s', () => {
    const ava = { id: 'E1', email: 'Ava@Acme.example' };
    expect(appliesTo({ employeeId: 'E1' }, ava)).toBe(true);
    expect(appliesTo({ email: 'ava@acme.EXAMPLE' }, ava)).toBe(true);
    expect(appliesTo({}, ava)).toBe(true);
    expect(appliesTo({ employeeId: 'E2' }, ava)).toBe(false);
    expect(appliesTo({ employeeId: 'E2', email: 'ben@acme.example' }, ava)).toBe(false);
    expect(appliesTo({ email: 'ava@acme.example' }, { email: 'ava@acme.example' })).toBe(true);
    expect(appliesTo({ employeeId: 'E1' }, { email: 'ava@acme.example' })).toBe(false);
  });
});

describe('the zone whole days are placed in', () => {
  it('is the HRIS’s own, else the team member’s, else the tenant’s, else UTC', () => {
    expect(employeeZone('ava@acme.example', 'Europe/Paris', defaults)).toBe('Europe/Paris');
    expect(employeeZone('AVA@acme.example', null, defaults)).toBe('America/New_York');
    expect(employeeZone('cleo@acme.example', null, defaults)).toBe('Europe/Berlin');
    expect(employeeZone('cleo@acme.example', null, undefined)).toBe('UTC');
  });
});

describe('merging who’s-out entries into employees', () => {
  it('adds the entries that concern each employee after their own, whole days as instants in their zone', () => {
    const merged = mergeTimeOff(
      [
        employee('ava@acme.example', { id: 'E1', timeOff: [{ start: '2031-03-10T13:00:00Z', end: '2031-03-10T15:00:00Z', type: 'Dentist' }] }),
        employee('ben@acme.example', { id: 'E2', employmentStatus: 'INACTIVE', timezone: 'UTC' }),
      ],
      [
        { employeeId: 'E1', start: '2031-03-11', end: '2031-03-11', type: 'Vacation', allDay: true },
        { email: 'BEN@acme.example', start: '2031-03-12T09:00:00Z', end: '2031-03-12T10:00:00Z', type: 'Training' },
        { start: '2031-03-14', end: '2031-03-14', type: 'Holiday', allDay: true },
      ],
      defaults,
    );
    expect(merged).toEqual([
      {
        email: 'ava@acme.example',
        employmentStatus: 'ACTIVE',
        timezone: null,
        timeOff: [
          { start: '2031-03-10T13:00:00Z', end: '2031-03-10T15:00:00Z', type: 'Dentist' },
          { start: '2031-03-11T04:00:00.000Z', end: '2031-03-12T04:00:00.000Z', type: 'Vacation' },
          { start: '2031-03-14T04:00:00.000Z', end: '2031-03-15T04:00:00.000Z', type: 'Holiday' },
        ],
      },
      {
        email: 'ben@acme.example',
        employmentStatus: 'INACTIVE',
        timezone: 'UTC',
        timeOff: [
          { start: '2031-03-12T09:00:00Z', end: '2031-03-12T10:00:00Z', type: 'Training' },
          { start: '2031-03-14T00:00:00.000Z', end: '2031-03-15T00:00:00.000Z', type: 'Holiday' },
        ],
      },
    ]);
  });

  it('leaves employees without entries as the HRIS gave them', () => {
    expect(mergeTimeOff([employee('cleo@acme.example')], [], undefined)).toEqual([{ email: 'cleo@acme.example', employmentStatus: 'ACTIVE', timezone: null, timeOff: [] }]);
  });
});

describe('the who’s-out window', () => {
  it('reads from the day before to two weeks after, as UTC dates', () => {
    expect(timeOffWindow(Date.parse('2031-12-31T23:30:00Z'))).toEqual({ startDate: '2031-12-30', endDate: '2032-01-14' });
    expect(timeOffWindow(Date.parse('2031-03-01T00:00:00Z'))).toEqual({ startDate: '2031-02-28', endDate: '2031-03-15' });
  });
});
