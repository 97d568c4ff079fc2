import { ProviderClient } from '../../src/connectors/client';
import { businessClock } from '../../src/clock';
import { localDate } from '../../src/domain/calendar';
import { compileProvider } from '../../src/connectors/definition';
import { bamboohrProvider } from '../../src/connectors/providers/bamboohr';
import { DEMO_REP_ON_PTO, DEMO_REPS, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf } from '../support/failures';
import { recordingFetch, useSandbox, type RecordedAnswer } from '../support/sandbox';

/** BambooHR connector against its emulator over real loopback HTTP. */
/** Business time: the time sweep runs this file at other hours and dates ("today" in the HRIS). */
const NOW = businessClock.now();
const DAY = 24 * 60 * 60 * 1000;
const seed = demoWorkspace(new Date(NOW));
const [ava, ben, chloe] = DEMO_REPS;

const sandbox = useSandbox({ workspaces: [seed] });

/** A client whose every answer's status and headers are kept, to compare failures with what BambooHR said. */
function client(opts: { company?: string; key?: string } = {}): { client: ProviderClient; answers: RecordedAnswer[] } {
  const { fetch: recording, answers } = recordingFetch();
  const target = { connectionId: 't/bamboohr', baseUrl: sandbox.url, accountId: opts.company ?? DEMO_WORKSPACE_ID, secret: opts.key ?? DEMO_TOKEN };
  return { client: new ProviderClient(compileProvider(bamboohrProvider), target, { fetch: recording }), answers };
}

const findEmployees = (c: ProviderClient, emails: string[]) => c.call('hris.findEmployees', { emails });
const timeOff = (c: ProviderClient, startDate: string, endDate: string) =>
  c.call('hris.timeOff', { emails: DEMO_REPS.map((r) => r.email), startDate, endDate });

describe('bamboohr hris.findEmployees', () => {
  it('picks the asked-for emails (any case) out of the directory: ACTIVE, no zone, no leave', async () => {
    const { client: c } = client();
    const result = await findEmployees(c, [ava.email.toUpperCase(), chloe.email, 'nobody@demo-sales.example']);
    expect(result.data).toEqual([
      { id: ava.employeeId, email: ava.email, employmentStatus: 'ACTIVE', timezone: null, timeOff: [] },
      { id: chloe.employeeId, email: chloe.email, employmentStatus: 'ACTIVE', timezone: null, timeOff: [] },
    ]);
    // BambooHR sends no rate-limit headers.
    expect(result.meta.rateLimit).toEqual({ limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: null });
  });

  it('does not find people who left: the directory lists active employees only', async () => {
    const ws: SandboxWorkspace = {
      ...seed,
      id: 'bamboo-leavers',
      token: 'bamboo-leavers-key',
      employees: seed.employees.map((e) => (e.email === ben.email ? { ...e, status: 'TERMINATED' as const } : e)),
    };
    sandbox.addWorkspace(ws);
    const { client: c } = client({ company: ws.id, key: ws.token });
    const result = await findEmployees(c, [ava.email, ben.email]);
    expect(result.data.map((e) => e.email)).toEqual([ava.email]);
  });
});

describe('bamboohr hris.timeOff', () => {
  it("lists the rep on PTO as whole local days (end inclusive) keyed by BambooHR's employee ID", async () => {
    const { client: c } = client();
    const zone = DEMO_REP_ON_PTO.timezone;
    const result = await timeOff(c, localDate(NOW - 7 * DAY, zone), localDate(NOW + 7 * DAY, zone));
    expect(result.data).toEqual([
      {
        employeeId: DEMO_REP_ON_PTO.employeeId,
        // The seed's leave runs from now - 1 day to now + 3 days (end exclusive), in London.
        start: localDate(NOW - DAY, zone),
        end: localDate(NOW + 3 * DAY - 1, zone),
        type: 'PTO',
        allDay: true,
      },
    ]);
  });

  it('is empty for a window nobody is out in', async () => {
    const { client: c } = client();
    const result = await timeOff(c, localDate(NOW + 30 * DAY, 'UTC'), localDate(NOW + 40 * DAY, 'UTC'));
    expect(result.data).toEqual([]);
  });

  it('fails a bad date as a non-retryable UpstreamRejected carrying X-BambooHR-Error-Message', async () => {
    const { client: c, answers } = client();
    const failure = await failureOf(timeOff(c, '2026-13-01', '2026-12-31'));
    expect(answers[0]?.status).toBe(400);
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Invalid start date: 2026-13-01');
  });
});

