import type { Classification } from '../../src/connectors/classify';
import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { msgraphProvider } from '../../src/connectors/providers/msgraph';
import { schedulingMailbox } from '../../sandbox/providers/msgraph';
import { DEMO_REPS, DEMO_REP_BUSY, DEMO_REP_ON_PTO, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf, detailsOf } from '../support/failures';
import { useSandbox } from '../support/sandbox';

/**
 * The Microsoft Graph definition against the Graph emulator over real HTTP: the identity
 * platform's token endpoint, getSchedule mapped to the normalized availability (working hours
 * from Windows zone names back to IANA), and Graph's 429 + Retry-After and 401 answers.
 */
const NOW = Date.parse('2030-01-07T15:00:00.000Z');
const HOUR = 3_600_000;
const SEED = demoWorkspace(new Date(NOW));
const TIGHT: SandboxWorkspace = { ...SEED, id: 'graph-tight', token: 'graph-tight-token', rateLimit: { limit: 1, windowSeconds: 30 } };
const REVOKED: SandboxWorkspace = { ...SEED, id: 'graph-revoked', token: 'graph-revoked-token' };
const UNKNOWN = 'nobody@demo-sales.example';
const WINDOW = { start: new Date(NOW - 2 * HOUR).toISOString(), end: new Date(NOW + 2 * HOUR).toISOString() };
const TOKEN_PATH = '/organizations/oauth2/v2.0/token';

const sandbox = useSandbox({ workspaces: [SEED, TIGHT, REVOKED], now: () => NOW });

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Microsoft's refresh-token grant (scopes named, as Microsoft requires), with the workspace's default OAuth client. */
async function refresh(workspace: { id: string; token: string }, path = TOKEN_PATH): Promise<Response> {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: workspace.id,
    client_secret: workspace.token,
    refresh_token: workspace.token,
    scope: 'https://graph.microsoft.com/Calendars.Read.Shared offline_access',
  });
  return fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
}

async function accessToken(workspace: { id: string; token: string } = { id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN }): Promise<string> {
  const res = await refresh(workspace);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Connections read schedules as the workspace's scheduling service account, as the demo stacks do. */
function client(secret: string, options: ClientOptions = {}, mailbox = schedulingMailbox(DEMO_WORKSPACE_ID)): ProviderClient {
  return new ProviderClient(
    compileProvider(msgraphProvider),
    { connectionId: 'demo/calendar', baseUrl: `${sandbox.url}/v1.0`, accountId: mailbox, secret },
    options,
  );
}

function availability(c: ProviderClient, emails: string[], window = WINDOW) {
  return c.call('calendar.availability', { emails, ...window });
}

describe('Microsoft identity platform token endpoint', () => {
  it('grants a bearer token with a rotated refresh token on the organizations and common authorities', async () => {
    for (const path of [TOKEN_PATH, '/common/oauth2/v2.0/token']) {
      const res = await refresh({ id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN }, path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        token_type: 'Bearer',
        scope: expect.stringContaining('Calendars.Read'),
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: expect.stringMatching(/^msg_at_/),
        refresh_token: DEMO_TOKEN,
      });
    }
  });

  it('answers AADSTS70000 invalid_grant once the grant is revoked, which the definition reads as permanent', async () => {
    expect((await post('/_sandbox/oauth/revoke', { workspace: REVOKED.id, provider: 'msgraph' })).status).toBe(204);
    const res = await refresh(REVOKED);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/^AADSTS70000: /),
      error_codes: [70000],
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/),
      trace_id: expect.any(String),
      correlation_id: expect.any(String),
    });
    expect(await compileProvider(msgraphProvider).invalidGrant?.evaluate(body)).toBe(true);
  });
});

