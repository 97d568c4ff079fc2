import { createHmac } from 'node:crypto';
import { createCrmActivities } from '../../activities/crm';
import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import type { OperationInput } from '../../src/connectors/normalized';
import { compileProvider, type DefinitionOverride } from '../../src/connectors/definition';
import { salesforceProvider } from '../../src/connectors/providers/salesforce';
import type { Connectors } from '../../src/connectors/registry';
import { DEMO_REPS, demoWorkspace } from '../../sandbox/seed';
import type { SandboxAccount, SandboxWorkspace } from '../../sandbox/types';
import { failureOf, detailsOf } from '../support/failures';
import { SALESFORCE_TERRITORY_OVERRIDE } from '../support/overrides';
import { useSandbox } from '../support/sandbox';

/**
 * The Salesforce definition against the Salesforce emulator over real HTTP: OAuth tokens from
 * the emulated token endpoint, SOQL and Composite reads, upserts by external ID, and
 * Salesforce's own error and limit answers mapped to the engine's failure types.
 */

const [ava, ben, chloe] = DEMO_REPS;
const seed = demoWorkspace(new Date());
const sandbox = useSandbox({ workspaces: [seed] });

// ------------------------------------------------------------------------------------- helpers

/** A workspace of its own (own token, leads and rate window), based on the demo seed. */
function workspace(id: string, patch: Partial<SandboxWorkspace> = {}): SandboxWorkspace {
  const ws = { ...demoWorkspace(new Date()), id, token: `${id}-token`, ...patch };
  sandbox.addWorkspace(ws);
  return ws;
}

function account(id: string, website: string, custom?: SandboxAccount['custom']): SandboxAccount {
  return { id, name: id, domains: [], website, ownerId: ben.id, ...(custom ? { custom } : {}) };
}

interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The refresh-token grant, with the sandbox's default OAuth client for the workspace. */
async function tokenRequest(ws: SandboxWorkspace): Promise<TokenAnswer> {
  const res = await fetch(`${sandbox.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: ws.id, client_secret: ws.token, refresh_token: ws.token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function accessToken(ws: SandboxWorkspace = seed): Promise<string> {
  const answer = await tokenRequest(ws);
  expect(answer.status).toBe(200);
  return String(answer.body['access_token']);
}

function client(secret: string, options: ClientOptions = {}, ...overrides: DefinitionOverride[]): ProviderClient {
  return new ProviderClient(compileProvider(salesforceProvider, ...overrides), { connectionId: 'tenant/salesforce', baseUrl: sandbox.url, accountId: null, secret }, options);
}

const findAccounts = (c: ProviderClient, domain: string) => c.call('crm.findAccounts', { domain });
const findByDomains = (c: ProviderClient, domains: string[]) => c.call('crm.findAccountsByDomains', { domains });
const createLead = (c: ProviderClient, input: OperationInput<'crm.createLead'>) =>
  c.call('crm.createLead', input);
const updateOwner = (c: ProviderClient, crmLeadId: string, ownerId: string) =>
  c.call('crm.updateLeadOwner', { crmLeadId, ownerId, idempotencyKey: `${crmLeadId}:reassign` });

const JANE: OperationInput<'crm.createLead'>['lead'] = { email: 'jane.doe@globex.com', firstName: 'Jane', lastName: 'Doe', company: 'Globex', title: 'VP Sales', phone: null, source: 'form' };

/** A raw REST call, for what the emulator holds and answers beyond the connector's view. */
async function rest(secret: string, path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${sandbox.url}${path}`, { ...init, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...init.headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null };
}

async function soql(secret: string, query: string): Promise<{ totalSize: number; records: Record<string, unknown>[] }> {
  const answer = await rest(secret, `/services/data/v60.0/query?q=${encodeURIComponent(query)}`);
  expect(answer.status).toBe(200);
  return answer.body as { totalSize: number; records: Record<string, unknown>[] };
}

// ---------------------------------------------------------------------------------------- OAuth

describe('Salesforce OAuth token endpoint', () => {
  it('answers the refresh grant as Salesforce does: instance_url, identity id, signature, and no expires_in', async () => {
    const answer = await tokenRequest(seed);
    expect(answer.status).toBe(200);
    const body = answer.body;
    expect(body).toMatchObject({ token_type: 'Bearer', instance_url: sandbox.url, scope: 'api refresh_token' });
    expect(body['expires_in']).toBeUndefined();
    expect(body['id']).toMatch(new RegExp(`^${sandbox.url}/id/00D[A-Za-z0-9]{15}/${ava.id}$`));
    const expected = createHmac('sha256', seed.token).update(`${String(body['id'])}${String(body['issued_at'])}`).digest('base64');
    expect(body['signature']).toBe(expected);

    // The instance URL it names is where the API answers.
    const c = new ProviderClient(compileProvider(salesforceProvider), { connectionId: 't/c', baseUrl: String(body['instance_url']), accountId: null, secret: String(body['access_token']) });
    expect((await findAccounts(c, 'acme.com')).data.map((a) => a.id)).toEqual(['acc_acme']);
  });

  it('answers invalid_grant once the grant is revoked, which the definition reads as permanent, and the old token stops working', async () => {
    const ws = workspace('sf-revoked');
    const token = await accessToken(ws);
    const revoke = await fetch(`${sandbox.url}/_sandbox/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: ws.id, provider: 'salesforce' }),
    });
    expect(revoke.status).toBe(204);

    const refused = await tokenRequest(ws);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
    const invalidGrant = compileProvider(salesforceProvider).invalidGrant;
    expect(await invalidGrant?.evaluate(refused.body)).toBe(true);
    expect(await invalidGrant?.evaluate({ error: 'invalid_client', error_description: 'client authentication failed' })).toBe(false);

    const failure = await failureOf(findAccounts(client(token), 'acme.com'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
  });

  it('answers an expired access token with 401 INVALID_SESSION_ID: auth failed, or retryable when a fresh token may help', async () => {
    const ws = workspace('sf-expired');
    const token = await accessToken(ws);
    const expire = await fetch(`${sandbox.url}/_sandbox/oauth/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: ws.id, provider: 'salesforce' }),
    });
    expect(expire.status).toBe(200);

    const raw = await rest(token, '/services/data/v60.0/query?q=SELECT+Id+FROM+Account');
    expect(raw.status).toBe(401);
    expect(raw.body).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);

    const failure = await failureOf(findAccounts(client(token), 'acme.com'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('INVALID_SESSION_ID: Session expired or invalid');

    const refreshing = new ProviderClient(compileProvider(salesforceProvider), {
      connectionId: 't/c',
      baseUrl: sandbox.url,
      accountId: null,
      secret: token,
      onUnauthorized: () => true,
    });
    const expired = await failureOf(findAccounts(refreshing, 'acme.com'));
    expect(expired.type).toBe('UpstreamAuthExpired');
    expect(expired.nonRetryable).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------- reads

describe('crm.findAccounts', () => {
  it('finds the seed account by its website host, with the owner and the owner e-mail', async () => {
    const c = client(await accessToken());
    const acme = seed.accounts.find((a) => a.id === 'acc_acme');
    const { data, meta } = await findAccounts(c, 'acme.com');
    expect(data).toEqual([{ id: acme?.id, name: acme?.name, ownerId: ava.id, ownerEmail: ava.email, domains: ['acme.com'], website: acme?.website }]);
    expect(meta).toMatchObject({ provider: 'salesforce', status: 200, pages: 1, replayed: false });
    expect(meta.rateLimit).toMatchObject({ limit: 1000, resetSeconds: null, retryAfterSeconds: null });

    // Only the website names Initech's domain: Salesforce has no domain list to fall back on.
    const initech = await findAccounts(c, 'initech.com');
    expect(initech.data).toEqual([expect.objectContaining({ id: 'acc_initech', ownerId: DEMO_REPS[3].id, domains: ['initech.com'] })]);
    expect((await findAccounts(c, 'hooli.com')).data).toEqual([]);
  });

  it('drops what LIKE over-matches, keeps subdomains, and escapes quotes and LIKE wildcards in the domain', async () => {
    const ws = workspace('sf-lookalikes', {
      accounts: [
        account('acc_real', 'https://www.acme.com'),
        account('acc_phish', 'https://acme.com.evil.io'),
        account('acc_prefix', 'http://notacme.com'),
        account('acc_labs', 'labs.acme.com/'),
        account('acc_oneil', "https://o'neil_co.com"),
        account('acc_oneilx', "https://o'neilxco.com"),
      ],
    });
    const c = client(await accessToken(ws));
    expect((await findAccounts(c, 'acme.com')).data.map((a) => [a.id, a.domains])).toEqual([
      ['acc_labs', ['labs.acme.com']],
      ['acc_real', ['acme.com']],
    ]);
    // `_` must not act as LIKE's single-character wildcard, nor `'` end the literal.
    expect((await findAccounts(c, "o'neil_co.com")).data.map((a) => a.id)).toEqual(['acc_oneil']);
  });

  it('follows nextRecordsUrl through every page when Salesforce answers in batches', async () => {
    const ws = workspace('sf-paged', { accounts: ['a', 'b', 'c', 'd', 'e'].map((x) => account(`acc_${x}`, `https://${x}.acme.com`)) });
    const small = { operations: { 'crm.findAccounts': { headers: '{ "Sforce-Query-Options": "batchSize=2" }' } } };
    const c = client(await accessToken(ws), {}, small);
    sandbox.clearEvents();

    const { data, meta } = await findAccounts(c, 'acme.com');
    expect(data.map((a) => a.id)).toEqual(['acc_a', 'acc_b', 'acc_c', 'acc_d', 'acc_e']);
    expect(meta.pages).toBe(3);
    const paths = sandbox.events().filter((e) => e.provider === 'salesforce').map((e) => e.path);
    expect(paths[0]).toBe('/services/data/v60.0/query');
    expect(paths.slice(1)).toEqual([expect.stringMatching(/^\/services\/data\/v60\.0\/query\/01g[\w-]+-2$/), expect.stringMatching(/-4$/)]);
  });

  it('takes a tenant override that selects a custom field and maps it into the account', async () => {
    const ws = workspace('sf-territory', {
      accounts: [account('acc_emea', 'https://acme.com', { Territory__c: 'EMEA', ABM_Tier__c: 1 }), account('acc_none', 'https://www.acme.com')],
    });
    const override = SALESFORCE_TERRITORY_OVERRIDE;
    const compiled = compileProvider(salesforceProvider, undefined, override);
    expect(compiled.layers).toEqual(['platform', 'tenant']);
    const c = new ProviderClient(compiled, { connectionId: 't/c', baseUrl: sandbox.url, accountId: null, secret: await accessToken(ws) });

    const { data, meta } = await findAccounts(c, 'acme.com');
    expect(data).toEqual([
      { id: 'acc_emea', name: 'acc_emea', ownerId: ben.id, website: 'https://acme.com', domains: ['acme.com'], territory: 'EMEA' },
      // The field exists on every account of the org; unset it is null.
      { id: 'acc_none', name: 'acc_none', ownerId: ben.id, website: 'https://www.acme.com', domains: ['acme.com'], territory: null },
    ]);
    expect(meta.mapping).toBe(`salesforce@${compiled.digest}`);
    expect(meta.mapping).not.toBe(`salesforce@${compileProvider(salesforceProvider).digest}`);
  });

  it('fails as rejected, not retryable, when a query names a field the org does not have', async () => {
    const override = { operations: { 'crm.findAccounts': { query: `{ "q": "SELECT Id, Territory__c FROM Account WHERE Website LIKE '%" & input.domain & "%'" }` } } };
    const failure = await failureOf(findAccounts(client(await accessToken(), {}, override), 'acme.com'));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain("INVALID_FIELD: \nSELECT Id, Territory__c FROM Account");
    expect(failure.message).toContain("No such column 'Territory__c' on entity 'Account'");
    expect(detailsOf(failure).status).toBe(400);
  });
});

describe('crm.findAccountsByDomains', () => {
  it('finds the accounts of several domains in one Composite call, in input order', async () => {
    const c = client(await accessToken());
    sandbox.clearEvents();
    const { data } = await findByDomains(c, ['globex.com', 'ACME.com', 'hooli.com']);
    expect(data.map((d) => [d.domain, d.accounts.map((a) => [a.id, a.ownerId])])).toEqual([
      ['globex.com', [['acc_globex', ben.id]]],
      ['ACME.com', [['acc_acme', ava.id]]],
      ['hooli.com', []],
    ]);
    const calls = sandbox.events().filter((e) => e.provider === 'salesforce');
    expect(calls.map((e) => `${e.method} ${e.path}`)).toEqual(['POST /services/data/v60.0/composite']);
  });

  it('fails the whole call when Salesforce refuses the request: more than 5 queries in one Composite', async () => {
    const c = client(await accessToken());
    const failure = await failureOf(findByDomains(c, ['a.com', 'b.com', 'c.com', 'd.com', 'e.com', 'f.com']));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('LIMIT_EXCEEDED: The request can’t contain more than 5 query operations.');
  });

  it('reads a REQUEST_LIMIT_EXCEEDED subrequest inside the 200 Composite answer as a rate limit', async () => {
    const c = client(await accessToken());
    sandbox.injectFault({
      provider: 'salesforce',
      pathPrefix: '/services/data/v60.0/composite',
      status: 200,
      body: {
        compositeResponse: [
          { body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], httpHeaders: {}, httpStatusCode: 403, referenceId: 'd0' },
        ],
      },
      times: 1,
    });
    const failure = await failureOf(findByDomains(c, ['acme.com']));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.');
  });
});

describe('matchAccount: the Composite cap is the definition’s maxBatch', () => {
  /** The CRM activities over this file's Salesforce client (one tenant, one connection). */
  const matchWith = (c: ProviderClient) => createCrmActivities({ connectors: { client: () => c } as unknown as Connectors }).matchAccount;
  const calls = () => sandbox.events().filter((e) => e.provider === 'salesforce').map((e) => `${e.method} ${e.path}`);
  const domains = (n: number) => Array.from({ length: n }, (_, i) => `nobody-${i}.example`);

  it('looks up as many domains as maxBatch (5) in one Composite call', async () => {
    const c = client(await accessToken());
    sandbox.clearEvents();
    const result = await matchWith(c)({ tenantId: 'acme', domains: domains(5) });
    expect(result).toMatchObject({ status: 'none', domains: domains(5) });
    expect(calls()).toEqual(['POST /services/data/v60.0/composite']);
  });

  it('looks up more domains than maxBatch one by one', async () => {
    const c = client(await accessToken());
    sandbox.clearEvents();
    await matchWith(c)({ tenantId: 'acme', domains: domains(6) });
    expect(calls()).toEqual(Array.from({ length: 6 }, () => 'GET /services/data/v60.0/query'));
  });

  it('follows a maxBatch an override sets: 3 domains over a cap of 2 go one by one, 2 in one call', async () => {
    const c = client(await accessToken(), {}, { operations: { 'crm.findAccountsByDomains': { maxBatch: 2 } } });
    sandbox.clearEvents();
    await matchWith(c)({ tenantId: 'acme', domains: domains(3) });
    expect(calls()).toEqual(Array.from({ length: 3 }, () => 'GET /services/data/v60.0/query'));
    sandbox.clearEvents();
    await matchWith(c)({ tenantId: 'acme', domains: domains(2) });
    expect(calls()).toEqual(['POST /services/data/v60.0/composite']);
  });
});

// --------------------------------------------------------------------------------------- writes

describe('crm.createLead and crm.updateLeadOwner', () => {
  it('upserts by external ID: the same call twice leaves one lead and the second reports created:false (replayed)', async () => {
    const token = await accessToken(workspace('sf-upsert'));
    const c = client(token);
    const input = { lead: JANE, ownerId: ben.id, idempotencyKey: 'lead-7f3a:assign' };

    const first = await createLead(c, input);
    expect(first.data).toEqual({ crmLeadId: expect.stringMatching(/^00Q[A-Za-z0-9]{15}$/), ownerId: ben.id, created: true });
    expect(first.meta).toMatchObject({ status: 201, replayed: false });
    const again = await createLead(c, input);
    expect(again.data).toEqual({ ...first.data, created: false });
    expect(again.meta).toMatchObject({ status: 200, replayed: true });

    const stored = await soql(token, "SELECT Id, FirstName, LastName, Company, Email, Title, LeadSource, OwnerId, Owner.Email, Leadrelay_Key__c FROM Lead");
    expect(stored.totalSize).toBe(1);
    expect(stored.records[0]).toMatchObject({
      Id: first.data.crmLeadId,
      FirstName: 'Jane',
      LastName: 'Doe',
      Company: 'Globex',
      Email: 'jane.doe@globex.com',
      Title: 'VP Sales',
      LeadSource: 'form',
      OwnerId: ben.id,
      Owner: { Email: ben.email },
      Leadrelay_Key__c: 'lead-7f3a:assign',
    });
  });

  it('creates one lead when two attempts with the same key race', async () => {
    const token = await accessToken(workspace('sf-race'));
    const c = client(token);
    const input = { lead: JANE, ownerId: chloe.id, idempotencyKey: 'lead-race:assign' };
    const results = await Promise.all([createLead(c, input), createLead(c, input)]);
    expect(new Set(results.map((r) => r.data.crmLeadId)).size).toBe(1);
    expect(results.map((r) => r.data.created).sort()).toEqual([false, true]);
    expect((await soql(token, 'SELECT Id FROM Lead')).totalSize).toBe(1);
  });

  it('fills the fields Salesforce requires on a Lead when the lead lacks them', async () => {
    const token = await accessToken(workspace('sf-required'));
    const { data } = await createLead(client(token), { lead: { email: 'someone@hooli.com', lastName: null, company: '' }, ownerId: ava.id, idempotencyKey: 'lead-91c2:assign' });
    const stored = await soql(token, `SELECT LastName, Company, FirstName FROM Lead WHERE Id = '${data.crmLeadId}'`);
    expect(stored.records[0]).toMatchObject({ LastName: '[not provided]', Company: '[not provided]', FirstName: null });
  });

  it('keeps the chosen owner because it turns assignment rules off (without the header the org rule would take the lead)', async () => {
    const token = await accessToken(workspace('sf-assignment'));
    const { data } = await createLead(client(token), { lead: JANE, ownerId: chloe.id, idempotencyKey: 'lead-rule:assign' });
    expect((await soql(token, `SELECT OwnerId FROM Lead WHERE Id = '${data.crmLeadId}'`)).records[0]?.['OwnerId']).toBe(chloe.id);

    const bare = await rest(token, '/services/data/v60.0/sobjects/Lead/Leadrelay_Key__c/lead-bare', {
      method: 'PATCH',
      body: JSON.stringify({ LastName: 'Roe', Company: 'Initech', OwnerId: chloe.id }),
    });
    expect(bare.status).toBe(201);
    const ruled = await soql(token, "SELECT OwnerId FROM Lead WHERE Leadrelay_Key__c = 'lead-bare'");
    expect(ruled.records[0]?.['OwnerId']).toBe(ava.id);
  });

  it('rejects an unknown owner with INVALID_CROSS_REFERENCE_KEY on OwnerId, creating nothing', async () => {
    const token = await accessToken(workspace('sf-bad-owner'));
    const failure = await failureOf(createLead(client(token), { lead: JANE, ownerId: 'usr_nobody', idempotencyKey: 'lead-x:assign' }));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('HTTP 400 rejected: INVALID_CROSS_REFERENCE_KEY: invalid cross reference id');
    expect((await soql(token, 'SELECT Id FROM Lead')).totalSize).toBe(0);

    const raw = await rest(token, '/services/data/v60.0/sobjects/Lead/Leadrelay_Key__c/k1', {
      method: 'PATCH',
      headers: { 'sforce-auto-assign': 'FALSE' },
      body: JSON.stringify({ OwnerId: 'usr_nobody', LastName: 'Roe', Company: 'Initech' }),
    });
    expect(raw).toMatchObject({ status: 400, body: [{ message: 'invalid cross reference id', errorCode: 'INVALID_CROSS_REFERENCE_KEY', fields: ['OwnerId'] }] });
    const missing = await rest(token, '/services/data/v60.0/sobjects/Lead/Leadrelay_Key__c/k2', { method: 'PATCH', body: JSON.stringify({ Email: 'x@y.com' }) });
    expect(missing).toMatchObject({ status: 400, body: [{ errorCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName', 'Company'] }] });
  });

  it('reassigns a lead with a 204 and the new owner is stored; an unknown lead is not found', async () => {
    const token = await accessToken(workspace('sf-reassign'));
    const c = client(token);
    const created = await createLead(c, { lead: JANE, ownerId: ben.id, idempotencyKey: 'lead-re:assign' });

    const moved = await updateOwner(c, created.data.crmLeadId, chloe.id);
    expect(moved.data).toEqual({ crmLeadId: created.data.crmLeadId, ownerId: chloe.id });
    expect(moved.meta.status).toBe(204);
    const stored = await soql(token, `SELECT OwnerId, Owner.Email FROM Lead WHERE Id = '${created.data.crmLeadId}'`);
    expect(stored.records[0]).toMatchObject({ OwnerId: chloe.id, Owner: { Email: chloe.email } });

    const missing = await failureOf(updateOwner(c, '00Q000000000999EAA', ava.id));
    expect(missing.type).toBe('UpstreamNotFound');
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain('NOT_FOUND: The requested resource does not exist');

    const badOwner = await failureOf(updateOwner(c, created.data.crmLeadId, 'usr_nobody'));
    expect(badOwner.type).toBe('UpstreamRejected');
  });

  it('rolls every write back when an allOrNone Composite has a failing subrequest', async () => {
    const token = await accessToken(workspace('sf-all-or-none'));
    const answer = await rest(token, '/services/data/v60.0/composite', {
      method: 'POST',
      body: JSON.stringify({
        allOrNone: true,
        compositeRequest: [
          { method: 'PATCH', url: '/services/data/v60.0/sobjects/Lead/Leadrelay_Key__c/k-ok', referenceId: 'ok', body: { LastName: 'Roe', Company: 'Initech' } },
          { method: 'PATCH', url: '/services/data/v60.0/sobjects/Lead/00Q000000000999EAA', referenceId: 'bad', body: { OwnerId: ava.id } },
        ],
      }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      compositeResponse: [
        {
          body: [{ message: 'The transaction was rolled back since another operation in the same transaction failed.', errorCode: 'PROCESSING_HALTED' }],
          httpHeaders: {},
          httpStatusCode: 400,
          referenceId: 'ok',
        },
        { body: [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }], httpHeaders: {}, httpStatusCode: 404, referenceId: 'bad' },
      ],
    });
    expect((await soql(token, 'SELECT Id FROM Lead')).totalSize).toBe(0);
  });
});

// ------------------------------------------------------------------------------- limits, errors

describe('Salesforce limits and error format', () => {
  it('sends Sforce-Limit-Info on every answer, errors included, and answers bad SOQL with MALFORMED_QUERY', async () => {
    const ws = workspace('sf-usage');
    const token = await accessToken(ws);
    const ok = await rest(token, '/services/data/v60.0/query?q=SELECT+Id+FROM+User');
    expect(ok.headers.get('sforce-limit-info')).toBe('api-usage=1/1000');
    const bad = await rest(token, `/services/data/v60.0/query?q=${encodeURIComponent('SELECT Id FROM Account WHERE')}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('sforce-limit-info')).toBe('api-usage=2/1000');
    expect(bad.body).toEqual([
      { message: "\nSELECT Id FROM Account WHERE\n                            ^\nERROR at Row:1:Column:29\nunexpected token: '<EOF>'", errorCode: 'MALFORMED_QUERY' },
    ]);
    const locator = await rest(token, '/services/data/v60.0/query/01gnotalocator-2');
    expect(locator).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_QUERY_LOCATOR' }] });
  });

  it('answers an exhausted allowance with 403 REQUEST_LIMIT_EXCEEDED and no Retry-After: retryable rate limit with backoff', async () => {
    const ws = workspace('sf-limited', { rateLimit: { limit: 1, windowSeconds: 30 } });
    // The token endpoint keeps its own window: one token serves the whole test.
    const token = await accessToken(ws);
    const c = client(token);

    const first = await findAccounts(c, 'acme.com');
    expect(first.meta.rateLimit).toEqual({ limit: 1, remaining: 0, resetSeconds: null, retryAfterSeconds: null });

    for (const call of [() => findAccounts(c, 'acme.com'), () => findByDomains(c, ['acme.com'])]) {
      const failure = await failureOf(call());
      expect(failure.type).toBe('UpstreamRateLimited');
      expect(failure.nonRetryable).toBe(false);
      // Salesforce says nothing about when to come back: the retry policy's backoff decides.
      expect(failure.nextRetryDelay ?? null).toBeNull();
      expect(failure.message).toContain('HTTP 403 rate limited; retry after backoff: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.');
      expect(detailsOf(failure)).toMatchObject({ status: 403, waitMs: null, rateLimit: { limit: 1, remaining: 0 } });
    }

    const raw = await rest(token, '/services/data/v60.0/query?q=SELECT+Id+FROM+User');
    expect(raw.status).toBe(403);
    expect(raw.body).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(raw.headers.get('retry-after')).toBeNull();
    expect(raw.headers.get('sforce-limit-info')).toBe('api-usage=1/1');
  });
});
