import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { AuditEntry } from '../../src/audit/types';
import type { LeadState } from '../../src/domain/leadState';
import { DEMO_REPS } from '../../sandbox/seed';
import { HISTORY_FIXTURES, historySummaries, recordHistory } from '../support/fixtures';
import { demoScenario, shortSlaPolicy } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { parseCsv } from '../support/csv';
import { leadStateQuery } from '../../src/protocol/messages';
import { fetchDecodedHistory } from '../../src/temporal/codec';

const REPS = DEMO_REPS.map((r) => r.id);
const emailOf = (id: string) => DEMO_REPS.find((r) => r.id === id)!.email;
const REASON = 'territory "EMEA", named account';

let t: TestStack;

beforeAll(async () => {
  // A second tenant, to show its key cannot read the first tenant's audit.
  t = await startTestStack(demoScenario({ allAvailable: true }), demoScenario({ allAvailable: true }));
  // A long grace: the reassignment and the accept below must land before the next lapse, even on a slow machine.
  expect((await t.request('PUT', '/v1/policy', shortSlaPolicy({ graceSeconds: 6 }))).status).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

const until = (leadId: string, check: (s: LeadState) => boolean, what: string) => t.waitForLead(leadId, check, what);


/**
 * With RECORD_FIXTURES=1, saves the lead's real history for the renderer's unit test, in the
 * replay fixtures' format (test/support/fixtures.ts: protobuf, base64; the replay test replays it
 * too) plus the lead's state. (`historyToJSON` from @temporalio/common fails with the installed
 * packages: its protobufjs copy is not @temporalio/proto's, "type must be a Type".)
 */
async function recordFixture(name: string, workflowId: string, leadId: string): Promise<void> {
  if (process.env['RECORD_FIXTURES'] !== '1') return;
  const handle = t.stack.temporal.client.workflow.getHandle(workflowId);
  const { runId } = await handle.describe();
  // Decoded (payloads are stored encrypted): fixtures hold plain payloads and replay without a key.
  const history = await fetchDecodedHistory(handle);
  const state = await handle.query(leadStateQuery);
  const encoded = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('base64');
  const fixture = { workflowId, recordedAt: new Date().toISOString(), events: history.events?.length ?? 0, history: encoded, leadId, runId, state };
  writeFileSync(path.join(HISTORY_FIXTURES, `${name}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
}

describe('GET /v1/leads/:leadId/audit', () => {
  let leadId: string;
  let workflowId: string;
  let owner: string;
  let escalatedTo: string;
  let target: string;
  let timeline: AuditEntry[];
  let durations: { endToEndMs: number | null; perStep: unknown[] };

  beforeAll(async () => {
    t.sandbox.injectFault({ system: 'crm', method: 'GET', pathPrefix: '/unified/crm/accounts', status: 429, headers: { 'Retry-After': '1' }, times: 1 });
    const posted = await t.request('POST', '/v1/leads', { email: 'dana@audit.example', firstName: 'Dana', company: 'Audit, Inc.' }, { 'idempotency-key': 'audit-429' });
    expect(posted.status).toBe(202);
    ({ leadId, workflowId } = posted.body);

    // The first owner lets the SLA lapse: reminded, then the lead moves on to the next rep.
    const escalated = await until(
      leadId,
      (s) => s.escalations.length === 1 && s.escalations[0]!.crmWritten && s.notifications.some((n) => n.kind === 'escalated_away' && n.messageId !== null),
      'first escalation',
    );
    owner = escalated.escalations[0]!.from;
    escalatedTo = escalated.escalations[0]!.to;
    target = REPS.find((r) => r !== owner && r !== escalatedTo)!;

    const reassigned = await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: target, reason: REASON, actor: 'revops@demo' });
    expect(reassigned.status).toBe(202);
    await until(leadId, (s) => s.reassignments[0]?.crmWritten === true && s.notifications.some((n) => n.kind === 'reassigned_away' && n.messageId !== null), 'reassignment');
    // The new owner's SLA clock is running (its timer is in history) before they accept: an accept
    // that raced the end of the move would be taken before that timer started.
    const handle = t.stack.temporal.client.workflow.getHandle(workflowId);
    await eventually(async () => ((await historySummaries(handle, 'timer')).some((s) => s.startsWith(`SLA: ${target} `)) ? true : undefined), 30_000, 'the new owner\'s SLA timer');
    expect((await t.request('POST', `/v1/leads/${leadId}/accept`, { actor: emailOf(target) })).status).toBe(202);

    // The new owner accepted: from here the run only waits out its reassignment window.
    const audit = await eventually(async () => {
      const res = await t.request('GET', `/v1/leads/${leadId}/audit`);
      return res.status === 200 && res.body.timeline.some((e: AuditEntry) => e.kind === 'accepted') ? res.body : undefined;
    }, 30_000, 'accepted in the audit');
    expect(audit).toMatchObject({ leadId, workflowId });
    timeline = audit.timeline;
    durations = audit.durations;
    await recordFixture('lead-429-escalated-reassigned', workflowId, leadId);
  });

  it('tells the lead’s story in order: receipt, the 429 and its retry, the decision, the CRM assignment, the owner’s notification, the escalation and its CRM write, then the manual reassignment by its actor', () => {
    const at = (what: string, match: (e: AuditEntry) => boolean) => {
      const i = timeline.findIndex(match);
      if (i < 0) throw new Error(`no ${what} in the timeline`);
      return i;
    };
    const data = (e: AuditEntry) => (e.data ?? {}) as Record<string, any>;

    const received = at('receipt', (e) => e.kind === 'received');
    expect(timeline[received]).toMatchObject({ kind: 'received', data: { email: 'dana@audit.example', idempotencyKey: 'audit-429', source: 'api' } });

    const retry = at('retry', (e) => e.kind === 'retry');
    expect(timeline[retry]!.data).toMatchObject({
      activity: 'matchAccount',
      attempt: 2,
      failureType: 'UpstreamRateLimited',
      waitMs: 1000,
      status: 429,
      operation: 'crm.findAccounts',
      rateLimit: { retryAfterSeconds: 1 },
    });

    const decision = at('decision', (e) => e.kind === 'decision');
    const candidates = data(timeline[decision]!)['candidates'] as Array<{ repId: string; eligible: boolean; reasons: unknown[] }>;
    expect(candidates.map((c) => c.repId).sort()).toEqual([...REPS].sort());
    expect(candidates.every((c) => typeof c.eligible === 'boolean' && Array.isArray(c.reasons))).toBe(true);
    expect(timeline[decision]!.data).toMatchObject({ rule: { id: 'all' }, ownerId: owner, via: 'round_robin' });

    const assign = at('CRM assignment', (e) => e.kind === 'crm_write' && data(e)['idempotencyKey'] === `${leadId}:assign`);
    expect(timeline[assign]!.data).toMatchObject({ operation: 'crm.createLead', ownerId: owner, replayed: false });

    const notified = at('owner notification', (e) => e.kind === 'notification' && data(e)['kind'] === 'assignment');
    expect(timeline[notified]!.data).toMatchObject({ recipient: emailOf(owner) });

    const escalation = at('escalation', (e) => e.kind === 'escalation');
    expect(timeline[escalation]).toMatchObject({ actor: 'system:sla', data: { n: 1, from: owner, to: escalatedTo } });
    const escalationWrite = at('escalation CRM write', (e) => e.kind === 'crm_write' && data(e)['idempotencyKey'] === `${leadId}:escalation:1`);
    expect(timeline[escalationWrite]!.data).toMatchObject({ operation: 'crm.updateLeadOwner', ownerId: escalatedTo });

    const reassignment = at('reassignment', (e) => e.kind === 'reassignment');
    expect(timeline[reassignment]).toMatchObject({ actor: 'revops@demo', data: { from: escalatedTo, to: target, reason: REASON } });

    expect([received, retry, decision, assign, notified, escalation, escalationWrite, reassignment]).toEqual(
      [received, retry, decision, assign, notified, escalation, escalationWrite, reassignment].sort((a, b) => a - b),
    );
    // An escalation and a manual reassignment are told apart by their actors.
    expect(timeline.filter((e) => e.kind === 'escalation' || e.kind === 'reassignment').map((e) => [e.kind, e.actor])).toEqual([
      ['escalation', 'system:sla'],
      ['reassignment', 'revops@demo'],
    ]);
    expect(timeline.every((e) => e.run === timeline[0]!.run && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    expect(typeof durations.endToEndMs).toBe('number');
    expect(durations.perStep.length).toBeGreaterThan(0);
  });

  it('keeps the run’s memo true, as the Web UI shows it: the current owner, how they got the lead, and each move, beside the first decision', async () => {
    const state = await t.leadState(leadId);
    const [escalation] = state.escalations;
    const [reassignment] = state.reassignments;
    const memo = (await t.stack.temporal.client.workflow.getHandle(workflowId).describe()).memo as Record<string, unknown>;
    expect(memo['owner']).toEqual({ id: target, name: state.owner!.name, via: 'manual', ruleId: null, since: state.owner!.assignedAt });
    expect(memo['moves']).toEqual([
      { kind: 'escalation', n: 1, from: owner, to: escalatedTo, at: escalation!.at, actor: 'system:sla', reason: escalation!.reason },
      { kind: 'reassignment', from: escalatedTo, to: target, at: reassignment!.at, actor: 'revops@demo', reason: REASON },
    ]);
    // The decision stays what it was: the rule and the owner it chose.
    expect(memo['decision']).toMatchObject({ rule: 'all', ownerId: owner });
  });

  it('labels the SLA, grace period and reassignment window timers, and the policy’s local activity, in history', async () => {
    const handle = t.stack.temporal.client.workflow.getHandle(workflowId);
    const timers = await historySummaries(handle, 'timer');
    // First the wait the CRM asked for (its 429's Retry-After) before the account match read again.
    expect(timers.shift()).toMatch(/^match account audit\.example: the upstream asked to wait 1 s \(UpstreamRateLimited\) before reading again$/);
    expect(timers.slice(0, 2)).toEqual([
      expect.stringMatching(new RegExp(`^SLA: ${owner} must accept by `)),
      expect.stringMatching(new RegExp(`^grace period: the lead moves on from ${owner} at .+ unless accepted$`)),
    ]);
    expect(timers).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^SLA: ${target} must accept by `)), expect.stringMatching(/^reassignment window: the run stays open until /)]));
    expect(timers).not.toContain('(none)');
    // The policy, then each read's, the claim's and the CRM write's first (local) try, labelled too; the escalation reads availability again.
    expect(await historySummaries(handle, 'local activity')).toEqual([
      `routing config and policy of ${t.tenant.id}`,
      'enrich audit.example',
      'match account audit.example',
      'HRIS status of 5 reps',
      'calendars of 5 reps',
      'round_robin claim in pool p',
      `assign ${owner} in CRM`,
      'HRIS status of 5 reps',
      'calendars of 5 reps',
    ]);
    await recordHistory('escalated-reassigned-owner-in-memo', handle);
  });

  it('answers the same timeline as text/csv: a header and one quoted record per entry', async () => {
    const res = await t.request('GET', `/v1/leads/${leadId}/audit?format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const records = parseCsv(res.body as string);
    expect(records[0]).toEqual(['at', 'run', 'kind', 'actor', 'summary']);
    expect(records).toHaveLength(timeline.length + 1);
    expect(records.slice(1).map((r) => r[2])).toEqual(timeline.map((e) => e.kind));
    const reassignment = records.find((r) => r[2] === 'reassignment')!;
    expect(reassignment[3]).toBe('revops@demo');
    expect(reassignment[4]).toContain(REASON);
  });

  it('answers 404 for another tenant’s lead and 400 for an unknown format', async () => {
    const other = await t.request('GET', `/v1/leads/${leadId}/audit`, undefined, { authorization: `Bearer ${t.scenarios[1]!.apiKey}` });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('not_found');
    const bad = await t.request('GET', `/v1/leads/${leadId}/audit?format=xml`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'query.format' })]);
    expect((await t.request('GET', `/v1/leads/${leadId}/audit?verbose=1`)).status).toBe(400);
  });
});

describe('the audit of a lead routed straight to its account owner', () => {
  it('lists the decision before the status change it caused, and every entry in the order it happened', async () => {
    // The second tenant routes with the default policy: a known account's lead goes to its owner, with no pool claim in between.
    const key = { authorization: `Bearer ${t.scenarios[1]!.apiKey}` };
    const posted = await t.request('POST', '/v1/leads', { email: 'ann@acme.com', firstName: 'Ann', company: 'Acme' }, { ...key, 'idempotency-key': 'audit-owner' });
    expect(posted.status).toBe(202);
    const { leadId, workflowId } = posted.body;
    const routed = await t.routed(leadId, t.scenarios[1]!.apiKey);
    expect(routed.owner).toMatchObject({ via: 'account_owner', ruleId: 'existing-account' });

    const audit = (await t.request('GET', `/v1/leads/${leadId}/audit`, undefined, key)).body as { timeline: AuditEntry[] };
    const kinds = audit.timeline.map((e) => (e.kind === 'status' ? `status:${(e.data as { to: string }).to}` : e.kind));
    const decision = kinds.indexOf('decision');
    expect(decision).toBeGreaterThan(kinds.indexOf('status:deciding'));
    expect(decision).toBeLessThan(kinds.indexOf('status:assigning'));
    expect(kinds[decision + 1]).toBe('status:assigning');
    const times = audit.timeline.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await recordFixture('account-owner-audit', workflowId, leadId);
  });
});
