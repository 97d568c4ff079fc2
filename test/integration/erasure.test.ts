import { randomBytes } from 'node:crypto';
import { Connection, WorkflowNotFoundError } from '@temporalio/client';
import { msToTs, optionalTsToMs } from '@temporalio/common/lib/time';
import { erasureLogWorkflowId } from '../../src/protocol/erasures';
import { ensureRetention } from '../../src/temporal/retention';
import { demoScenario } from '../support/scenario';
import { eventually, startTestStack, testEnv, type TestStack } from '../support/stack';

/*
 * Erasure over real HTTP against the real stack: a lead in flight is refused; a closed lead's
 * every run is deleted from Temporal (history and visibility), the API no longer knows it, and
 * the tenant's erasure log says who erased which runs and when, without the lead's data.
 * Leads close for real: accepted, then the tenant's 1-second reassignment window passes.
 */

const DAY_MS = 24 * 3600 * 1000;
const users = {
  admin: { email: 'privacy@erasure.example', password: 'erasure-admin-password', role: 'admin' as const },
  viewer: { email: 'viewer@erasure.example', password: 'erasure-viewer-password', role: 'viewer' as const },
};

let t: TestStack;
let otherKey: string;

beforeAll(async () => {
  t = await startTestStack(demoScenario({ allAvailable: true, holdOpenSeconds: 1, consoleUsers: [users.admin, users.viewer] }), demoScenario({ allAvailable: true }));
  otherKey = t.scenarios[1]!.apiKey;
});

afterAll(async () => {
  await t?.close();
});

/** A lead with personal data in every field that takes it. */
function personOf(tag: string) {
  return { email: `erin.${tag}@${tag}.example`, firstName: 'Erin', lastName: `Eraseme${tag}`, phone: '+14155550199', company: `Company ${tag}`, source: 'form' as const };
}

async function routedLead(tag: string): Promise<{ leadId: string; workflowId: string }> {
  const posted = await t.request('POST', '/v1/leads', personOf(tag), { 'idempotency-key': `erasure-${tag}-${randomBytes(4).toString('hex')}` });
  expect(posted.status).toBe(202);
  await t.routed(posted.body.leadId);
  return { leadId: posted.body.leadId, workflowId: posted.body.workflowId };
}

const runStatus = async (workflowId: string) => (await t.stack.temporal.client.workflow.getHandle(workflowId).describe()).status.name;

/** Accepted, then closed once the 1-second reassignment window has passed. */
async function closeLead(leadId: string, workflowId: string): Promise<void> {
  expect((await t.request('POST', `/v1/leads/${leadId}/accept`, {})).status).toBe(202);
  await eventually(async () => ((await runStatus(workflowId)) === 'COMPLETED' ? true : undefined), 60_000, `lead ${leadId} closed`);
}

async function closedLead(tag: string): Promise<{ leadId: string; workflowId: string }> {
  const lead = await routedLead(tag);
  await closeLead(lead.leadId, lead.workflowId);
  return lead;
}

/** Every run visibility lists under the workflow ID. */
async function visibleRuns(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const run of t.stack.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.runId);
  return runs;
}

async function gone(workflowId: string, runId: string): Promise<boolean> {
  try {
    await t.stack.temporal.client.workflow.getHandle(workflowId, runId).describe();
    return false;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return true;
    throw err;
  }
}

