import { z } from 'zod';
import { ProviderClient } from '../../src/connectors/client';
import { compileProvider, deepMerge, DefinitionError, type DefinitionOverride } from '../../src/connectors/definition';
import { clearbitProvider } from '../../src/connectors/providers/clearbit';
import { salesforceProvider } from '../../src/connectors/providers/salesforce';
import { unifiedProvider } from '../../src/connectors/providers/unified';
import { Connectors } from '../../src/connectors/registry';
import { demoTenant, demoSandboxWorkspace } from '../../sandbox/demoTenant';
import { DEMO_TOKEN, DEMO_WORKSPACE_ID } from '../../sandbox/seed';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import { TenantRegistry } from '../../src/tenants/registry';
import type { TenantInput } from '../../src/tenants/schema';
import { failureOf } from '../support/failures';

/** The platform's account mapping with extra fields appended, the way a tenant would extend it. */
function accountMappingWith(extra: string): string {
  return `[result.{
    "id": id,
    "name": name,
    "ownerId": owner_id,
    "domains": [domains],
    "website": website ? website : null,
    ${extra}
  }]`;
}

function responseOverride(operation: string, response: string): DefinitionOverride {
  return { operations: { [operation]: { response } } };
}

/** Runs `fn` and returns the DefinitionError it throws (failing the test if it throws anything else or nothing). */
function definitionErrorOf(fn: () => unknown): DefinitionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DefinitionError);
    return err as DefinitionError;
  }
  throw new Error('expected a DefinitionError, nothing was thrown');
}

