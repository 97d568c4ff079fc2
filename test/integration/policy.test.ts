import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { businessClock } from '../../src/clock';
import type { LeadState } from '../../src/domain/leadState';
import type { Policy } from '../../src/domain/policy/types';
import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario } from '../support/scenario';
import { historySummaries, recordHistory } from '../support/fixtures';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { poolWorkflowId } from '../../src/protocol/ids';

const [ava, ben, chloe, dieter, mei] = DEMO_REPS;
const demoPolicy = (): Policy => JSON.parse(readFileSync(path.join(__dirname, '../../examples/policies/demo.policy.json'), 'utf8'));

let t: TestStack;

beforeAll(async () => {
  // The second tenant's reps have no leave; the deferral test books them all into a meeting.
  t = await startTestStack(demoScenario(), demoScenario({ busy: [] }));
});

afterAll(async () => {
  await t?.close();
});

const routed = (leadId: string, apiKey?: string): Promise<LeadState> => t.routed(leadId, apiKey);

const crmWrites = () => t.events('crm').filter((e) => e.method !== 'GET').length;
const messages = () => t.events('messaging').length;

describe('publishing policies', () => {
  it('rejects an invalid policy with 400 naming the bad path, and keeps the current one', async () => {
    const before = (await t.request('GET', '/v1/policy')).body;
    const bad = demoPolicy();
    bad.rules[1] = { ...bad.rules[1]!, action: { type: 'pool', pool: 'nowhere' } };
    const res = await t.request('PUT', '/v1/policy', bad);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'rules.1.action.pool' })]));

    const stranger = demoPolicy();
    stranger.pools[0]!.members.push({ repId: 'usr_stranger' });
    const res2 = await t.request('PUT', '/v1/policy', stranger);
    expect(res2.status).toBe(400);
    expect(res2.body.error.details).toEqual([{ field: 'pools.0.members.5.repId', message: 'usr_stranger is not on the routing team' }]);
    expect((await t.request('GET', '/v1/policy')).body.version).toBe(before.version);
  });

  it('stores versions, keeps the version for identical content, accepts YAML, and applies to the next lead without a restart', async () => {
    const first = await t.request('PUT', '/v1/policy?note=first', demoPolicy(), { 'x-actor': 'revops@demo' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ version: 'v1', actor: 'revops@demo', note: 'first' });
    const again = await t.request('PUT', '/v1/policy', demoPolicy());
    expect(again.body.version).toBe('v1');

    const yamlPolicy = demoPolicy();
    yamlPolicy.rules = yamlPolicy.rules.filter((r) => r.id !== 'existing-account');
    const second = await t.request('PUT', '/v1/policy', toYaml(yamlPolicy), { 'content-type': 'application/yaml' });
    expect(second.body.version).toBe('v2');
    const versions = (await t.request('GET', '/v1/policy/versions')).body.versions;
    expect(versions.map((v: { version: string }) => v.version)).toEqual(['v1', 'v2']);
    expect((await t.request('GET', '/v1/policy')).body).toMatchObject({ version: 'v2', policy: { rules: yamlPolicy.rules } });

    // v2 has no account rule: an existing account's lead now falls through to the catch-all pool.
    const { leadId } = (await t.request('POST', '/v1/leads', { email: 'v2@acme.com' })).body;
    const state = await routed(leadId);
    expect(state.policyVersion).toBe('v2');
    expect(state.decision?.rule?.id).toBe('catch-all');
    expect(state.decision?.rules.map((r) => r.ruleId)).toEqual(['emea-enterprise', 'demo-requests', 'content', 'catch-all']);

    await t.request('PUT', '/v1/policy', demoPolicy());
  });

  it('publishes the JSON Schema editors validate against', async () => {
    const res = await t.request('GET', '/v1/policy/schema');
    expect(res.body.$id).toBe('https://leadrelay.dev/schemas/policy.json');
    expect(JSON.stringify(res.body)).toContain('round_robin');
  });

  it('publishes a policy with rules that can never match, warning about each (a simulation of it as a draft too)', async () => {
    const auth = { authorization: `Bearer ${t.scenarios[1]!.apiKey}` };
    const policy = demoPolicy();
    const germanDemos: Policy['rules'][number] = {
      id: 'german-demos',
      when: { all: [{ field: 'lead.attributes.intent', equals: 'demo' }, { field: 'lead.country', equals: 'DE' }] },
      action: { type: 'pool', pool: 'emea' },
    };
    policy.rules.splice(3, 0, germanDemos);
    policy.rules.push({ id: 'too-late', when: { field: 'lead.country', equals: 'DE' }, action: { type: 'pool', pool: 'inbound' } });
    const warnings = [
      { path: 'rules.3', message: 'rule "german-demos" can never match: rule "demo-requests" (rules.2) before it matches every lead it would' },
      { path: 'rules.6', message: 'rule "too-late" can never match: rule "catch-all" (rules.5) before it matches every lead' },
    ];
    const res = await t.request('PUT', '/v1/policy', policy, auth);
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual(warnings);
    expect((await t.request('GET', '/v1/policy', undefined, auth)).body.policy.rules.map((r: { id: string }) => r.id)).toContain('too-late');

    const simulated = await t.request('POST', '/v1/policy/simulate', { lead: { email: 'warn@hooli.com' }, policy }, auth);
    expect(simulated.status).toBe(200);
    expect(simulated.body.warnings).toEqual(warnings);
    expect((await t.request('PUT', '/v1/policy', demoPolicy(), auth)).body.warnings).toEqual([]);
  });
});

