import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSecret, resolveSecret, SECRET_FILE_TTL_MS } from '../../src/tenants/secrets';
import { Connectors } from '../../src/connectors/registry';
import { ConfigError, TenantRegistry, sha256Hex } from '../../src/tenants/registry';
import { PLATFORM_PROVIDERS } from '../../src/connectors/providers';
import { PROVIDER_IDS, type ProviderId } from '../../src/connectors/providers';
import type { TenantInput } from '../../src/tenants/schema';
import { demoTenant } from '../../sandbox/demoTenant';

const tenant = (over: (t: TenantInput) => void = () => {}): TenantInput => {
  const t = structuredClone(demoTenant('http://127.0.0.1:4010'));
  over(t);
  return t;
};

describe('tenant configuration', () => {
  it('finds a tenant by its API key and by nothing else', () => {
    const registry = new TenantRegistry();
    registry.add(tenant());
    expect(registry.byApiKey('demo-key')?.id).toBe('demo');
    expect(registry.byApiKey('demo-key ')).toBeUndefined();
    expect(registry.byApiKey(sha256Hex('demo-key'))).toBeUndefined();
  });

  it('names the path of a pool member who is not on the team', () => {
    const registry = new TenantRegistry();
    expect(() => registry.add(tenant((t) => t.routing.pool.members.push('usr_ghost')))).toThrow(
      new ConfigError('tenant demo', 'routing.pool.members.5', 'usr_ghost is not on the team'),
    );
  });

  it('rejects a time zone that does not exist and bad working hours, naming the field', () => {
    const registry = new TenantRegistry();
    expect(() => registry.add(tenant((t) => (t.routing.team[0]!.timezone = 'Mars/Olympus')))).toThrow(/routing\.team\.0\.timezone: must be an IANA time zone/);
    expect(() => registry.add(tenant((t) => (t.routing.team[1]!.workingHours = { days: [1], start: '9am', end: '17:00' })))).toThrow(/routing\.team\.1\.workingHours\.start: must be HH:MM/);
    // An overnight span would mean "never working": refused, naming the field.
    expect(() => registry.add(tenant((t) => (t.routing.team[1]!.workingHours = { days: [1], start: '22:00', end: '06:00' })))).toThrow(/routing\.team\.1\.workingHours\.end: must be later than start/);
    expect(() => registry.add(tenant((t) => (t.routing.team[1]!.workingHours = { days: [1], start: '09:00', end: '09:00' })))).toThrow(/workingHours\.end/);
  });

  it('takes as a connection\'s provider exactly the providers that have a platform definition', () => {
    expect(PROVIDER_IDS).toEqual(Object.keys(PLATFORM_PROVIDERS));
    for (const provider of PROVIDER_IDS) expect(PLATFORM_PROVIDERS[provider].id).toBe(provider);
    const registry = new TenantRegistry();
    expect(() => registry.add(tenant((t) => (t.connections.crm = { ...t.connections.crm, provider: 'zoho' as ProviderId })))).toThrow(
      /connections\.crm\.provider: Invalid option: expected one of "unified"\|"clearbit"\|"salesforce"\|.*\|"pdl"/,
    );
  });

  it('refuses a credential that names no environment variable correctly', () => {
    const registry = new TenantRegistry();
    expect(() => registry.add(tenant((t) => (t.connections.crm.secret = { env: 'lower-case' })))).toThrow(/connections\.crm\.secret/);
  });

  it('versions the routing configuration by content', () => {
    const a = new TenantRegistry([]);
    a.add(tenant());
    const b = new TenantRegistry([]);
    b.add(tenant((t) => (t.routing.holdOpenSeconds = 60)));
    const c = new TenantRegistry([]);
    c.add(tenant());
    expect(a.routingConfig('demo').version).toBe(c.routingConfig('demo').version);
    expect(a.routingConfig('demo').version).not.toBe(b.routingConfig('demo').version);
    expect(a.routingConfig('demo').version).toMatch(/^[a-f0-9]{12}$/);
  });

  it('keeps secrets out of the routing configuration that workflows receive', () => {
    const registry = new TenantRegistry();
    registry.add(tenant());
    expect(JSON.stringify(registry.routingConfig('demo'))).not.toContain('sandbox-demo-token');
  });
});

describe('the documented example configuration', () => {
  it('parses, and keeps every credential as an environment reference', () => {
    const registry = TenantRegistry.fromFile(require.resolve('../../config/tenants.example.json'));
    const [example] = registry.list();
    expect(example?.id).toBe('acme-sales');
    for (const connection of Object.values(example!.connections)) expect(connection?.secret).toHaveProperty('env');
    expect(example?.accept.slackSigningSecret).toHaveProperty('env');
    expect(example?.accept.linkSecret).toHaveProperty('env');
    expect(example?.routing.team[0]?.workingHours).toEqual({ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
  });

  it('has a direct-provider tenant whose every credential is a reference (env or file), never a value, and whose mappings compile', () => {
    const registry = TenantRegistry.fromFile(require.resolve('../../config/tenants.example.json'));
    const direct = registry.get('globex-revops');
    expect(direct).toBeDefined();
    const refs = Object.values(direct!.connections).flatMap((c) => (c?.oauth ? [c.oauth.clientId, c.oauth.clientSecret, c.oauth.refreshToken] : [c?.secret]));
    expect(refs.length).toBeGreaterThanOrEqual(9);
    for (const ref of refs) expect(ref && ('env' in ref || 'file' in ref)).toBe(true);
    expect(JSON.stringify(direct)).not.toMatch(/"value"/);
    // Start-up validation: providers fit their categories, OAuth is configured, the override compiles.
    expect(() => new Connectors(registry).validateAll()).not.toThrow();
    expect(new Connectors(registry).summaries('globex-revops')['crm']?.layers).toEqual(['platform', 'tenant']);
  });
});

describe('secret references', () => {
  it('reads a secret file (trimmed), at most once per interval, and sees a rotated value after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadrelay-secret-'));
    const file = join(dir, 'refresh-token');
    writeFileSync(file, 'first-token\n');
    const t0 = 1_000_000;
    expect(resolveSecret({ file }, {}, t0)).toBe('first-token');
    writeFileSync(file, 'rotated-token\n');
    expect(resolveSecret({ file }, {}, t0 + SECRET_FILE_TTL_MS - 1)).toBe('first-token');
    expect(resolveSecret({ file }, {}, t0 + SECRET_FILE_TTL_MS)).toBe('rotated-token');
    expect(resolveSecret({ file: join(dir, 'missing') }, {}, t0)).toBeNull();
    expect(resolveSecret({ env: 'LEADRELAY_TEST_SECRET' }, { LEADRELAY_TEST_SECRET: 'from-env' })).toBe('from-env');
    expect(describeSecret({ file })).toBe(`file ${file}`);
  });
});
