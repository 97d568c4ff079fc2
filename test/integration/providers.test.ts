import { businessClock } from '../../src/clock';
import type { LeadState } from '../../src/domain/leadState';
import type { Policy } from '../../src/domain/policy/types';
import { DEMO_STACKS, DEMO_TRIAGE_CHANNEL, type DemoStack } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import type { SandboxEvent } from '../../sandbox/types';
import { recordHistory } from '../support/fixtures';
import { SALESFORCE_TERRITORY_OVERRIDE } from '../support/overrides';
import { demoScenario, hoursExcluding, type Scenario } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * Leads routed through every provider's emulator, on the real dev server, worker and HTTP:
 * each stack's CRM match and write, HRIS (PTO rules Chloe out), calendar (Dieter's meeting),
 * messaging and enrichment. Plus what the issue asks of them: a tenant-mapped Salesforce custom
 * field that a routing rule uses, and a revoked OAuth grant sending leads to the fallback at once.
 */
const [ava, ben, chloe, dieter] = DEMO_REPS;
const STACKS: DemoStack[] = ['salesforce', 'hubspot', 'pipedrive'];

let t: TestStack;
const scenarioOf = new Map<string, Scenario>();
const keyOf = (name: string) => scenarioOf.get(name)!.apiKey;

beforeAll(async () => {
  const named: Array<[string, ReturnType<typeof demoScenario>]> = [
    ...STACKS.map((stack): [string, ReturnType<typeof demoScenario>] => [stack, demoScenario({ stack })]),
    ['territory', demoScenario({ stack: 'salesforce', crmMappings: SALESFORCE_TERRITORY_OVERRIDE })],
    ['revoked', demoScenario({ stack: 'salesforce' })],
    // Ben's Outlook states hours that exclude the (business) hour the test runs at.
    ['outlook-hours', demoScenario({ stack: 'hubspot', allAvailable: true, calendarHours: { [ben.id]: hoursExcluding(businessClock.now(), ben.timezone) } })],
  ];
  t = await startTestStack(...named.map(([, s]) => s));
  named.forEach(([name], i) => scenarioOf.set(name, t.scenarios[i]!));
});

afterAll(async () => {
  await t?.close();
});

async function postLead(name: string, body: Record<string, unknown>): Promise<string> {
  const res = await t.request('POST', '/v1/leads', body, { authorization: `Bearer ${keyOf(name)}` });
  expect(res.status).toBe(202);
  return (res.body as { leadId: string }).leadId;
}

function eventsOf(name: string, provider: string): SandboxEvent[] {
  const workspace = scenarioOf.get(name)!.workspace.id;
  return t.sandbox.events().filter((e) => e.provider === provider && e.workspace === workspace);
}

