import { ProviderClient } from '../../src/connectors/client';
import { businessClock } from '../../src/clock';
import { localDate } from '../../src/domain/calendar';
import { compileProvider } from '../../src/connectors/definition';
import { hibobProvider } from '../../src/connectors/providers/hibob';
import { DEMO_REP_ON_PTO, DEMO_REPS, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf } from '../support/failures';
import { recordingFetch, useSandbox, type RecordedAnswer } from '../support/sandbox';

/** HiBob connector against its emulator over real loopback HTTP. */
/** Business time: the time sweep runs this file at other hours and dates ("today" in the HRIS). */
const NOW = businessClock.now();
const DAY = 24 * 60 * 60 * 1000;
const seed = demoWorkspace(new Date(NOW));
const [ava, ben, chloe, dieter] = DEMO_REPS;

const sandbox = useSandbox({ workspaces: [seed] });

/** A client (service user ID = workspace ID, token = workspace token) whose answers are kept. */
function client(opts: { serviceUser?: string; token?: string } = {}): { client: ProviderClient; answers: RecordedAnswer[] } {
  const { fetch: recording, answers } = recordingFetch();
  const target = { connectionId: 't/hibob', baseUrl: sandbox.url, accountId: opts.serviceUser ?? DEMO_WORKSPACE_ID, secret: opts.token ?? DEMO_TOKEN };
  return { client: new ProviderClient(compileProvider(hibobProvider), target, { fetch: recording }), answers };
}

const findEmployees = (c: ProviderClient, emails: string[]) => c.call('hris.findEmployees', { emails });
const timeOff = (c: ProviderClient, emails: string[], startDate: string, endDate: string) =>
  c.call('hris.timeOff', { emails, startDate, endDate });

describe('hibob hris.findEmployees', () => {
  it('searches people by root.email, inactive included, and maps lifecycle to employment without a zone', async () => {
    const { client: c, answers } = client();
    const result = await findEmployees(c, [ava.email, chloe.email.toUpperCase(), 'nobody@demo-sales.example']);
    expect(result.data).toEqual([
      { id: ava.employeeId, email: ava.email, employmentStatus: 'ACTIVE', timezone: null, timeOff: [] },
      { id: chloe.employeeId, email: chloe.email, employmentStatus: 'ACTIVE', timezone: null, timeOff: [] },
    ]);
    const [request] = sandbox.events().filter((e) => e.provider === 'hibob').slice(-1);
    expect(request?.body).toMatchObject({
      filters: [{ fieldPath: 'root.email', operator: 'equals', values: [ava.email, chloe.email.toUpperCase(), 'nobody@demo-sales.example'] }],
      showInactive: true,
    });
    // Bob answers each field nested and under its slash path.
    expect((answers[0]?.body as { employees: unknown[] }).employees[0]).toMatchObject({
      id: ava.employeeId,
      '/root/email': { value: ava.email },
      internal: { lifecycleStatus: 'employed', status: 'Active' },
    });
    expect(result.meta.rateLimit).toMatchObject({ limit: 1000, remaining: 999, retryAfterSeconds: null });
  });

  it('reads people on leave as INACTIVE and former employees as TERMINATED', async () => {
    const ws: SandboxWorkspace = {
      ...seed,
      id: 'hibob-lifecycle',
      token: 'hibob-lifecycle-token',
      employees: seed.employees.map((e) =>
        e.email === ben.email ? { ...e, status: 'INACTIVE' as const } : e.email === dieter.email ? { ...e, status: 'TERMINATED' as const } : e,
      ),
    };
    sandbox.addWorkspace(ws);
    const { client: c } = client({ serviceUser: ws.id, token: ws.token });
    const result = await findEmployees(c, [ben.email, dieter.email]);
    expect(result.data.map((e) => [e.email, e.employmentStatus])).toEqual([
      [ben.email, 'INACTIVE'],
      [dieter.email, 'TERMINATED'],
    ]);
  });
});