describe('routing by the demo policy', () => {
  beforeAll(async () => {
    expect((await t.request('PUT', '/v1/policy', demoPolicy())).status).toBe(200);
  });

  it('sends an EMEA enterprise lead to the weighted EMEA pool, skipping the rep on leave and the rep in a meeting', async () => {
    const { leadId } = (await t.request('POST', '/v1/leads', { email: 'k@hooli.com', country: 'Germany' })).body;
    const state = await routed(leadId);
    expect(state.decision?.rule?.id).toBe('emea-enterprise');
    expect(state.decision?.urgency).toBe('hot');
    expect(state.owner).toMatchObject({ id: mei.id, via: 'weighted', ruleId: 'emea-enterprise' });
    const skipped = Object.fromEntries(state.decision!.candidates.map((c) => [c.repId, c.reasons.map((r) => r.code)]));
    expect(skipped).toMatchObject({ [chloe.id]: ['on_leave'], [dieter.id]: ['busy'] });
    expect(state.decision?.rules.find((r) => r.ruleId === 'emea-enterprise')?.detail).toContain('Germany');
  });

  it('keeps account ownership first', async () => {
    const { leadId } = (await t.request('POST', '/v1/leads', { email: 'p@globex.com', country: 'Germany' })).body;
    const state = await routed(leadId);
    expect(state.owner).toMatchObject({ id: ben.id, via: 'account_owner', ruleId: 'existing-account' });
  });

  it('simulates a lead against a draft policy without writing anything upstream', async () => {
    const draft = demoPolicy();
    draft.rules.unshift({ id: 'vip', when: { field: 'lead.attributes.vip', equals: true }, action: { type: 'owner', ownerId: ava.id }, urgency: 'hot' });
    const writesBefore = crmWrites();
    const messagesBefore = messages();
    const res = await t.request('POST', '/v1/policy/simulate', { lead: { email: 'vip@hooli.com', attributes: { vip: true } }, policy: draft });
    expect(res.status).toBe(200);
    expect(res.body.decision.rule.id).toBe('vip');
    expect(res.body.decision.policyVersion).toBe('draft');
    expect(res.body.wouldAssign).toEqual({ ownerId: ava.id, via: 'named_owner' });

    const published = await t.request('POST', '/v1/policy/simulate', { lead: { email: 'n@hooli.com' } });
    expect(published.body.decision.rule.id).toBe('catch-all');
    expect(published.body.wouldAssign.via).toBe('round_robin');
    expect(crmWrites()).toBe(writesBefore);
    expect(messages()).toBe(messagesBefore);
  });

  it('rejects a simulation with an invalid draft, naming the path', async () => {
    const res = await t.request('POST', '/v1/policy/simulate', { lead: { email: 'x@hooli.com' }, policy: { ...demoPolicy(), timezone: 'Mars/Base' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('timezone');
  });

  it('reports pool assignments against target shares', async () => {
    const res = await t.request('GET', '/v1/pools/emea/stats?period=day');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pool: 'emea', strategy: 'weighted', period: 'day' });
    const m = Object.fromEntries(res.body.members.map((x: { repId: string; assigned: number; targetShare: number }) => [x.repId, x]));
    expect(m[mei.id].assigned).toBeGreaterThanOrEqual(1);
    expect(m[chloe.id].targetShare).toBeCloseTo(0.5);
    expect((await t.request('GET', '/v1/pools/nope/stats')).status).toBe(404);
    expect((await t.request('GET', '/v1/pools/emea/stats?period=year')).status).toBe(400);
  });

  it('answers the pool entity’s queries without an argument, as the Web UI and the CLI send them, with the pool’s current counts', async () => {
    const pool = t.stack.temporal.client.workflow.getHandle(poolWorkflowId(t.tenant.id, 'emea'));
    for (const name of ['poolStats', 'poolPreview']) {
      const counts = await pool.query<Record<string, any>>(name);
      expect(counts).toMatchObject({ usage: expect.stringContaining('poolStats takes'), periods: { day: expect.any(String) }, lastAssigned: mei.id });
      expect(counts['total']).toBeGreaterThanOrEqual(1);
      expect(counts['totals'][mei.id]).toBeGreaterThanOrEqual(1);
      expect(counts['counts']['day'][mei.id]).toBeGreaterThanOrEqual(1);
      // An empty (null) argument gets the counts too.
      expect(await pool.query(name, null)).toMatchObject({ usage: counts['usage'], totals: counts['totals'] });
    }
  });
});

describe('deferral', () => {
  it('waits on a durable timer for the earliest opening and then routes, showing the wait in its status', async () => {
    const scenario = t.scenarios[1]!;
    const key = scenario.apiKey;
    // Long enough that a slow machine still sees the lead while it waits.
    const now = businessClock.now();
    const meetingEnds = new Date(now + 15_000).toISOString();
    const start = new Date(now - 3_600_000).toISOString();
    t.sandbox.addWorkspace({ ...scenario.workspace, busy: DEMO_REPS.map((r) => ({ email: r.email, start, end: meetingEnds })) });
    const policy = demoPolicy();
    const res = await t.request('PUT', '/v1/policy', policy, { authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    // Everyone is in a meeting until `meetingEnds`, and a demo request defers rather than fall back.
    const { leadId } = (await t.request('POST', '/v1/leads', { email: 'demo@piedpiper.com', attributes: { intent: 'demo' } }, { authorization: `Bearer ${key}` })).body;
    const deferred = await eventually(async () => {
      const s = (await t.request('GET', `/v1/leads/${leadId}`, undefined, { authorization: `Bearer ${key}` })).body as LeadState;
      return s.status === 'deferred' ? s : undefined;
    });
    expect(deferred.deferredUntil).toBe(meetingEnds);
    expect(deferred.decision?.reason).toContain(`deferred until ${meetingEnds}`);

    const state = await routed(leadId, key);
    expect(state.owner?.ruleId).toBe('demo-requests');
    expect([ava.id, ben.id, dieter.id, mei.id]).toContain(state.owner?.id);
    expect(Date.parse(state.owner!.assignedAt)).toBeGreaterThanOrEqual(Date.parse(meetingEnds));
    expect(state.timings.map((s) => s.step)).toEqual(expect.arrayContaining(['deferred_1', 'check_hris_1', 'check_calendar_1']));
    // The Web UI labels the wait.
    const handle = t.stack.temporal.client.workflow.getHandle(`lead:${scenario.tenant.id}:${leadId}`);
    expect((await historySummaries(handle, 'timer'))[0]).toBe(`deferral: nobody can take the lead now; deciding again at ${meetingEnds}`);
    await recordHistory('deferred-timer-labelled', handle);
    await recordHistory('deferred-then-routed', handle);
    await recordHistory('policy-versions', t.stack.temporal.client.workflow.getHandle(`policy:${t.tenant.id}`));
  });
});
