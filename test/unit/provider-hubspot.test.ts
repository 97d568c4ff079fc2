import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { hubspotProvider } from '../../src/connectors/providers/hubspot';
import { DEMO_REPS, DEMO_TOKEN, demoWorkspace } from '../../sandbox/seed';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf, detailsOf } from '../support/failures';

/**
 * The HubSpot definition against the HubSpot emulator over real HTTP: OAuth tokens from its token
 * endpoint, companies searched by domain, contacts upserted by email, the ten-secondly limit and
 * search's own secondly limit.
 */

const START = Date.parse('2030-01-07T15:00:00.000Z');
let clock = START;
const SEED = demoWorkspace(new Date(START));
const [ava, ben] = DEMO_REPS;
const compiled = compileProvider(hubspotProvider);

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ workspaces: [SEED], now: () => clock });
});

afterEach(() => {
  clock = START;
});

afterAll(async () => {
  await sandbox.close();
});

/** A fresh copy of the demo workspace under its own ID and token (its own leads, windows and grants). */
function workspace(id: string, extra: Partial<SandboxWorkspace> = {}): SandboxWorkspace {
  const ws = { ...demoWorkspace(new Date(START)), id, token: `${id}-token`, ...extra };
  sandbox.addWorkspace(ws);
  return ws;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(new URL(path, sandbox.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function get(path: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, sandbox.url), { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** The refresh-token grant, as the connection's token refresher sends it. */
async function tokenRequest(ws: SandboxWorkspace, refreshToken = ws.token): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: ws.id, client_secret: ws.token, refresh_token: refreshToken });
  const res = await fetch(new URL('/oauth/v1/token', sandbox.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function accessToken(ws: SandboxWorkspace = SEED): Promise<string> {
  const { status, body } = await tokenRequest(ws);
  expect(status).toBe(200);
  return String(body['access_token']);
}

function client(secret: string, options: ClientOptions = {}): ProviderClient {
  return new ProviderClient(compiled, { connectionId: 'test/hubspot', baseUrl: sandbox.url, accountId: null, secret }, options);
}

const findAccounts = (c: ProviderClient, domain: string) => c.call('crm.findAccounts', { domain });
const createLead = (c: ProviderClient, email: string, ownerId: string, key = `${email}:assign`) =>
  c.call(
    'crm.createLead',
    { lead: { email, firstName: 'Jane', lastName: 'Doe', fullName: 'Jane Doe', company: 'Globex', title: 'VP Sales', phone: null }, ownerId, idempotencyKey: key },
  );
const updateOwner = (c: ProviderClient, crmLeadId: string, ownerId: string) =>
  c.call('crm.updateLeadOwner', { crmLeadId, ownerId, idempotencyKey: `${crmLeadId}:reassign` });

/** Every contact of a workspace, through HubSpot's list API. */
async function contacts(token: string): Promise<Array<{ id: string; properties: Record<string, string | null> }>> {
  const res = await get('/crm/v3/objects/contacts?limit=100', token);
  expect(res.status).toBe(200);
  return (res.body as { results: Array<{ id: string; properties: Record<string, string | null> }> }).results;
}

// -------------------------------------------------------------------------------------------- OAuth

describe('HubSpot OAuth token endpoint', () => {
  it('issues an access token in HubSpot’s body shape that the API accepts', async () => {
    const { status, body } = await tokenRequest(SEED);
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'bearer', refresh_token: DEMO_TOKEN, expires_in: 3600 });
    expect(typeof body['access_token']).toBe('string');
    const owners = await get('/crm/v3/owners', String(body['access_token']));
    expect(owners.status).toBe(200);
    expect((owners.body as { results: Array<{ id: string }> }).results.map((o) => o.id)).toEqual(DEMO_REPS.map((r) => r.id));
  });

  it('answers a revoked grant with BAD_REFRESH_TOKEN, which the definition reads as invalid_grant; a bad client is not', async () => {
    const ws = workspace('hubspot-revoked');
    expect((await tokenRequest(ws)).status).toBe(200);
    expect((await post('/_sandbox/oauth/revoke', { workspace: ws.id, provider: 'hubspot' })).status).toBe(204);

    const revoked = await tokenRequest(ws);
    expect(revoked.status).toBe(400);
    expect(revoked.body).toMatchObject({ status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token' });
    expect(revoked.body['correlationId']).toEqual(expect.any(String));
    expect(await compiled.invalidGrant?.evaluate(revoked.body)).toBe(true);

    const badClient = await tokenRequest({ ...ws, token: 'not-the-secret' });
    expect(badClient.status).toBe(401);
    expect(badClient.body).toMatchObject({ status: 'BAD_CLIENT_ID' });
    expect(await compiled.invalidGrant?.evaluate(badClient.body)).toBe(false);
  });

  it('answers an expired access token with 401 EXPIRED_AUTHENTICATION: a non-retryable UpstreamAuthFailed', async () => {
    const ws = workspace('hubspot-expired');
    const token = await accessToken(ws);
    expect((await post('/_sandbox/oauth/expire', { workspace: ws.id, provider: 'hubspot' })).status).toBe(200);

    const raw = await get('/crm/v3/owners', token);
    expect(raw.status).toBe(401);
    expect(raw.body).toMatchObject({ status: 'error', category: 'EXPIRED_AUTHENTICATION' });

    const failure = await failureOf(findAccounts(client(token), 'acme.com'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).status).toBe(401);
  });

  it('answers an unknown token with INVALID_AUTHENTICATION', async () => {
    const raw = await get('/crm/v3/owners', 'hub_at_made_up');
    expect(raw.status).toBe(401);
    expect(raw.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    const failure = await failureOf(findAccounts(client('hub_at_made_up'), 'acme.com'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
  });
});

// ----------------------------------------------------------------------------------------- accounts

describe('crm.findAccounts', () => {
  let token: string;
  beforeAll(async () => {
    token = await accessToken();
  });

  it('finds the company by its domain, owned by the seed account’s owner; a search answer carries no ten-secondly headers', async () => {
    const { data, meta } = await findAccounts(client(token), 'acme.com');
    expect(data).toEqual([{ id: 'acc_acme', name: 'Acme Corporation', ownerId: ava.id, domains: ['acme.com'], website: 'https://www.acme.com' }]);
    expect(meta.rateLimit).toEqual({ limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: null });
  });

  it('lists secondary domains from hs_additional_domains and finds a company by the domain HubSpot derives from its website', async () => {
    const globex = await findAccounts(client(token), 'globex.com');
    expect(globex.data).toEqual([{ id: 'acc_globex', name: 'Globex', ownerId: ben.id, domains: ['globex.com', 'globex.io'], website: 'https://globex.com' }]);
    const initech = await findAccounts(client(token), 'initech.com');
    expect(initech.data.map((a) => [a.id, a.domains])).toEqual([['acc_initech', ['initech.com']]]);
  });

  it('finds nothing for a domain no company has', async () => {
    expect((await findAccounts(client(token), 'hooli.com')).data).toEqual([]);
  });

  it('searches like HubSpot: filter groups OR\'d, filters AND\'d, custom properties returned when asked for', async () => {
    const accounts = SEED.accounts.map((a) => (a.id === 'acc_acme' ? { ...a, custom: { abm_tier: 'A' } } : a));
    const ws = workspace('hubspot-search', { accounts });
    const res = await post(
      '/crm/v3/objects/companies/search',
      {
        filterGroups: [
          { filters: [{ propertyName: 'domain', operator: 'EQ', value: 'acme.com' }, { propertyName: 'abm_tier', operator: 'EQ', value: 'A' }] },
          { filters: [{ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'umbrel*' }] },
          { filters: [{ propertyName: 'domain', operator: 'IN', values: ['globex.com', 'Initech.com'] }, { propertyName: 'hubspot_owner_id', operator: 'EQ', value: ben.id }] },
        ],
        properties: ['name', 'abm_tier'],
      },
      { authorization: `Bearer ${await accessToken(ws)}` },
    );
    expect(res.status).toBe(200);
    const body = res.body as { total: number; results: Array<{ id: string; properties: Record<string, string | null> }> };
    expect(body.results.map((r) => r.id)).toEqual(['acc_acme', 'acc_globex', 'acc_umbrella']);
    expect(body.total).toBe(3);
    expect(body.results[0]?.properties).toEqual({ name: 'Acme Corporation', abm_tier: 'A', hs_object_id: 'acc_acme' });
    expect(body.results[1]?.properties['abm_tier']).toBeNull();
  });

  it('pages with the body cursor: 150 companies on one domain take two searches, the second with after=100', async () => {
    const accounts = Array.from({ length: 150 }, (_, i) => ({ id: `acc_bulk_${i}`, name: `Bulk ${i}`, domains: ['bulk.example'], ownerId: ava.id }));
    const ws = workspace('hubspot-bulk', { accounts });
    sandbox.clearEvents();
    const { data, meta } = await findAccounts(client(await accessToken(ws)), 'bulk.example');
    expect(data.map((a) => a.id)).toEqual(accounts.map((a) => a.id));
    expect(meta.pages).toBe(2);
    const searches = sandbox.events().filter((e) => e.provider === 'hubspot' && e.path === '/crm/v3/objects/companies/search');
    expect(searches.map((e) => (e.body as { after?: string }).after)).toEqual([undefined, '100']);
  });
});

// -------------------------------------------------------------------------------------------- leads

describe('crm.createLead and crm.updateLeadOwner', () => {
  let token: string;
  let ws: SandboxWorkspace;
  beforeAll(async () => {
    ws = workspace('hubspot-leads');
    token = await accessToken(ws);
  });

  it('upserts by email: a retried create finds the contact (created:false, replayed), so there is one contact', async () => {
    const first = await createLead(client(token), 'jane.doe@globex.com', ben.id);
    expect(first.data).toEqual({ crmLeadId: expect.any(String), ownerId: ben.id, created: true });
    expect(first.meta.replayed).toBe(false);

    const retry = await createLead(client(token), 'jane.doe@globex.com', ben.id);
    expect(retry.data).toEqual({ crmLeadId: first.data.crmLeadId, ownerId: ben.id, created: false });
    expect(retry.meta.replayed).toBe(true);

    const janes = (await contacts(token)).filter((c) => c.properties['email'] === 'jane.doe@globex.com');
    expect(janes).toHaveLength(1);
    expect(janes[0]?.properties).toMatchObject({
      firstname: 'Jane',
      lastname: 'Doe',
      jobtitle: 'VP Sales',
      hubspot_owner_id: ben.id,
      leadrelay_key: 'jane.doe@globex.com:assign',
      phone: null,
    });
  });

  it('reassigns the contact with PATCH, and the contact shows the new owner', async () => {
    const created = await createLead(client(token), 'sam.lee@acme.com', ava.id);
    const moved = await updateOwner(client(token), created.data.crmLeadId, ben.id);
    expect(moved.data).toEqual({ crmLeadId: created.data.crmLeadId, ownerId: ben.id });
    const contact = await get(`/crm/v3/objects/contacts/${created.data.crmLeadId}`, token);
    expect((contact.body as { properties: Record<string, unknown> }).properties['hubspot_owner_id']).toBe(ben.id);
  });

  it('rejects an owner that is not a HubSpot owner: 400 VALIDATION_ERROR, a non-retryable UpstreamRejected, nothing written', async () => {
    const before = (await contacts(token)).length;
    const failure = await failureOf(createLead(client(token), 'nobody@acme.com', 'usr_ghost'));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('INVALID_OWNER_ID');
    expect(detailsOf(failure).status).toBe(400);
    expect(await contacts(token)).toHaveLength(before);
  });

  it('answers an unknown contact with 404 OBJECT_NOT_FOUND: a non-retryable UpstreamNotFound', async () => {
    const raw = await fetch(new URL('/crm/v3/objects/contacts/999999', sandbox.url), {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { hubspot_owner_id: ben.id } }),
    });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toMatchObject({ status: 'error', message: 'resource not found', category: 'OBJECT_NOT_FOUND' });

    const failure = await failureOf(updateOwner(client(token), '999999', ben.id));
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
  });

  it('rejects a property the portal does not have', async () => {
    const res = await post(
      '/crm/v3/objects/contacts/batch/upsert',
      { inputs: [{ idProperty: 'email', id: 'x@acme.com', properties: { favourite_colour: 'blue' } }] },
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ category: 'VALIDATION_ERROR' });
    expect((res.body as { message: string }).message).toContain('PROPERTY_DOESNT_EXIST');
  });

  it('reads a 207 batch answer with errors as a rejection, not a success', async () => {
    sandbox.injectFault({
      provider: 'hubspot',
      pathPrefix: '/crm/v3/objects/contacts/batch/upsert',
      status: 207,
      body: { status: 'COMPLETE', results: [], numErrors: 1, errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: 'Email address x is invalid' }] },
      times: 1,
    });
    const failure = await failureOf(createLead(client(token), 'partial@acme.com', ava.id));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('batch write rejected: Email address x is invalid');
  });
});

// ------------------------------------------------------------------------------------------- limits

describe('the HubSpot limit signal', () => {
  it('answers past the ten-secondly window with 429 TEN_SECONDLY_ROLLING and no Retry-After; the client waits the interval it was given', async () => {
    const ws = workspace('hubspot-tiny', { rateLimit: { limit: 1, windowSeconds: 30 } });
    const token = await accessToken(ws);
    const first = await createLead(client(token), 'first@globex.example', ava.id);
    expect(first.meta.rateLimit).toMatchObject({ limit: 1, remaining: 0, resetSeconds: 30, retryAfterSeconds: null });

    const raw = await get('/crm/v3/objects/contacts?limit=10', token);
    expect(raw.status).toBe(429);
    expect(raw.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });

    const failure = await failureOf(createLead(client(token), 'second@globex.example', ava.id));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(30_000);
    expect(failure.message).toContain('TEN_SECONDLY_ROLLING');
    expect(detailsOf(failure).rateLimit).toMatchObject({ limit: 1, remaining: 0, resetSeconds: 30, retryAfterSeconds: null });

    clock = START + 30_000;
    expect((await createLead(client(token), 'second@globex.example', ava.id)).data.created).toBe(true);
  });

  it('limits CRM search on its own, five a second per account and outside the ten-secondly window; its secondly 429 is a one-second wait', async () => {
    const ws = workspace('hubspot-search', { rateLimit: { limit: 1, windowSeconds: 30 } });
    const token = await accessToken(ws);
    const search = () => post('/crm/v3/objects/companies/search', { filterGroups: [] }, { authorization: `Bearer ${token}` });

    // Five searches in one second, although the ten-secondly window allows one call in 30 s.
    for (let i = 0; i < 5; i++) {
      const answer = await search();
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-hubspot-ratelimit-max')).toBeNull();
      expect(answer.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
      expect(answer.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBeNull();
    }
    const sixth = await search();
    expect(sixth.status).toBe(429);
    expect(sixth.body).toEqual({ status: 'error', message: 'You have reached your secondly limit.', correlationId: expect.any(String), category: 'RATE_LIMITS' });
    expect(sixth.headers.get('retry-after')).toBeNull();

    // The searches took nothing from the ten-secondly window: one other call still goes through.
    expect((await createLead(client(token), 'first@globex.example', ava.id)).meta.rateLimit).toMatchObject({ limit: 1, remaining: 0 });

    const failure = await failureOf(findAccounts(client(token), 'acme.com'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(1000);
    expect(failure.message).toContain('HubSpot secondly limit (CRM search: five requests a second per account): You have reached your secondly limit.');

    clock = START + 1000;
    expect((await findAccounts(client(token), 'acme.com')).data).toHaveLength(1);
  });

  /** HubSpot's 429 for another policy, with no interval header to wait by: the policy sets the wait. */
  function answering(policyName: string): typeof fetch {
    return () =>
      Promise.resolve(
        new Response(JSON.stringify({ status: 'error', message: `You have reached your ${policyName.toLowerCase()} limit.`, errorType: 'RATE_LIMIT', correlationId: 'c0ffee', policyName }), {
          status: 429,
          headers: { 'content-type': 'application/json;charset=utf-8' },
        }),
      );
  }

  it('waits 1 s for the SECONDLY policy', async () => {
    const failure = await failureOf(findAccounts(client('hub_at_fake', { fetch: answering('SECONDLY') }), 'acme.com'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nextRetryDelay).toBe(1000);
  });

  it('reads the DAILY policy as a one-hour wait, which a lead that cannot wait that long turns into its fallback', async () => {
    const patient = await failureOf(findAccounts(client('hub_at_fake', { fetch: answering('DAILY') }), 'acme.com'));
    expect(patient.type).toBe('UpstreamRateLimited');
    expect(patient.nonRetryable).toBe(false);
    expect(patient.nextRetryDelay).toBe(3_600_000);
    expect(patient.message).toContain('daily limit');

    const urgent = await failureOf(findAccounts(client('hub_at_fake', { fetch: answering('DAILY'), maxWaitMs: 60_000 }), 'acme.com'));
    expect(urgent.type).toBe('UpstreamRateLimited');
    expect(urgent.nonRetryable).toBe(true);
    expect(urgent.message).toContain('fallback');
  });
});
