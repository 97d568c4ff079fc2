import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { googleProvider } from '../../src/connectors/providers/google';
import { DEMO_REPS, DEMO_REP_BUSY, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf, detailsOf } from '../support/failures';
import { useSandbox } from '../support/sandbox';

/**
 * The Google Calendar definition against the Google emulator over real HTTP: OAuth token
 * endpoint, freeBusy mapped to the normalized availability, and Google's limit and auth answers
 * mapped to the right failures. The sandbox clock is fixed, so windows and seed times are exact.
 */
const NOW = Date.parse('2030-01-07T15:00:00.000Z');
const HOUR = 3_600_000;
const SEED = demoWorkspace(new Date(NOW));
const TIGHT: SandboxWorkspace = { ...SEED, id: 'google-tight', token: 'google-tight-token', rateLimit: { limit: 1, windowSeconds: 30 } };
const REVOKED: SandboxWorkspace = { ...SEED, id: 'google-revoked', token: 'google-revoked-token' };
const UNKNOWN = 'nobody@demo-sales.example';
const WINDOW = { start: new Date(NOW - 2 * HOUR).toISOString(), end: new Date(NOW + 2 * HOUR).toISOString() };

const sandbox = useSandbox({ workspaces: [SEED, TIGHT, REVOKED], now: () => NOW });

afterEach(async () => {
  await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Google's refresh-token grant, with the sandbox's default OAuth client for a workspace. */
async function refresh(workspace: { id: string; token: string }): Promise<Response> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: workspace.id, client_secret: workspace.token, refresh_token: workspace.token });
  return fetch(`${sandbox.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
}

async function accessToken(workspace: { id: string; token: string } = { id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN }): Promise<string> {
  const res = await refresh(workspace);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function client(secret: string, options: ClientOptions = {}): ProviderClient {
  return new ProviderClient(compileProvider(googleProvider), { connectionId: 'demo/calendar', baseUrl: sandbox.url, accountId: null, secret }, options);
}

function availability(c: ProviderClient, emails: string[], window = WINDOW) {
  return c.call('calendar.availability', { emails, ...window });
}

describe('Google Calendar token endpoint', () => {
  it('grants a bearer access token for an hour in Google\'s body shape', async () => {
    const res = await refresh({ id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      access_token: expect.stringMatching(/^goo_at_/),
      expires_in: 3600,
      scope: 'https://www.googleapis.com/auth/calendar.freebusy',
      token_type: 'Bearer',
    });
  });

  it('answers invalid_grant once the grant is revoked, which the definition reads as permanent, and the old token stops working', async () => {
    const before = await accessToken(REVOKED);
    expect((await post('/_sandbox/oauth/revoke', { workspace: REVOKED.id, provider: 'google' })).status).toBe(204);

    const res = await refresh(REVOKED);
    expect(res.status).toBe(400);
    const body: unknown = await res.json();
    expect(body).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    expect(await compileProvider(googleProvider).invalidGrant?.evaluate(body)).toBe(true);

    const failure = await failureOf(availability(client(before), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(detailsOf(failure).status).toBe(401);
  });

  it('refuses a wrong client secret with invalid_client, which is not a lost grant', async () => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: DEMO_WORKSPACE_ID, client_secret: 'wrong', refresh_token: DEMO_TOKEN });
    const res = await fetch(`${sandbox.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(res.status).toBe(401);
    const body: unknown = await res.json();
    expect(body).toMatchObject({ error: 'invalid_client' });
    expect(await compileProvider(googleProvider).invalidGrant?.evaluate(body)).toBe(false);
  });
});