describe('deepMerge', () => {
  it('merges objects key by key, recursively', () => {
    expect(deepMerge({ a: 1, nested: { x: 1, y: 2 } }, { b: 2, nested: { y: 3, z: 4 } })).toEqual({
      a: 1,
      b: 2,
      nested: { x: 1, y: 3, z: 4 },
    });
  });

  it('replaces arrays instead of concatenating or merging them by index', () => {
    expect(deepMerge({ acceptStatuses: [202, 404], keep: true }, { acceptStatuses: [410] })).toEqual({ acceptStatuses: [410], keep: true });
    expect(deepMerge({ list: [{ a: 1 }, { b: 2 }] }, { list: [{ c: 3 }] })).toEqual({ list: [{ c: 3 }] });
  });

  it('lets the later layer win for scalars, and for a scalar over an object or the reverse', () => {
    expect(deepMerge({ timeoutMs: 4000 }, { timeoutMs: 900 })).toEqual({ timeoutMs: 900 });
    expect(deepMerge({ auth: { type: 'bearer' } }, { auth: 'none' })).toEqual({ auth: 'none' });
    expect(deepMerge({ auth: 'none' }, { auth: { type: 'bearer' } })).toEqual({ auth: { type: 'bearer' } });
    expect(deepMerge({ a: 1 }, { a: null })).toEqual({ a: null });
  });

  it('keeps the base where the override is undefined', () => {
    expect(deepMerge({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(deepMerge({ a: 1, b: 2 }, { a: undefined })).toEqual({ a: 1, b: 2 });
  });

  it('applies layers in order when folded, the last one winning', () => {
    const layers = [{ v: 'environment', env: true }, { v: 'tenant', tenant: true }];
    expect(layers.reduce<unknown>((acc, o) => deepMerge(acc, o), { v: 'platform', platform: true })).toEqual({
      v: 'tenant',
      platform: true,
      env: true,
      tenant: true,
    });
  });

  it('does not modify its inputs', () => {
    const base = { nested: { x: 1 }, list: [1, 2] };
    const override = { nested: { y: 2 }, list: [3] };
    deepMerge(base, override);
    expect(base).toEqual({ nested: { x: 1 }, list: [1, 2] });
    expect(override).toEqual({ nested: { y: 2 }, list: [3] });
  });
});

describe('compileProvider', () => {
  it('compiles every platform operation with its defaults filled in', () => {
    const compiled = compileProvider(unifiedProvider);
    expect([...compiled.operations.keys()].sort()).toEqual([
      'calendar.availability',
      'crm.createLead',
      'crm.findAccounts',
      'crm.updateLeadOwner',
      'hris.findEmployees',
      'messaging.send',
    ]);
    const find = compiled.operations.get('crm.findAccounts');
    expect(find?.definition.pagination).toEqual({ nextCursor: 'next_cursor', cursorParam: 'cursor', nextUrl: false, maxPages: 20 });
    expect(find?.definition.acceptStatuses).toEqual([]);
    expect(find?.body).toBeNull();
    expect(compileProvider(clearbitProvider).operations.get('enrichment.company')?.definition.acceptStatuses).toEqual([202, 404]);
  });

  it('applies platform → environment → tenant overrides in order, the tenant winning', async () => {
    const env = responseOverride('crm.findAccounts', '[result.{ "layer": "environment", "id": id }]');
    const tenant = responseOverride('crm.findAccounts', '[result.{ "layer": "tenant", "id": id }]');
    const body = { result: [{ id: 'acc_acme', name: 'Acme', owner_id: 'usr_ava', domains: ['acme.com'], website: null }], next_cursor: null };

    const platformOnly = compileProvider(unifiedProvider);
    const withEnv = compileProvider(unifiedProvider, env);
    const withBoth = compileProvider(unifiedProvider, env, tenant);
    const tenantOnly = compileProvider(unifiedProvider, undefined, tenant);

    expect(await platformOnly.operations.get('crm.findAccounts')?.response.evaluate(body)).toEqual([
      { id: 'acc_acme', name: 'Acme', ownerId: 'usr_ava', domains: ['acme.com'], website: null },
    ]);
    expect(await withEnv.operations.get('crm.findAccounts')?.response.evaluate(body)).toEqual([{ layer: 'environment', id: 'acc_acme' }]);
    expect(await withBoth.operations.get('crm.findAccounts')?.response.evaluate(body)).toEqual([{ layer: 'tenant', id: 'acc_acme' }]);
    expect(await tenantOnly.operations.get('crm.findAccounts')?.response.evaluate(body)).toEqual([{ layer: 'tenant', id: 'acc_acme' }]);
    expect(withBoth.operations.get('crm.findAccounts')?.definition.response).toContain('"tenant"');
  });

  it('merges the layers rather than replacing the operation: untouched fields and operations survive', () => {
    const env: DefinitionOverride = { timeoutMs: 1500 };
    const tenant = responseOverride('crm.findAccounts', '[result.{ "id": id }]');
    const compiled = compileProvider(unifiedProvider, env, tenant);
    expect(compiled.definition.timeoutMs).toBe(1500);
    const find = compiled.operations.get('crm.findAccounts');
    expect(find?.definition.method).toBe('GET');
    expect(find?.definition.path).toBe('/unified/crm/accounts');
    expect(find?.definition.pagination?.cursorParam).toBe('cursor');
    expect(find?.query).not.toBeNull();
    expect(compiled.operations.size).toBe(6);
  });

  it('lets a tenant add an operation of its own', () => {
    const compiled = compileProvider(unifiedProvider, undefined, {
      operations: { 'crm.findUsers': { method: 'GET', path: '/unified/crm/users', response: '[result.{ "id": id }]' } },
    });
    expect(compiled.operations.get('crm.findUsers')?.definition.method).toBe('GET');
    expect(compiled.operations.get('crm.findAccounts')).toBeDefined();
  });

  it('reports invalid JSONata in an override naming the provider, operations.<op>.<field> and the position', () => {
    const err = definitionErrorOf(() =>
      compileProvider(unifiedProvider, undefined, responseOverride('crm.findAccounts', '[result.{ "id": id, "tier": ABM_Tier__c ]')),
    );
    expect(err.provider).toBe('unified');
    expect(err.path).toBe('operations.crm.findAccounts.response');
    expect(err.message).toMatch(/^provider unified: operations\.crm\.findAccounts\.response: invalid JSONata at position \d+: /);
  });

  it('names the query, body, headers and pagination.nextCursor fields when those are broken', () => {
    const broken = '$join(input.emails, ","';
    const at = (override: DefinitionOverride) => definitionErrorOf(() => compileProvider(unifiedProvider, override)).path;
    expect(at({ operations: { 'hris.findEmployees': { query: broken } } })).toBe('operations.hris.findEmployees.query');
    expect(at({ operations: { 'crm.createLead': { body: '{ "email": }' } } })).toBe('operations.crm.createLead.body');
    expect(at({ operations: { 'messaging.send': { headers: '{ "Idempotency-Key" input.idempotencyKey }' } } })).toBe(
      'operations.messaging.send.headers',
    );
    expect(at({ operations: { 'calendar.availability': { pagination: { nextCursor: 'next_cursor[' } } } })).toBe(
      'operations.calendar.availability.pagination.nextCursor',
    );
  });

  it('reports the position of the syntax error in the expression', () => {
    const source = '{ "id": id,, "name": name }';
    const err = definitionErrorOf(() => compileProvider(unifiedProvider, responseOverride('crm.createLead', source)));
    const position = Number(/invalid JSONata at position (\d+)/.exec(err.message)?.[1]);
    expect(position).toBeGreaterThan(source.indexOf(',,'));
    expect(position).toBeLessThanOrEqual(source.indexOf(',,') + 2);
  });

  it('rejects an unknown HTTP method naming the path of the field', () => {
    const err = definitionErrorOf(() => compileProvider(unifiedProvider, { operations: { 'crm.findAccounts': { method: 'FETCH' } } }));
    expect(err.provider).toBe('unified');
    expect(err.path).toBe('operations.crm.findAccounts.method');
    expect(err.message).toMatch(/^provider unified: operations\.crm\.findAccounts\.method: /);
  });

  it('rejects an unknown key in an operation, naming the operation and the key', () => {
    const err = definitionErrorOf(() =>
      compileProvider(unifiedProvider, undefined, { operations: { 'crm.findAccounts': { respnose: '[result]' } } }),
    );
    expect(err.path).toBe('operations.crm.findAccounts');
    expect(err.message).toContain('respnose');
  });

  it('rejects an unknown top-level key, a path without a leading slash, and a timeout out of range', () => {
    expect(definitionErrorOf(() => compileProvider(unifiedProvider, { timeout: 100 })).message).toMatch(/^provider unified: \(root\): .*timeout/);
    expect(definitionErrorOf(() => compileProvider(unifiedProvider, { operations: { 'crm.createLead': { path: 'unified/crm/leads' } } })).path).toBe(
      'operations.crm.createLead.path',
    );
    expect(definitionErrorOf(() => compileProvider(clearbitProvider, { timeoutMs: 50 })).path).toBe('timeoutMs');
  });

  it('takes a batch cap (maxBatch) on an operation as data: Salesforce Composite says 5, an override may change it, and it must be a positive integer', () => {
    const compiled = compileProvider(salesforceProvider);
    expect(compiled.operations.get('crm.findAccountsByDomains')?.definition.maxBatch).toBe(5);
    expect(compiled.operations.get('crm.findAccounts')?.definition.maxBatch).toBeUndefined();
    const lowered = compileProvider(salesforceProvider, undefined, { operations: { 'crm.findAccountsByDomains': { maxBatch: 2 } } });
    expect(lowered.operations.get('crm.findAccountsByDomains')?.definition.maxBatch).toBe(2);
    for (const bad of [0, 2.5, '5']) {
      const err = definitionErrorOf(() => compileProvider(salesforceProvider, { operations: { 'crm.findAccountsByDomains': { maxBatch: bad } } }));
      expect(err.provider).toBe('salesforce');
      expect(err.path).toBe('operations.crm.findAccountsByDomains.maxBatch');
    }
  });

  it('names the provider id even when an override replaced it', () => {
    const err = definitionErrorOf(() => compileProvider(clearbitProvider, { id: 'clearbit-eu', operations: { 'enrichment.company': { method: 'FETCH' } } }));
    expect(err.provider).toBe('clearbit-eu');
    expect(err.message).toMatch(/^provider clearbit-eu: operations\.enrichment\.company\.method: /);
  });
});

describe('Connectors with tenant mapping overrides', () => {
  const NOW = Date.parse('2030-01-07T15:00:00.000Z');
  let sandbox: RunningSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ workspaces: [demoSandboxWorkspace(new Date(NOW))], now: () => NOW });
  });

  afterAll(async () => {
    await sandbox.close();
  });

  function tenantWithCrmMappings(mappings: Record<string, unknown> | undefined): TenantInput {
    const tenant = demoTenant(sandbox.url);
    const crm = { ...tenant.connections.crm, ...(mappings ? { mappings } : {}) };
    return { ...tenant, connections: { ...tenant.connections, crm } };
  }

  it('maps a tenant-added custom field from the live answer, through ProviderClient against the sandbox', async () => {
    const tenants = new TenantRegistry();
    tenants.add(
      tenantWithCrmMappings(
        responseOverride('crm.findAccounts', accountMappingWith('"industry": industry, "crmName": remote_data.Name, "crmOwner": remote_data.OwnerId')),
      ),
    );
    const connectors = new Connectors(tenants, { now: () => NOW });
    const result = await connectors
      .client('demo', 'crm')
      .call('crm.findAccounts', { domain: 'acme.com' });
    expect(result.data).toEqual([
      {
        id: 'acc_acme',
        name: 'Acme Corporation',
        ownerId: 'usr_ava',
        domains: ['acme.com'],
        website: 'https://www.acme.com',
        industry: 'Manufacturing',
        crmName: 'Acme Corporation',
        crmOwner: 'usr_ava',
      },
    ]);
  });

  it('uses the tenant override over the environment override, and the environment one where the tenant has none', async () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings(responseOverride('crm.findAccounts', accountMappingWith('"layer": "tenant"'))));
    const connectors = new Connectors(tenants, {
      now: () => NOW,
      environmentOverrides: {
        unified: {
          timeoutMs: 2500,
          operations: {
            'crm.findAccounts': { response: accountMappingWith('"layer": "environment"') },
            'hris.findEmployees': { response: '[result.{ "email": $lowercase(emails[0].email), "layer": "environment" }]' },
          },
        },
      },
    });
    const Layered = z.array(z.object({ layer: z.string() }).passthrough());
    const accounts = await connectors.client('demo', 'crm').call('crm.findAccounts', { domain: 'globex.com' });
    expect(accounts.data.map((a) => a.layer)).toEqual(['tenant']);
    const employees = await connectors
      .client('demo', 'hris')
      .callWithSchema('hris.findEmployees', { emails: ['ava.chen@demo-sales.example'] }, Layered);
    expect(employees.data).toEqual([{ email: 'ava.chen@demo-sales.example', layer: 'environment' }]);

    const crm = tenants.get('demo')?.connections.crm;
    if (!crm) throw new Error('demo tenant has no crm connection');
    expect(connectors.compiledFor(crm).definition.timeoutMs).toBe(2500);
  });

  it('checks a call against its operation\'s normalized schema: a mapping that leaves out a field fails as a MappingError naming it', async () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings(undefined));
    const connectors = new Connectors(tenants, {
      now: () => NOW,
      environmentOverrides: { unified: { operations: { 'hris.findEmployees': { response: '[result.{ "email": $lowercase(emails[0].email) }]' } } } },
    });
    const failure = await failureOf(connectors.client('demo', 'hris').call('hris.findEmployees', { emails: ['ava.chen@demo-sales.example'] }));
    expect(failure.type).toBe('MappingError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^unified hris\.findEmployees: mapped response does not fit at 0\.employmentStatus: /);
  });

  it('validateAll accepts a registry whose tenants use valid definitions', () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings(responseOverride('crm.findAccounts', accountMappingWith('"industry": industry'))));
    expect(() => new Connectors(tenants).validateAll()).not.toThrow();
  });

  it('validateAll throws naming the provider and path when a tenant mapping has invalid JSONata', () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings(responseOverride('crm.findAccounts', accountMappingWith('"tier": remote_data.(ABM_Tier__c'))));
    const err = definitionErrorOf(() => new Connectors(tenants).validateAll());
    expect(err.message).toMatch(/^provider unified: tenant demo: connections\.crm: operations\.crm\.findAccounts\.response: invalid JSONata at position \d+/);
  });

  it('validateAll throws naming the path when a tenant mapping breaks the definition schema', () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings({ operations: { 'crm.updateLeadOwner': { method: 'FETCH' } } }));
    const err = definitionErrorOf(() => new Connectors(tenants).validateAll());
    expect(err.provider).toBe('unified');
    expect(err.path).toBe('tenant demo: connections.crm: operations.crm.updateLeadOwner.method');
  });

  it('validateAll throws when the environment override itself is broken', () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings(undefined));
    const connectors = new Connectors(tenants, {
      environmentOverrides: { clearbit: responseOverride('enrichment.company', '$status = 404 ? {') },
    });
    const err = definitionErrorOf(() => connectors.validateAll());
    expect(err.message).toMatch(/^provider clearbit: tenant demo: connections\.enrichment: operations\.enrichment\.company\.response: invalid JSONata/);
  });

  it('validateAll names a connection whose provider lacks an operation its category needs, or its credentials', () => {
    const missingOp = new TenantRegistry();
    missingOp.add(tenantWithCrmMappings(undefined));
    // A tenant that points its HRIS at a CRM provider: it cannot look up employees.
    const tenant = missingOp.get('demo');
    if (!tenant) throw new Error('no tenant');
    tenant.connections.hris = { ...tenant.connections.hris, provider: 'clearbit' };
    expect(definitionErrorOf(() => new Connectors(missingOp).validateAll()).message).toBe(
      'provider clearbit: tenant demo: connections.hris: operations.hris.findEmployees: a hris connection needs hris.findEmployees',
    );

    const noOauth = new TenantRegistry();
    noOauth.add(tenantWithCrmMappings(undefined));
    const other = noOauth.get('demo');
    if (!other) throw new Error('no tenant');
    other.connections.crm = { ...other.connections.crm, provider: 'salesforce' };
    expect(definitionErrorOf(() => new Connectors(noOauth).validateAll()).message).toMatch(/^provider salesforce: tenant demo: connections\.crm\.oauth: this provider authenticates with OAuth 2\.0/);
  });

  it('resolves a tenant without mappings to the platform definition and its inline secret', async () => {
    const tenants = new TenantRegistry();
    tenants.add(tenantWithCrmMappings(undefined));
    const client = new Connectors(tenants).client('demo', 'crm');
    expect(client).toBeInstanceOf(ProviderClient);
    const result = await client.call('crm.findAccounts', { domain: 'globex.com' });
    expect(result.data.map((a) => a.id)).toEqual(['acc_globex']);
    expect(tenants.get('demo')?.connections.crm.accountId).toBe(DEMO_WORKSPACE_ID);
    expect(tenants.get('demo')?.connections.crm.secret).toEqual({ value: DEMO_TOKEN });
  });
});
