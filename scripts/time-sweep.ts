/**
 * Runs the time-sensitive integration scenarios as if it were other hours, weekdays and dates:
 * each point sets LEADRELAY_SIMULATED_NOW, so the engine's business clock (src/clock.ts), the
 * emulators' scenario data and the tests' own expectations all read that instant, while the
 * Temporal server keeps real time. A test that passes only at some hours of the day fails here
 * at the others, whatever hour CI happens to run.
 *
 *   npx tsx scripts/time-sweep.ts                   every point
 *   npx tsx scripts/time-sweep.ts --points 1,7      some of them (numbers as listed)
 *   npx tsx scripts/time-sweep.ts --list            the points, with each rep's local time
 *   --output=FILE                                   also writes the totals as jest's JSON does
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { localTime } from '../src/domain/calendar';
import { DEMO_REPS } from '../sandbox/seed';

const ROOT = path.resolve(__dirname, '..');

/** A week of March 2027 around the US change to summer time, the EU's, and a year's end. */
export const POINTS: Array<{ at: string; why: string }> = [
  { at: '2027-03-08T04:54:00Z', why: 'Monday 04:54 UTC, when CI used to fail: Sunday night in the Americas' },
  { at: '2027-03-08T13:30:00Z', why: 'Monday afternoon in Europe, morning in New York' },
  { at: '2027-03-09T23:59:30Z', why: 'Tuesday, half a minute before midnight UTC' },
  { at: '2027-03-10T08:00:00Z', why: 'Wednesday: night in the Americas, afternoon in Singapore' },
  { at: '2027-03-12T21:30:00Z', why: 'Friday evening in New York, Saturday morning in Singapore' },
  { at: '2027-03-13T03:00:00Z', why: 'a weekend night: Saturday 03:00 in London, Friday 22:00 in New York' },
  { at: '2027-03-14T06:59:00Z', why: 'Sunday, a minute before New York springs forward (01:59 EST to 03:00 EDT)' },
  { at: '2027-03-28T00:59:00Z', why: 'Sunday, a minute before London and Berlin spring forward' },
  { at: '2026-12-31T23:58:00Z', why: 'a year\'s, month\'s and ISO week 53\'s last minutes in London' },
  { at: '2027-11-07T05:59:00Z', why: 'Sunday, New York\'s repeated hour as summer time ends' },
];

/** Scenarios whose outcome depends on when they run: hours, leave, meetings, deferral, SLA clocks, the audit, HRIS dates. */
export const FILES = [
  'test/integration/hours.test.ts',
  'test/integration/providers.test.ts',
  'test/integration/policy.test.ts',
  'test/integration/lifecycle.test.ts',
  'test/integration/routing.test.ts',
  'test/integration/audit.test.ts',
  // Buyers' operating hours placed around the business clock's now: queued to the opening, or skipped.
  'test/integration/distribution-hours.test.ts',
  // The availability board: leave, meetings and hours judged at the business clock's now, and when each ends.
  'test/integration/console-api.test.ts',
  'test/unit/availability-board.test.ts',
  // "Today" in the HRIS: who's-out dates around the business clock's now, in each rep's zone.
  'test/unit/provider-bamboohr.test.ts',
  'test/unit/provider-hibob.test.ts',
];

function localTimes(at: string): string {
  const ms = Date.parse(at);
  const day = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return DEMO_REPS.map((r) => {
    const { weekday, minutes } = localTime(ms, r.timezone);
    return `${r.timezone.split('/')[1]} ${day[weekday]} ${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  }).join(', ');
}

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTests: number;
}

function runPoint(at: string, out: string): { summary: JestSummary | null; seconds: number; code: number } {
  const started = Date.now();
  rmSync(out, { force: true });
  const jest = path.join(ROOT, 'node_modules', '.bin', 'jest');
  const result = spawnSync(jest, ['--ci', '--selectProjects', 'unit', 'integration', '--json', `--outputFile=${out}`, ...FILES], {
    cwd: ROOT,
    env: { ...process.env, LEADRELAY_SIMULATED_NOW: at },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let summary: JestSummary | null = null;
  try {
    summary = JSON.parse(readFileSync(out, 'utf8')) as JestSummary;
  } catch {
    summary = null;
  }
  return { summary, seconds: (Date.now() - started) / 1000, code: result.status ?? 1 };
}

function main(): void {
  const args = process.argv.slice(2);
  const chosen = args.includes('--points') ? (args[args.indexOf('--points') + 1] ?? '').split(',').map(Number) : POINTS.map((_, i) => i + 1);
  if (args.includes('--list')) {
    POINTS.forEach((p, i) => console.log(`${i + 1}. ${p.at}  ${p.why}\n   ${localTimes(p.at)}`));
    return;
  }
  const dir = path.join(ROOT, '.data', 'test');
  mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const n of chosen) {
    const point = POINTS[n - 1];
    if (!point) throw new Error(`no point ${n}: 1 to ${POINTS.length}`);
    console.log(`\n[time sweep] point ${n}/${POINTS.length}: ${point.at} (${point.why})\n[time sweep] ${localTimes(point.at)}`);
    const { summary, seconds, code } = runPoint(point.at, path.join(dir, `sweep-${n}.json`));
    const ok = code === 0 && summary !== null && summary.numFailedTests === 0;
    passed += summary?.numPassedTests ?? 0;
    failed += summary ? summary.numFailedTests : 1;
    rows.push(`${ok ? 'ok  ' : 'FAIL'} ${String(n).padStart(2)}  ${point.at}  ${summary ? `${summary.numPassedTests}/${summary.numTotalTests} passed` : `jest exited ${code}`}  ${seconds.toFixed(0)} s  ${point.why}`);
  }
  console.log(`\n[time sweep] ${FILES.length} files at ${chosen.length} simulated instants (Temporal at real time):`);
  for (const row of rows) console.log(`  ${row}`);
  console.log(`[time sweep] ${rows.filter((r) => r.startsWith('ok')).length} of ${chosen.length} instants passed (${passed} test runs, ${failed} failures)`);
  const output = args.find((a) => a.startsWith('--output='))?.slice('--output='.length);
  if (output) writeFileSync(output, JSON.stringify({ numPassedTests: passed, numFailedTests: failed }));
  process.exit(failed === 0 ? 0 : 1);
}

main();
