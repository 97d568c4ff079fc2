import { addWorkingTime, nextWorkingTime, withinWorkingHours } from '../../src/domain/availability';
import { periodKeys, rollPeriods, emptyPoolState } from '../../src/domain/pools';

/**
 * The calendar's edges that a test run at a random hour would meet only by chance: summer time
 * starting and ending, weekends, and a year whose last ISO week runs into the next year. Fixed
 * instants, so each edge is met every run.
 */
const NY = 'America/New_York';
const NINE_TO_FIVE = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

describe('business-hours SLA clocks across changes of the clocks', () => {
  it('an hour due late on the Friday before New York springs forward falls due at 09:30 EDT on Monday', () => {
    // Friday 2027-03-12 16:30 EST: 30 minutes that day, then the weekend (and the change to EDT), then 30 on Monday.
    expect(new Date(addWorkingTime(Date.parse('2027-03-12T21:30:00Z'), 3600, NY, NINE_TO_FIVE)).toISOString()).toBe('2027-03-15T13:30:00.000Z');
  });

  it('an hour due late on the Friday before New York falls back falls due at 09:30 EST on Monday', () => {
    expect(new Date(addWorkingTime(Date.parse('2027-11-05T20:30:00Z'), 3600, NY, NINE_TO_FIVE)).toISOString()).toBe('2027-11-08T14:30:00.000Z');
  });

  it('a whole working day over the weekend counts Monday\'s hours, not Saturday\'s or Sunday\'s', () => {
    // Friday 17:00 EST, 8 working hours: all of Monday 2027-03-08.
    expect(new Date(addWorkingTime(Date.parse('2027-03-05T22:00:00Z'), 8 * 3600, NY, NINE_TO_FIVE)).toISOString()).toBe('2027-03-08T22:00:00.000Z');
  });
});

describe('working hours on the nights the clocks change', () => {
  const NIGHT = { days: [1, 2, 3, 4, 5, 6, 7], start: '01:00', end: '02:00' };

  it('both 01:30s of New York\'s repeated hour are inside 01:00-02:00', () => {
    expect(withinWorkingHours(Date.parse('2027-11-07T05:30:00Z'), NY, NIGHT)).toBe(true); // 01:30 EDT
    expect(withinWorkingHours(Date.parse('2027-11-07T06:30:00Z'), NY, NIGHT)).toBe(true); // 01:30 EST
    expect(withinWorkingHours(Date.parse('2027-11-07T07:30:00Z'), NY, NIGHT)).toBe(false); // 02:30 EST
  });

  it('hours that open inside the skipped hour open when the clock jumps, not an hour late or never', () => {
    const gap = { days: [1, 2, 3, 4, 5, 6, 7], start: '02:30', end: '05:00' };
    // Sunday 2027-03-14 01:00 EST: 02:30 does not exist that night; the clock goes from 02:00 EST to 03:00 EDT.
    const opening = nextWorkingTime(Date.parse('2027-03-14T06:00:00Z'), NY, gap);
    expect(opening).not.toBeNull();
    expect(withinWorkingHours(opening!, NY, gap)).toBe(true);
    expect(opening!).toBeLessThanOrEqual(Date.parse('2027-03-14T07:30:00Z')); // by 03:30 EDT at the latest
    expect(opening!).toBeGreaterThanOrEqual(Date.parse('2027-03-14T06:00:00Z'));
  });
});

describe('caps\' periods at the end of a year', () => {
  it('2026\'s ISO week 53 runs into 2027: the day and month counts start over on New Year\'s Day, the week\'s on Monday', () => {
    const lastDay = Date.parse('2026-12-31T23:30:00Z'); // Thursday, in London
    const newYear = Date.parse('2027-01-01T00:30:00Z'); // Friday
    const monday = Date.parse('2027-01-04T00:30:00Z');
    expect(periodKeys(lastDay, 'Europe/London')).toEqual({ day: '2026-12-31', week: '2026-W53', month: '2026-12' });
    expect(periodKeys(newYear, 'Europe/London')).toEqual({ day: '2027-01-01', week: '2026-W53', month: '2027-01' });
    expect(periodKeys(monday, 'Europe/London').week).toBe('2027-W01');

    const before = rollPeriods(emptyPoolState(), lastDay, 'Europe/London');
    before.counts = { day: { a: 3 }, week: { a: 7 }, month: { a: 20 } };
    const after = rollPeriods(before, newYear, 'Europe/London');
    expect(after.counts).toEqual({ day: {}, week: { a: 7 }, month: {} });
    expect(rollPeriods(after, monday, 'Europe/London').counts.week).toEqual({});
  });

  it('the policy\'s zone decides the day: 23:30 UTC on New Year\'s Eve is already next year in Berlin', () => {
    expect(periodKeys(Date.parse('2026-12-31T23:30:00Z'), 'Europe/Berlin').day).toBe('2027-01-01');
    expect(periodKeys(Date.parse('2026-12-31T23:30:00Z'), NY).day).toBe('2026-12-31');
  });
});