/** A console session's request (no API key): its cookie, and its CSRF token on writes. */
async function asUser(user: { email: string; password: string }, method: string, path: string): Promise<{ status: number; body: any }> {
  const signIn = await fetch(`${t.api}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: user.password }) });
  expect(signIn.status).toBe(200);
  const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0]!;
  const { csrfToken } = (await signIn.json()) as { csrfToken: string };
  const res = await fetch(`${t.api}${path}`, { method, headers: { cookie, 'x-csrf-token': csrfToken } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const personalStrings = (tag: string) => Object.values(personOf(tag)).filter((v) => v !== 'form');

describe('DELETE /v1/leads/:leadId', () => {
  it('refuses a lead still in flight with 409 naming its status and how to close it, and keeps it', async () => {
    const { leadId, workflowId } = await routedLead('inflight');
    const res = await t.request('DELETE', `/v1/leads/${leadId}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(res.body.error.details).toEqual({ status: 'routed', runStatus: 'RUNNING' });
    expect(res.body.error.message).toContain('(routed)');
    expect(res.body.error.message).toContain(`POST /v1/leads/${leadId}/accept`);
    expect(await runStatus(workflowId)).toBe('RUNNING');
    expect((await t.request('GET', `/v1/leads/${leadId}`)).status).toBe(200);
    expect((await t.request('GET', `/v1/erasures?leadId=${leadId}`)).body.erasures).toEqual([]);
  });

  it('erases a closed lead: its runs are deleted from history and visibility, the API no longer knows it, and the log records who and when without its data', async () => {
    const tag = `closed${randomBytes(3).toString('hex')}`;
    const { leadId, workflowId } = await closedLead(tag);
    const runs = await eventually(async () => {
      const found = await visibleRuns(workflowId);
      return found.length === 1 ? found : undefined;
    });
    // Listed by the routing log before.
    await eventually(async () => ((await t.request('GET', `/v1/leads?domain=${tag}.example`)).body.leads.length === 1 ? true : undefined));

    // Another tenant cannot erase it, nor learn it exists.
    const theirs = await t.request('DELETE', `/v1/leads/${leadId}`, undefined, { authorization: `Bearer ${otherKey}` });
    expect(theirs.status).toBe(404);
    expect((await t.request('GET', `/v1/leads/${leadId}`)).status).toBe(200);

    const started = Date.now();
    const res = await t.request('DELETE', `/v1/leads/${leadId}`, undefined, { 'x-actor': 'dpo@tenant.example' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ leadId, erased: [{ workflowId, runId: runs[0] }], at: expect.any(String), actor: 'dpo@tenant.example' });
    expect(Date.parse(res.body.at)).toBeGreaterThanOrEqual(started - 5_000);
    expect(Date.parse(res.body.at)).toBeLessThanOrEqual(Date.now() + 5_000);

    // Gone from Temporal: the run, its history, its visibility record.
    expect(await gone(workflowId, runs[0]!)).toBe(true);
    await expect(t.stack.temporal.client.workflow.getHandle(workflowId).fetchHistory()).rejects.toThrow();
    await eventually(async () => ((await visibleRuns(workflowId)).length === 0 ? true : undefined), 10_000, 'visibility forgets the run');
    // Gone from the API.
    expect((await t.request('GET', `/v1/leads/${leadId}`)).status).toBe(404);
    expect((await t.request('GET', `/v1/leads/${leadId}/audit`)).status).toBe(404);
    await eventually(async () => ((await t.request('GET', `/v1/leads?domain=${tag}.example`)).body.leads.length === 0 ? true : undefined), 10_000, 'not listed');
    // Reassigning an erased lead does not bring it back.
    expect((await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: t.tenant.routing.team[0]!.id, reason: 'after erasure' })).status).toBe(404);

    // The log: lead ID, run IDs, who and when; none of the lead's data, in the answer or the entity's state.
    const log = await t.request('GET', '/v1/erasures');
    expect(log.status).toBe(200);
    const record = log.body.erasures.find((e: { leadId: string }) => e.leadId === leadId);
    expect(record).toEqual({ seq: expect.any(Number), ...res.body });
    const text = JSON.stringify(log.body);
    for (const value of personalStrings(tag)) expect(text).not.toContain(value);

    // Erasing again answers the same record (idempotent), and the log keeps one.
    const again = await t.request('DELETE', `/v1/leads/${leadId}`);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(res.body);
    expect((await t.request('GET', `/v1/erasures?leadId=${leadId}`)).body.erasures).toHaveLength(1);
    // Another tenant still finds nothing, in the lead or the log.
    expect((await t.request('DELETE', `/v1/leads/${leadId}`, undefined, { authorization: `Bearer ${otherKey}` })).status).toBe(404);
    expect((await t.request('GET', '/v1/erasures', undefined, { authorization: `Bearer ${otherKey}` })).body.erasures).toEqual([]);
  });

  it('erases every run of a lead reassigned after it closed (its follow-up run too), as the signed-in admin; a viewer may not', async () => {
    const tag = `followup${randomBytes(3).toString('hex')}`;
    const { leadId, workflowId } = await closedLead(tag);
    const first = (await t.leadState(leadId)).owner!.id;
    const target = t.tenant.routing.team.map((m) => m.id).find((id) => id !== first)!;
    expect((await t.request('POST', `/v1/leads/${leadId}/reassign`, { ownerId: target, reason: 'territory' })).status).toBe(202);
    await t.waitForLead(leadId, (s) => s.owner?.id === target, 'reassigned by a follow-up run');
    await closeLead(leadId, workflowId);
    const runs = await eventually(async () => {
      const found = await visibleRuns(workflowId);
      return found.length === 2 ? found : undefined;
    });

    const refused = await asUser(users.viewer, 'DELETE', `/v1/leads/${leadId}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('cannot erase leads');

    const res = await asUser(users.admin, 'DELETE', `/v1/leads/${leadId}`);
    expect(res.status).toBe(200);
    expect(res.body.actor).toBe(users.admin.email);
    expect(res.body.erased.map((r: { runId: string }) => r.runId).sort()).toEqual([...runs].sort());
    expect(res.body.erased.every((r: { workflowId: string }) => r.workflowId === workflowId)).toBe(true);
    for (const runId of runs) expect(await gone(workflowId, runId)).toBe(true);
    expect((await t.request('GET', `/v1/leads/${leadId}`)).status).toBe(404);
    // The viewer reads the log (it holds no lead data).
    const log = await asUser(users.viewer, 'GET', `/v1/erasures?leadId=${leadId}`);
    expect(log.body.erasures).toEqual([{ seq: expect.any(Number), ...res.body }]);
  });

  it('never brings an erased lead back: its idempotency key sent again answers 410 lead_erased and starts nothing', async () => {
    const key = `erasure-key-${randomBytes(4).toString('hex')}`;
    const posted = await t.request('POST', '/v1/leads', personOf('tomb'), { 'idempotency-key': key });
    expect(posted.status).toBe(202);
    await t.routed(posted.body.leadId);
    await closeLead(posted.body.leadId, posted.body.workflowId);
    expect((await t.request('DELETE', `/v1/leads/${posted.body.leadId}`)).status).toBe(200);
    const again = await t.request('POST', '/v1/leads', personOf('tomb'), { 'idempotency-key': key });
    expect(again.status).toBe(410);
    expect(again.body.error).toMatchObject({ code: 'lead_erased' });
    expect(await visibleRuns(posted.body.workflowId)).toEqual([]);
    await expect(runStatus(posted.body.workflowId)).rejects.toThrow();
  });

  it('leaves nothing of a lead when a reassignment races its erasure, whichever wins', async () => {
    for (let i = 0; i < 4; i++) {
      const lead = await closedLead(`race${i}`);
      const state = await t.leadState(lead.leadId);
      const other = t.tenant.routing.team.find((m) => m.id !== state.owner?.id)!.id;
      const [erased, reassigned] = await Promise.all([
        t.request('DELETE', `/v1/leads/${lead.leadId}`),
        new Promise((r) => setTimeout(r, i * 15)).then(() => t.request('POST', `/v1/leads/${lead.leadId}/reassign`, { ownerId: other, reason: 'race' })),
      ]);
      // The reassignment either came first (202; its follow-up is erased with the lead) or found
      // the lead gone or erased.
      const outcome = `DELETE ${erased.status} ${JSON.stringify(erased.body)}; reassign ${reassigned.status} ${JSON.stringify(reassigned.body)}`;
      expect({ outcome, erased: [200, 202].includes(erased.status), reassigned: [202, 404, 410].includes(reassigned.status) }).toEqual({ outcome, erased: true, reassigned: true });
      await eventually(
        async () => {
          try {
            await runStatus(lead.workflowId);
            return undefined;
          } catch {
            return true;
          }
        },
        20_000,
        `no run of ${lead.leadId} left after DELETE ${erased.status} and reassign ${reassigned.status}`,
      );
      const read = await t.request('GET', `/v1/leads/${lead.leadId}`);
      expect(read.status).toBe(404);
    }
  });

  it('answers 404 for a lead that never existed, of either kind, and keeps nothing in the log for it', async () => {
    for (const leadId of [`ld_${'0'.repeat(24)}`, `dl_${'0'.repeat(24)}`, 'not-a-lead']) {
      const res = await t.request('DELETE', `/v1/leads/${leadId}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await t.request('GET', '/v1/erasures?leadId=ld_000000000000000000000000')).body.erasures).toEqual([]);
    expect((await t.request('GET', '/v1/erasures?limit=0')).status).toBe(400);
  });

  it('keeps the erasure log as an entity workflow of the tenant, recording IDs only', async () => {
    const handle = t.stack.temporal.client.workflow.getHandle(erasureLogWorkflowId(t.tenant.id));
    const described = await handle.describe();
    expect(described.type).toBe('erasureLog');
    expect(described.status.name).toBe('RUNNING');
    const page = (await t.request('GET', '/v1/erasures?limit=1')).body;
    expect(page.erasures).toHaveLength(1);
    expect(page.nextBefore).toBe(page.erasures[0].seq);
    const older = (await t.request('GET', `/v1/erasures?limit=1&before=${page.nextBefore}`)).body;
    expect(older.erasures).toHaveLength(1);
    expect(older.erasures[0].seq).toBeLessThan(page.erasures[0].seq);
  });
});