describe('Microsoft Graph calendar.availability', () => {
  it('maps getSchedule to the seed: Dieter\'s meeting and Chloe\'s out-of-office as UTC instants, and every rep\'s 07:00–22:00 week in their own IANA zone', async () => {
    const result = await availability(client(await accessToken()), DEMO_REPS.map((r) => r.email));
    const seedBusy = SEED.busy[0];
    const pto = SEED.employees.find((e) => e.email === DEMO_REP_ON_PTO.email)?.timeOff[0];
    expect(pto).toBeDefined();
    expect(result.data).toEqual(
      DEMO_REPS.map((r) => ({
        email: r.email,
        busy:
          r.email === DEMO_REP_BUSY.email
            ? [{ start: seedBusy?.start, end: seedBusy?.end }]
            : r.email === DEMO_REP_ON_PTO.email
              ? [{ start: pto?.start, end: pto?.end }]
              : [],
        workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '07:00', end: '22:00', timezone: r.timezone },
      })),
    );
  });

  it('reports a user Graph cannot find as an error (availability unknown) without working hours', async () => {
    const result = await availability(client(await accessToken()), [UNKNOWN, DEMO_REP_BUSY.email]);
    expect(result.data[0]).toEqual({ email: UNKNOWN, busy: [], workingHours: null, error: 'UserNotFound' });
    expect(result.data[1]?.busy).toHaveLength(1);
  });

  it('asks as the connection\'s mailbox, in UTC wall time, at a 30-minute view', async () => {
    sandbox.clearEvents();
    await availability(client(await accessToken()), [DEMO_REP_BUSY.email]);
    const calls = sandbox.events().filter((e) => e.provider === 'msgraph');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: `/v1.0/users/${encodeURIComponent(schedulingMailbox(DEMO_WORKSPACE_ID))}/calendar/getSchedule`,
      status: 200,
      body: {
        schedules: [DEMO_REP_BUSY.email],
        startTime: { dateTime: '2030-01-07T13:00:00', timeZone: 'UTC' },
        endTime: { dateTime: '2030-01-07T17:00:00', timeZone: 'UTC' },
        availabilityViewInterval: 30,
      },
    });
  });

  it('reads as any directory user too, such as a rep\'s own mailbox', async () => {
    const result = await availability(client(await accessToken(), {}, DEMO_REPS[0].email), [DEMO_REP_BUSY.email]);
    expect(result.data[0]?.busy).toHaveLength(1);
  });

  it('fails as UpstreamNotFound when the connection\'s mailbox is not in the directory', async () => {
    const failure = await failureOf(availability(client(await accessToken(), {}, 'ghost@demo-sales.example'), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('ErrorInvalidUser');
  });
});

describe('Microsoft Graph limits and auth failures', () => {
  it('turns 429 TooManyRequests into a retryable UpstreamRateLimited whose nextRetryDelay is the Retry-After Graph sent', async () => {
    const answers: Classification[] = [];
    const c = client(await accessToken(TIGHT), { onAnswer: (_id, a) => answers.push(a) }, schedulingMailbox(TIGHT.id));
    await availability(c, [DEMO_REP_BUSY.email]);
    const failure = await failureOf(availability(c, [DEMO_REP_BUSY.email]));

    const retryAfter = answers[1]?.rateLimit.retryAfterSeconds;
    expect(retryAfter).toBe(30);
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(30_000);
    expect(failure.message).toContain('TooManyRequests');
    expect(detailsOf(failure)).toMatchObject({ status: 429, waitMs: 30_000 });
  });

  it('answers an expired access token with 401 InvalidAuthenticationToken: a non-retryable UpstreamAuthFailed', async () => {
    const token = await accessToken();
    await post('/_sandbox/oauth/expire', { workspace: DEMO_WORKSPACE_ID, provider: 'msgraph' });
    const failure = await failureOf(availability(client(token), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).status).toBe(401);
    expect(failure.message).toContain('InvalidAuthenticationToken: Access token has expired or is not yet valid.');

    const fresh = await availability(client(await accessToken()), [DEMO_REP_BUSY.email]);
    expect(fresh.data[0]?.busy).toHaveLength(1);
  });

  it('does not accept a Google access token', async () => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: DEMO_WORKSPACE_ID, client_secret: DEMO_TOKEN, refresh_token: DEMO_TOKEN });
    const res = await fetch(`${sandbox.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const googleToken = ((await res.json()) as { access_token: string }).access_token;
    const failure = await failureOf(availability(client(googleToken), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamAuthFailed');
  });
});
