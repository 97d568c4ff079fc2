import { WorkflowNotFoundError } from '@temporalio/client';
import { leadIdFor } from '../../src/api/ids';
import type { LeadState } from '../../src/domain/leadState';
import { LeadOwner, RoutingRule } from '../../src/temporal/searchAttributes';
import { DEMO_QUEUE_USER, DEMO_TRIAGE_CHANNEL } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario } from '../support/scenario';
import { recordHistory } from '../support/fixtures';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { leadWorkflowId } from '../../src/protocol/ids';

const [ava, ben, chloe, dieter, mei] = DEMO_REPS;

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack(
    demoScenario(),
    // A second tenant on the same deployment: its leads must be invisible to the first.
    demoScenario(),
    // A tenant whose only reps are the one on PTO and the one in a meeting.
    demoScenario({ members: [chloe.id, dieter.id] }),
  );
});

const otherKey = () => t.scenarios[1]!.apiKey;
const nobodyAvailableKey = () => t.scenarios[2]!.apiKey;

afterAll(async () => {
  await t?.close();
});

async function postLead(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await t.request('POST', '/v1/leads', body, headers);
  expect(res.status).toBe(202);
  return res.body as { leadId: string; workflowId: string };
}

const routed = (leadId: string, apiKey?: string): Promise<LeadState> => t.routed(leadId, apiKey);

const crmCreates = (email: string) =>
  t.events('crm').filter((e) => e.method === 'POST' && e.path === '/unified/crm/leads' && (e.body as { email?: string }).email === email);
const messagesTo = (recipient: string) =>
  t.events('messaging').filter((e) => {
    const body = e.body as { recipient_email?: string; channel_id?: string };
    return body.recipient_email === recipient || body.channel_id === recipient;
  });

