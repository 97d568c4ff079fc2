import { randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import type { ApiContext } from '../../src/api/context';
import { quarantinePayload } from '../../src/quarantine';
import { genericSignatureHeader } from '../../src/sources/kinds/generic';
import { demoScenario, type Scenario } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * Quarantine over real HTTP against the real stack: a generic source's event that fails its
 * mapping is kept (202 with a quarantine ID), listed with its reason and field, replayed after
 * the tenant publishes a mapping override (the lead routes), kept once however often it is
 * redelivered, discarded by a person, invisible to another tenant, and expires after its hold.
 */

const SECRET = `generic-${randomBytes(16).toString('hex')}`;
const suffix = randomBytes(3).toString('hex');
const users = {
  ops: { email: `ops-${suffix}@quarantine.example`, password: 'ops-password-q', role: 'ops' as const, name: 'Olga Ops' },
  viewer: { email: `viewer-${suffix}@quarantine.example`, password: 'viewer-password-q', role: 'viewer' as const, name: 'Vic Viewer' },
};

/** The demo scenario with one generic JSON source, `web`, signed with SECRET. */
function withGenericSource(make: (sandboxUrl: string) => Scenario): (sandboxUrl: string) => Scenario {
  return (sandboxUrl) => {
    const scenario = make(sandboxUrl);
    scenario.tenant = { ...scenario.tenant, sources: [{ id: 'web', kind: 'generic', name: 'Website form', secret: { value: SECRET } }] };
    return scenario;
  };
}

/** A tenant-level mapping for the shape the website sends: the contact under `contact`. */
const FIXED_MAPPING = '{ "email": contact.mail, "firstName": contact.first, "lastName": contact.last, "company": company }';

let t: TestStack;
let other: string;
/** The public ID the provider calls. */
let sourceId: string;
/** The source's own ID, as the quarantine records it. */
const SOURCE = 'web';

interface Answer {
  status: number;
  body: any;
}

interface Session {
  cookie: string;
  csrf: string;
}

beforeAll(async () => {
  t = await startTestStack(withGenericSource(demoScenario({ consoleUsers: [users.ops, users.viewer] })), demoScenario());
  other = t.scenarios[1]!.apiKey;
  sourceId = `src_${t.tenant.id}_web`;
});

afterAll(async () => {
  await t?.close();
});

/** A delivery from the website, signed as the generic kind verifies it. */
async function deliver(event: Record<string, unknown>): Promise<Answer> {
  const raw = JSON.stringify(event);
  const res = await fetch(`${t.api}/v1/sources/${sourceId}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-leadrelay-signature': genericSignatureHeader(SECRET, Math.floor(Date.now() / 1000), raw) },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function call(method: string, path: string, session: Session, body?: unknown): Promise<Answer> {
  const res = await fetch(`${t.api}${path}`, {
    method,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function signIn(user: { email: string; password: string }): Promise<Session> {
  const res = await fetch(`${t.api}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: user.password }) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { csrfToken: string };
  return { cookie: res.headers.getSetCookie()[0]!.split(';')[0]!, csrf: body.csrfToken };
}

/** The listing's rows for one quarantine ID (visibility is eventually consistent: polled). */
async function listed(id: string, status: string, apiKey = t.apiKey): Promise<any[]> {
  return eventually(async () => {
    const res = await t.request('GET', `/v1/quarantine?status=${status}&limit=200`, undefined, { authorization: `Bearer ${apiKey}` });
    expect(res.status).toBe(200);
    const rows = (res.body.items as any[]).filter((r) => r.quarantineId === id);
    return rows.length > 0 ? rows : undefined;
  }, 20_000, `quarantine ${id} listed as ${status}`);
}

/** An event the website sends in its own shape, which the platform's generic mapping cannot read. */
function websiteEvent(tag: string): Record<string, unknown> {
  return { eventId: `evt-${tag}-${suffix}`, contact: { mail: `${tag}-${suffix}@quarantine-lead.example`, first: 'Quinn', last: 'Tine' }, company: 'Acme' };
}

