/**
 * Pure formatting for the console: durations, instants in the viewer's zone, reps' local time,
 * routing words ("via", statuses) and the reasons a rep was skipped, in plain words. No DOM, so
 * unit tests run it under Node.
 */
import type { LeadStatus } from '../../domain/leadState';
import type { Via } from '../../domain/policy/engine';
import type { SkipReason } from '../../domain/routing';

/** The browser's IANA time zone (the viewer's). */
export function viewerTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** A length of time for people: "45 s", "3 min 20 s", "2 h 5 min", "3 days 4 h"; "—" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const negative = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  let text: string;
  if (s < 1 && Math.abs(ms) > 0) text = `${Math.max(1, Math.round(Math.abs(ms)))} ms`;
  else if (s < 60) text = `${s} s`;
  else if (s < 3600) {
    const m = Math.floor(s / 60);
    s %= 60;
    text = s ? `${m} min ${s} s` : `${m} min`;
  } else if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    text = m ? `${h} h ${m} min` : `${h} h`;
  } else {
    const d = Math.floor(s / 86_400);
    const h = Math.floor((s % 86_400) / 3600);
    text = h ? `${plural(d, 'day')} ${h} h` : plural(d, 'day');
  }
  return negative ? `-${text}` : text;
}

/** Time left on a clock: "12 min 5 s left", or "overdue by 3 min" once it has passed. */
export function formatCountdown(targetMs: number, nowMs: number): string {
  const left = targetMs - nowMs;
  if (left >= 0) return `${formatDuration(Math.max(left, 1000))} left`;
  return `overdue by ${formatDuration(-left)}`;
}

