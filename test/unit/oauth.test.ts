import { compileProvider } from '../../src/connectors/definition';
import { salesforceProvider } from '../../src/connectors/providers/salesforce';
import { OAuthTokens, type OAuthGrant } from '../../src/connectors/oauth';
import { Connectors } from '../../src/connectors/registry';
import type { UpstreamFailureDetails } from '../../src/connectors/failure';
import { DEMO_STACK_TENANTS, demoStackTenant, demoStackWorkspace } from '../../sandbox/demoTenant';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import { TenantRegistry } from '../../src/tenants/registry';
import { failureOf } from '../support/failures';

/**
 * OAuth connections against the Salesforce emulator over real HTTP: one refresh per connection
 * however many calls notice expiry together, proactive refresh, cool-down after a failed
 * refresh, and invalid_grant turning into "needs re-authorization" that nothing loops on.
 * The connectors' clock is fake (so tokens can expire on demand); the sandbox's is real.
 */
const HOUR = 3_600_000;
const { tenantId, workspaceId } = DEMO_STACK_TENANTS.salesforce;

let sandbox: RunningSandbox;
let clock: number;

beforeAll(async () => {
  sandbox = await startSandbox({ workspaces: [demoStackWorkspace(new Date(), 'salesforce')] });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  clock = Date.now();
  sandbox.addWorkspace(demoStackWorkspace(new Date(), 'salesforce'));
  sandbox.clearEvents();
  await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
});

function connectorsFor(crm: { baseUrl?: string; tokenUrl?: string } = {}): Connectors {
  const tenants = new TenantRegistry();
  const tenant = demoStackTenant(sandbox.url, 'salesforce');
  const connection = tenant.connections.crm;
  if (crm.baseUrl) connection.baseUrl = crm.baseUrl;
  if (crm.tokenUrl && connection.oauth) connection.oauth.tokenUrl = crm.tokenUrl;
  tenants.add(tenant);
  const connectors = new Connectors(tenants, { now: () => clock });
  connectors.validateAll();
  return connectors;
}

const findAcme = (connectors: Connectors) => connectors.client(tenantId, 'crm').call('crm.findAccounts', { domain: 'acme.com' });

function refreshes(): number {
  return sandbox.events().filter((e) => e.provider === 'salesforce-oauth').length;
}

async function post(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.ok).toBe(true);
}

