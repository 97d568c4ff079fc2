import { gzipSync } from 'node:zlib';
import { WorkflowNotFoundError } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { leadIdFor } from '../../src/api/ids';
import { signAcceptToken } from '../../src/accept/tokens';
import { slackSignature } from '../../src/api/signatures';
import type { LeadState } from '../../src/domain/leadState';
import { DEMO_ACCEPT_LINK_SECRET, DEMO_SLACK_SIGNING_SECRET } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import { RoutingRule } from '../../src/temporal/searchAttributes';
import { reassignSignal } from '../../src/protocol/messages';
import { envelopeOf, rawRequest, type RawRequest } from '../support/raw';
import { demoScenario } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';
import { leadWorkflowId } from '../../src/protocol/ids';

/*
 * Regressions of a fuzz of the API: each bad input below used to get a 5xx (and an ERROR log),
 * a 503 "retry" for a request Temporal refuses for good, or a success that did nothing (or the
 * wrong thing). Each is now a 4xx in the error envelope, naming what is wrong, and changes nothing.
 */

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack(demoScenario({ allAvailable: true }), demoScenario({ allAvailable: true, holdOpenSeconds: 1 }));
});
afterAll(async () => {
  await t?.close();
});

/** Every line the API logged as an unexpected error while `run` ran. */
async function errorsLoggedDuring(run: () => Promise<void>): Promise<string[]> {
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (String(chunk).includes('unexpected API error')) logged.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return logged;
}

const send = (req: Omit<RawRequest, 'headers'> & { headers?: Record<string, string>; apiKey?: string | null }) =>
  rawRequest(t.api, { ...req, headers: { ...(req.apiKey === null ? {} : { authorization: `Bearer ${req.apiKey ?? t.apiKey}` }), ...req.headers } });

/** The 4xx's envelope; fails the test when there is none. */
function errorOf(res: { status: number }, envelope: ReturnType<typeof envelopeOf>) {
  if (typeof envelope === 'string') throw new Error(envelope);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  return envelope;
}

async function expectRefused(req: Parameters<typeof send>[0], status: number, code: string, field?: string) {
  const res = await send(req);
  const error = errorOf(res, envelopeOf(res));
  expect({ status: res.status, code: error.code }).toEqual({ status, code });
  if (field !== undefined) expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  return error;
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const json = (body: unknown, headers: Record<string, string> = {}) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/** A lead routed to a rep, waiting for them to accept (the default policy gives an hour). */
async function routedLead(tag: string, apiKey = t.apiKey): Promise<{ leadId: string; state: LeadState }> {
  const res = await t.request('POST', '/v1/leads', { email: `${tag}@${tag}.example` }, { authorization: `Bearer ${apiKey}` });
  expect(res.status).toBe(202);
  const state = await t.waitForLead(res.body.leadId, (s) => s.status === 'routed' && s.owner !== null, 'routed', apiKey);
  return { leadId: res.body.leadId, state };
}

/** A rep of the team who is not the lead's owner. */
const someoneElse = (state: LeadState) => t.tenant.routing.team.map((m) => m.id).find((id) => id !== state.owner?.id)!;

async function expectNotStarted(idempotencyKey: string) {
  const handle = t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadIdFor(t.tenant.id, idempotencyKey)));
  await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