describe('hibob hris.timeOff', () => {
  it("lists the rep on leave as whole local days with the policy's name, keyed by ID and email", async () => {
    const { client: c, answers } = client();
    const zone = DEMO_REP_ON_PTO.timezone;
    const result = await timeOff(c, [ava.email, DEMO_REP_ON_PTO.email], localDate(NOW - 7 * DAY, zone), localDate(NOW + 7 * DAY, zone));
    expect(result.data).toEqual([
      {
        employeeId: DEMO_REP_ON_PTO.employeeId,
        email: DEMO_REP_ON_PTO.email,
        start: localDate(NOW - DAY, zone),
        end: localDate(NOW + 3 * DAY - 1, zone),
        type: 'Vacation',
        allDay: true,
      },
    ]);
    expect((answers[0]?.body as { outs: unknown[] }).outs).toHaveLength(1);
  });

  it('leaves out people who were not asked about', async () => {
    const { client: c, answers } = client();
    const result = await timeOff(c, [ava.email], localDate(NOW - 7 * DAY, 'UTC'), localDate(NOW + 7 * DAY, 'UTC'));
    expect((answers[0]?.body as { outs: unknown[] }).outs).toHaveLength(1);
    expect(result.data).toEqual([]);
  });

  it('counts a half day (afternoon start, morning end) as the whole days', async () => {
    // 14:00 on 10 Mar to 11:00 on 12 Mar, Berlin time (CET, UTC+1).
    const ws: SandboxWorkspace = {
      ...seed,
      id: 'hibob-half-days',
      token: 'hibob-half-days-token',
      employees: seed.employees.map((e) =>
        e.email === dieter.email ? { ...e, timeOff: [{ start: '2031-03-10T13:00:00Z', end: '2031-03-12T10:00:00Z', type: 'SICK' as const }] } : e,
      ),
    };
    sandbox.addWorkspace(ws);
    const { client: c, answers } = client({ serviceUser: ws.id, token: ws.token });
    const result = await timeOff(c, [dieter.email], '2031-03-09', '2031-03-15');
    expect((answers[0]?.body as { outs: unknown[] }).outs).toEqual([
      expect.objectContaining({ startDate: '2031-03-10', startPortion: 'afternoon', endDate: '2031-03-12', endPortion: 'morning', policyTypeDisplayName: 'Sick' }),
    ]);
    expect(result.data).toEqual([
      { employeeId: dieter.employeeId, email: dieter.email, start: '2031-03-10', end: '2031-03-12', type: 'Sick', allDay: true },
    ]);
  });

  describe('work from home and business travel', () => {
    // Berlin (CET): working from home on 10 Mar, travelling 11-12 Mar, sick on 13 Mar.
    const ws: SandboxWorkspace = {
      ...seed,
      id: 'hibob-working',
      token: 'hibob-working-token',
      employees: seed.employees.map((e) =>
        e.email === dieter.email
          ? {
              ...e,
              timeOff: [{ start: '2031-03-12T23:00:00Z', end: '2031-03-13T23:00:00Z', type: 'SICK' as const }],
              workingRequests: [
                { start: '2031-03-09T23:00:00Z', end: '2031-03-10T23:00:00Z', type: 'WORK_FROM_HOME' as const },
                { start: '2031-03-10T23:00:00Z', end: '2031-03-12T23:00:00Z', type: 'BUSINESS_TRAVEL' as const },
              ],
            }
          : e,
      ),
    };
    beforeAll(() => sandbox.addWorkspace(ws));

    /** Who's out as the emulator answers it, straight over HTTP. */
    async function whosOut(extra: string): Promise<{ status: number; body: { outs?: Array<Record<string, unknown>> } & Record<string, unknown> }> {
      const auth = Buffer.from(`${ws.id}:${ws.token}`).toString('base64');
      const res = await fetch(`${sandbox.url}/v1/timeoff/whosout?from=2031-03-09&to=2031-03-15${extra}`, { headers: { authorization: `Basic ${auth}` } });
      return { status: res.status, body: (await res.json()) as { outs?: Array<Record<string, unknown>> } };
    }

    it('the emulator lists working-type requests by default and when asked, as Bob does, and leaves them out with includeWorkingRequests=false', async () => {
      const policies = (outs: Array<Record<string, unknown>> | undefined) => (outs ?? []).map((o) => [o['policyTypeDisplayName'], o['startDate'], o['endDate']]);
      const all = [
        ['Work from home', '2031-03-10', '2031-03-10'],
        ['Business travel', '2031-03-11', '2031-03-12'],
        ['Sick', '2031-03-13', '2031-03-13'],
      ];
      expect(policies((await whosOut('')).body.outs)).toEqual(all);
      expect(policies((await whosOut('&includeWorkingRequests=true')).body.outs)).toEqual(all);
      expect(policies((await whosOut('&includeWorkingRequests=false')).body.outs)).toEqual([['Sick', '2031-03-13', '2031-03-13']]);
      const bad = await whosOut('&includeWorkingRequests=maybe');
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error: 'includeWorkingRequests must be true or false', key: 'bad.request' });
    });

    it('asks for absences only: a rep working from home or travelling is not on leave', async () => {
      const { client: c, answers } = client({ serviceUser: ws.id, token: ws.token });
      const result = await timeOff(c, [dieter.email], '2031-03-09', '2031-03-15');
      const [request] = sandbox.events().filter((e) => e.provider === 'hibob' && e.workspace === ws.id).slice(-1);
      expect(request?.query).toEqual({ from: '2031-03-09', to: '2031-03-15', includeWorkingRequests: 'false' });
      expect((answers[0]?.body as { outs: unknown[] }).outs).toHaveLength(1);
      expect(result.data).toEqual([{ employeeId: dieter.employeeId, email: dieter.email, start: '2031-03-13', end: '2031-03-13', type: 'Sick', allDay: true }]);
    });
  });

  it('fails a date that does not exist as non-retryable UpstreamRejected with the { error, key } detail', async () => {
    const { client: c, answers } = client();
    const failure = await failureOf(timeOff(c, [ava.email], '2031-02-30', '2031-03-05'));
    expect(answers[0]?.status).toBe(400);
    expect(answers[0]?.body).toEqual({ error: 'Invalid from date: 2031-02-30 (expected YYYY-MM-DD)', key: 'bad.request' });
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Invalid from date');
  });
});