describe('runs that hold personal data only to answer one request', () => {
  /** Runs of a workflow ID prefix visibility has, after giving it time to index any. */
  async function runsOf(prefix: string): Promise<number> {
    await new Promise((r) => setTimeout(r, 1_500));
    let n = 0;
    for await (const _ of t.stack.temporal.client.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` })) n++;
    return n;
  }

  it('deletes a policy simulation’s run (it carries the lead tried) once it has answered', async () => {
    const res = await t.request('POST', '/v1/policy/simulate', { lead: personOf('simulated') });
    expect(res.status).toBe(200);
    await eventually(async () => ((await runsOf(`simulate:${t.tenant.id}:`)) === 0 ? true : undefined), 15_000, 'simulation run deleted');
  });

  it('deletes the availability board’s run (reps’ leave and meetings) once it has answered', async () => {
    expect((await t.request('GET', '/v1/availability')).status).toBe(200);
    await eventually(async () => ((await runsOf(`availability:${t.tenant.id}:`)) === 0 ? true : undefined), 15_000, 'availability run deleted');
  });
});

describe('namespace retention (npm start sets it after connecting)', () => {
  it('sets the retention period explicitly, only when it differs, on a namespace created with the dev server’s 24 hours', async () => {
    const connection = await Connection.connect({ address: testEnv().address });
    try {
      const namespace = `retention-${randomBytes(4).toString('hex')}`;
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(DAY_MS) });
      const retentionOf = async () => optionalTsToMs((await connection.workflowService.describeNamespace({ namespace })).config?.workflowExecutionRetentionTtl);
      await eventually(async () => ((await retentionOf().catch(() => undefined)) === DAY_MS ? true : undefined), 10_000, 'namespace registered');

      const set = await ensureRetention(connection, namespace, 30);
      expect(set).toEqual({ namespace, beforeDays: 1, days: 30, changed: true, refused: null });
      expect(await retentionOf()).toBe(30 * DAY_MS);
      // Nothing else in the namespace's config changed, and a second start changes nothing.
      expect(await ensureRetention(connection, namespace, 30)).toEqual({ namespace, beforeDays: 30, days: 30, changed: false, refused: null });
      await expect(ensureRetention(connection, namespace, 0)).rejects.toThrow(/positive/);
    } finally {
      await connection.close();
    }
  });
});
