import { slackSignature } from '../../src/api/signatures';
import type { LeadState } from '../../src/domain/leadState';
import { DEMO_QUEUE_USER, DEMO_SLACK_SIGNING_SECRET } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario, patientEmail, shortSlaPolicy } from '../support/scenario';
import { recordHistory } from '../support/fixtures';
import { eventually, startTestStack, type TestStack } from '../support/stack';

const REPS = DEMO_REPS.map((r) => r.id);
const emailOf = (id: string) => DEMO_REPS.find((r) => r.id === id)!.email;
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack(demoScenario({ allAvailable: true }), demoScenario({ allAvailable: true, holdOpenSeconds: 1 }));
  expect((await t.request('PUT', '/v1/policy', shortSlaPolicy())).status).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

const stateOf = (leadId: string) => t.leadState(leadId);
const until = (leadId: string, check: (s: LeadState) => boolean, what: string) => t.waitForLead(leadId, check, what);
/** A routed lead: its SLA is the policy's 3 s, or ten minutes for a test that must act before any lapse. */
async function newLead(tag: string, opts: { patient?: boolean } = {}): Promise<{ leadId: string; owner: string; routed: LeadState }> {
  const email = opts.patient ? patientEmail(tag) : `${tag}@${tag}.example`;
  const { leadId } = (await t.request('POST', '/v1/leads', { email })).body;
  // The SLA clock starts in the same workflow step as the status turns routed.
  const routed = await until(leadId, (s) => s.status === 'routed', 'routed');
  return { leadId, owner: routed.owner!.id, routed };
}
const messagesTo = (email: string, leadId: string) =>
  t.events('messaging').filter((e) => (e.body as { recipient_email?: string }).recipient_email === email && String((e.body as { text: string }).text).includes(leadId));

async function poolCounts(): Promise<Record<string, number>> {
  const stats = (await t.request('GET', '/v1/pools/p/stats')).body;
  return Object.fromEntries(stats.members.map((m: { repId: string; assigned: number }) => [m.repId, m.assigned]));
}

function slackCallback(leadId: string, ownerId: string, opts: { secret?: string; ageSeconds?: number } = {}) {
  const payload = {
    type: 'block_actions',
    user: { id: 'U123', username: 'ava' },
    team: { id: 'T1' },
    response_url: 'https://hooks.slack.example/actions/1',
    actions: [{ action_id: 'accept_lead', value: `${t.tenant.id}|${leadId}|${ownerId}` }],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000) - (opts.ageSeconds ?? 0));
  return fetch(`${t.api}/v1/integrations/slack/${t.tenant.id}/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(opts.secret ?? DEMO_SLACK_SIGNING_SECRET, timestamp, body),
    },
    body,
  });
}

describe('acceptance within the SLA', () => {
  it('stops the SLA clock when the owner accepts through the API', async () => {
    const { leadId, owner, routed: waiting } = await newLead('api-accept');
    expect(waiting.sla).toMatchObject({ ownerId: owner, seconds: 3, reminded: false });
    expect((await t.request('POST', `/v1/leads/${leadId}/accept`, { actor: 'ava@demo' })).status).toBe(202);
    const accepted = await until(leadId, (s) => s.status === 'accepted', 'accepted');
    expect(accepted.accepted).toMatchObject({ actor: 'ava@demo', via: 'api', ownerId: owner });
    expect(accepted.sla).toBeNull();
    // Past the SLA and the grace: nothing moved.
    await new Promise((r) => setTimeout(r, 6_000));
    const later = await stateOf(leadId);
    expect(later.escalations).toEqual([]);
    expect(later.owner?.id).toBe(owner);
  });

  it('accepts from the Slack button with a valid signature, and rejects forged or stale callbacks without changing anything', async () => {
    const { leadId, owner } = await newLead('slack-accept', { patient: true });
    const forged = await slackCallback(leadId, owner, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    const stale = await slackCallback(leadId, owner, { ageSeconds: 600 });
    expect(stale.status).toBe(401);
    expect((await stateOf(leadId)).accepted).toBeNull();

    const valid = await slackCallback(leadId, owner);
    expect(valid.status).toBe(200);
    const accepted = await until(leadId, (s) => s.status === 'accepted', 'accepted');
    expect(accepted.accepted).toMatchObject({ actor: 'slack:ava', via: 'slack', ownerId: owner });
  });

  it('puts an Accept button and a signed link in the notification, and the link accepts', async () => {
    const { leadId, owner } = await newLead('link-accept', { patient: true });
    const message = messagesTo(emailOf(owner), leadId)[0]!.body as { text: string; blocks: Array<{ type: string; elements?: Array<{ action_id: string; value?: string }> }> };
    const button = message.blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.action_id === 'accept_lead');
    expect(button?.value).toBe(`${t.tenant.id}|${leadId}|${owner}`);
    const token = /\/v1\/accept\?token=([^\s]+)/.exec(message.text)?.[1];
    expect(token).toBeDefined();
    expect((await fetch(`${t.api}/v1/accept?token=${token!.slice(0, -2)}xx`)).status).toBe(401);
    // Opening the link (as a mail scanner would) only shows a confirmation page.
    const page = await fetch(`${t.api}/v1/accept?token=${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post" action="/v1/accept">');
    await new Promise((r) => setTimeout(r, 500));
    expect((await stateOf(leadId)).accepted).toBeNull();
    const confirm = await fetch(`${t.api}/v1/accept`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: decodeURIComponent(token!) }).toString() });
    expect(confirm.status).toBe(200);
    const accepted = await until(leadId, (s) => s.status === 'accepted', 'accepted');
    expect(accepted.accepted).toMatchObject({ via: 'link', ownerId: owner });
  });
});

