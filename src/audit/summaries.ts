import type { PolicyTrace } from '../domain/policy/engine';
import type { CalendarFacts, EmployeeRecord } from '../domain/routing';
import type { RateLimitState } from '../domain/upstream';
import { plural } from './history';
import type { AuditEntry } from './types';

/** One line each for what upstreams said and what was decided, as the timeline shows them. */

export function rateLimitText(r: RateLimitState | null | undefined): string {
  if (!r) return '';
  const parts: string[] = [];
  if (r.remaining !== null && r.limit !== null) parts.push(`${r.remaining}/${r.limit} left`);
  if (r.resetSeconds !== null) parts.push(`resets in ${r.resetSeconds}s`);
  if (r.retryAfterSeconds !== null) parts.push(`Retry-After ${r.retryAfterSeconds}s`);
  return parts.length ? `; rate limit ${parts.join(', ')}` : '';
}

export function employeesSummary(employees: EmployeeRecord[], atMs: number): { text: string; facts: Array<Record<string, unknown>> } {
  const facts = employees.map((e) => {
    const leave = e.timeOff?.find((t) => Date.parse(t.start) <= atMs && atMs < Date.parse(t.end)) ?? null;
    return { email: e.email, employmentStatus: e.employmentStatus, onLeave: leave ? { type: leave.type, until: leave.end } : null };
  });
  const inactive = facts.filter((f) => f.employmentStatus !== 'ACTIVE');
  const away = facts.filter((f) => f.onLeave);
  const parts = [`HRIS: ${plural(employees.length, 'employee')}, ${employees.length - inactive.length} active`];
  parts.push(away.length ? `on leave: ${away.map((f) => `${f.email} (${f.onLeave!.type} until ${f.onLeave!.until})`).join(', ')}` : 'nobody on leave');
  if (inactive.length) parts.push(`not active: ${inactive.map((f) => `${f.email} (${f.employmentStatus})`).join(', ')}`);
  return { text: parts.join('; '), facts };
}

export function calendarSummary(calendars: Extract<CalendarFacts, { status: 'ok' }>['calendars'], atMs: number): { text: string; facts: Array<Record<string, unknown>> } {
  const facts = calendars.map((c) => {
    const busy = c.busy?.find((b) => Date.parse(b.start) <= atMs && atMs < Date.parse(b.end)) ?? null;
    return { email: c.email, busyUntil: busy?.end ?? null, busyBlocks: c.busy?.length ?? 0 };
  });
  const busy = facts.filter((f) => f.busyUntil);
  return {
    text: `calendars: ${plural(calendars.length, 'rep')}; ${busy.length ? `busy now: ${busy.map((f) => `${f.email} until ${f.busyUntil}`).join(', ')}` : 'nobody busy now'}`,
    facts,
  };
}

export function decisionEntry(d: PolicyTrace, run: string, recordedAt: string | null): AuditEntry {
  const skipped = d.candidates.filter((c) => !c.eligible);
  // The reason names the rule (or says none matched); its display name is added when it has one.
  const parts = [`policy ${d.policyVersion}: ${d.reason}`];
  if (d.rule?.name) parts.push(`rule ${d.rule.id} is "${d.rule.name}"`);
  if (d.ownerId) parts.push(`owner ${d.ownerId} via ${d.via ?? 'unknown'}`);
  parts.push(`${d.candidates.length - skipped.length} of ${plural(d.candidates.length, 'candidate')} eligible`);
  if (skipped.length) parts.push(`skipped ${skipped.map((c) => `${c.repId} (${c.reasons.map((r) => r.code).join(', ') || 'unknown'})`).join(', ')}`);
  if (d.flagged) parts.push(`flagged: ${d.flagged}`);
  return {
    at: recordedAt ?? d.evaluatedAt,
    run,
    kind: 'decision',
    actor: null,
    summary: parts.join('; '),
    data: {
      evaluatedAt: d.evaluatedAt,
      policyVersion: d.policyVersion,
      rule: d.rule,
      rules: d.rules,
      urgency: d.urgency,
      reason: d.reason,
      flagged: d.flagged,
      ownerId: d.ownerId,
      via: d.via,
      slaSeconds: d.slaSeconds,
      escalationPool: d.escalationPool,
      account: d.account.status,
      candidates: d.candidates.map((c) => ({ repId: c.repId, name: c.name, eligible: c.eligible, reasons: c.reasons, assumptions: c.assumptions })),
    },
  };
}
