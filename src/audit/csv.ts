import type { AuditTimeline } from './types';

export const CSV_COLUMNS = ['at', 'run', 'kind', 'actor', 'summary'] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. A
 * field that a spreadsheet would read as a formula (=, +, -, @, tab, CR first) gets a leading `'`:
 * actors and reasons are free text from API callers.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The timeline as CSV: header `at,run,kind,actor,summary`, one record per entry, CRLF line ends. */
export function timelineCsv(t: AuditTimeline): string {
  const rows = [CSV_COLUMNS.join(','), ...t.entries.map((e) => [e.at, e.run, e.kind, e.actor ?? '', e.summary].map(csvField).join(','))];
  return `${rows.join('\r\n')}\r\n`;
}
