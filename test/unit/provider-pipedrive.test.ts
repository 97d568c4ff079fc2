import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { pipedriveProvider } from '../../src/connectors/providers/pipedrive';
import { DEMO_REPS, DEMO_TOKEN, demoWorkspace } from '../../sandbox/seed';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf, detailsOf } from '../support/failures';

/**
 * The Pipedrive definition against the Pipedrive emulator over real HTTP. Pipedrive IDs are
 * integers, so the workspace is the demo seed with numeric user and account IDs.
 */

const START = Date.parse('2030-01-07T15:00:00.000Z');
let clock = START;
const compiled = compileProvider(pipedriveProvider);

/** Demo reps as Pipedrive users 1001..1005 (in seed order), accounts as organizations 501.. */
const USER_ID = new Map<string, string>(DEMO_REPS.map((r, i) => [r.id, String(1001 + i)]));
const AVA = '1001';
const BEN = '1002';
const DIETER = '1004';

function pipedriveWorkspace(id: string, extra: Partial<SandboxWorkspace> = {}): SandboxWorkspace {
  const seed = demoWorkspace(new Date(START));
  return {
    ...seed,
    id,
    token: `${id}-token`,
    users: seed.users.map((u) => ({ ...u, id: USER_ID.get(u.id) ?? u.id })),
    accounts: seed.accounts.map((a, i) => ({ ...a, id: String(501 + i), ownerId: USER_ID.get(a.ownerId) ?? a.ownerId })),
    ...extra,
  };
}

const WS = pipedriveWorkspace('pipedrive-main');
let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ workspaces: [demoWorkspace(new Date(START)), WS], now: () => clock });
});

/** Each test starts 2 s after the previous one: a fresh search window (10 searches per 2 s per token). */
let testStart = START;
beforeEach(() => {
  testStart += 2_000;
  clock = testStart;
});

afterAll(async () => {
  await sandbox.close();
});

function addWorkspace(id: string, extra: Partial<SandboxWorkspace> = {}): SandboxWorkspace {
  const ws = pipedriveWorkspace(id, extra);
  sandbox.addWorkspace(ws);
  return ws;
}

function client(secret = WS.token, options: ClientOptions = {}): ProviderClient {
  return new ProviderClient(compiled, { connectionId: 'test/pipedrive', baseUrl: sandbox.url, accountId: null, secret }, { now: () => clock, ...options });
}