describe.each(STACKS)('a tenant on %s', (stack) => {
  const providers = DEMO_STACKS[stack];

  it(`routes an existing account's lead to its owner through ${Object.values(DEMO_STACKS[stack]).join(', ')}`, async () => {
    const s = scenarioOf.get(stack)!;
    const leadId = await postLead(stack, { email: `jane.${stack}@acme.com`, firstName: 'Jane', lastName: 'Doe', company: 'Acme', source: 'form' });
    const state = await t.routed(leadId, s.apiKey);

    expect(state.status).toBe('routed');
    // The run judged the lead at business time (a simulated one under the time sweep), not the server's.
    expect(Math.abs(Date.parse(state.routedAt!) - businessClock.now())).toBeLessThan(10 * 60_000);
    expect(state.account).toMatchObject({ status: 'matched', account: { name: 'Acme Corporation', ownerId: s.id(ava.id) } });
    expect(state.owner).toMatchObject({ id: s.id(ava.id), via: 'account_owner' });
    expect(state.enrichment).toMatchObject({ status: 'found', company: { domain: 'acme.com' } });
    // Every upstream call in the lead's history names the mapping that read it.
    expect(state.upstream.length).toBeGreaterThanOrEqual(5);
    for (const call of state.upstream) expect(call.mapping).toMatch(new RegExp(`^${call.provider}@[0-9a-f]{12}$`));
    expect(new Set(state.upstream.map((c) => c.provider))).toEqual(new Set(Object.values(providers)));

    // One CRM record with the owner, and the owner told through the stack's messaging provider.
    const crmWrites = eventsOf(stack, providers.crm).filter((e) => e.method !== 'GET' && !/search|query|composite/.test(e.path));
    expect(crmWrites.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(crmWrites.at(-1)?.body)).toContain(s.id(ava.id));
    const messages = eventsOf(stack, providers.messaging).filter((e) => e.method === 'POST' && e.status < 300);
    expect(messages.some((e) => JSON.stringify(e.body).includes(state.leadId ?? leadId))).toBe(true);
    await recordHistory(`${stack}-stack-routed`, t.stack.temporal.client.workflow.getHandle(`lead:${s.tenant.id}:${leadId}`));
  });

  it('reads the HRIS and the calendar: the rep on PTO and the rep in a meeting are skipped, with the reason', async () => {
    const s = scenarioOf.get(stack)!;
    const leadId = await postLead(stack, { email: `sam.${stack}@hooli.com`, firstName: 'Sam', lastName: 'Lee', company: 'Hooli', source: 'form' });
    const state: LeadState = await t.routed(leadId, s.apiKey);

    expect(state.status).toBe('routed');
    expect(state.account).toMatchObject({ status: 'none' });
    const candidates = state.decision?.candidates ?? [];
    const reasonsOf = (seedId: string) => candidates.find((c) => c.repId === s.id(seedId))?.reasons.map((r) => r.code) ?? [];
    // Okta knows no leave: on the HubSpot stack Chloe's PTO is the out-of-office block Outlook shows.
    expect(reasonsOf(chloe.id)).toContain(stack === 'hubspot' ? 'busy' : 'on_leave');
    expect(reasonsOf(dieter.id)).toContain('busy');
    expect([s.id(chloe.id), s.id(dieter.id)]).not.toContain(state.owner?.id);
    expect(eventsOf(stack, providers.hris).every((e) => e.status === 200)).toBe(true);
    expect(eventsOf(stack, providers.calendar).every((e) => e.status === 200)).toBe(true);
  });

  it('gives a duplicate the same answer and writes the CRM once', async () => {
    const s = scenarioOf.get(stack)!;
    const body = { email: `dup.${stack}@globex.com`, firstName: 'Dee', lastName: 'Up', company: 'Globex', source: 'form', externalId: `dup-${stack}` };
    const first = await postLead(stack, body);
    const second = await postLead(stack, body);
    expect(second).toBe(first);
    const state = await t.routed(first, s.apiKey);
    expect(state.status).toBe('routed');
    const creates = eventsOf(stack, providers.crm).filter((e) => JSON.stringify(e.body ?? '').includes(`dup.${stack}@globex.com`) && e.method !== 'GET' && !/search/.test(e.path));
    expect(creates).toHaveLength(1);
  });
});

describe('tenant-mapped custom fields', () => {
  it('a Salesforce override maps Territory__c into the account, and a rule routes on it', async () => {
    const s = scenarioOf.get('territory')!;
    const mei = DEMO_REPS[4];
    const policy: Policy = {
      timezone: 'UTC',
      pools: [{ id: 'inbound', strategy: 'round_robin', members: DEMO_REPS.map((r) => ({ repId: s.id(r.id) })) }],
      rules: [
        { id: 'emea-territory', name: 'EMEA territory accounts: Mei', when: { field: 'account.territory', equals: 'EMEA' }, action: { type: 'owner', ownerId: s.id(mei.id) } },
        { id: 'everyone-else', when: { all: [] }, action: { type: 'pool', pool: 'inbound' } },
      ],
      fallback: { ownerId: s.tenant.routing.fallback.ownerId, label: 'Inbound Queue', notifyChannel: DEMO_TRIAGE_CHANNEL },
    };
    const put = await t.request('PUT', '/v1/policy', policy, { authorization: `Bearer ${s.apiKey}` });
    expect(put.status).toBe(200);

    // Initech is in Germany: its Salesforce account carries Territory__c = EMEA.
    const leadId = await postLead('territory', { email: 'max@initech.com', firstName: 'Max', lastName: 'Muster', company: 'Initech', source: 'form' });
    const state = await t.routed(leadId, s.apiKey);
    expect(state.account).toMatchObject({ status: 'matched', account: { name: 'Initech', territory: 'EMEA' } });
    expect(state.owner).toMatchObject({ id: s.id(mei.id), ruleId: 'emea-territory' });

    // The query the tenant's mapping sent, and the mapping's identity in the history.
    const query = eventsOf('territory', 'salesforce').find((e) => e.path.endsWith('/query'));
    expect(query?.query['q']).toContain('Territory__c');
    const audit = await t.request('GET', `/v1/leads/${leadId}/audit`, undefined, { authorization: `Bearer ${s.apiKey}` });
    expect(JSON.stringify(audit.body)).toContain('Territory__c');
  });
});

