import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { csvField, timelineCsv } from '../../src/audit/csv';
import { renderTimeline } from '../../src/audit/timeline';
import type { AuditEntry, AuditTimeline } from '../../src/audit/types';
import type { LeadState } from '../../src/domain/leadState';
import { HISTORY_FIXTURES } from '../support/fixtures';
import { parseCsv } from '../support/csv';

/** A real history and the lead's state: recorded by test/integration/audit.test.ts with RECORD_FIXTURES=1. */
const fixture = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, 'lead-429-escalated-reassigned.json'), 'utf8')) as {
  leadId: string;
  runId: string;
  /** The protobuf encoding of the run's history, base64 (as every replay fixture). */
  history: string;
  state: LeadState;
};
const runs = [{ runId: fixture.runId, events: temporal.api.history.v1.History.decode(Buffer.from(fixture.history, 'base64')).events }];
const state = fixture.state;
const { leadId } = fixture;
const [escalation] = state.escalations;
const [reassignment] = state.reassignments;
const data = (e: AuditEntry | undefined) => (e?.data ?? {}) as Record<string, any>;


describe('renderTimeline over a recorded lead (429, SLA lapse and escalation, manual reassignment, accept)', () => {
  const timeline = renderTimeline(runs, state);
  const entries = timeline.entries;

  it('tells the story in history order with who did what: engine steps, the SLA escalation, the person who reassigned, the one who accepted', () => {
    const story = entries
      .filter((e) => ['received', 'retry', 'decision', 'pool_claim', 'crm_write', 'notification', 'escalation', 'signal', 'reassignment', 'accepted'].includes(e.kind))
      .map((e) => [e.kind === 'notification' ? `notification:${data(e)['kind']}` : e.kind === 'signal' ? `signal:${data(e)['signal']}` : e.kind, e.actor]);
    expect(story).toEqual([
      ['received', `api-key:${state.tenantId}`],
      ['retry', null],
      ['decision', null],
      ['pool_claim', null],
      ['crm_write', null],
      ['notification:assignment', null],
      ['notification:reminder', null],
      ['pool_claim', 'system:sla'],
      ['escalation', 'system:sla'],
      ['crm_write', null],
      ['notification:escalation', null],
      ['notification:escalated_away', null],
      ['signal:reassign', 'revops@demo'],
      ['reassignment', 'revops@demo'],
      ['crm_write', null],
      ['notification:reassignment', null],
      ['notification:reassigned_away', null],
      ['signal:accept', state.accepted!.actor],
      ['accepted', state.accepted!.actor],
    ]);
    expect(entries[0]).toMatchObject({ kind: 'received', data: { email: 'dana@audit.example', idempotencyKey: 'audit-429', receivedAt: state.receivedAt } });
    expect(entries.every((e) => e.run === runs[0]!.runId && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });

  it('shows the 429 as a retry with its type, the wait before the retry and the normalized rate limit', () => {
    const retry = entries.find((e) => e.kind === 'retry');
    expect(retry?.data).toMatchObject({
      activity: 'matchAccount',
      attempt: 2,
      failureType: 'UpstreamRateLimited',
      status: 429,
      provider: 'unified',
      operation: 'crm.findAccounts',
      waitMs: 1000,
      rateLimit: { retryAfterSeconds: 1 },
    });
    expect(retry?.summary).toContain('waited 1000 ms');
  });

  it('lists one upstream call per call in the activity results, as the lead’s upstream log has them', () => {
    const calls = entries.filter((e) => e.kind === 'upstream_call').map((e) => `${data(e)['operation']} ${data(e)['status']}`);
    expect(calls).toEqual(state.upstream.map((c) => `${c.operation} ${c.status}`));
    expect(entries.find((e) => e.kind === 'upstream_call')?.data).toMatchObject({ rateLimit: { limit: expect.any(Number) }, replayed: false });
  });

  it('places the decision after the facts it used and before the pool claim, with every candidate and why', () => {
    const kinds = entries.map((e) => e.kind);
    const decision = kinds.indexOf('decision');
    expect(decision).toBeGreaterThan(kinds.lastIndexOf('account_match'));
    expect(decision).toBeGreaterThan(kinds.indexOf('availability'));
    expect(kinds[decision + 1]).toBe('pool_claim');
    // Recorded with the status change to deciding that its workflow task made; evaluated at the start of that task.
    expect(entries[decision - 1]).toMatchObject({ kind: 'status', data: { to: 'deciding' } });
    expect(entries[decision]).toMatchObject({ at: entries[decision - 1]!.at, data: { evaluatedAt: state.decision!.evaluatedAt, policyVersion: state.policyVersion, rule: { id: 'all' }, ownerId: escalation!.from } });
    expect(data(entries[decision])['candidates']).toEqual(state.decision!.candidates.map((c) => ({ repId: c.repId, name: c.name, eligible: c.eligible, reasons: c.reasons, assumptions: c.assumptions })));
  });

  it('names the CRM writes by their idempotency keys, each after the move it carries out', () => {
    const writes = entries.filter((e) => e.kind === 'crm_write').map((e) => [data(e)['idempotencyKey'], data(e)['operation'], data(e)['ownerId']]);
    expect(writes).toEqual([
      [`${leadId}:assign`, 'crm.createLead', escalation!.from],
      [`${leadId}:escalation:1`, 'crm.updateLeadOwner', escalation!.to],
      [`${leadId}:reassign:${reassignment!.requestId}`, 'crm.updateLeadOwner', reassignment!.to],
    ]);
    const escalated = entries.find((e) => e.kind === 'escalation');
    expect(escalated?.data).toMatchObject({ n: 1, from: escalation!.from, to: escalation!.to, reason: escalation!.reason });
    const moved = entries.find((e) => e.kind === 'reassignment');
    expect(moved?.data).toMatchObject({ from: reassignment!.from, to: reassignment!.to, reason: reassignment!.reason, requestId: reassignment!.requestId });
  });

  it('tells the timers apart: the SLA clock, the grace period, the clocks a signal cut short, the reassignment window', () => {
    const timers = entries.filter((e) => e.kind === 'timer').map((e) => `${data(e)['purpose']}:${data(e)['event']}`);
    expect(timers).toEqual(['sla:started', 'sla:fired', 'escalation:started', 'escalation:fired', 'sla:started', 'sla:canceled', 'sla:started', 'sla:canceled', 'window:started']);
  });

  it('lists every entry in the order it happened', () => {
    const times = entries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('reports the routing statuses as they changed, without repeats', () => {
    const statuses = entries.filter((e) => e.kind === 'status').map((e) => data(e)['to']);
    expect(statuses).toEqual(['matching', 'deciding', 'assigning', 'notifying', 'routed', 'accepted']);
  });

  it('measures receipt to the owner’s first notification and passes the per-step timings through', () => {
    const notified = entries.find((e) => e.kind === 'notification' && data(e)['kind'] === 'assignment')!;
    expect(timeline.durations.endToEndMs).toBe(Date.parse(notified.at) - Date.parse(state.receivedAt));
    expect(timeline.durations.perStep).toEqual(state.timings);
  });

  it('carries no stack traces or worker paths from the failures in history', () => {
    const text = JSON.stringify(timeline);
    expect(text).not.toMatch(/stackTrace|at Function\.create|node_modules|\.ts:\d+/);
  });

  it('still renders from the history alone when the lead state is unavailable: no decision, actors from the signals', () => {
    const bare = renderTimeline(runs, null);
    expect(bare.entries.map((e) => e.kind)).toEqual(entries.map((e) => e.kind).filter((k) => k !== 'decision'));
    expect(bare.entries.filter((e) => ['escalation', 'reassignment', 'accepted'].includes(e.kind)).map((e) => [e.kind, e.actor])).toEqual([
      ['escalation', 'system:sla'],
      ['reassignment', 'revops@demo'],
      ['accepted', state.accepted!.actor],
    ]);
    expect(bare.durations).toEqual({ endToEndMs: timeline.durations.endToEndMs, perStep: [] });
  });

  it('exports the same entries as CSV: a header, then one record per entry', () => {
    const records = parseCsv(timelineCsv(timeline));
    expect(records[0]).toEqual(['at', 'run', 'kind', 'actor', 'summary']);
    expect(records.slice(1)).toEqual(entries.map((e) => [e.at, e.run, e.kind, e.actor ?? '', e.summary]));
  });
});

describe('renderTimeline over a lead routed straight to its account owner (no pool claim)', () => {
  /** Recorded by test/integration/audit.test.ts with RECORD_FIXTURES=1, like the one above. */
  const owned = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, 'account-owner-audit.json'), 'utf8')) as typeof fixture;
  const ownedRuns = [{ runId: owned.runId, events: temporal.api.history.v1.History.decode(Buffer.from(owned.history, 'base64')).events }];
  const ownedEntries = renderTimeline(ownedRuns, owned.state).entries;
  const labels = ownedEntries.map((e) => (e.kind === 'status' ? `status:${data(e)['to']}` : e.kind));

  it('lists the decision after the change to deciding and before the status change it caused, then the CRM assignment', () => {
    expect(owned.state.owner).toMatchObject({ via: 'account_owner' });
    const decision = labels.indexOf('decision');
    expect(labels.slice(decision - 1, decision + 2)).toEqual(['status:deciding', 'decision', 'status:assigning']);
    expect(labels.indexOf('crm_write')).toBeGreaterThan(decision);
    expect(ownedEntries[decision]!.data).toMatchObject({ evaluatedAt: owned.state.decision!.evaluatedAt, via: 'account_owner', rule: { id: 'existing-account' } });
  });

  it('lists every entry in the order it happened', () => {
    const times = ownedEntries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('renderTimeline when history order is not time order', () => {
  // The server writes a retried activity's start (the time of its last attempt) only when the
  // attempt ends: here after another activity that completed meanwhile.
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  const payloads = (value: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(value)] });
  const T = Date.parse('2026-11-21T10:00:00.000Z');
  const events = [
    { eventId: 1, eventTime: at(T), workflowExecutionStartedEventAttributes: { input: payloads({ leadId: 'ld_1', tenantId: 't', lead: { email: 'a@b.example' } }) } },
    { eventId: 5, eventTime: at(T + 10), activityTaskScheduledEventAttributes: { activityType: { name: 'matchAccount' }, input: payloads({ domains: ['b.example'] }) } },
    { eventId: 6, eventTime: at(T + 10), activityTaskScheduledEventAttributes: { activityType: { name: 'enrichCompany' }, input: payloads({ domain: 'b.example' }) } },
    { eventId: 7, eventTime: at(T + 20), activityTaskStartedEventAttributes: { scheduledEventId: 6, attempt: 1 } },
    { eventId: 8, eventTime: at(T + 900), activityTaskCompletedEventAttributes: { scheduledEventId: 6, result: payloads({ status: 'not_found', reason: 'none' }) } },
    { eventId: 9, eventTime: at(T + 500), activityTaskStartedEventAttributes: { scheduledEventId: 5, attempt: 2, lastFailure: { message: 'HTTP 503' } } },
    { eventId: 10, eventTime: at(T + 1000), activityTaskCompletedEventAttributes: { scheduledEventId: 5, result: payloads({ status: 'none', domains: ['b.example'] }) } },
  ].map((e) => temporal.api.history.v1.HistoryEvent.fromObject(e));

  it('lists the retry when it started, before what completed while it ran', () => {
    const entries = renderTimeline([{ runId: 'run-1', events }], null).entries;
    expect(entries.map((e) => [e.kind, e.at])).toEqual([
      ['received', new Date(T).toISOString()],
      ['retry', new Date(T + 500).toISOString()],
      ['enrichment', new Date(T + 900).toISOString()],
      ['account_match', new Date(T + 1000).toISOString()],
    ]);
  });
});

describe('timelineCsv', () => {
  const entry = (summary: string, actor: string | null = null): AuditEntry => ({ at: '2026-01-01T00:00:00.000Z', run: 'run-1', kind: 'signal', actor, summary });
  const csv = (...entries: AuditEntry[]): string => timelineCsv({ entries, durations: { endToEndMs: null, perStep: [] } } satisfies AuditTimeline);

  it('leaves plain fields unquoted and ends every record with CRLF', () => {
    expect(csv(entry('plain text', 'ava'))).toBe('at,run,kind,actor,summary\r\n2026-01-01T00:00:00.000Z,run-1,signal,ava,plain text\r\n');
  });

  it('quotes fields holding a comma, a quote or a line break and doubles the quotes', () => {
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r\nlf')).toBe('"cr\r\nlf"');
    const text = csv(entry('territory "EMEA", named account\nsee notes', 'revops@demo'));
    expect(parseCsv(text)).toEqual([
      ['at', 'run', 'kind', 'actor', 'summary'],
      ['2026-01-01T00:00:00.000Z', 'run-1', 'signal', 'revops@demo', 'territory "EMEA", named account\nsee notes'],
    ]);
  });

  it('writes a missing actor as an empty field', () => {
    expect(csv(entry('x')).split('\r\n')[1]).toBe('2026-01-01T00:00:00.000Z,run-1,signal,,x');
  });

  it('defuses values a spreadsheet would run as formulas', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('revops@demo')).toBe('revops@demo');
  });
});

describe('renderTimeline over the same story recorded from a lean run (local first tries, fewer status changes)', () => {
  const lean = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, 'lean-lead-429-escalated-reassigned.json'), 'utf8')) as typeof fixture;
  const leanRuns = [{ runId: lean.runId, events: temporal.api.history.v1.History.decode(Buffer.from(lean.history, 'base64')).events }];
  const entries = renderTimeline(leanRuns, lean.state).entries;
  const [leanEscalation] = lean.state.escalations;

  it('tells the same story: the 429 of the local try as a retry, the decision, the pool claim, the writes and who did what', () => {
    const story = entries
      .filter((e) => ['received', 'retry', 'decision', 'pool_claim', 'crm_write', 'escalation', 'reassignment', 'accepted'].includes(e.kind))
      .map((e) => [e.kind, e.actor]);
    expect(story).toEqual([
      ['received', `api-key:${lean.state.tenantId}`],
      ['retry', null],
      ['decision', null],
      ['pool_claim', null],
      ['crm_write', null],
      ['pool_claim', 'system:sla'],
      ['escalation', 'system:sla'],
      ['crm_write', null],
      ['reassignment', 'revops@demo'],
      ['crm_write', null],
      ['accepted', lean.state.accepted!.actor],
    ]);
    expect(entries.find((e) => e.kind === 'retry')?.data).toMatchObject({
      activity: 'matchAccount',
      attempt: 2,
      failureType: 'UpstreamRateLimited',
      status: 429,
      operation: 'crm.findAccounts',
      waitMs: 1000,
      rateLimit: { retryAfterSeconds: 1 },
    });
  });

  it('reads the local tries’ answers as the activities’: the facts, then the decision, then the claim with its pool and eligible reps', () => {
    const kinds = entries.map((e) => e.kind);
    const decision = kinds.indexOf('decision');
    expect(decision).toBeGreaterThan(kinds.lastIndexOf('account_match'));
    expect(decision).toBeGreaterThan(kinds.indexOf('availability'));
    expect(decision).toBeGreaterThan(kinds.indexOf('enrichment'));
    expect(kinds[decision + 1]).toBe('pool_claim');
    expect(entries[decision]!.data).toMatchObject({ rule: { id: 'all' }, ownerId: leanEscalation!.from });
    expect(entries[decision + 1]!.data).toMatchObject({ poolId: 'p', strategy: 'round_robin', ok: true, owner: leanEscalation!.from, duplicate: false });
    expect((entries[decision + 1]!.data as { eligible: string[] }).eligible.length).toBeGreaterThan(0);
    expect(entries.find((e) => e.kind === 'enrichment')?.summary).toContain('enrichment of audit.example');
    // The calls of every local try and activity, as the lead's upstream log has them.
    const calls = entries.filter((e) => e.kind === 'upstream_call').map((e) => `${data(e)['operation']} ${data(e)['status']}`);
    expect(calls).toEqual(lean.state.upstream.map((c) => `${c.operation} ${c.status}`));
  });

  it('lists every entry in the order it happened', () => {
    const times = entries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