describe('when the SLA lapses', () => {
  it('reminds the owner, then escalates to a different rep with a CRM write and both reps told, moving the pool credit', async () => {
    const before = await poolCounts();
    const { leadId, owner } = await newLead('lapse');
    // The record appears when the escalation starts; wait until its CRM write and notifications are done.
    const escalated = await until(leadId, (s) => s.escalations.length === 1 && s.escalations[0]!.crmWritten && s.notifications.some((n) => n.kind === 'escalated_away'), 'first escalation');
    const [first] = escalated.escalations;
    expect(first).toMatchObject({ n: 1, from: owner, crmWritten: true });
    expect(first!.to).not.toBe(owner);
    expect(escalated.owner).toMatchObject({ id: first!.to, via: 'escalation' });
    expect(escalated.sla?.ownerId).toBe(first!.to);

    const kinds = escalated.notifications.map((n) => [n.kind, n.recipient]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['assignment', emailOf(owner)],
        ['reminder', emailOf(owner)],
        ['escalation', emailOf(first!.to)],
        ['escalated_away', emailOf(owner)],
      ]),
    );
    const patch = t.events('crm').filter((e) => e.method === 'PATCH' && e.path === `/unified/crm/leads/${escalated.crmLeadId}`);
    expect(patch.map((e) => (e.body as { owner_id: string }).owner_id)).toEqual([first!.to]);

    // After the last escalation the lead goes to the fallback, never back to someone who let it lapse.
    const done = await until(leadId, (s) => s.escalations.length === 3 && s.escalations[2]!.crmWritten && s.sla === null, 'escalations exhausted');
    const owners = done.escalations.map((e) => e.to);
    expect(new Set([owner, ...owners.slice(0, 2)]).size).toBe(3);
    expect(owners[2]).toBe(DEMO_QUEUE_USER.id);
    expect(done.sla).toBeNull();

    // Each lapsed owner's credit went back, and the lead ended with the fallback: the pool counts it for nobody.
    expect(await poolCounts()).toEqual(before);
    await recordHistory('sla-escalation-chain', t.stack.temporal.client.workflow.getHandle(`lead:${t.tenant.id}:${leadId}`));
    await recordHistory('pool-entity', t.stack.temporal.client.workflow.getHandle(`pool:${t.tenant.id}:p`));
  });

  it('keeps the SLA clock across a worker restart: the lead still escalates', async () => {
    const { leadId, owner } = await newLead('restart');
    await t.restart();
    const escalated = await until(leadId, (s) => s.escalations.length >= 1 && s.escalations[0]!.crmWritten, 'escalation after restart');
    expect(escalated.escalations[0]).toMatchObject({ from: owner, crmWritten: true });
  });
});