describe('working hours a rep keeps in their calendar (Microsoft Graph)', () => {
  it('are the scenario\'s own: a rep whose Outlook hours exclude now is skipped as outside hours, the others are not', async () => {
    const s = scenarioOf.get('outlook-hours')!;
    const leadId = await postLead('outlook-hours', { email: 'kim@hooli.com', firstName: 'Kim', lastName: 'Ng', company: 'Hooli', source: 'form' });
    const state = await t.routed(leadId, s.apiKey);
    const candidates = state.decision?.candidates ?? [];
    const of = (seedId: string) => candidates.find((c) => c.repId === s.id(seedId));
    expect(of(ben.id)?.eligible).toBe(false);
    expect(of(ben.id)?.reasons).toEqual([expect.objectContaining({ code: 'outside_hours', detail: expect.stringContaining('(working hours from the calendar)') })]);
    // Calendars that state no hours leave the tenant's (around the clock): everyone else is eligible.
    for (const rep of DEMO_REPS.filter((r) => r.id !== ben.id)) expect(of(rep.id)).toMatchObject({ eligible: true, reasons: [] });
    expect(state.owner?.id).not.toBe(s.id(ben.id));
  });
});

describe('a connection whose OAuth grant was revoked', () => {
  it('sends leads to the fallback path at once, without retry loops, and shows it in the API', async () => {
    const s = scenarioOf.get('revoked')!;
    const revoke = await fetch(`${t.sandbox.url}/_sandbox/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: s.workspace.id, provider: 'salesforce' }),
    });
    expect(revoke.status).toBe(204);

    const leadId = await postLead('revoked', { email: 'ria@acme.com', firstName: 'Ria', lastName: 'Vo', company: 'Acme', source: 'form' });
    const state = await t.waitForLead(leadId, (l) => l.status === 'failed' || l.status === 'routed', 'the lead to finish', s.apiKey);

    expect(state.status).toBe('failed');
    expect(state.account).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/needs re-authorization/) });
    // Not retried: one token request for the whole lead (the connection remembers).
    const tokenRequests = eventsOf('revoked', 'salesforce-oauth');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.status).toBe(400);
    // The triage channel hears about it, through Slack.
    const triage = await eventually(() => eventsOf('revoked', 'slack').find((e) => JSON.stringify(e.body).includes(DEMO_TRIAGE_CHANNEL)), 30_000, 'the triage message');
    expect(JSON.stringify(triage.body)).toMatch(/re-authorization/);
    // Slack took it (an unknown channel would be a 200 with ok:false).
    expect(triage.status).toBe(200);
    expect(await t.waitForLead(leadId, (l) => l.notifications.some((n) => n.kind === 'fallback' && n.messageId !== null), 'the triage message posted', s.apiKey)).toBeTruthy();

    const connections = await t.request('GET', '/v1/connections', undefined, { authorization: `Bearer ${s.apiKey}` });
    const crm = (connections.body as { connections: Array<{ category: string; auth: { state: string } }> }).connections.find((c) => c.category === 'crm');
    expect(crm?.auth.state).toBe('needs_reauthorization');
    await recordHistory('oauth-revoked-fallback', t.stack.temporal.client.workflow.getHandle(`lead:${s.tenant.id}:${leadId}`));
  });
});