describe('hibob errors and limits', () => {
  it.each([
    ['a wrong token', { token: 'not-the-token' }],
    ['an unknown service user', { serviceUser: 'someone-else' }],
  ])('fails %s as non-retryable UpstreamAuthFailed', async (_case, opts) => {
    const { client: c, answers } = client(opts);
    const failure = await failureOf(findEmployees(c, [ava.email]));
    expect(answers[0]?.status).toBe(401);
    expect(answers[0]?.body).toEqual({ error: 'Invalid service user credentials', key: 'unauthorized' });
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).not.toContain('not-the-token');
  });

  it('turns the 429 over the limit into UpstreamRateLimited waiting exactly Retry-After', async () => {
    const tight: SandboxWorkspace = { ...seed, id: 'hibob-tight', token: 'hibob-tight-token', rateLimit: { limit: 1, windowSeconds: 30 } };
    sandbox.addWorkspace(tight);
    const { client: c, answers } = client({ serviceUser: tight.id, token: tight.token });
    await findEmployees(c, [ava.email]);
    const failure = await failureOf(findEmployees(c, [ava.email]));

    const limited = answers[1];
    expect(limited?.status).toBe(429);
    expect(limited?.body).toEqual({ error: 'Too many requests', key: 'too.many.requests' });
    expect(limited?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited?.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const retryAfter = Number(limited?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(retryAfter * 1000);
  });
});
