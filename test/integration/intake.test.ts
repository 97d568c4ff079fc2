import { demoScenario } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * The API pushes back instead of queueing without end: a tenant's bulk lane (imports) has a
 * window, and all its lanes together a queue limit. Past either, a new lead is answered 429 with
 * Retry-After and nothing is started; an interactive lead is not held by the bulk window. Leads
 * are held "queued" here by a slow HRIS (their first read does not come back), then released.
 */
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack((url) => {
    const s = demoScenario({ allAvailable: true })(url);
    return { ...s, tenant: { ...s.tenant, intake: { maxQueuedLeads: 5, bulkInFlight: 2 } } };
  });
}, 120_000);
afterAll(() => t?.close());

const lead = (n: number, source: string, extra: Record<string, unknown> = {}) => ({ email: `intake${n}@acme.com`, firstName: 'In', source, ...extra });
const tenantRuns = async () => (await t.stack.temporal.client.workflow.count(`LeadTenant = '${t.tenant.id}'`)).count;

it('answers 429 with Retry-After past the bulk window and the queue limit, starts nothing, and admits the same lead once the queue drains', async () => {
  t.sandbox.setLatency({ hris: { baseMs: 30_000, jitterMs: 0 } });
  for (const n of [1, 2]) expect((await t.request('POST', '/v1/leads', lead(n, 'import'), { 'idempotency-key': `bulk-${n}` })).status).toBe(202);

  const pushed = await t.request('POST', '/v1/leads', lead(3, 'import'), { 'idempotency-key': 'bulk-3' });
  expect(pushed.status).toBe(429);
  expect(Number(pushed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(pushed.body.error).toMatchObject({ code: 'too_many_queued', details: { lane: 'bulk', limitName: 'bulkInFlight', limit: 2 } });
  expect(pushed.body.error.message).toContain('same Idempotency-Key');
  // A request's priority puts the same source in another lane.
  expect((await t.request('POST', '/v1/leads', lead(4, 'import', { priority: 'bulk' }))).status).toBe(429);

  // The bulk window does not hold a person waiting on a form, nor system leads, up to the queue limit.
  expect((await t.request('POST', '/v1/leads', lead(5, 'form'))).status).toBe(202);
  expect((await t.request('POST', '/v1/leads', lead(6, 'api'))).status).toBe(202);
  expect((await t.request('POST', '/v1/leads', lead(7, 'import', { priority: 'high' }))).status).toBe(202);
  const full = await t.request('POST', '/v1/leads', lead(8, 'chat'));
  expect(full.status).toBe(429);
  expect(full.body.error.details).toMatchObject({ lane: 'interactive', limitName: 'maxQueuedLeads', limit: 5 });

  // Nothing was started for the refused ones: five runs, all queued in their lanes.
  await eventually(async () => ((await tenantRuns()) === 5 ? true : undefined), 10_000, 'five runs in visibility');
  const lanes = async (lane: string) => (await t.stack.temporal.client.workflow.count(`LeadTenant = '${t.tenant.id}' AND LeadLane = '${lane}'`)).count;
  expect([await lanes('bulk'), await lanes('interactive'), await lanes('standard')]).toEqual([2, 2, 1]);

  // The HRIS answers again: the queue drains and the refused lead is admitted with its key.
  t.sandbox.setLatency({ hris: { baseMs: 0, jitterMs: 0 } });
  const queued = async () => (await t.stack.temporal.client.workflow.count(`LeadTenant = '${t.tenant.id}' AND RoutingStatus = 'received'`)).count;
  await eventually(async () => ((await queued()) === 0 ? true : undefined), 90_000, 'the queue drained');
  const again = await t.request('POST', '/v1/leads', lead(3, 'import'), { 'idempotency-key': 'bulk-3' });
  expect(again.status).toBe(202);
  const state = await t.routed(again.body.leadId);
  expect(state.status).toBe('routed');
}, 150_000);