async function raw(path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const headers: Record<string, string> = init.token === undefined ? {} : { 'x-api-token': init.token };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, sandbox.url), {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

const findAccounts = (c: ProviderClient, domain: string) => c.call('crm.findAccounts', { domain });
const findLead = (c: ProviderClient, email: string) => c.call('crm.findLead', { email });
const createLead = (c: ProviderClient, email: string, ownerId: string) =>
  c.call(
    'crm.createLead',
    { lead: { email, firstName: 'Jane', lastName: 'Doe', fullName: 'Jane Doe', phone: '+1 415 555 0100' }, ownerId, idempotencyKey: `${email}:assign` },
  );
const updateOwner = (c: ProviderClient, crmLeadId: string, ownerId: string) =>
  c.call('crm.updateLeadOwner', { crmLeadId, ownerId, idempotencyKey: `${crmLeadId}:reassign` });

/** What the lead activity does on a CRM without upsert: look the email up, create only when absent. */
async function assign(c: ProviderClient, email: string, ownerId: string): Promise<{ crmLeadId: string; created: boolean }> {
  const [found] = (await findLead(c, email)).data;
  if (found) return { crmLeadId: found.crmLeadId, created: false };
  return { crmLeadId: (await createLead(c, email, ownerId)).data.crmLeadId, created: true };
}

// ----------------------------------------------------------------------------------------- accounts

describe('crm.findAccounts', () => {
  it('finds the organization by the domain in its custom field, with integer IDs as strings and the search window’s headers normalized', async () => {
    const { data, meta } = await findAccounts(client(), 'acme.com');
    expect(data).toEqual([{ id: '501', name: 'Acme Corporation', ownerId: AVA, domains: ['acme.com'], website: null }]);
    expect(meta.rateLimit).toEqual({ limit: 10, remaining: 9, resetSeconds: 2, retryAfterSeconds: null });
  });

  it('finds an account whose domain only its website gave, and nothing for a domain no organization has', async () => {
    expect((await findAccounts(client(), 'initech.com')).data).toEqual([{ id: '503', name: 'Initech', ownerId: DIETER, domains: ['initech.com'], website: null }]);
    expect((await findAccounts(client(), 'hooli.com')).data).toEqual([]);
  });

  it('matches the domain exactly: a longer domain that contains it is not the account', async () => {
    expect((await findAccounts(client(), 'globex.co')).data).toEqual([]);
    expect((await findAccounts(client(), 'GLOBEX.com')).data.map((a) => a.id)).toEqual(['502']);
  });

  it('follows next_cursor: 150 organizations on one domain take two searches', async () => {
    const accounts = Array.from({ length: 150 }, (_, i) => ({ id: String(2000 + i), name: `Bulk ${i}`, domains: ['bulk.example'], ownerId: BEN }));
    const ws = addWorkspace('pipedrive-bulk', { accounts });
    const { data, meta } = await findAccounts(client(ws.token), 'bulk.example');
    expect(data.map((a) => a.id)).toEqual(accounts.map((a) => a.id));
    expect(data.every((a) => a.ownerId === BEN)).toBe(true);
    expect(meta.pages).toBe(2);
  });

  it('refuses a workspace whose seed IDs are not integers, saying so (a sandbox set-up error)', async () => {
    const failure = await failureOf(findAccounts(client(DEMO_TOKEN), 'acme.com'));
    expect(failure.type).toBe('UpstreamUnavailable');
    expect(failure.message).toContain('give this workspace numeric IDs');
  });
});

// -------------------------------------------------------------------------------------------- leads

describe('crm.findLead, crm.createLead and crm.updateLeadOwner', () => {
  it('creates a person the find-then-create way: a retried assignment finds it and creates no second person', async () => {
    const c = client();
    expect((await findLead(c, 'jane.doe@globex.com')).data).toEqual([]);
    const first = await assign(c, 'jane.doe@globex.com', BEN);
    expect(first.created).toBe(true);
    expect(first.crmLeadId).toMatch(/^\d+$/);

    const retry = await assign(c, 'jane.doe@globex.com', BEN);
    expect(retry).toEqual({ crmLeadId: first.crmLeadId, created: false });
    expect((await findLead(c, 'Jane.Doe@globex.com')).data).toEqual([{ crmLeadId: first.crmLeadId, ownerId: BEN }]);

    const person = await raw(`/api/v2/persons/${first.crmLeadId}`, { token: WS.token });
    expect(person.body).toMatchObject({
      success: true,
      data: {
        id: Number(first.crmLeadId),
        name: 'Jane Doe',
        owner_id: Number(BEN),
        emails: [{ value: 'jane.doe@globex.com', primary: true, label: 'work' }],
        phones: [{ value: '+1 415 555 0100', primary: true, label: 'work' }],
      },
    });
  });

  it('does not deduplicate a bare create, as Pipedrive does not: that is what crm.findLead is for', async () => {
    const a = await createLead(client(), 'twice@acme.com', AVA);
    const b = await createLead(client(), 'twice@acme.com', AVA);
    expect(a.data.crmLeadId).not.toBe(b.data.crmLeadId);
    expect((await findLead(client(), 'twice@acme.com')).data).toHaveLength(2);
  });

  it('reassigns a person with PATCH, and the person shows the new owner', async () => {
    const { data } = await createLead(client(), 'sam.lee@acme.com', AVA);
    expect(data).toEqual({ crmLeadId: expect.stringMatching(/^\d+$/), ownerId: AVA });
    const moved = await updateOwner(client(), data.crmLeadId, DIETER);
    expect(moved.data).toEqual({ crmLeadId: data.crmLeadId, ownerId: DIETER });
    expect((await findLead(client(), 'sam.lee@acme.com')).data).toEqual([{ crmLeadId: data.crmLeadId, ownerId: DIETER }]);
  });

  it('answers an unknown person with 404 in Pipedrive’s envelope: a non-retryable UpstreamNotFound', async () => {
    const res = await raw('/api/v2/persons/999999', { method: 'PATCH', token: WS.token, body: { owner_id: Number(AVA) } });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: 'Person not found', data: null, additional_data: null });

    const failure = await failureOf(updateOwner(client(), '999999', AVA));
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
  });

  it('rejects an owner that is not a Pipedrive user (400: UpstreamRejected), and a non-numeric owner before sending (MappingError)', async () => {
    const unknown = await failureOf(createLead(client(), 'ghost@acme.com', '4242'));
    expect(unknown.type).toBe('UpstreamRejected');
    expect(unknown.nonRetryable).toBe(true);
    expect(detailsOf(unknown).status).toBe(400);
    expect((await findLead(client(), 'ghost@acme.com')).data).toEqual([]);

    sandbox.clearEvents();
    const notANumber = await failureOf(createLead(client(), 'ghost@acme.com', 'usr_ava'));
    expect(notANumber.type).toBe('MappingError');
    expect(sandbox.events().filter((e) => e.provider === 'pipedrive')).toHaveLength(0);
  });
});

// ------------------------------------------------------------------------------------ auth and limits

