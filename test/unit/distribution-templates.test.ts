import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createActivities } from '../../activities';
import { Connectors } from '../../src/connectors/registry';
import { checkDistributionTemplates, loadDistributionTemplates } from '../../src/distribution/environmentTemplates';
import { TemplateMapSchema } from '../../src/distribution/templateSchema';
import { PLATFORM_TEMPLATES, requestMapping, resolveTemplates } from '../../src/distribution/templates';
import { validateDoc } from '../../src/distribution/validate';
import { ConfigError, TenantRegistry } from '../../src/tenants/registry';
import type { TenantInput } from '../../src/tenants/schema';
import { demoTenant } from '../../sandbox/demoTenant';

/*
 * Buyer request templates: the platform's, then the environment's, then the tenant's (the later
 * layer wins, as for provider definitions). Each layer is validated where it is configured; a buyer
 * is validated, and delivered, against the templates its tenant sees.
 */

const tenant = (id: string, templates?: Record<string, string>): TenantInput => {
  const t = structuredClone(demoTenant('http://127.0.0.1:4010'));
  t.id = id;
  return templates ? { ...t, distribution: { templates } } : t;
};

const buyer = (post: Record<string, unknown>) => ({
  name: 'Acme',
  pricing: { type: 'fixed', price: 5 },
  post: { kind: 'http', url: 'https://buyer.example/post', response: { mapping: '{ "outcome": "accepted" }' }, ...post },
});
const validateBuyer = (post: Record<string, unknown>, templates = resolveTemplates()) => validateDoc('buyer', 'acme', buyer(post), () => false, templates);

describe('resolveTemplates', () => {
  test('platform, then environment, then tenant: a later layer replaces a template by ID and adds new ones', () => {
    const templates = resolveTemplates({
      environment: { standard: '{ "layer": "environment" }', 'env-only': '{ "e": 1 }', nested: '{ "layer": "environment" }' },
      tenant: { nested: '{ "layer": "tenant" }', 'tenant-only': '{ "t": 1 }' },
    });
    expect(templates).toEqual({
      standard: '{ "layer": "environment" }',
      'ping-standard': PLATFORM_TEMPLATES['ping-standard'],
      nested: '{ "layer": "tenant" }',
      'env-only': '{ "e": 1 }',
      'tenant-only': '{ "t": 1 }',
    });
  });

  test('without overrides it is the platform set; a blank source in a layer does not hide the one below', () => {
    expect(resolveTemplates()).toEqual({ ...PLATFORM_TEMPLATES });
    expect(resolveTemplates({ environment: {}, tenant: undefined })).toEqual({ ...PLATFORM_TEMPLATES });
    expect(resolveTemplates({ tenant: { standard: '  ' } })['standard']).toBe(PLATFORM_TEMPLATES['standard']);
  });

  test('a template named like an Object property is only found when a layer defines it', () => {
    const templates = resolveTemplates({ tenant: { flat: '{ "a": 1 }' } });
    expect(requestMapping({ template: 'toString' }, templates)).toEqual({ source: null, template: 'toString' });
    expect(requestMapping({ template: 'flat' }, templates)).toEqual({ source: '{ "a": 1 }', template: 'flat' });
    expect(requestMapping({}, templates).template).toBe('standard');
  });
});

describe('a layer of templates', () => {
  const issues = (value: unknown) => {
    const result = TemplateMapSchema.safeParse(value);
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  test('takes catalog IDs mapped to JSONata that compiles', () => {
    expect(issues({ flat: '{ "id": leadId }', 'ping_v2': '$merge([lead, { "id": leadId }])' })).toEqual([]);
    expect(issues({})).toEqual([]);
  });

  test('names each template whose ID or source is wrong', () => {
    const found = issues({ Flat: '{}', good: '{ "a": 1 }', broken: '$merge([', blank: ' ', long: `"${'x'.repeat(20_001)}"`, constructor: '{}' });
    expect(found.map((i) => i.path)).toEqual(['Flat', 'broken', 'blank', 'long', 'constructor']);
    expect(found.find((i) => i.path === 'Flat')!.message).toMatch(/^is not a valid template id: must be 1-64 characters/);
    expect(found.find((i) => i.path === 'broken')!.message).toMatch(/^is not valid JSONata: /);
    expect(found.find((i) => i.path === 'blank')!.message).toBe('must be a JSONata expression');
    expect(found.find((i) => i.path === 'constructor')!.message).toMatch(/prototype key/);
  });

  test('is an object of strings', () => {
    expect(issues({ good: '{}', number: 3 }).map((i) => i.path)).toEqual(['number']);
    expect(issues(['{}'])).toHaveLength(1);
    expect(issues('{}')).toHaveLength(1);
  });
});

describe('tenant level: distribution.templates', () => {
  test('is optional, and kept as given when valid', () => {
    const registry = new TenantRegistry();
    expect(registry.add(tenant('plain')).distribution).toBeUndefined();
    expect(registry.add(tenant('templated', { flat: '{ "id": leadId }' })).distribution).toEqual({ templates: { flat: '{ "id": leadId }' } });
    expect(registry.add({ ...tenant('empty'), distribution: {} }).distribution).toEqual({ templates: {} });
  });

  test('a template that does not compile or a bad ID stops the configuration, naming its path', () => {
    const registry = new TenantRegistry();
    expect(() => registry.add(tenant('broken', { good: '{}', broken: '{ "a": ' }))).toThrow(/^tenant broken: distribution\.templates\.broken: is not valid JSONata: /);
    expect(() => registry.add(tenant('bad-id', { 'Has Space': '{}' }))).toThrow(/^tenant bad-id: distribution\.templates\.Has Space: is not a valid template id/);
    expect(() => registry.add({ ...tenant('extra'), distribution: { templates: {}, mappings: {} } } as TenantInput)).toThrow(/^tenant extra: distribution: /);
    expect(registry.get('broken')).toBeUndefined();
  });
});

describe('environment level', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-templates-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  test('no file configured: no environment templates', () => {
    expect(loadDistributionTemplates(undefined)).toBeUndefined();
    expect(loadDistributionTemplates('')).toBeUndefined();
  });

  test('reads a JSON file of templates', () => {
    expect(loadDistributionTemplates(file('ok.json', '{ "flat": "{ \\"id\\": leadId }" }'))).toEqual({ flat: '{ "id": leadId }' });
  });

  test('a file that cannot be read, is not JSON or holds a bad template stops the start, naming the file and the template', () => {
    const missing = join(dir, 'missing.json');
    expect(() => loadDistributionTemplates(missing)).toThrow(ConfigError);
    expect(() => loadDistributionTemplates(missing)).toThrow(/cannot read distribution templates file/);
    const notJson = file('bad.json', '{ flat: 1');
    expect(() => loadDistributionTemplates(notJson)).toThrow(new RegExp(`^${notJson}: \\(root\\): cannot read`));
    const broken = file('broken.json', JSON.stringify({ broken: '$merge([' }));
    expect(() => loadDistributionTemplates(broken)).toThrow(new RegExp(`^${broken}: broken: is not valid JSONata`));
    expect(() => loadDistributionTemplates(file('proto.json', '{ "__proto__": "{}" }'))).toThrow(/__proto__: is a prototype key/);
  });

  test('templates given in code are checked as strictly', () => {
    expect(checkDistributionTemplates({ flat: '{}' })).toEqual({ flat: '{}' });
    expect(() => checkDistributionTemplates({ flat: '{ "a" ' })).toThrow(/^distributionTemplates: flat: is not valid JSONata/);
  });
});

