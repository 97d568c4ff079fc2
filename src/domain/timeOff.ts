import { zonedTimeToUtc } from './calendar';
import type { EmployeeRecord } from './routing';

/*
 * Time off as the HRIS reports it, made into intervals of instants: entries from a separate
 * who's-out answer (BambooHR, HiBob) merged into the employees they name, and whole-day entries
 * placed in the rep's own time zone. Pure: the HRIS activity reads, this decides.
 */

const DAY_MS = 86_400_000;

/** One time-off entry as an HRIS gives it: instants, or whole days (`allDay`, YYYY-MM-DD inclusive). */
export interface HrisTimeOff {
  start: string;
  end: string;
  type: string;
  allDay?: boolean | undefined;
}

/** A who's-out entry: names its employee by HRIS ID or email, or nobody (a company holiday). */
export type HrisTimeOffEntry = HrisTimeOff & { employeeId?: string | undefined; email?: string | undefined };

/** An employee as an HRIS gives it, with the time off it lists itself. */
export interface HrisEmployee {
  id?: string | undefined;
  email: string;
  employmentStatus: EmployeeRecord['employmentStatus'];
  timezone: string | null;
  timeOff: HrisTimeOff[];
}

/** Where a rep's zone comes from when the HRIS has none: the tenant's team and its own zone. */
export interface ZoneDefaults {
  team: ReadonlyArray<{ email: string; timezone: string }>;
  timezone: string;
}

/** The dates a who's-out read covers: from the day before `nowMs` to two weeks after (YYYY-MM-DD, UTC). */
export function timeOffWindow(nowMs: number): { startDate: string; endDate: string } {
  return { startDate: isoDate(nowMs - DAY_MS), endDate: isoDate(nowMs + 14 * DAY_MS) };
}

/** A who's-out entry concerns the employee it names (by HRIS ID or email); one naming nobody (a company holiday) concerns everyone. */
export function appliesTo(entry: { employeeId?: string | undefined; email?: string | undefined }, employee: { id?: string | undefined; email: string }): boolean {
  if (entry.employeeId === undefined && entry.email === undefined) return true;
  if (entry.employeeId !== undefined && entry.employeeId === employee.id) return true;
  return entry.email !== undefined && entry.email.toLowerCase() === employee.email.toLowerCase();
}

/** The rep's time zone: the HRIS's, else the team member's configured one, else the tenant's, else UTC. */
export function employeeZone(email: string, own: string | null, defaults: ZoneDefaults | undefined): string {
  return own ?? defaults?.team.find((m) => m.email === email.toLowerCase())?.timezone ?? defaults?.timezone ?? 'UTC';
}

/** Whole days `start`..`end` (inclusive) as an interval of instants in `timeZone`. */
export function allDayInterval(t: { start: string; end: string; type: string }, timeZone: string): { start: string; end: string; type: string } {
  const [sy, sm, sd] = t.start.split('-').map(Number);
  const [ey, em, ed] = t.end.split('-').map(Number);
  const start = zonedTimeToUtc(sy ?? 1970, sm ?? 1, sd ?? 1, 0, 0, timeZone);
  // The day after the last day, at midnight: Date.UTC rolls day overflow into the next month.
  const end = zonedTimeToUtc(ey ?? 1970, em ?? 1, (ed ?? 1) + 1, 0, 0, timeZone);
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), type: t.type };
}

/**
 * Employees with their own time off and the who's-out entries that concern them, every entry an
 * interval of instants (whole days in the rep's zone, see `employeeZone`).
 */
export function mergeTimeOff(employees: readonly HrisEmployee[], entries: readonly HrisTimeOffEntry[], defaults: ZoneDefaults | undefined): EmployeeRecord[] {
  return employees.map((e) => {
    const zone = employeeZone(e.email, e.timezone, defaults);
    const extra = entries.filter((t) => appliesTo(t, e));
    return {
      email: e.email,
      employmentStatus: e.employmentStatus,
      timezone: e.timezone,
      timeOff: [...e.timeOff, ...extra].map((t) => (t.allDay ? allDayInterval(t, zone) : { start: t.start, end: t.end, type: t.type })),
    };
  });
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