describe('a payload that fails its mapping', () => {
  it('is kept, listed with its reason and field, replayed after the mapping is fixed, and routes', async () => {
    const ops = await signIn(users.ops);
    const viewer = await signIn(users.viewer);
    const event = websiteEvent('roundtrip');

    const first = await deliver(event);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'quarantined', quarantineId: expect.stringMatching(/^qr_[a-f0-9]{24}$/), reason: expect.any(String), field: expect.any(String) });
    const id = first.body.quarantineId as string;

    // A redelivery of the same event is the same quarantine, not a second one.
    const again = await deliver(event);
    expect([200, 202]).toContain(again.status);
    expect(again.body.quarantineId).toBe(id);

    const rows = await listed(id, 'held');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ quarantineId: id, workflowId: `quarantine:${t.tenant.id}:${id}`, sourceId: SOURCE, kind: 'generic', status: 'held', reason: expect.any(String), receivedAt: expect.any(String), closedAt: null });
    expect(rows[0].fields).toContain('email');
    expect(rows[0].field).toBe(first.body.field);

    // The payload is kept as received, with every failing field; a viewer may read it.
    const detail = await call('GET', `/v1/quarantine/${id}`, viewer);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ quarantineId: id, sourceId: SOURCE, kind: 'generic', status: 'held', event, replay: null, discard: null });
    expect(detail.body.issues.map((i: { field: string }) => i.field)).toContain('email');
    expect((await call('GET', '/v1/quarantine?status=held', viewer)).status).toBe(200);

    // In Temporal the payload is encrypted: the raw history holds no address from it.
    const raw = await t.stack.temporal.client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: `quarantine:${t.tenant.id}:${id}` } });
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(raw.history!).finish());
    expect(bytes.includes(Buffer.from(`roundtrip-${suffix}@quarantine-lead.example`))).toBe(false);

    // Replaying before the fix names the field still failing, and changes nothing.
    const early = await call('POST', `/v1/quarantine/${id}/replay`, ops, {});
    expect(early.status).toBe(422);
    expect(early.body.error.code).toBe('mapping_failed');
    expect(early.body.error.message).toContain('email');
    expect(early.body.error.details.map((d: { field: string }) => d.field)).toContain('email');

    // A viewer may not replay.
    expect((await call('POST', `/v1/quarantine/${id}/replay`, viewer, {})).status).toBe(403);

    // The tenant publishes its mapping override (no restart), then the replay routes the lead.
    const published = await t.request('PUT', `/v1/sources/${sourceId}/mapping`, { mapping: FIXED_MAPPING });
    expect(published.status).toBe(200);
    const replay = await call('POST', `/v1/quarantine/${id}/replay`, ops, {});
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ quarantineId: id, leadId: expect.stringMatching(/^ld_[a-f0-9]{24}$/), replayed: { actor: users.ops.email } });
    const leadId = replay.body.leadId as string;
    const state = await t.routed(leadId);
    expect(state.status).toBe('routed');
    expect(state.lead?.email).toBe(`roundtrip-${suffix}@quarantine-lead.example`);

    // Idempotent: a second replay (an API key this time) answers the same lead, as first recorded.
    const second = await t.request('POST', `/v1/quarantine/${id}/replay`, {});
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ leadId, replayed: { actor: users.ops.email } });

    const done = await call('GET', `/v1/quarantine/${id}`, viewer);
    expect(done.body).toMatchObject({ status: 'replayed', replay: { leadId, actor: users.ops.email } });
    const replayedRows = await listed(id, 'replayed');
    expect(replayedRows[0]).toMatchObject({ status: 'replayed', closedAt: expect.any(String) });

    // The provider's next redelivery maps now, and is the lead the replay started.
    const late = await deliver(event);
    expect([200, 202]).toContain(late.status);
    expect(late.body.leadId).toBe(leadId);

    // The replayed payload can no longer be discarded.
    expect((await call('POST', `/v1/quarantine/${id}/discard`, ops, { reason: 'too late' })).status).toBe(409);
  });

  it('is discarded by a person, who is recorded; a second discard keeps the first, and it can no longer be replayed', async () => {
    const ops = await signIn(users.ops);
    const viewer = await signIn(users.viewer);
    // Another shape the fixed mapping cannot read either: no contact at all.
    const event = { eventId: `evt-discard-${suffix}`, note: 'a test submission from the agency' };
    const kept = await deliver(event);
    expect(kept.status).toBe(202);
    const id = kept.body.quarantineId as string;

    expect((await call('POST', `/v1/quarantine/${id}/discard`, viewer, { reason: 'spam' })).status).toBe(403);
    expect((await call('POST', `/v1/quarantine/${id}/discard`, ops, {})).status).toBe(400);

    const discarded = await call('POST', `/v1/quarantine/${id}/discard`, ops, { reason: 'a test submission' });
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ quarantineId: id, status: 'discarded', discard: { actor: users.ops.email, reason: 'a test submission', at: expect.any(String) } });

    const again = await t.request('POST', `/v1/quarantine/${id}/discard`, { reason: 'spam' }, { 'x-actor': 'someone-else' });
    expect(again.status).toBe(200);
    expect(again.body.discard).toMatchObject({ actor: users.ops.email, reason: 'a test submission' });

    const replay = await call('POST', `/v1/quarantine/${id}/replay`, ops, {});
    expect(replay.status).toBe(409);
    expect(replay.body.error.message).toContain(users.ops.email);

    // A redelivery of a discarded event is not kept again.
    const redelivered = await deliver(event);
    expect(redelivered.body.quarantineId).toBe(id);
    await listed(id, 'discarded');
  });

  it('is not found by another tenant, nor listed for it', async () => {
    const kept = await deliver({ eventId: `evt-tenant-${suffix}`, who: 'nobody' });
    expect(kept.status).toBe(202);
    const id = kept.body.quarantineId as string;
    await listed(id, 'held');
    const auth = { authorization: `Bearer ${other}` };
    expect((await t.request('GET', `/v1/quarantine/${id}`, undefined, auth)).status).toBe(404);
    expect((await t.request('POST', `/v1/quarantine/${id}/replay`, {}, auth)).status).toBe(404);
    expect((await t.request('POST', `/v1/quarantine/${id}/discard`, { reason: 'not mine' }, auth)).status).toBe(404);
    const list = await t.request('GET', '/v1/quarantine?limit=200', undefined, auth);
    expect(list.status).toBe(200);
    expect(list.body.items.map((r: { quarantineId: string }) => r.quarantineId)).not.toContain(id);
    // And a malformed ID is simply not found.
    expect((await t.request('GET', '/v1/quarantine/qr_nope')).status).toBe(404);
    // Its own tenant still sees it held.
    expect((await t.request('GET', `/v1/quarantine/${id}`)).body.status).toBe('held');
  });
});