describe('buyer validation against the templates a tenant sees', () => {
  const tenantTemplates = resolveTemplates({ environment: { 'env-flat': '{ "e": leadId }' }, tenant: { flat: '{ "t": leadId }' } });

  test('a template of any layer validates; one no layer defines is an issue at post.template', () => {
    expect(validateBuyer({ template: 'flat' }, tenantTemplates).ok).toBe(true);
    expect(validateBuyer({ template: 'env-flat' }, tenantTemplates).ok).toBe(true);
    expect(validateBuyer({ template: 'nested' }, tenantTemplates).ok).toBe(true);
    expect(validateBuyer({ template: 'flat' })).toEqual({ ok: false, issues: [{ field: 'post.template', message: 'is not a known template: flat' }] });
    expect(validateBuyer({ template: 'other' }, tenantTemplates)).toEqual({ ok: false, issues: [{ field: 'post.template', message: 'is not a known template: other' }] });
  });

  test('a ping naming an unknown template is an issue at ping.template', () => {
    const doc = { ...buyer({ template: 'flat' }), pricing: { type: 'bid' }, ping: { kind: 'http', url: 'https://buyer.example/ping', template: 'nope', response: { mapping: '{ "outcome": "accepted" }' } } };
    const result = validateDoc('buyer', 'acme', doc, () => false, tenantTemplates);
    expect(result).toEqual({ ok: false, issues: [{ field: 'ping.template', message: 'is not a known template: nope' }] });
  });
});

describe('the worker delivers with the tenant\'s templates', () => {
  let server: Server;
  let url: string;
  const bodies: unknown[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/post`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('each tenant gets its own layer over the environment\'s, and the platform\'s under both', async () => {
    const tenants = new TenantRegistry();
    tenants.add(tenant('with-own', { standard: '{ "layer": "tenant", "lead": leadId }', flat: '{ "flat": buyer.id }' }));
    tenants.add(tenant('without'));
    const activities = createActivities({
      tenants,
      connectors: new Connectors(tenants),
      temporal: {} as Client,
      entityTaskQueue: 'unused',
      distributionTemplates: { standard: '{ "layer": "environment", "lead": leadId }', flat: '{ "env": true }' },
      // The buyer here is a local server.
      allowPrivateBuyerUrls: true,
    });
    const campaign = { id: 'c', name: 'C', currency: 'USD', pingTimeoutMs: 1000 };
    const post = (tenantId: string, template?: string) =>
      activities.postToBuyer({
        tenantId,
        leadId: 'lead-1',
        campaign,
        buyer: { id: 'acme', name: 'Acme', post: { kind: 'http', url, format: 'json', xmlRoot: 'lead', headers: {}, timeoutMs: 2000, response: { format: 'auto', mapping: '{ "outcome": "accepted" }' }, ...(template ? { template } : {}) } },
        lead: { state: 'TX' },
        bid: null,
      });
    for (const record of [await post('with-own'), await post('with-own', 'flat'), await post('without'), await post('without', 'flat'), await post('without', 'nested')]) {
      expect(record.error).toBeNull();
    }
    expect(bodies).toEqual([
      { layer: 'tenant', lead: 'lead-1' },
      { flat: 'acme' },
      { layer: 'environment', lead: 'lead-1' },
      { env: true },
      { lead_id: 'lead-1', campaign: 'c', lead: { state: 'TX' } },
    ]);
  });
});