describe('a request the API cannot read', () => {
  it('answers a malformed percent-encoding in any path parameter with 400 naming the path, and logs no error', async () => {
    const logged = await errorsLoggedDuring(async () => {
      await expectRefused({ method: 'GET', path: '/v1/leads/%zz' }, 400, 'invalid_request', 'path');
      await expectRefused({ method: 'GET', path: '/v1/leads/%E0%A4%A/audit' }, 400, 'invalid_request', 'path');
      await expectRefused({ method: 'POST', path: '/v1/leads/%/reassign', ...json({ ownerId: 'x', reason: 'y' }) }, 400, 'invalid_request', 'path');
      await expectRefused({ method: 'GET', path: '/v1/pools/%C0/stats' }, 400, 'invalid_request', 'path');
      await expectRefused({ method: 'GET', path: '/v1/connections/%zz/mapping' }, 400, 'invalid_request', 'path');
      // Unauthenticated: anyone could flood the log with these.
      await expectRefused({ method: 'POST', path: '/v1/integrations/slack/%E0%A4%A/interactions', body: 'payload=x', apiKey: null }, 400, 'invalid_request', 'path');
    });
    expect(logged).toEqual([]);
  });

  it('answers a corrupt compressed body with 400 naming the body, and logs no error', async () => {
    const corrupt = Buffer.from('this is not gzip at all');
    const truncated = gzipSync(JSON.stringify({ email: 'gz@gz.example' })).subarray(0, 12);
    const logged = await errorsLoggedDuring(async () => {
      for (const body of [corrupt, truncated]) {
        await expectRefused({ method: 'POST', path: '/v1/leads', body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'idempotency-key': 'gz-1' } }, 400, 'invalid_request', '(body)');
      }
      await expectRefused({ method: 'POST', path: '/v1/accept', body: corrupt, headers: { ...form, 'content-encoding': 'deflate' }, apiKey: null }, 400, 'invalid_request', '(body)');
      await expectRefused({ method: 'POST', path: `/v1/integrations/slack/${t.tenant.id}/interactions`, body: corrupt, headers: { ...form, 'content-encoding': 'gzip' }, apiKey: null }, 400, 'invalid_request', '(body)');
    });
    expect(logged).toEqual([]);
    // A well-formed gzip body is still read.
    const good = await send({ method: 'POST', path: '/v1/leads', body: gzipSync(JSON.stringify({ email: 'not an email' })), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect(errorOf(good, envelopeOf(good)).details).toEqual([expect.objectContaining({ field: 'email' })]);
    await expectNotStarted('gz-1');
  });
});

describe('limits checked before Temporal sees the input', () => {
  it('refuses an email or domain over the RFC limits with 400 naming email, and starts nothing', async () => {
    const label = 'a'.repeat(63);
    const cases = {
      'domain over 2,048 bytes (Temporal refuses the LeadDomain search attribute)': `jane@${Array.from({ length: 33 }, () => label).join('.')}.com`,
      'address over 254 characters': `jane@${Array.from({ length: 4 }, () => label).join('.')}.com`,
      'label over 63 characters': `jane@${'b'.repeat(64)}.com`,
      'local part over 64 characters': `${'j'.repeat(65)}@acme.com`,
    };
    for (const [i, email] of Object.values(cases).entries()) {
      const error = await expectRefused({ method: 'POST', path: '/v1/leads', ...json({ email }, { 'idempotency-key': `rfc-${i}` }) }, 400, 'invalid_request', 'email');
      expect(error.details).toEqual([{ field: 'email', message: expect.stringMatching(/at most (254|64|63) characters/) }]);
      await expectNotStarted(`rfc-${i}`);
    }
    // At the limits exactly (254 characters, a 64-character local part, 63-character labels): accepted.
    const fits = `${'j'.repeat(64)}@${label}.${label}.${'c'.repeat(58)}.io`;
    expect(fits.length).toBe(254);
    expect((await t.request('POST', '/v1/leads', { email: fits })).status).toBe(202);
  });

  it('refuses control characters and over-long values in list filters with 400 naming the filter, at once', async () => {
    await expectRefused({ method: 'GET', path: '/v1/leads?rule=%00' }, 400, 'invalid_request', 'query.rule');
    await expectRefused({ method: 'GET', path: '/v1/leads?owner=usr%01ava' }, 400, 'invalid_request', 'query.owner');
    await expectRefused({ method: 'GET', path: `/v1/leads?domain=${'d'.repeat(254)}` }, 400, 'invalid_request', 'query.domain');
    await expectRefused({ method: 'GET', path: `/v1/leads?status=${'routed'.repeat(10)}` }, 400, 'invalid_request', 'query.status');
    // An offset that pushes an instant out of the years 0001-9999 in UTC: the visibility store would refuse it.
    await expectRefused({ method: 'GET', path: `/v1/leads?to=${encodeURIComponent('9999-12-31T23:59:59-23:59')}` }, 400, 'invalid_request', 'query.to');
    await expectRefused({ method: 'GET', path: `/v1/leads?from=${encodeURIComponent('0000-01-01T00:00:00+23:59')}` }, 400, 'invalid_request', 'query.from');
  });

  it('refuses control characters in any field or header with 400 naming it', async () => {
    await expectRefused({ method: 'POST', path: '/v1/leads', ...json({ email: 'nul@nul.example', firstName: 'Ja\u0000ne' }, { 'idempotency-key': 'ctl-1' }) }, 400, 'invalid_request', 'firstName');
    await expectRefused({ method: 'POST', path: '/v1/leads', ...json({ email: 'nul@nul.example', attributes: { 'k\u0007': 'v' } }, { 'idempotency-key': 'ctl-2' }) }, 400, 'invalid_request', 'attributes.k\u0007');
    await expectNotStarted('ctl-1');
    await expectNotStarted('ctl-2');
    const { leadId, state } = await routedLead('ctl-reassign');
    await expectRefused({ method: 'POST', path: `/v1/leads/${leadId}/reassign`, ...json({ ownerId: someoneElse(state), reason: 'x', actor: 'ops\u001b[31m' }) }, 400, 'invalid_request', 'actor');
    await expectRefused({ method: 'POST', path: `/v1/leads/${leadId}/reassign`, ...json({ ownerId: someoneElse(state), reason: 'x' }, { 'idempotency-key': 'has spaces in it' }) }, 400, 'invalid_request', 'Idempotency-Key');
    expect((await t.leadState(leadId)).reassignments).toEqual([]);

    const policy = (await t.request('GET', '/v1/policy')).body.policy;
    await expectRefused({ method: 'PUT', path: '/v1/policy', ...json(policy, { 'x-actor': 'rev\tops' }) }, 400, 'invalid_request', 'X-Actor');
    await expectRefused({ method: 'PUT', path: '/v1/policy?note=a%00b', ...json(policy) }, 400, 'invalid_request', 'query.note');
    const badRule = { ...policy, rules: [{ ...policy.rules[0], id: 'rule\u0000one' }, ...policy.rules.slice(1)] };
    await expectRefused({ method: 'PUT', path: '/v1/policy', ...json(badRule) }, 400, 'invalid_request', 'rules.0.id');
    const longPool = { ...policy, pools: [{ ...policy.pools[0], id: 'p'.repeat(101) }] };
    await expectRefused({ method: 'PUT', path: '/v1/policy', ...json(longPool) }, 400, 'invalid_request', 'pools.0.id');
    expect((await t.request('GET', '/v1/policy/versions')).body.versions).toEqual([]);
  });
});

describe('prototype keys', () => {
  it('refuses attributes.__proto__ with 400 naming it, like any other object value, and starts nothing', async () => {
    const body = '{"email":"proto@proto.example","attributes":{"__proto__":{"isAdmin":true}}}';
    await expectRefused({ method: 'POST', path: '/v1/leads', body, headers: { 'content-type': 'application/json', 'idempotency-key': 'proto-1' } }, 400, 'invalid_request', 'attributes.__proto__');
    await expectRefused({ method: 'POST', path: '/v1/leads', ...json({ email: 'proto@proto.example', attributes: { constructor: 'x' } }, { 'idempotency-key': 'proto-2' }) }, 400, 'invalid_request', 'attributes.constructor');
    await expectRefused({ method: 'POST', path: '/v1/leads', ...json({ email: 'proto@proto.example', attributes: { nested: { a: 1 } } }, { 'idempotency-key': 'proto-3' }) }, 400, 'invalid_request', 'attributes.nested');
    for (const key of ['proto-1', 'proto-2', 'proto-3']) await expectNotStarted(key);
    const simulate = '{"lead":{"email":"proto@proto.example","attributes":{"__proto__":{"x":1}}}}';
    await expectRefused({ method: 'POST', path: '/v1/policy/simulate', body: simulate, headers: { 'content-type': 'application/json' } }, 400, 'invalid_request', 'lead.attributes.__proto__');
  });

  it('refuses a policy holding a prototype key, as JSON or as YAML, and publishes nothing', async () => {
    const policy = (await t.request('GET', '/v1/policy')).body.policy;
    const segments = { ...policy, segments: { prototype: { field: 'lead.country', equals: 'DE' } } };
    await expectRefused({ method: 'PUT', path: '/v1/policy', ...json(segments) }, 400, 'invalid_request', 'segments.prototype');
    const yaml = `${toYaml(policy)}__proto__:\n  polluted: true\n`;
    await expectRefused({ method: 'PUT', path: '/v1/policy', body: yaml, headers: { 'content-type': 'application/yaml' } }, 400, 'invalid_request', '__proto__');
    expect((await t.request('GET', '/v1/policy/versions')).body.versions).toEqual([]);
  });
});

describe('an accept that accepts nothing says so', () => {
  const slackClick = (leadId: string, ownerId: string) => {
    const payload = { type: 'block_actions', user: { id: 'U1', username: 'someone' }, team: { id: 'T1' }, actions: [{ action_id: 'accept_lead', value: `${t.tenant.id}|${leadId}|${ownerId}` }] };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(Math.floor(Date.now() / 1000));
    return send({ method: 'POST', path: `/v1/integrations/slack/${t.tenant.id}/interactions`, body, apiKey: null, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(DEMO_SLACK_SIGNING_SECRET, timestamp, body) } });
  };
  const linkFor = (leadId: string, ownerId: string) =>
    new URLSearchParams({ token: signAcceptToken(DEMO_ACCEPT_LINK_SECRET, { leadId, ownerId, tenantId: t.tenant.id, expiresAtMs: Date.now() + 3_600_000 }) }).toString();

  it('answers 409 not_the_owner to an accept link signed for a rep who does not own the lead, and accepts nothing', async () => {
    const { leadId, state } = await routedLead('link-stale');
    await expectRefused({ method: 'POST', path: '/v1/accept', body: linkFor(leadId, someoneElse(state)), headers: form, apiKey: null }, 409, 'not_the_owner');
    expect((await t.leadState(leadId)).accepted).toBeNull();
    // The owner's own link still accepts.
    const mine = await send({ method: 'POST', path: '/v1/accept', body: linkFor(leadId, state.owner!.id), headers: form, apiKey: null });
    expect(mine.status).toBe(200);
    expect(mine.json).toEqual({ leadId, accepted: true });
    await t.waitForLead(leadId, (s) => s.accepted?.ownerId === state.owner!.id, 'accepted by the owner');
  });

  it('answers 409 not_the_owner to a Slack Accept button of a rep who does not own the lead, and accepts nothing', async () => {
    const { leadId, state } = await routedLead('slack-stale');
    const res = await slackClick(leadId, someoneElse(state));
    expect(res.status).toBe(409);
    expect(envelopeOf(res)).toMatchObject({ code: 'not_the_owner' });
    expect((await t.leadState(leadId)).accepted).toBeNull();
    expect((await slackClick(leadId, state.owner!.id)).status).toBe(200);
    await t.waitForLead(leadId, (s) => s.accepted?.via === 'slack', 'accepted from Slack');
  });
});