describe('authentication and the limit signal', () => {
  it('answers a wrong API token with 401 unauthorized access: a non-retryable UpstreamAuthFailed', async () => {
    const res = await raw('/api/v2/persons/search?term=x&exact_match=true', { token: 'not-a-token' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401 });

    const failure = await failureOf(findAccounts(client('not-a-token'), 'acme.com'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
  });

  it('also takes the token as the api_token query parameter', async () => {
    const res = await raw(`/api/v2/organizations/search?term=acme.com&fields=custom_fields&exact_match=true&api_token=${WS.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, data: { items: [{ item: { id: 501, owner: { id: Number(AVA) } } }] } });
  });

  it('answers past the window with 429 and its x-ratelimit-reset: a retryable UpstreamRateLimited waiting that long', async () => {
    const ws = addWorkspace('pipedrive-tiny', { rateLimit: { limit: 1, windowSeconds: 30 } });
    await findAccounts(client(ws.token), 'acme.com');

    clock = testStart + 2_000;
    const res = await raw('/api/v2/organizations/search?term=acme.com', { token: ws.token });
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ success: false });
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset')).toBe('28');
    expect(res.headers.get('retry-after')).toBeNull();

    const failure = await failureOf(findAccounts(client(ws.token), 'acme.com'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(28_000);
    expect(detailsOf(failure).rateLimit).toEqual({ limit: 1, remaining: 0, resetSeconds: 28, retryAfterSeconds: null });

    clock = testStart + 30_000;
    expect((await findAccounts(client(ws.token), 'acme.com')).data).toHaveLength(1);
  });

  it('limits search to 10 requests per 2 s per token, apart from the burst window: two searches a lead hold a token to 5 leads per 2 s', async () => {
    const ws = addWorkspace('pipedrive-search');
    const c = client(ws.token);
    for (let lead = 1; lead <= 5; lead++) {
      await findAccounts(c, 'acme.com');
      expect((await findLead(c, `lead${lead}@globex.example`)).meta.rateLimit).toEqual({ limit: 10, remaining: 10 - 2 * lead, resetSeconds: 2, retryAfterSeconds: null });
    }
    const refused = await raw('/api/v2/persons/search?term=lead6@globex.example&fields=email&exact_match=true', { token: ws.token });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ success: false, error: 'Request over limit' });
    expect([refused.headers.get('x-ratelimit-limit'), refused.headers.get('x-ratelimit-remaining'), refused.headers.get('x-ratelimit-reset')]).toEqual(['10', '0', '2']);

    const failure = await failureOf(findAccounts(c, 'acme.com'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(2000);
    // Other calls count against the burst window only: a create still goes through.
    expect((await createLead(c, 'lead1@globex.example', AVA)).meta.rateLimit).toMatchObject({ limit: 1000, remaining: 1000 - 13 });

    clock = testStart + 2_000;
    expect((await findAccounts(c, 'acme.com')).data).toHaveLength(1);
  });

  it('spends a daily token budget (a search costs 40) and reads the spent budget as a wait until midnight UTC, which an urgent lead turns into its fallback', async () => {
    const ws = addWorkspace('pipedrive-budget', { rateLimit: { limit: 1000, windowSeconds: 2, dailyBudget: 100 } });
    clock = Date.parse('2030-01-07T22:00:00.000Z');
    const first = await raw('/api/v2/organizations/search?term=acme.com&fields=custom_fields&exact_match=true', { token: ws.token });
    expect([first.headers.get('x-daily-ratelimit-token-limit'), first.headers.get('x-daily-ratelimit-token-remaining')]).toEqual(['100', '60']);
    await findAccounts(client(ws.token), 'acme.com');

    const spent = await raw('/api/v2/organizations/search?term=acme.com&fields=custom_fields&exact_match=true', { token: ws.token });
    expect(spent.status).toBe(429);
    expect(spent.headers.get('x-daily-ratelimit-token-remaining')).toBe('0');

    const patient = await failureOf(findAccounts(client(ws.token), 'acme.com'));
    expect(patient.type).toBe('UpstreamRateLimited');
    expect(patient.nonRetryable).toBe(false);
    expect(patient.nextRetryDelay).toBe(2 * 60 * 60 * 1000);
    expect(patient.message).toContain('Pipedrive daily API token budget spent (it resets at midnight UTC): Request over limit');

    const urgent = await failureOf(findAccounts(client(ws.token, { maxWaitMs: 120_000 }), 'acme.com'));
    expect(urgent.type).toBe('UpstreamRateLimited');
    expect(urgent.nonRetryable).toBe(true);
    expect(urgent.message).toContain('fallback');

    // A new day, a new budget.
    clock = Date.parse('2030-01-08T00:00:01.000Z');
    expect((await findAccounts(client(ws.token), 'acme.com')).data).toHaveLength(1);
  });
});