function validDate(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * An instant in a zone (the viewer's by default): "Tue 14 Jan, 15:04", with the year when it is
 * not the current one, and seconds on request; "—" when absent.
 */
export function formatInstant(iso: string | null | undefined, opts: { timeZone?: string; nowMs?: number; seconds?: boolean } = {}): string {
  const d = validDate(iso);
  if (!d) return '—';
  const timeZone = opts.timeZone ?? viewerTimeZone();
  const parts = (ms: number) => {
    const out: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
    const format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    for (const p of format.formatToParts(ms)) out[p.type] = p.value;
    return out;
  };
  const p = parts(d.getTime());
  const sameYear = p.year === parts(opts.nowMs ?? Date.now()).year;
  // Built from parts: the same shape in every engine ("Wed 14 Jan, 15:04", "Wed 31 Dec 2025, 23:00").
  return `${p.weekday} ${p.day} ${p.month}${sameYear ? '' : ` ${p.year}`}, ${p.hour}:${p.minute}${opts.seconds ? `:${p.second}` : ''}`;
}

/** The wall-clock time at an instant in a zone: "09:30". */
export function clockTime(iso: string | number, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  } catch {
    return '—';
  }
}

/** "Europe/Paris" → "Paris"; "America/Argentina/Buenos_Aires" → "Buenos Aires". */
export function zoneCity(timeZone: string): string {
  return (timeZone.split('/').pop() ?? timeZone).replace(/_/g, ' ');
}

/** A rep's local time at an instant, with where: "09:30 in Paris". */
export function repLocalTime(iso: string | number, timeZone: string): string {
  return `${clockTime(iso, timeZone)} in ${zoneCity(timeZone)}`;
}

const VIA_WORDS: Record<Via, string> = {
  account_owner: 'Account owner',
  round_robin: 'Round robin',
  weighted: 'Weighted pool',
  load_balanced: 'Load balanced pool',
  named_owner: 'Named owner',
  manager: 'Account owner’s manager',
  fallback: 'Fallback',
  manual: 'Reassigned by hand',
  escalation: 'Escalation',
};

/** How the owner was reached, for people. */
export function viaWords(via: string | null | undefined): string {
  if (!via) return '—';
  return (VIA_WORDS as Record<string, string>)[via] ?? via.replace(/_/g, ' ');
}

const STATUS_WORDS: Record<LeadStatus, string> = {
  received: 'Received',
  matching: 'Matching',
  deciding: 'Deciding',
  deferred: 'Waiting for an opening',
  assigning: 'Assigning',
  notifying: 'Notifying',
  routed: 'Awaiting acceptance',
  accepted: 'Accepted',
  failed: 'Failed',
  closed: 'Closed',
};

export const LEAD_STATUSES = Object.keys(STATUS_WORDS) as LeadStatus[];

export function statusWords(status: string | null | undefined): string {
  if (!status) return '—';
  return (STATUS_WORDS as Record<string, string>)[status] ?? status.replace(/_/g, ' ');
}

const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** ISO weekdays as a short range where they run on: "1,2,3,4,5" → "Mon–Fri"; "1,3" → "Mon, Wed". */
export function weekdayWords(days: number[]): string {
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  if (sorted.length === 0) return 'no days';
  const runs: string[] = [];
  let start = sorted[0]!;
  let prev = start;
  const flush = () => runs.push(prev - start >= 2 ? `${WEEKDAYS[start]}–${WEEKDAYS[prev]}` : start === prev ? WEEKDAYS[start]! : `${WEEKDAYS[start]}, ${WEEKDAYS[prev]}`);
  for (const d of sorted.slice(1)) {
    if (d === prev + 1) prev = d;
    else {
      flush();
      start = prev = d;
    }
  }
  flush();
  return runs.join(', ');
}

export interface ReasonContext {
  /** The viewer's zone, for "until" times. */
  timeZone?: string;
  nowMs?: number;
}

const FROM_TO = /^(.*?)\s*from (\S+) to (\S+)$/;

/**
 * A skip reason as the trace records it (src/domain/availability.ts, src/domain/pools.ts), in plain
 * words: "On leave (PTO) until Fri 17 Jan, 18:00", "In a meeting until 15:30", "Outside working
 * hours: 19:30 their time in Paris (works 09:00–17:00, Mon–Fri)", "At their daily cap (5 a day)".
 */
export function reasonWords(reason: SkipReason, ctx: ReasonContext = {}): string {
  const until = (iso: string) => formatInstant(iso, { ...(ctx.timeZone ? { timeZone: ctx.timeZone } : {}), ...(ctx.nowMs !== undefined ? { nowMs: ctx.nowMs } : {}) });
  const { code, detail } = reason;
  switch (code) {
    case 'on_leave': {
      const m = FROM_TO.exec(detail);
      if (!m) return `On leave (${detail})`;
      const type = m[1]?.trim();
      return `On leave${type ? ` (${type})` : ''} until ${until(m[3]!)}`;
    }
    case 'busy': {
      const m = FROM_TO.exec(detail);
      return m ? `In a meeting until ${until(m[3]!)}` : `In a meeting (${detail})`;
    }
    case 'outside_hours': {
      const m = /^(\d\d:\d\d) in (\S+) is outside (\d\d:\d\d)-(\d\d:\d\d) on days ([\d,]+)(.*)$/.exec(detail);
      if (!m) return `Outside working hours (${detail})`;
      const days = weekdayWords(m[5]!.split(',').map(Number));
      return `Outside working hours: ${m[1]} their time in ${zoneCity(m[2]!)} (works ${m[3]}–${m[4]}, ${days})`;
    }
    case 'cap_reached': {
      // "cap 5/day reached (5 assigned today)", several joined with "; ".
      const caps = [...detail.matchAll(/cap (\d+)\/(day|week|month) reached \((\d+) assigned ([^)]*)\)/g)];
      if (caps.length === 0) return `At their cap (${detail})`;
      const period: Record<string, string> = { day: 'daily', week: 'weekly', month: 'monthly' };
      return caps.map((m) => `At their ${period[m[2]!] ?? m[2]} cap: ${m[3]} assigned ${m[4]} (cap ${m[1]})`).join('; ');
    }
    case 'paused':
      return 'Paused by an operator';
    case 'inactive':
      return `Not active in the HR system (${detail.replace(/^HRIS employment status is /, '').toLowerCase()})`;
    case 'not_in_hris':
      return 'Not found in the HR system';
    case 'not_on_team':
      return 'Not on the routing team';
    case 'sla_lapsed':
      return 'Already let this lead’s acceptance time lapse';
    default:
      return detail;
  }
}

/** A short badge word for a skip code. */
export function reasonBadge(code: SkipReason['code']): string {
  const words: Record<SkipReason['code'], string> = {
    inactive: 'Inactive',
    on_leave: 'On leave',
    busy: 'In a meeting',
    outside_hours: 'Outside hours',
    not_in_hris: 'Not in HR',
    not_on_team: 'Not on team',
    paused: 'Paused',
    cap_reached: 'Capped',
    sla_lapsed: 'Lapsed',
  };
  return words[code] ?? code;
}

/** "0.333…" → "33%". */
export function percent(share: number): string {
  if (!Number.isFinite(share)) return '—';
  return `${Math.round(share * 100)}%`;
}

/** A rep's name when known, else a short form of the ID (never a blank). */
export function nameOr(name: string | null | undefined, id: string | null | undefined): string {
  if (name && name.trim()) return name;
  return id ?? '—';
}
