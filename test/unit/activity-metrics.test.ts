import type { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { ActivityMetricsInterceptor } from '../../src/metrics/activityMetrics';
import { LeadMetrics } from '../../src/metrics/leadMetrics';
import { OBSERVATION_HEADER, observationOf, type LeadObservation } from '../../src/protocol/observation';
import { parsePrometheus, sampleValue } from '../support/prometheus';

/**
 * The activity interceptor of the lead metrics, with a fixed clock: what each activity it sees
 * counts, once per activity however many attempts it takes.
 */
const NOW = Date.parse('2030-01-02T03:04:05.000Z');

function contextOf(activityType: string, attempt = 1, scheduledAgoMs = 40): Context {
  return { info: { activityType, attempt, taskQueue: 'q', currentAttemptScheduledTimestampMs: Date.now() - scheduledAgoMs } } as unknown as Context;
}

function inputOf(arg: Record<string, unknown>, observation?: LeadObservation): ActivityExecuteInput {
  return { args: [arg], headers: observation ? { [OBSERVATION_HEADER]: defaultPayloadConverter.toPayload(observation) } : {} };
}

async function run(metrics: LeadMetrics, activityType: string, input: ActivityExecuteInput, opts: { attempt?: number; fail?: boolean } = {}) {
  const interceptor = new ActivityMetricsInterceptor(contextOf(activityType, opts.attempt), metrics, () => NOW);
  return interceptor.execute(input, async () => {
    if (opts.fail) throw new Error('upstream down');
    return { ok: true };
  });
}

const samples = async (m: LeadMetrics) => parsePrometheus(await m.registry.metrics());

const observation: LeadObservation = { receivedAt: new Date(NOW - 1500).toISOString(), urgency: 'hot', ruleId: 'enterprise', via: 'round_robin', deferrals: 2 };

it('counts the decision at the first attempt of the CRM assignment, with its rule, via and deferrals', async () => {
  const m = new LeadMetrics();
  await expect(run(m, 'assignOwner', inputOf({ tenantId: 'acme' }, observation), { fail: true })).rejects.toThrow('upstream down');
  await run(m, 'assignOwner', inputOf({ tenantId: 'acme' }, observation), { attempt: 2 });
  const s = await samples(m);
  expect(sampleValue(s, 'leadrelay_lead_decisions_total', { tenant: 'acme', rule: 'enterprise', via: 'round_robin' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_lead_deferrals_total', { tenant: 'acme' })).toBe(2);
  expect(sampleValue(s, 'leadrelay_lead_fallbacks_total', { tenant: 'acme' })).toBeUndefined();
  expect(sampleValue(s, 'leadrelay_step_duration_seconds_count', { step: 'assign_crm', outcome: 'failed' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_step_duration_seconds_count', { step: 'assign_crm', outcome: 'ok' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_activity_schedule_to_start_seconds_count', { task_queue: 'q', step: 'assign_crm' })).toBe(2);
});

it('counts a fallback, and a lead no rule decided as rule "none"', async () => {
  const m = new LeadMetrics();
  await run(m, 'assignOwner', inputOf({ tenantId: 'acme' }, { ...observation, ruleId: null, via: 'fallback', deferrals: 0 }));
  const s = await samples(m);
  expect(sampleValue(s, 'leadrelay_lead_decisions_total', { tenant: 'acme', rule: 'none', via: 'fallback' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_lead_fallbacks_total', { tenant: 'acme' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_lead_deferrals_total', { tenant: 'acme' })).toBeUndefined();
});

it('records the end-to-end time when the observed notification succeeds, not when it fails', async () => {
  const m = new LeadMetrics();
  await expect(run(m, 'notify', inputOf({ tenantId: 'acme', kind: 'assignment' }, observation), { fail: true })).rejects.toThrow('upstream down');
  expect(sampleValue(await samples(m), 'leadrelay_lead_end_to_end_seconds_count', { tenant: 'acme', urgency: 'hot' })).toBeUndefined();
  await run(m, 'notify', inputOf({ tenantId: 'acme', kind: 'assignment' }, observation), { attempt: 2 });
  const s = await samples(m);
  expect(sampleValue(s, 'leadrelay_lead_end_to_end_seconds_count', { tenant: 'acme', urgency: 'hot' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_lead_end_to_end_seconds_sum', { tenant: 'acme', urgency: 'hot' })).toBeCloseTo(1.5, 6);
  expect(sampleValue(s, 'leadrelay_lead_end_to_end_seconds_bucket', { tenant: 'acme', urgency: 'hot', le: '1' })).toBe(0);
  expect(sampleValue(s, 'leadrelay_lead_end_to_end_seconds_bucket', { tenant: 'acme', urgency: 'hot', le: '2' })).toBe(1);
  // A notification without the observation (a fan-out, a reminder) is no lead's end.
  await run(m, 'notify', inputOf({ tenantId: 'acme', kind: 'fan_out' }));
  expect(sampleValue(await samples(m), 'leadrelay_lead_end_to_end_seconds_count', { tenant: 'acme', urgency: 'hot' })).toBe(1);
});

it('counts an SLA lapse per reminder and an escalation per escalation move, once each', async () => {
  const m = new LeadMetrics();
  await expect(run(m, 'notify', inputOf({ tenantId: 'acme', kind: 'reminder' }), { fail: true })).rejects.toThrow('upstream down');
  await run(m, 'notify', inputOf({ tenantId: 'acme', kind: 'reminder' }), { attempt: 2 });
  await run(m, 'changeOwner', inputOf({ tenantId: 'acme', move: { kind: 'escalation', n: 1 } }));
  await run(m, 'changeOwner', inputOf({ tenantId: 'acme', move: { kind: 'reassignment', requestId: 'r1' } }));
  const s = await samples(m);
  expect(sampleValue(s, 'leadrelay_lead_sla_lapses_total', { tenant: 'acme' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_lead_escalations_total', { tenant: 'acme' })).toBe(1);
  expect(sampleValue(s, 'leadrelay_step_duration_seconds_count', { step: 'move_crm', outcome: 'ok' })).toBe(2);
});

it('reads the observation from the decision memo, with unknown labels for runs that have none', () => {
  expect(observationOf('2030-01-01T00:00:00.000Z', { rule: 'enterprise', via: 'account_owner', urgency: 'low' }, 1)).toEqual({
    receivedAt: '2030-01-01T00:00:00.000Z',
    ruleId: 'enterprise',
    via: 'account_owner',
    urgency: 'low',
    deferrals: 1,
  });
  expect(observationOf('2030-01-01T00:00:00.000Z', undefined, 0)).toMatchObject({ ruleId: null, via: 'unknown', urgency: 'unknown' });
});
