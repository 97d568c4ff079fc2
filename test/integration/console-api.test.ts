import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { businessClock } from '../../src/clock';
import type { Policy } from '../../src/domain/policy/types';
import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario, hoursExcluding } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/*
 * The console's data endpoints over real HTTP with the real stack: the routing log's filters and
 * paging, the availability board, and policy versions with rollback. Nothing depends on the
 * hour: reps work around the clock except Mei, whose hours are set to exclude the business time
 * the test runs at (the time sweep runs it at other hours too).
 */

const [ava, , chloe, dieter, mei] = DEMO_REPS;
const demoPolicy = (): Policy => JSON.parse(readFileSync(path.join(__dirname, '../../examples/policies/demo.policy.json'), 'utf8'));
const tag = randomBytes(3).toString('hex');

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack(demoScenario({ teamHours: { [mei!.id]: hoursExcluding(businessClock.now(), mei!.timezone) } }));
});

afterAll(async () => {
  await t?.close();
});

type Row = Record<string, any>;
const list = async (query: string) => {
  const res = await t.request('GET', `/v1/leads?${query}`);
  if (res.status !== 200) throw new Error(`GET /v1/leads?${query} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as { query: string; leads: Row[]; nextPageToken: string | null };
};
/** Visibility is eventually consistent: wait until the listing shows `count` leads (with their state read). */
const listed = (query: string, count: number) =>
  eventually(async () => {
    const page = await list(query);
    return page.leads.length === count && page.leads.every((l) => l['status'] === 'routed' && l['ownerName'] !== null) ? page : undefined;
  }, 60_000, `${count} leads for ${query}`);

describe('the routing log', () => {
  const company = `Acme ${tag} Corp`;
  const jane = { email: `Jane.Doe.${tag}@Acme-${tag}.example`, firstName: 'Jane', lastName: 'Doe', company, source: 'form' as const };
  const omar = { email: `omar.${tag}@acme-${tag}.example`, firstName: 'Omar', company: company.toUpperCase(), source: 'webhook' as const };
  const lena = { email: `lena.${tag}@globex-${tag}.example`, company: `Globex ${tag}`, source: 'form' as const };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const [name, lead] of Object.entries({ jane, omar, lena })) {
      const res = await t.request('POST', '/v1/leads', lead);
      expect(res.status).toBe(202);
      ids[name] = res.body.leadId;
    }
    await Promise.all(Object.values(ids).map((id) => t.routed(id)));
  });

  it('finds a lead by its exact email, however it is spelled, and not by another address', async () => {
    const page = await listed(`email=${encodeURIComponent(`  JANE.doe.${tag}@acme-${tag}.EXAMPLE `)}`, 1);
    const row = page.leads[0]!;
    expect(row).toMatchObject({ leadId: ids['jane'], name: 'Jane Doe', email: jane.email.toLowerCase(), company, source: 'form', status: 'routed', escalations: 0 });
    expect(row['ownerName']).toEqual(expect.any(String));
    expect(row['via']).toEqual(expect.any(String));
    expect(row['timeToRouteMs']).toBeGreaterThanOrEqual(0);
    expect(row['timeToRouteMs']).toBe(Date.parse(row['routedAt']) - Date.parse(row['receivedAt']));
    expect(row['timeToAcceptMs']).toBeNull();
    expect(row['sla']).toMatchObject({ ownerId: row['owner'], dueAt: expect.any(String), escalateAt: expect.any(String), reminded: false });
    // The query compares a keyed hash, never the address.
    expect(page.query).toMatch(/LeadEmailHash = "[0-9a-f]{64}"/);
    expect(page.query.toLowerCase()).not.toContain('jane');

    expect((await list(`email=${encodeURIComponent(`jane.doe.${tag}@acme-${tag}.org`)}`)).leads).toEqual([]);
    expect((await list(`email=${encodeURIComponent(`nobody.${tag}@acme-${tag}.example`)}`)).leads).toEqual([]);
  });

  it('keeps the plain address out of the run’s search attributes and its visibility record', async () => {
    const client = t.stack.temporal.client;
    const workflowId = `lead:${t.tenant.id}:${ids['jane']}`;
    const described = await client.workflow.getHandle(workflowId).describe();
    const attrs = Object.fromEntries(described.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
    expect(attrs).toMatchObject({ LeadEmailHash: expect.stringMatching(/^[0-9a-f]{64}$/), LeadCompany: company.toLowerCase(), LeadSource: 'form', LeadTenant: t.tenant.id });
    const raw = await client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = "${workflowId}"` });
    expect(raw.executions).toHaveLength(1);
    // Payload bytes as text, so an address inside any search attribute or memo would show.
    const visible = JSON.stringify(raw.executions[0], (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v)).toLowerCase();
    for (const secret of [jane.email.toLowerCase(), `jane.doe.${tag}`, 'jane']) {
      expect(visible).not.toContain(secret);
      expect(JSON.stringify(attrs).toLowerCase()).not.toContain(secret);
    }
  });

  it('finds leads by company (any case) and by source', async () => {
    const byCompany = await listed(`company=${encodeURIComponent(company.toLowerCase())}`, 2);
    expect(byCompany.leads.map((l) => l['leadId']).sort()).toEqual([ids['jane'], ids['omar']].sort());
    const webhook = await listed(`company=${encodeURIComponent(company)}&source=webhook`, 1);
    expect(webhook.leads[0]).toMatchObject({ leadId: ids['omar'], name: 'Omar', source: 'webhook' });
    const forms = await listed(`source=form&domain=globex-${tag}.example`, 1);
    expect(forms.leads[0]!['leadId']).toBe(ids['lena']);
  });

  it('pages with nextPageToken until the last page', async () => {
    await listed(`company=${encodeURIComponent(company)}`, 2);
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page = await list(`company=${encodeURIComponent(company)}&limit=1${token ? `&pageToken=${token}` : ''}`);
      expect(page.leads.length).toBeLessThanOrEqual(1);
      seen.push(...page.leads.map((l) => l['leadId'] as string));
      token = page.nextPageToken;
      pages += 1;
    } while (token && pages < 5);
    expect(token).toBeNull();
    expect(seen.sort()).toEqual([ids['jane'], ids['omar']].sort());

    const first = await list(`company=${encodeURIComponent(company)}&limit=1`);
    expect(first.nextPageToken).toEqual(expect.any(String));
    // A token belongs to its filters; one that is not a token is named as the bad field.
    const other = await t.request('GET', `/v1/leads?source=form&limit=1&pageToken=${first.nextPageToken}`);
    expect(other.status).toBe(400);
    expect(other.body.error.details).toEqual([{ field: 'query.pageToken', message: 'is not a token this API gave for a listing with these filters' }]);
    expect((await t.request('GET', '/v1/leads?pageToken=not-a-token')).body.error.details[0].field).toBe('query.pageToken');
    // A hand-made token in the right shape (the tag copied, other bytes for Temporal) is refused
    // before it reaches Temporal, at once, not after the request's deadline.
    const real = JSON.parse(Buffer.from(first.nextPageToken!, 'base64url').toString('utf8')) as { q: string; t: string };
    const forged = Buffer.from(JSON.stringify({ q: real.q, t: Buffer.from('AAAA').toString('base64') })).toString('base64url');
    const refused = await t.request('GET', `/v1/leads?company=${encodeURIComponent(company)}&limit=1&pageToken=${forged}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].field).toBe('query.pageToken');
  });

  it('refuses bad filters with 400 naming the field', async () => {
    const res = await t.request('GET', '/v1/leads?email=not-an-email&source=fax');
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['query.email', 'query.source']);
  });
});

describe('the availability board', () => {
  it('shows each rep now: on leave until…, in a meeting until…, outside their hours, available', async () => {
    const res = await t.request('GET', '/v1/availability');
    expect(res.status).toBe(200);
    const board = res.body;
    expect(Math.abs(Date.parse(board.at) - businessClock.now())).toBeLessThan(60_000);
    const rep = (id: string) => board.reps.find((r: { repId: string }) => r.repId === id);
    const workspace = t.scenarios[0]!.workspace;

    const leaveEnds = workspace.employees.find((e) => e.email === chloe!.email)!.timeOff[0]!.end;
    expect(rep(chloe!.id)).toMatchObject({ name: chloe!.name, state: 'on_leave', changesAt: new Date(leaveEnds).toISOString() });
    expect(rep(chloe!.id).reasons).toEqual([expect.objectContaining({ code: 'on_leave', until: new Date(leaveEnds).toISOString() })]);

    const meetingEnds = workspace.busy.find((b) => b.email === dieter!.email)!.end;
    expect(rep(dieter!.id)).toMatchObject({ state: 'busy', changesAt: new Date(meetingEnds).toISOString() });
    expect(rep(dieter!.id).reasons).toEqual([expect.objectContaining({ code: 'busy', until: new Date(meetingEnds).toISOString() })]);

    const outside = rep(mei!.id);
    expect(outside).toMatchObject({ state: 'outside_hours', timezone: mei!.timezone, localTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/) });
    expect(outside.reasons[0]).toMatchObject({ code: 'outside_hours', detail: expect.stringContaining(`in ${mei!.timezone} is outside`) });
    expect(Date.parse(outside.reasons[0].until)).toBeGreaterThan(Date.parse(board.at));

    expect(rep(ava!.id)).toMatchObject({ state: 'available', reasons: [] });
    // The pool the leads above were routed through, with its counts.
    expect(rep(ava!.id).pools).toEqual([expect.objectContaining({ poolId: expect.any(String), assigned: expect.any(Number), paused: false })]);
  });
});

describe('policy versions and rollback', () => {
  it('shows a stored version, rolls back to v1 as a new version equal to it, and 404s an unknown version', async () => {
    const v1 = demoPolicy();
    expect((await t.request('PUT', '/v1/policy?note=first', v1)).body.version).toBe('v1');
    const v2 = demoPolicy();
    v2.rules = v2.rules.filter((r) => r.id !== 'existing-account');
    expect((await t.request('PUT', '/v1/policy', v2)).body.version).toBe('v2');

    const shown = await t.request('GET', '/v1/policy/versions/v1');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ version: 'v1', note: 'first', actor: `api-key:${t.tenant.id}`, policy: v1 });
    expect((await t.request('GET', '/v1/policy/versions/2')).body).toMatchObject({ version: 'v2', policy: { rules: v2.rules } });

    const rolled = await t.request('POST', '/v1/policy/rollback', { version: 'v1', note: 'v2 lost the account rule' }, { 'x-actor': 'revops@demo' });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ version: 'v3', actor: 'revops@demo', note: 'v2 lost the account rule', warnings: [] });
    expect((await t.request('GET', '/v1/policy')).body).toMatchObject({ version: 'v3', policy: v1 });
    expect((await t.request('GET', '/v1/policy/versions/v3')).body.policy).toEqual(shown.body.policy);
    const versions = (await t.request('GET', '/v1/policy/versions')).body.versions;
    expect(versions.map((v: { version: string }) => v.version)).toEqual(['v1', 'v2', 'v3']);

    const missing = await t.request('GET', '/v1/policy/versions/v99');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'not_found', message: 'Policy version v99 not found' });
    const rollMissing = await t.request('POST', '/v1/policy/rollback', { version: 'v99' });
    expect(rollMissing.status).toBe(404);
    expect(rollMissing.body.error.message).toContain('v99');
    const bad = await t.request('POST', '/v1/policy/rollback', { version: 'latest', force: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['force', 'version']);
    expect((await t.request('GET', '/v1/policy/versions/latest')).body.error.details[0].field).toBe('params.version');
  });
});