describe('routing a lead end to end', () => {
  it('routes a lead for an existing account to the account owner, writes the CRM and notifies the owner', async () => {
    const { leadId } = await postLead({ email: 'jane.doe@acme.com', firstName: 'Jane', lastName: 'Doe', company: 'Acme', source: 'form' });
    const state = await routed(leadId);

    expect(state.status).toBe('routed');
    expect(state.owner).toMatchObject({ id: ava.id, via: 'account_owner' });
    expect(state.account).toMatchObject({ status: 'matched', account: { id: 'acc_acme', ownerId: ava.id } });
    expect(state.decision?.reason).toContain('Acme');
    expect(state.enrichment).toMatchObject({ status: 'found', company: { domain: 'acme.com' } });

    const writes = crmCreates('jane.doe@acme.com');
    expect(writes).toHaveLength(1);
    expect(writes[0]?.body).toMatchObject({ owner_id: ava.id });
    expect(writes[0]?.headers.idempotencyKey).toBe(`${leadId}:assign`);
    expect(messagesTo(ava.email)).toHaveLength(1);
    // Every step is timed, and every upstream answer is on record.
    expect(state.timings.map((s) => s.step)).toEqual(expect.arrayContaining(['enrich', 'match_account', 'check_hris', 'check_calendar', 'assign_crm']));
    expect(state.upstream.map((c) => c.operation)).toEqual(expect.arrayContaining(['crm.findAccounts', 'hris.findEmployees', 'calendar.availability', 'crm.createLead', 'messaging.send']));
    // The decision is in history itself: the memo the Web UI shows.
    const handle = t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId));
    const memo = (await handle.describe()).memo as { decision?: { rule: string; ownerId: string; candidates: unknown[] } };
    expect(memo.decision).toMatchObject({ rule: 'existing-account', ownerId: ava.id });
    expect(memo.decision?.candidates).toEqual([{ repId: ava.id, eligible: true, reasons: [] }]);
    await recordHistory('account-owner-routed-decision-memo', handle);
  });

  it('sends a new-domain lead round robin and skips the rep on PTO and the rep in a meeting, with the reason for each', async () => {
    const owners: string[] = [];
    for (const email of ['a@hooli.com', 'b@hooli.com', 'c@hooli.com', 'd@hooli.com']) {
      const { leadId } = await postLead({ email });
      const state = await routed(leadId);
      expect(state.owner?.via).toBe('round_robin');
      owners.push(state.owner!.id);
      const skipped = Object.fromEntries(state.decision!.candidates.map((c) => [c.repId, c.reasons.map((r) => r.code)]));
      expect(skipped[chloe.id]).toEqual(['on_leave']);
      expect(skipped[dieter.id]).toEqual(['busy']);
      expect(skipped[ava.id]).toEqual([]);
    }
    // Strict rotation over the available reps in roster order, then around again.
    expect(owners).toEqual([ava.id, ben.id, mei.id, ava.id]);
  });

  it('sends the lead to the fallback queue and the triage channel when nobody can take it — never nowhere', async () => {
    const key = nobodyAvailableKey();
    const { leadId } = (await t.request('POST', '/v1/leads', { email: 'lost@hooli.com' }, { authorization: `Bearer ${key}` })).body;
    const state = await routed(leadId, key);
    expect(state.owner).toMatchObject({ id: DEMO_QUEUE_USER.id, via: 'fallback' });
    expect(state.decision?.reason).toContain('nobody in pool');
    expect(messagesTo(DEMO_TRIAGE_CHANNEL).some((e) => String((e.body as { text: string }).text).includes('lost@hooli.com'))).toBe(true);
  });

  it('retries a 429 no earlier than its Retry-After and still routes the lead', async () => {
    t.sandbox.injectFault({ system: 'crm', method: 'GET', pathPrefix: '/unified/crm/accounts', status: 429, headers: { 'Retry-After': '2' }, times: 1 });
    const { leadId, workflowId } = await postLead({ email: 'ops@globex.com' });
    const state = await routed(leadId);
    expect(state.owner).toMatchObject({ id: ben.id, via: 'account_owner' });

    const lookups = t.events('crm').filter((e) => e.path === '/unified/crm/accounts' && e.query['domain'] === 'globex.com');
    expect(lookups.map((e) => e.status)).toEqual([429, 200]);
    expect(lookups[1]!.receivedAt - lookups[0]!.receivedAt).toBeGreaterThanOrEqual(2000);

    // The history records the rate-limited attempt with its type (the read's first, local try),
    // the wait the upstream asked for as a timer, then the read again as an activity: the audit
    // shows why it waited.
    const events = (await t.stack.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const limited = events.findIndex((e) => e.markerRecordedEventAttributes?.failure?.applicationFailureInfo?.type === 'UpstreamRateLimited');
    expect(limited).toBeGreaterThan(0);
    const wait = events.slice(limited).find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes?.startToFireTimeout;
    expect(Number(wait?.seconds ?? 0) * 1000 + (wait?.nanos ?? 0) / 1e6).toBeGreaterThanOrEqual(2000);
    const again = events.slice(limited).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'matchAccount');
    expect(again).toHaveLength(1);
    await recordHistory('rate-limited-retry', t.stack.temporal.client.workflow.getHandle(workflowId));
  });

  it('answers a duplicate submission with the first lead and makes no second workflow or CRM write', async () => {
    const body = { email: 'dup@initech.com', firstName: 'Dee' };
    const first = await t.request('POST', '/v1/leads', body, { 'idempotency-key': 'form-42' });
    const second = await t.request('POST', '/v1/leads', body, { 'idempotency-key': 'form-42' });
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    await routed(first.body.leadId);
    const third = await t.request('POST', '/v1/leads', body, { 'idempotency-key': 'form-42' });
    expect(third.body.leadId).toBe(first.body.leadId);

    // Visibility is eventually consistent: wait for the run to be listed, then there is exactly one.
    const runs = await eventually(async () => {
      const found = [];
      for await (const run of t.stack.temporal.client.workflow.list({ query: `WorkflowId = '${first.body.workflowId}'` })) found.push(run);
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toHaveLength(1);
    expect(crmCreates('dup@initech.com')).toHaveLength(1);
  });

  it('treats the same externalId as the same lead, and the same key with a different body as a conflict', async () => {
    const first = await postLead({ email: 'ext@initech.com', externalId: 'crm-form-7' });
    const again = await postLead({ email: 'ext@initech.com', externalId: 'crm-form-7' });
    expect(again.leadId).toBe(first.leadId);
    const conflict = await t.request('POST', '/v1/leads', { email: 'other@initech.com', externalId: 'crm-form-7' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_key_reused');
  });

  it('reassigns a routed lead manually: CRM write, both reps notified, and the status shows the new owner', async () => {
    const { leadId } = await postLead({ email: 'move@acme.com' });
    const before = await routed(leadId);
    expect(before.owner?.id).toBe(ava.id);

    const res = await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: mei.id, reason: 'speaks Mandarin', actor: 'revops@demo' });
    expect(res.status).toBe(202);
    const after = await eventually(async () => {
      const s = (await t.request('GET', `/v1/leads/${leadId}`)).body as LeadState;
      return s.owner?.id === mei.id && s.notifications.length >= 3 ? s : undefined;
    });
    expect(after.owner).toMatchObject({ id: mei.id, via: 'manual' });
    expect(after.reassignments).toEqual([expect.objectContaining({ from: ava.id, to: mei.id, reason: 'speaks Mandarin', actor: 'revops@demo', crmWritten: true })]);

    const patch = t.events('crm').filter((e) => e.method === 'PATCH' && e.path === `/unified/crm/leads/${before.crmLeadId}`);
    expect(patch).toHaveLength(1);
    expect(patch[0]?.body).toEqual({ owner_id: mei.id });
    expect(after.notifications.map((n) => [n.kind, n.recipient])).toEqual([
      ['assignment', ava.email],
      ['reassignment', mei.email],
      ['reassigned_away', ava.email],
    ]);
  });

  it('rejects a reassignment to someone who is not on the team, naming the field', async () => {
    const { leadId } = await postLead({ email: 'stay@acme.com' });
    await routed(leadId);
    const res = await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: 'usr_nobody', reason: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'ownerId', message: 'is not on the routing team' }]);
  });

  it('marks the lead failed and alerts the triage channel when the CRM refuses the write', async () => {
    t.sandbox.injectFault({ system: 'crm', method: 'POST', pathPrefix: '/unified/crm/leads', status: 400, body: { status: 400, error_code: 'VALIDATION', message: 'email is blocked' }, times: 1 });
    const { leadId } = await postLead({ email: 'blocked@acme.com' });
    const state = await routed(leadId);
    expect(state.status).toBe('failed');
    expect(state.failures).toEqual([expect.objectContaining({ step: 'assign_crm', type: 'UpstreamRejected' })]);
    expect(state.failures[0]?.message).toContain('email is blocked');
    const handle = t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId));
    // The run closes once triage has been told.
    await eventually(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 30_000, 'the failed run to close');
    await recordHistory('crm-write-refused', handle);

    // Triage names an owner: the follow-up run creates the lead in the CRM with them and tells them.
    const res = await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: ben.id, reason: 'triage', actor: 'sdr-lead@demo' });
    expect(res.body.run).toBe('follow-up');
    const assigned = await t.waitForLead(leadId, (s) => s.owner?.id === ben.id && s.notifications.some((n) => n.kind === 'reassignment'), 'assigned by triage');
    expect(assigned.owner).toMatchObject({ via: 'manual' });
    expect(assigned.crmLeadId).not.toBeNull();
    expect(assigned.reassignments).toEqual([expect.objectContaining({ from: null, to: ben.id, actor: 'sdr-lead@demo', crmWritten: true })]);
    const creates = crmCreates('blocked@acme.com');
    expect(creates.map((e) => e.status)).toEqual([400, 201]);
    expect(creates[1]?.body).toMatchObject({ owner_id: ben.id });
    await recordHistory('lead-follow-up-assigned-by-triage', t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId)));
    expect(messagesTo(DEMO_TRIAGE_CHANNEL).some((e) => String((e.body as { text: string }).text).includes('blocked@acme.com'))).toBe(true);
  });

  it('carries out a reassignment that arrives while the failed lead is still being reported to triage (no request lost)', async () => {
    t.sandbox.injectFault({ system: 'crm', method: 'POST', pathPrefix: '/unified/crm/leads', status: 400, body: { status: 400, error_code: 'VALIDATION', message: 'email is blocked' }, times: 1 });
    // A slow messaging upstream keeps the failed run open while triage is told.
    t.sandbox.setLatency({ messaging: { baseMs: 4_000, jitterMs: 0 } });
    let leadId: string;
    let firstRun: string;
    try {
      ({ leadId } = await postLead({ email: 'late.triage@acme.com' }));
      expect((await routed(leadId)).status).toBe('failed');
      firstRun = (await t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId)).describe()).runId;
      const res = await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: ben.id, reason: 'triage', actor: 'sdr-lead@demo' });
      expect(res.body.run).toBe('current');
    } finally {
      t.sandbox.setLatency({});
    }
    const assigned = await t.waitForLead(leadId, (s) => s.status === 'routed' && s.owner?.id === ben.id, 'assigned by triage in the same run');
    expect(assigned.owner).toMatchObject({ via: 'manual' });
    expect(assigned.reassignments).toEqual([expect.objectContaining({ from: null, to: ben.id, crmWritten: true })]);
    expect(crmCreates('late.triage@acme.com').map((e) => e.status)).toEqual([400, 201]);
    // One run carried it all: no follow-up was started.
    expect((await t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId)).describe()).runId).toBe(firstRun);
    await recordHistory('failed-lead-reassigned-in-run', t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId)));
  });

  it('gives the pool credit back when the CRM refuses a lead the pool counted', async () => {
    const counts = async () => {
      const stats = (await t.request('GET', '/v1/pools/inbound/stats')).body as { members: Array<{ repId: string; assigned: number }> };
      return Object.fromEntries(stats.members.map((m) => [m.repId, m.assigned]));
    };
    const before = await counts();
    t.sandbox.injectFault({ system: 'crm', method: 'POST', pathPrefix: '/unified/crm/leads', status: 400, body: { status: 400, error_code: 'VALIDATION', message: 'email is blocked' }, times: 1 });
    const { leadId } = await postLead({ email: 'refused@no-account.example' });
    const state = await routed(leadId);
    expect(state.status).toBe('failed');
    expect(state.decision?.via).toBe('round_robin');
    const owner = state.decision!.ownerId!;
    // The release is an update on the pool entity, done before the run closes.
    const handle = t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId));
    await eventually(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 30_000, 'the failed run to close');
    const after = await counts();
    expect(after[owner]).toBe(before[owner] ?? 0);
    expect(after).toEqual(before);
    await recordHistory('crm-refused-pool-credit-returned', handle);
  });
});