describe('a reassignment to the current owner', () => {
  const crmWrites = () => t.events('crm').filter((e) => e.method !== 'GET').length;
  /** Same owner, no reassignment, no new notification, no CRM write, and the rule is not `manual`. */
  async function expectUnchanged(leadId: string, before: LeadState, after: LeadState, writes: number) {
    expect(after.owner).toEqual(before.owner);
    expect(after.reassignments).toEqual([]);
    expect(after.notifications).toEqual(before.notifications);
    expect(crmWrites()).toBe(writes);
    const described = await t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId)).describe();
    expect(described.typedSearchAttributes.get(RoutingRule)).not.toBe('manual');
  }

  it('is answered 409 already_the_owner, and writes, notifies and changes nothing', async () => {
    const { leadId, state } = await routedLead('same-owner');
    const writes = crmWrites();
    const error = await expectRefused({ method: 'POST', path: `/v1/leads/${leadId}/reassign`, ...json({ ownerId: state.owner!.id, reason: 'just because' }) }, 409, 'already_the_owner', 'ownerId');
    expect(error.message).toContain(state.owner!.id);
    await expectUnchanged(leadId, state, await t.leadState(leadId), writes);
  });

  it('is ignored by the workflow when it arrives anyway (a request that raced another move)', async () => {
    const { leadId, state } = await routedLead('same-owner-signal');
    const writes = crmWrites();
    await t.stack.temporal.client.workflow.getHandle(leadWorkflowId(t.tenant.id, leadId)).signal(reassignSignal, { ownerId: state.owner!.id, reason: 'raced', actor: 'ops@demo', requestId: 'raced-1' });
    const after = await t.waitForLead(leadId, (s) => s.timings.some((x) => x.step === 'reassign_ignored'), 'the reassignment ignored');
    await expectUnchanged(leadId, state, after, writes);
  });

  it('starts no follow-up run after the lead’s run has closed', async () => {
    const quick = t.scenarios[1]!;
    const { leadId, state } = await routedLead('same-owner-closed', quick.apiKey);
    const handle = t.stack.temporal.client.workflow.getHandle(`lead:${quick.tenant.id}:${leadId}`);
    await t.request('POST', `/v1/leads/${leadId}/accept`, {}, { authorization: `Bearer ${quick.apiKey}` });
    const closed = await eventually(async () => {
      const described = await handle.describe();
      return described.status.name === 'COMPLETED' ? described : undefined;
    });
    await expectRefused({ method: 'POST', path: `/v1/leads/${leadId}/reassign`, apiKey: quick.apiKey, ...json({ ownerId: state.owner!.id, reason: 'again' }) }, 409, 'already_the_owner', 'ownerId');
    const now = await handle.describe();
    expect({ runId: now.runId, status: now.status.name }).toEqual({ runId: closed.runId, status: 'COMPLETED' });
  });
});

