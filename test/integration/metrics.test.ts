import type { LeadState } from '../../src/domain/leadState';
import { entityTaskQueue } from '../../src/protocol/ids';
import { parsePrometheus, sampleValue, type Sample } from '../support/prometheus';
import { demoScenario } from '../support/scenario';
import { eventually, startTestStackWith, type TestStack } from '../support/stack';

/**
 * The lead metrics on GET /metrics, from a lead routed for real: its end-to-end time by tenant and
 * urgency, each step's duration, its decision, schedule-to-start, and the task queues' backlog.
 */
let t: TestStack;
beforeAll(async () => {
  t = await startTestStackWith({ backlogPollSeconds: 1 }, demoScenario({ allAvailable: true }));
});
afterAll(async () => {
  await t?.close();
});

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${t.api}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheus(await res.text());
}

it('records a routed lead: end to end by tenant and urgency, its steps, its decision and schedule-to-start', async () => {
  const tenant = t.tenant.id;
  const before = await scrape();
  expect(sampleValue(before, 'leadrelay_lead_decisions_total', { tenant })).toBeUndefined();

  const posted = Date.now();
  const res = await t.request('POST', '/v1/leads', { email: 'jane.doe@acme.com', firstName: 'Jane', lastName: 'Doe', company: 'Acme', source: 'form' });
  expect(res.status).toBe(202);
  const state: LeadState = await t.routed(res.body.leadId);
  const tookSeconds = (Date.now() - posted) / 1000;
  expect(state.status).toBe('routed');
  const urgency = state.decision!.urgency;
  const via = state.decision!.via!;
  const rule = state.decision!.rule?.id ?? 'none';

  const s = await eventually(async () => {
    const now = await scrape();
    return sampleValue(now, 'leadrelay_lead_end_to_end_seconds_count', { tenant, urgency }) === 1 ? now : undefined;
  }, 30_000, 'the lead in the end-to-end histogram');
  const e2e = sampleValue(s, 'leadrelay_lead_end_to_end_seconds_sum', { tenant, urgency })!;
  expect(e2e).toBeGreaterThan(0);
  expect(e2e).toBeLessThanOrEqual(tookSeconds);
  // The acme.com lead goes to the account's owner, by the rule the run recorded.
  expect(via).toBe('account_owner');
  expect(sampleValue(s, 'leadrelay_lead_decisions_total', { tenant, rule, via })).toBe(1);
  expect(sampleValue(s, 'leadrelay_lead_fallbacks_total', { tenant })).toBeUndefined();
  expect(sampleValue(s, 'leadrelay_lead_deferrals_total', { tenant })).toBeUndefined();

  for (const step of ['load_policy', 'enrich', 'match_account', 'check_hris', 'check_calendar', 'assign_crm', 'notify']) {
    expect([step, sampleValue(s, 'leadrelay_step_duration_seconds_count', { step, outcome: 'ok' })]).toEqual([step, expect.any(Number)]);
    expect(sampleValue(s, 'leadrelay_step_duration_seconds_count', { step, outcome: 'ok' })).toBeGreaterThanOrEqual(1);
  }
  const crmStep = sampleValue(s, 'leadrelay_step_duration_seconds_sum', { step: 'assign_crm', outcome: 'ok' })!;
  expect(crmStep).toBeGreaterThan(0);
  expect(crmStep).toBeLessThan(e2e);
  expect(sampleValue(s, 'leadrelay_activity_schedule_to_start_seconds_count', { task_queue: t.stack.taskQueue, step: 'assign_crm' })).toBeGreaterThanOrEqual(1);
  // The connection metrics are still there beside them.
  expect(s.some((x) => x.name === 'leadrelay_upstream_answers_total' && x.labels['tenant'] === tenant)).toBe(true);
});

it('reads both task queues backlog (DescribeTaskQueue with reportStats) into gauges', async () => {
  const s = await eventually(async () => {
    const now = await scrape();
    return sampleValue(now, 'leadrelay_task_queue_backlog', { task_queue: entityTaskQueue(t.stack.taskQueue), type: 'activity' }) !== undefined ? now : undefined;
  }, 30_000, 'backlog gauges');
  for (const task_queue of [t.stack.taskQueue, entityTaskQueue(t.stack.taskQueue)]) {
    for (const type of ['workflow', 'activity']) {
      expect(sampleValue(s, 'leadrelay_task_queue_backlog', { task_queue, type })).toBeGreaterThanOrEqual(0);
      expect(sampleValue(s, 'leadrelay_task_queue_backlog_age_seconds', { task_queue, type })).toBeGreaterThanOrEqual(0);
    }
    expect(sampleValue(s, 'leadrelay_task_queue_describe_errors_total', { task_queue })).toBeUndefined();
  }
});