describe('finding leads', () => {
  it('makes a routed lead findable by its search attributes, as the Web UI queries them', async () => {
    const { leadId, workflowId } = await postLead({ email: 'find.me@umbrella.co.uk' });
    await routed(leadId);
    const query = `LeadTenant = "${t.tenant.id}" AND LeadDomain = "umbrella.co.uk" AND RoutingStatus = "routed"`;
    // Visibility is eventually consistent: poll until the index has caught up.
    const found = await eventually(async () => {
      const runs = [];
      for await (const run of t.stack.temporal.client.workflow.list({ query })) runs.push(run);
      return runs.length > 0 ? runs : undefined;
    });
    expect(found.map((r) => r.workflowId)).toEqual([workflowId]);
    const attributes = found[0]!.typedSearchAttributes;
    expect(attributes.get(LeadOwner)).toBeTruthy();
    expect(attributes.get(RoutingRule)).toMatch(/^(existing-account|everyone-else)$/);
  });
});

describe('the API contract', () => {
  it('rejects bad input with 400 naming each bad field, and starts nothing', async () => {
    const res = await t.request('POST', '/v1/leads', { email: 'not-an-email', colour: 'blue' }, { 'idempotency-key': 'bad-1' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    const fields = res.body.error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['colour', 'email']);
    const handle = t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadIdFor(t.tenant.id, 'bad-1')));
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('answers 401 without a key or with an unknown key', async () => {
    const missing = await t.request('POST', '/v1/leads', { email: 'x@acme.com' }, { authorization: '' });
    const unknown = await t.request('POST', '/v1/leads', { email: 'x@acme.com' }, { authorization: 'Bearer nope' });
    expect([missing.status, unknown.status]).toEqual([401, 401]);
    expect(unknown.body.error.code).toBe('unauthorized');
  });

  it('answers 413 to an oversized body and 415 to a non-JSON body, in the error envelope', async () => {
    const big = await t.request('POST', '/v1/leads', { email: 'x@acme.com', message: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const text = await t.request('POST', '/v1/leads', 'email=x@acme.com', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
    const broken = await t.request('POST', '/v1/leads', '{"email":', {});
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_json');
  });

  it("hides another tenant's lead and unknown leads behind 404", async () => {
    const { leadId } = await postLead({ email: 'mine@acme.com' });
    const other = await t.request('GET', `/v1/leads/${leadId}`, undefined, { authorization: `Bearer ${otherKey()}` });
    expect(other.status).toBe(404);
    const unknown = await t.request('GET', '/v1/leads/ld_000000000000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });

  it('reports readiness of Temporal and the worker', async () => {
    const res = await fetch(`${t.api}/healthz`);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(res.status).toBe(200);
    expect(body.checks['temporal']?.ok).toBe(true);
    expect(body.checks['worker']?.detail).toContain('RUNNING');
  });
});