describe('manual reassignment while the lead waits', () => {
  it('reassigns in flight, restarts the SLA clock for the new owner and records the actor', async () => {
    const { leadId, owner } = await newLead('manual', { patient: true });
    const target = REPS.find((r) => r !== owner)!;
    expect((await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: target, reason: 'territory', actor: 'lead@demo' })).status).toBe(202);
    const moved = await until(leadId, (s) => s.owner?.id === target, 'reassigned');
    expect(moved.owner?.via).toBe('manual');
    expect(moved.sla?.ownerId).toBe(target);
    expect(moved.reassignments[0]).toMatchObject({ from: owner, to: target, actor: 'lead@demo', crmWritten: true });
  });
});

describe('after the run has closed', () => {
  it('reassigns through a follow-up run on the same lead ID, keeping its history and state', async () => {
    const quick = t.scenarios[1]!;
    const key = { authorization: `Bearer ${quick.apiKey}` };
    const { leadId, workflowId } = (await t.request('POST', '/v1/leads', { email: 'closed@closed.example' }, { ...key, 'idempotency-key': 'closed-1' })).body;
    const first = await eventually(async () => {
      const s = (await t.request('GET', `/v1/leads/${leadId}`, undefined, key)).body as LeadState;
      return s.status === 'routed' ? s : undefined;
    });
    await t.request('POST', `/v1/leads/${leadId}/accept`, {}, key);
    // Accepted, and the 1-second reassignment window passes: the run completes.
    await eventually(async () => ((await t.stack.temporal.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED' ? true : undefined));

    const target = REPS.find((r) => r !== first.owner!.id)!;
    const res = await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: target, reason: 'account moved', actor: 'revops@demo' }, key);
    expect(res.status).toBe(202);
    expect(res.body.run).toBe('follow-up');
    const after = await eventually(async () => {
      const s = (await t.request('GET', `/v1/leads/${leadId}`, undefined, key)).body as LeadState;
      return s.owner?.id === target && s.notifications.some((n) => n.kind === 'reassigned_away') ? s : undefined;
    });
    expect(after.reassignments).toEqual([expect.objectContaining({ from: first.owner!.id, to: target, actor: 'revops@demo', crmWritten: true })]);
    expect(after.crmLeadId).toBe(first.crmLeadId);
    expect(after.decision?.rule?.id).toBe(first.decision?.rule?.id);

    // Visibility is eventually consistent: wait until it lists both runs.
    const runs = await eventually(async () => {
      const found: Array<{ runId: string; closed: boolean }> = [];
      for await (const run of t.stack.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) found.push({ runId: run.runId, closed: run.status.name === 'COMPLETED' });
      return found.length === 2 && found.some((r) => r.closed) ? found : undefined;
    });
    expect(new Set(runs.map((r) => r.runId)).size).toBe(2);
    const handle = t.stack.temporal.client.workflow.getHandle(workflowId);
    await recordHistory('accepted-and-closed', handle, runs.find((r) => r.closed)!.runId);
    await recordHistory('lead-follow-up-reassignment', handle);
    // Resubmitting the original lead still answers with it (the follow-up run carries its memo).
    const again = await t.request('POST', '/v1/leads', { email: 'closed@closed.example' }, { ...key, 'idempotency-key': 'closed-1' });
    expect(again.status).toBe(202);
    expect(again.body.leadId).toBe(leadId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('lists the tenant’s leads by owner, status and domain through visibility', async () => {
    const quick = t.scenarios[1]!;
    const key = { authorization: `Bearer ${quick.apiKey}` };
    const listed = await eventually(async () => {
      const res = await t.request('GET', '/v1/leads?domain=closed.example&limit=10', undefined, key);
      return res.status === 200 && res.body.leads.length > 0 ? res.body : undefined;
    });
    expect(listed.consistency).toBe('eventual');
    expect(listed.leads.every((l: { domain: string }) => l.domain === 'closed.example')).toBe(true);
    expect((await t.request('GET', '/v1/leads?status=Not Valid', undefined, key)).status).toBe(400);
    // Another tenant's leads are never listed.
    const mine = await t.request('GET', '/v1/leads?domain=closed.example', undefined, { authorization: `Bearer ${t.apiKey}` });
    expect(mine.body.leads).toEqual([]);
  });
});
