import type {
  CalendarFacts,
  CalendarRecord,
  Eligibility,
  EmployeeRecord,
  HrisFacts,
  Interval,
  SkipReason,
  TeamMember,
  WorkingHours,
} from './routing';
import { calendarFields, localTime, zonedTimeToUtc } from './calendar';


/** Minutes since local midnight from "HH:MM" ("24:00" → 1440). */
function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** True for a time zone name this runtime knows (IANA). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first instant at or after `fromMs` inside the working hours (searching a fortnight ahead);
 * null when the hours never open.
 */
export function nextWorkingTime(fromMs: number, timeZone: string, hours: WorkingHours): number | null {
  if (withinWorkingHours(fromMs, timeZone, hours)) return fromMs;
  const [sh, sm] = hours.start.split(':').map(Number);
  const start = calendarFields(fromMs, timeZone);
  for (let day = 0; day <= 14; day++) {
    // Noon of the local date `day` days ahead (noon: never inside a DST gap).
    const noon = zonedTimeToUtc(start.year, start.month, start.day, 12, 0, timeZone) + day * 86_400_000;
    const date = calendarFields(noon, timeZone);
    const opening = zonedTimeToUtc(date.year, date.month, date.day, sh ?? 0, sm ?? 0, timeZone);
    if (opening >= fromMs && withinWorkingHours(opening, timeZone, hours)) return opening;
  }
  return null;
}

/**
 * The first instant at or after `fromMs` outside the working hours: `fromMs` itself when it is
 * outside, else the close of the working stretch it falls in (a window ending at 24:00 runs on into
 * the next day's window from 00:00). Null when the hours never close (searching a fortnight ahead).
 */
export function nextClosingTime(fromMs: number, timeZone: string, hours: WorkingHours): number | null {
  if (!withinWorkingHours(fromMs, timeZone, hours)) return fromMs;
  const [eh, em] = hours.end.split(':').map(Number);
  let at = fromMs;
  for (let day = 0; day <= 14; day++) {
    const local = calendarFields(at, timeZone);
    // "24:00" is the next midnight: Date.UTC rolls hour 24 over to the next day.
    const close = zonedTimeToUtc(local.year, local.month, local.day, eh ?? 0, em ?? 0, timeZone);
    if (close <= at) return null;
    if (!withinWorkingHours(close, timeZone, hours)) return close;
    at = close;
  }
  return null;
}

/**
 * The instant `seconds` of working time after `fromMs`: time outside the working hours does not
 * count (an SLA in business hours). Falls back to wall-clock time when the hours never open.
 */
export function addWorkingTime(fromMs: number, seconds: number, timeZone: string, hours: WorkingHours): number {
  let at = fromMs;
  let left = seconds * 1000;
  const [eh, em] = hours.end.split(':').map(Number);
  for (let windows = 0; windows < 1000 && left > 0; windows++) {
    const open = nextWorkingTime(at, timeZone, hours);
    if (open === null) return fromMs + seconds * 1000;
    const day = calendarFields(open, timeZone);
    // "24:00" is the next midnight: Date.UTC rolls hour 24 over to the next day.
    const close = zonedTimeToUtc(day.year, day.month, day.day, eh ?? 0, em ?? 0, timeZone);
    const span = close - open;
    if (span >= left) return open + left;
    left -= span;
    at = close;
  }
  return at;
}

export function withinWorkingHours(atMs: number, timeZone: string, hours: WorkingHours): boolean {
  const { weekday, minutes } = localTime(atMs, timeZone);
  return hours.days.includes(weekday) && minutes >= minutesOf(hours.start) && minutes < minutesOf(hours.end);
}

function covers(interval: Interval, atMs: number): boolean {
  return Date.parse(interval.start) <= atMs && atMs < Date.parse(interval.end);
}