describe('OAuth connections', () => {
  it('refreshes once for 50 concurrent calls that all find the token expired', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors); // first token
    const before = refreshes();
    expect(before).toBe(1);

    clock += 3 * HOUR; // Salesforce tokens are assumed to last 2 h: this one has expired
    const results = await Promise.all(Array.from({ length: 50 }, () => findAcme(connectors)));

    expect(refreshes() - before).toBe(1);
    expect(results.every((r) => r.data[0]?.name === 'Acme Corporation')).toBe(true);
    expect(connectors.describe(tenantId).find((c) => c.category === 'crm')?.auth).toMatchObject({ state: 'valid', refreshes: 2, failedRefreshes: 0 });
  });

  it('refreshes proactively: close to expiry the old token still serves while one refresh runs', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors);
    clock += 2 * HOUR - 2 * 60_000; // two minutes left: inside the refresh margin, not expired
    const during = await Promise.all(Array.from({ length: 10 }, () => findAcme(connectors)));
    expect(during).toHaveLength(10);
    // Let the background refresh land, then nothing more is needed for a while.
    await new Promise((r) => setTimeout(r, 200));
    expect(refreshes()).toBe(2);
    await findAcme(connectors);
    expect(refreshes()).toBe(2);
  });

  it('on invalid_grant marks the connection as needing re-authorization and fails every call at once, without asking again', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors);
    await post('/_sandbox/oauth/revoke', { workspace: workspaceId, provider: 'salesforce' });
    clock += 3 * HOUR;

    const failure = await failureOf(findAcme(connectors));
    expect(failure.type).toBe('ConnectionNeedsReauthorization');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/needs re-authorization: HTTP 400 invalid_grant/);
    const asked = refreshes();

    for (let i = 0; i < 5; i++) expect((await failureOf(findAcme(connectors))).type).toBe('ConnectionNeedsReauthorization');
    expect(refreshes()).toBe(asked); // nothing loops on the token endpoint
    const view = connectors.describe(tenantId).find((c) => c.category === 'crm');
    expect(view?.auth).toMatchObject({ state: 'needs_reauthorization', lastError: expect.stringMatching(/invalid_grant/) });

    // An admin re-authorizes at the provider, then tells Leadrelay to try again.
    await post('/_sandbox/oauth/revoke', { workspace: workspaceId, provider: 'salesforce', revoked: false });
    expect(connectors.reauthorize(tenantId, 'crm')).toBe(true);
    expect((await findAcme(connectors)).data[0]?.name).toBe('Acme Corporation');
    expect(refreshes()).toBe(asked + 1);
  });

  it('cools down after a failed refresh: the failure says when to retry and the endpoint is not asked meanwhile', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors);
    sandbox.injectFault({ provider: 'salesforce-oauth', status: 503, times: 1 });
    clock += 3 * HOUR;

    const first = await failureOf(findAcme(connectors));
    expect(first.type).toBe('AuthRefreshFailed');
    expect(first.nonRetryable).toBe(false);
    expect(first.nextRetryDelay).toBe(5000);
    const asked = refreshes();

    clock += 1000;
    const second = await failureOf(findAcme(connectors));
    expect(second.type).toBe('AuthRefreshFailed');
    expect(second.nextRetryDelay).toBe(4000);
    expect(refreshes()).toBe(asked);

    clock += 4000;
    expect((await findAcme(connectors)).data).toHaveLength(1);
    expect(refreshes()).toBe(asked + 1);
  });

  it('a token the provider rejects early (401) is dropped, and the retry uses a new one', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors);
    await post('/_sandbox/oauth/expire', { workspace: workspaceId });
    clock += 10 * 60_000; // an old enough token: a refresh may help

    const failure = await failureOf(findAcme(connectors));
    expect(failure.type).toBe('UpstreamAuthExpired');
    expect(failure.nonRetryable).toBe(false);
    expect((failure.details?.[0] as UpstreamFailureDetails).status).toBeNull();

    expect((await findAcme(connectors)).data[0]?.name).toBe('Acme Corporation');
    expect(refreshes()).toBe(2);
  });

  it('a brand-new token rejected with 401 is an auth failure, not a refresh loop', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors);
    await post('/_sandbox/oauth/expire', { workspace: workspaceId });
    const failure = await failureOf(findAcme(connectors));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(refreshes()).toBe(1);
  });

  it('never puts a token in a failure', async () => {
    const connectors = connectorsFor();
    await findAcme(connectors);
    await post('/_sandbox/oauth/revoke', { workspace: workspaceId, provider: 'salesforce' });
    clock += 3 * HOUR;
    const failure = await failureOf(findAcme(connectors));
    const text = JSON.stringify({ message: failure.message, details: failure.details });
    expect(text).not.toContain(DEMO_STACK_TENANTS.salesforce.token);
    expect(text).not.toMatch(/_at_\d+_/);
  });

  it("sends Salesforce calls to the instance_url the token answer names, not to the login host", async () => {
    // A login host that serves no API (nothing listens on port 9): only the token endpoint is elsewhere.
    const connectors = connectorsFor({ baseUrl: 'http://127.0.0.1:9', tokenUrl: `${sandbox.url}/services/oauth2/token` });
    const found = await findAcme(connectors);
    expect(found.data[0]?.name).toBe('Acme Corporation');
    expect(sandbox.events().some((e) => e.provider === 'salesforce' && e.path.startsWith('/services/data/') && e.status === 200)).toBe(true);
    expect(connectors.describe(tenantId).find((c) => c.category === 'crm')?.auth).toMatchObject({ state: 'valid', instanceUrl: sandbox.url });
  });
});

describe('the API host a token answer names', () => {
  const grant = (instanceUrl: unknown): { tokens: OAuthTokens; grant: OAuthGrant } => {
    const answer = { access_token: 'at', instance_url: instanceUrl, token_type: 'Bearer' };
    const tokens = new OAuthTokens({ fetch: async () => new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } }) });
    const compiled = compileProvider(salesforceProvider);
    return {
      tokens,
      grant: {
        connectionId: 't/crm',
        provider: 'salesforce',
        tokenUrl: 'http://127.0.0.1:9/token',
        clientId: 'c',
        clientSecret: 's',
        refreshToken: 'r',
        scope: null,
        lifetimeSeconds: 7200,
        invalidGrant: compiled.invalidGrant!,
        instanceUrlField: 'instance_url',
      },
    };
  };

  it.each([
    ['https://globex.my.salesforce.com', 'https://globex.my.salesforce.com'],
    ['https://globex.my.salesforce.com/', 'https://globex.my.salesforce.com'],
    ['javascript:alert(1)', null],
    ['https://user:pass@evil.example', null],
    ['not a url', null],
    [42, null],
  ])('instance_url %p → %p (anything but a plain http(s) URL keeps the configured baseUrl)', async (value, expected) => {
    const { tokens, grant: g } = grant(value);
    expect(await tokens.accessToken(g)).toBe('at');
    expect(tokens.instanceUrl('t/crm')).toBe(expected);
  });
});
