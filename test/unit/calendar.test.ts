import { calendarFields, isoWeek, localDate, localTime, zonedTimeToUtc } from '../../src/domain/calendar';

/** Fixed instants: the zone's calendar at each, whatever the hour the test runs. */
const NY = 'America/New_York';

describe('calendar fields of an instant in a zone', () => {
  it('reads the local date, ISO weekday and time of day in the zone', () => {
    // 2026-11-18T17:05:09Z is Wednesday 12:05:09 in New York, and already Thursday in Tokyo.
    const at = Date.parse('2026-11-18T17:05:09Z');
    expect(calendarFields(at, NY)).toEqual({ year: 2026, month: 11, day: 18, weekday: 3, hour: 12, minute: 5, second: 9 });
    expect(calendarFields(at, 'Asia/Tokyo')).toEqual({ year: 2026, month: 11, day: 19, weekday: 4, hour: 2, minute: 5, second: 9 });
    expect(localTime(at, NY)).toEqual({ weekday: 3, minutes: 12 * 60 + 5 });
    expect(localDate(at, 'Asia/Tokyo')).toBe('2026-11-19');
  });

  it('counts midnight as hour 0 and Sunday as weekday 7', () => {
    const midnight = Date.parse('2026-11-22T05:00:00Z'); // Sunday 00:00 EST
    expect(calendarFields(midnight, NY)).toMatchObject({ day: 22, weekday: 7, hour: 0, minute: 0 });
    expect(localTime(midnight, NY)).toEqual({ weekday: 7, minutes: 0 });
  });

  it('writes a year before 1000 without padding, as the local date always has', () => {
    expect(localDate(Date.UTC(906, 2, 14, 12), 'UTC')).toBe('906-03-14');
  });

  it('puts a date in the ISO week of its Thursday, across the turn of the year', () => {
    expect(isoWeek(2026, 12, 31)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2027, 1, 3)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2027, 1, 4)).toEqual({ year: 2027, week: 1 });
    expect(isoWeek(2025, 12, 29)).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(2026, 11, 18)).toEqual({ year: 2026, week: 47 });
  });

  it('turns a local wall-clock time back into the instant, in and around the changes of the clocks', () => {
    expect(new Date(zonedTimeToUtc(2026, 11, 18, 12, 0, NY)).toISOString()).toBe('2026-11-18T17:00:00.000Z');
    // 02:30 does not exist on 2027-03-14 in New York: the time just after the jump, 03:30 EDT.
    expect(new Date(zonedTimeToUtc(2027, 3, 14, 2, 30, NY)).toISOString()).toBe('2027-03-14T07:30:00.000Z');
    // 01:30 happens twice on 2027-11-07: the first, in EDT.
    expect(new Date(zonedTimeToUtc(2027, 11, 7, 1, 30, NY)).toISOString()).toBe('2027-11-07T05:30:00.000Z');
  });
});
