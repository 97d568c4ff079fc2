/**
 * Calendar fields of an instant in an IANA time zone, and the way back from a local wall-clock
 * time to an instant. Working hours (availability), pool periods (pools) and the sandbox's HRIS
 * dates all read the zone's calendar through here.
 *
 * Pure: workflow code imports this module (through the pool entity and the policy engine), so it
 * uses no Node builtins, no clock and no randomness; the formatter cache is deterministic (the same
 * output for the same input) and saves building a formatter per call.
 */

export interface CalendarFields {
  /** As the Gregorian calendar numbers it (e.g. 2026). */
  year: number;
  /** 1-12. */
  month: number;
  /** 1-31. */
  day: number;
  /** ISO weekday: Monday 1 … Sunday 7. */
  weekday: number;
  /** 0-23. */
  hour: number;
  minute: number;
  second: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const DAY_MS = 86_400_000;

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    FORMATTERS.set(timeZone, f);
  }
  return f;
}

/** The local calendar fields of an instant in a time zone. */
export function calendarFields(atMs: number, timeZone: string): CalendarFields {
  const parts = formatter(timeZone).formatToParts(new Date(atMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value;
  const n = (type: string) => Number(get(type) ?? 0);
  return {
    year: n('year'),
    month: n('month'),
    day: n('day'),
    weekday: WEEKDAYS[get('weekday') ?? ''] ?? 0,
    hour: n('hour') % 24,
    minute: n('minute'),
    second: n('second'),
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The ISO weekday and minute of the day of an instant in an IANA time zone. */
export function localTime(atMs: number, timeZone: string): { weekday: number; minutes: number } {
  const { weekday, hour, minute } = calendarFields(atMs, timeZone);
  return { weekday, minutes: hour * 60 + minute };
}

/** The calendar date (YYYY-MM-DD) of an instant in an IANA time zone. */
export function localDate(atMs: number, timeZone: string): string {
  const { year, month, day } = calendarFields(atMs, timeZone);
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** The ISO week (Monday start; the week belongs to the year of its Thursday) of a calendar date. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const isoWeekday = (new Date(date).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = date + (3 - isoWeekday) * DAY_MS;
  const isoYear = new Date(thursday).getUTCFullYear();
  return { year: isoYear, week: 1 + Math.floor((thursday - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS)) };
}

/** The instant a local wall-clock time in `timeZone` happens: in a DST gap, the time just after; in a repeated hour, the first. */
export function zonedTimeToUtc(y: number, m: number, d: number, hh: number, mm: number, timeZone: string): number {
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (ms: number) => {
    const w = calendarFields(ms, timeZone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
  };
  const first = asUtc - offsetAt(asUtc);
  const second = asUtc - offsetAt(first);
  return Math.max(first, second);
}
