import { createBuyerActivities } from '../../activities/buyers';
import { BuyerSchema } from '../../src/distribution/model';
import { buyerSecretPrefix, privateAddressProblem, secretProblem } from '../../src/distribution/reach';
import { validateDoc } from '../../src/distribution/validate';
import type { Connectors } from '../../src/connectors/registry';
import type { TenantRegistry } from '../../src/tenants/registry';

const buyer = (post: Record<string, unknown>) => ({
  name: 'B',
  pricing: { type: 'fixed', price: 5 },
  post: { kind: 'http', format: 'json', response: { mapping: '{ "outcome": "accepted" }' }, ...post },
});
const validate = (post: Record<string, unknown>, allowPrivateUrls = false) => validateDoc('buyer', 'b', buyer(post), () => false, undefined, { tenantId: 'acme-co', allowPrivateUrls });

describe("what a tenant's buyer endpoints may reach", () => {
  it.each([
    ['http://localhost:8080/x', true],
    ['http://127.0.0.1/x', true],
    ['http://10.1.2.3/x', true],
    ['http://172.20.0.1/x', true],
    ['http://192.168.1.1/x', true],
    ['http://169.254.169.254/latest/meta-data', true],
    ['http://[::1]:80/x', true],
    ['http://[fd00::1]/x', true],
    ['http://metadata.google.internal/x', true],
    ['http://172.32.0.1/x', false],
    ['https://buyer.example.com/leads', false],
    ['https://8.8.8.8/x', false],
  ])('%s private: %s', (url, refused) => {
    expect(privateAddressProblem(url) !== null).toBe(refused);
  });

  it('names secrets only among the tenant’s own variables', () => {
    expect(buyerSecretPrefix('acme-co')).toBe('LEADRELAY_BUYER_ACME_CO_');
    expect(secretProblem('acme-co', 'LEADRELAY_BUYER_ACME_CO_TOKEN')).toBeNull();
    expect(secretProblem('acme-co', 'LEADRELAY_BUYER_ACME_CO_')).not.toBeNull();
    expect(secretProblem('acme-co', 'LEADRELAY_DEDUPE_KEY')).toMatch(/LEADRELAY_BUYER_ACME_CO_<NAME>/);
    expect(secretProblem('acme-co', 'LEADRELAY_BUYER_OTHER_TOKEN')).not.toBeNull();
  });

  it('refuses at PUT a private URL, another variable, a file or an inline secret, naming the field', () => {
    const issues = (r: ReturnType<typeof validate>) => (r.ok ? [] : r.issues.map((i) => i.field));
    expect(issues(validate({ url: 'http://169.254.169.254/x' }))).toEqual(['post.url']);
    expect(validate({ url: 'http://127.0.0.1:4011/x' }, true).ok).toBe(true);
    expect(issues(validate({ url: 'https://b.example.com/x', auth: { type: 'header', name: 'X-Key', secret: { env: 'HOME' } } }))).toEqual(['post.auth.secret.env']);
    expect(issues(validate({ url: 'https://b.example.com/x', auth: { type: 'basic', username: 'u', password: { env: 'LEADRELAY_BUYER_OTHER_P' } } }))).toEqual(['post.auth.password.env']);
    expect(issues(validate({ url: 'https://b.example.com/x', auth: { type: 'header', name: 'X-Key', secret: { file: '/etc/passwd' } } }))).toEqual(expect.arrayContaining(['post.auth.secret.file']));
    expect(issues(validate({ url: 'https://b.example.com/x', auth: { type: 'header', name: 'X-Key', secret: { value: 'inline' } } }))).toEqual(expect.arrayContaining(['post.auth.secret.value']));
    expect(validate({ url: 'https://b.example.com/x', auth: { type: 'header', name: 'X-Key', secret: { env: 'LEADRELAY_BUYER_ACME_CO_KEY' } } }).ok).toBe(true);
  });

  it('refuses at send what a stored document should not reach, without sending anything', async () => {
    let called = 0;
    const fetchSpy = (async () => {
      called++;
      return new Response('{}');
    }) as typeof fetch;
    const acts = createBuyerActivities({ tenants: {} as TenantRegistry, connectors: {} as Connectors, env: { HOME: '/root' }, fetch: fetchSpy });
    const campaign = { id: 'c', name: 'C', currency: 'USD', pingTimeoutMs: 1000 };
    const post = (p: Record<string, unknown>) => acts.postToBuyer({ tenantId: 'acme-co', leadId: 'dl_x', campaign, buyer: BuyerSchema.parse({ id: 'b', ...buyer(p) }), lead: {}, bid: null });
    const internal = await post({ url: 'http://10.0.0.5/x' });
    expect(internal).toMatchObject({ notSent: true, error: { type: 'config' }, answer: { outcome: 'error' } });
    expect(internal.error?.message).toMatch(/public address/);
    const foreign = await post({ url: 'https://b.example.com/x', auth: { type: 'header', name: 'X-Key', secret: { env: 'HOME' } } });
    expect(foreign.error?.message).toMatch(/LEADRELAY_BUYER_ACME_CO_<NAME>/);
    expect(called).toBe(0);
  });
});