describe('bamboohr errors and limits', () => {
  it('fails a wrong API key as non-retryable UpstreamAuthFailed: 401, empty body, detail in the header', async () => {
    const { client: c, answers } = client({ key: 'not-the-key' });
    const failure = await failureOf(findEmployees(c, [ava.email]));
    expect(answers[0]?.status).toBe(401);
    expect(answers[0]?.headers.get('x-bamboohr-error-message')).toBe('Invalid API key');
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Invalid API key');
    expect(failure.message).not.toContain('not-the-key');
  });

  it('fails an unknown company as non-retryable UpstreamNotFound', async () => {
    const { client: c, answers } = client({ company: 'no-such-company' });
    const failure = await failureOf(findEmployees(c, [ava.email]));
    expect(answers[0]?.status).toBe(404);
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
  });

  it('turns the 429 over the limit into a retryable UpstreamRateLimited waiting exactly Retry-After', async () => {
    const tight: SandboxWorkspace = { ...seed, id: 'bamboo-tight', token: 'bamboo-tight-key', rateLimit: { limit: 1, windowSeconds: 30 } };
    sandbox.addWorkspace(tight);
    const { client: c, answers } = client({ company: tight.id, key: tight.token });
    await findEmployees(c, [ava.email]);
    const failure = await failureOf(findEmployees(c, [ava.email]));

    const limited = answers[1];
    expect(limited?.status).toBe(429);
    expect(limited?.headers.get('x-bamboohr-error-message')).toBe('API rate limit exceeded');
    const retryAfter = Number(limited?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(retryAfter * 1000);
    expect(failure.message).toContain('API rate limit exceeded');
  });

  it('reads a 503 as the API being unavailable, not as a rate limit (429 since 2026-09-16), waiting its Retry-After', async () => {
    sandbox.injectFault({
      provider: 'bamboohr',
      status: 503,
      headers: { 'Retry-After': '7', 'X-BambooHR-Error-Message': 'Service temporarily unavailable' },
      times: 1,
    });
    const outcomes: string[] = [];
    const { fetch: recording, answers } = recordingFetch();
    const target = { connectionId: 't/bamboohr', baseUrl: sandbox.url, accountId: DEMO_WORKSPACE_ID, secret: DEMO_TOKEN };
    const c = new ProviderClient(compileProvider(bamboohrProvider), target, { fetch: recording, onAnswer: (_id, classification) => outcomes.push(classification.outcome) });
    const failure = await failureOf(findEmployees(c, [ava.email]));
    expect(answers[0]?.status).toBe(503);
    // What metrics and the audit see: an outage, with BambooHR's own detail.
    expect(outcomes).toEqual(['transient']);
    expect(failure.type).toBe('UpstreamUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7000);
    expect(failure.message).toContain('Service temporarily unavailable');
    expect(failure.message).not.toContain('rate limit');
  });

  it('leaves a 503 without Retry-After to the retry policy backoff, as unavailable', async () => {
    sandbox.injectFault({ provider: 'bamboohr', status: 503, times: 1 });
    const { client: c } = client();
    const failure = await failureOf(timeOff(c, '2026-11-01', '2026-11-02'));
    expect(failure.type).toBe('UpstreamUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
  });
});