describe('the hold', () => {
  it('ends as expired when nobody acts, and a second quarantine of the same event is a duplicate', async () => {
    const ctx = { client: t.stack.temporal.client, taskQueue: t.stack.taskQueue, quarantineHoldMs: 1_500 } as ApiContext;
    const request = {
      tenantId: t.tenant.id,
      sourceId: SOURCE,
      kind: 'generic',
      eventId: `event:expiry-${suffix}`,
      receivedAt: new Date(Date.now()).toISOString(),
      event: { who: 'nobody' },
      reason: 'the lead schema refused the mapped lead',
      issues: [{ field: 'email', message: 'Invalid input: expected string, received undefined' }],
    };
    const kept = await quarantinePayload(ctx, request);
    expect(kept.duplicate).toBe(false);
    await expect(quarantinePayload(ctx, { ...request, reason: 'changed' })).resolves.toEqual({ quarantineId: kept.quarantineId, duplicate: true });

    const expired = await eventually(async () => {
      const res = await t.request('GET', `/v1/quarantine/${kept.quarantineId}`);
      return res.body.status === 'expired' ? res.body : undefined;
    }, 20_000, 'the quarantine to expire');
    expect(expired).toMatchObject({ expiredAt: expect.any(String), reason: 'the lead schema refused the mapped lead', event: { who: 'nobody' } });
    await listed(kept.quarantineId, 'expired');
    expect((await t.request('POST', `/v1/quarantine/${kept.quarantineId}/replay`, {})).status).toBe(409);
    expect((await t.request('POST', `/v1/quarantine/${kept.quarantineId}/discard`, { reason: 'late' })).status).toBe(409);
  });
});