/** What the upstreams say about one rep, found by email: the facts every judgement of them reads. */
export interface RepFacts {
  /** The HRIS record; undefined when the HRIS has none for the rep or could not be read. */
  employee: EmployeeRecord | undefined;
  /** The rep's calendar; undefined when the calendars have none for the rep or could not be read. */
  calendar: CalendarRecord | undefined;
  /** The zone the rep's hours are judged in: the calendar's (with its hours), else the HRIS's, else the team's. */
  timezone: string;
  hours: WorkingHours;
  /** The hours are the ones the calendar states (Outlook), not the tenant's. */
  hoursFromCalendar: boolean;
}

/** The rep's HRIS record, calendar, zone and working hours, as evaluateRep judges them. */
export function repFacts(member: TeamMember, hris: HrisFacts, calendar: CalendarFacts): RepFacts {
  const email = member.email.toLowerCase();
  const employee = hris.status === 'ok' ? hris.employees.find((e) => e.email.toLowerCase() === email) : undefined;
  const own = calendar.status === 'ok' ? calendar.calendars.find((c) => c.email.toLowerCase() === email) : undefined;
  let timezone = employee?.timezone || member.timezone;
  let hours: WorkingHours = member.workingHours;
  let hoursFromCalendar = false;
  // Hours the calendar itself states (Outlook's working hours) are the rep's own, kept current by them.
  if (own?.workingHours && isTimeZone(own.workingHours.timezone)) {
    const { timezone: calendarZone, ...calendarHours } = own.workingHours;
    hours = calendarHours;
    timezone = calendarZone;
    hoursFromCalendar = true;
  }
  return { employee, calendar: own, timezone, hours, hoursFromCalendar };
}

/**
 * Pure: can this rep take a lead at `atMs`? Every reason that rules them out is listed (not just
 * the first), so the trace answers "why not Ana?" completely. An upstream that could not answer
 * does not rule anyone out: the rep is assumed available and the assumption is recorded.
 */
export function evaluateRep(member: TeamMember, hris: HrisFacts, calendar: CalendarFacts, atMs: number): Eligibility {
  const reasons: SkipReason[] = [];
  const assumptions: string[] = [];
  const facts = repFacts(member, hris, calendar);
  const { employee, calendar: own, timezone, hours } = facts;

  if (hris.status === 'ok') {
    if (!employee) {
      reasons.push({ code: 'not_in_hris', detail: `no HRIS employee has the email ${member.email}` });
    } else {
      if (employee.employmentStatus !== 'ACTIVE') {
        reasons.push({ code: 'inactive', detail: `HRIS employment status is ${employee.employmentStatus}` });
      }
      const leave = employee.timeOff.find((t) => covers(t, atMs));
      if (leave) {
        reasons.push({ code: 'on_leave', detail: `${leave.type} from ${leave.start} to ${leave.end}` });
      }
    }
  } else {
    assumptions.push(`HRIS unavailable (${hris.status === 'unavailable' ? hris.reason : ''}); assumed active and not on leave`);
  }

  if (calendar.status === 'ok') {
    if (own?.error) {
      assumptions.push(`calendar of ${member.email} could not be read (${own.error}); assumed free`);
    } else {
      const busy = own?.busy.find((b) => covers(b, atMs));
      if (busy) reasons.push({ code: 'busy', detail: `calendar busy from ${busy.start} to ${busy.end}` });
    }
  } else {
    assumptions.push(`calendar unavailable (${calendar.reason}); assumed free`);
  }

  if (!withinWorkingHours(atMs, timezone, hours)) {
    const { minutes } = localTime(atMs, timezone);
    const local = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    reasons.push({
      code: 'outside_hours',
      detail: `${local} in ${timezone} is outside ${hours.start}-${hours.end} on days ${hours.days.join(',')}${facts.hoursFromCalendar ? ' (working hours from the calendar)' : ''}`,
    });
  }

  return { repId: member.id, name: member.name, eligible: reasons.length === 0, reasons, assumptions, timezone };
}