describe('a reassignment\'s request ID', () => {
  it('may not take a name the lead keeps for its own pool transfers', async () => {
    const { leadId, state } = await routedLead('reserved-key');
    const other = DEMO_REPS.find((r) => r.id !== state.owner!.id)!.id;
    for (const key of ['escalation:1', 'escalation:2:undo', 'crm-refused']) {
      await expectRefused({ method: 'POST', path: `/v1/leads/${leadId}/reassign`, ...json({ ownerId: other, reason: 'mine' }, { 'idempotency-key': key }) }, 400, 'invalid_request', 'Idempotency-Key');
    }
    expect((await t.leadState(leadId)).reassignments).toEqual([]);
  });

  it('retried after the lead\'s run closed, starts no new run: the closed run carried it out', async () => {
    const quick = t.scenarios[1]!;
    const auth = { authorization: `Bearer ${quick.apiKey}` };
    const { leadId, state } = await routedLead('retried-after-close', quick.apiKey);
    const handle = t.stack.temporal.client.workflow.getHandle(`lead:${quick.tenant.id}:${leadId}`);
    const other = DEMO_REPS.find((r) => r.id !== state.owner!.id)!.id;
    const body = { ownerId: other, reason: 'moved' };
    expect((await t.request('POST', `/v1/leads/${leadId}/reassign`, body, { ...auth, 'idempotency-key': 'once-1' })).status).toBe(202);
    await t.waitForLead(leadId, (s) => s.reassignments.some((r) => r.requestId === 'once-1' && r.crmWritten), 'the reassignment written', quick.apiKey);
    await t.request('POST', `/v1/leads/${leadId}/accept`, {}, auth);
    const closed = await eventually(async () => {
      const described = await handle.describe();
      return described.status.name === 'COMPLETED' ? described : undefined;
    });
    const retry = await t.request('POST', `/v1/leads/${leadId}/reassign`, body, { ...auth, 'idempotency-key': 'once-1' });
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ leadId, requestId: 'once-1', ownerId: other, run: 'none' });
    const now = await handle.describe();
    expect({ runId: now.runId, status: now.status.name }).toEqual({ runId: closed.runId, status: 'COMPLETED' });
  });
});