describe('Google Calendar calendar.availability', () => {
  it('maps freeBusy to the seed: Dieter\'s meeting, everyone else free, all emails lower-case', async () => {
    const result = await availability(client(await accessToken()), DEMO_REPS.map((r) => r.email.toUpperCase()));
    const seedBusy = SEED.busy[0];
    expect(result.data).toEqual(
      DEMO_REPS.map((r) => ({
        email: r.email,
        busy: r.email === DEMO_REP_BUSY.email ? [{ start: seedBusy?.start, end: seedBusy?.end }] : [],
      })),
    );
    expect(result.meta).toMatchObject({ provider: 'google', status: 200, rateLimit: { limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: null } });
  });

  it('clips busy periods to the window asked for', async () => {
    const result = await availability(client(await accessToken()), [DEMO_REP_BUSY.email], { start: new Date(NOW).toISOString(), end: WINDOW.end });
    expect(result.data[0]?.busy).toEqual([{ start: new Date(NOW).toISOString(), end: SEED.busy[0]?.end }]);
  });

  it('reports a calendar Google cannot find as an error (availability unknown), not as free', async () => {
    const result = await availability(client(await accessToken()), [UNKNOWN, DEMO_REP_BUSY.email]);
    expect(result.data[0]).toEqual({ email: UNKNOWN, busy: [], error: 'notFound' });
    expect(result.data[1]?.busy).toHaveLength(1);
  });

  it('sends one freeBusy query in UTC for the whole team', async () => {
    sandbox.clearEvents();
    await availability(client(await accessToken()), DEMO_REPS.map((r) => r.email));
    const calls = sandbox.events().filter((e) => e.provider === 'google');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: '/calendar/v3/freeBusy',
      status: 200,
      body: { timeMin: WINDOW.start, timeMax: WINDOW.end, timeZone: 'UTC', items: DEMO_REPS.map((r) => ({ id: r.email })) },
    });
  });

  it('rejects an empty time range with Google\'s timeRangeEmpty, non-retryably', async () => {
    const failure = await failureOf(availability(client(await accessToken()), [DEMO_REP_BUSY.email], { start: WINDOW.end, end: WINDOW.start }));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('The specified time range is empty.');
  });

  it('rejects more than 50 calendars in one query', async () => {
    const emails = Array.from({ length: 51 }, (_, i) => `rep${i}@demo-sales.example`);
    const failure = await failureOf(availability(client(await accessToken()), emails));
    expect(failure.type).toBe('UpstreamRejected');
    expect(detailsOf(failure).status).toBe(400);
  });
});

describe('Google Calendar limits and auth failures', () => {
  it('turns the 403 rateLimitExceeded Google sends once the window is spent into a retryable UpstreamRateLimited with the backoff (Google names no wait)', async () => {
    const c = client(await accessToken(TIGHT));
    await availability(c, [DEMO_REP_BUSY.email]);
    const failure = await failureOf(availability(c, [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(failure.message).toContain('Google rateLimitExceeded: Rate Limit Exceeded');
    expect(detailsOf(failure)).toMatchObject({ status: 403, waitMs: null });
  });

  it('honours a 429 rateLimitExceeded and its Retry-After', async () => {
    sandbox.injectFault({
      provider: 'google',
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: 429, message: 'Rate Limit Exceeded' } },
      times: 1,
    });
    const failure = await failureOf(availability(client(await accessToken()), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7000);
    expect(detailsOf(failure)).toMatchObject({ status: 429, reason: expect.stringContaining('429: Rate Limit Exceeded') });
  });

  it('keeps a 403 insufficientPermissions an authorization failure, not a rate limit', async () => {
    sandbox.injectFault({
      provider: 'google',
      status: 403,
      body: { error: { errors: [{ domain: 'global', reason: 'insufficientPermissions', message: 'Insufficient Permission' }], code: 403, message: 'Insufficient Permission' } },
      times: 1,
    });
    const failure = await failureOf(availability(client(await accessToken()), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
  });

  it('answers an expired access token with Google\'s 401: non-retryable auth failure, or a retry with a fresh token when the connection can refresh', async () => {
    const token = await accessToken();
    const expired = await post('/_sandbox/oauth/expire', { workspace: DEMO_WORKSPACE_ID, provider: 'google' });
    expect(((await expired.json()) as { expired: number }).expired).toBeGreaterThan(0);

    const failure = await failureOf(availability(client(token), [DEMO_REP_BUSY.email]));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).status).toBe(401);
    expect(failure.message).toContain('Request had invalid authentication credentials');

    const withRefresh = new ProviderClient(compileProvider(googleProvider), {
      connectionId: 'demo/calendar',
      baseUrl: sandbox.url,
      accountId: null,
      secret: token,
      onUnauthorized: () => true,
    });
    const retry = await failureOf(availability(withRefresh, [DEMO_REP_BUSY.email]));
    expect(retry.type).toBe('UpstreamAuthExpired');
    expect(retry.nonRetryable).toBe(false);

    const fresh = await availability(client(await accessToken()), [DEMO_REP_BUSY.email]);
    expect(fresh.data[0]?.busy).toHaveLength(1);
  });
});
