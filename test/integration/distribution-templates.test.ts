import { PLATFORM_TEMPLATES } from '../../src/distribution/templates';
import { startDistributionStack, uniqueLead, type DistributionStack } from '../support/distribution';

/*
 * Buyer request templates through the whole stack: the environment's templates (a stack setting)
 * and the tenant's (`distribution.templates` in its configuration) over the platform's. A buyer
 * naming a template is validated against the templates its tenant sees, and the marketplace
 * emulator receives the body that template builds.
 */

/** The environment level: one template of its own, and one the tenant replaces. */
const ENVIRONMENT = {
  'env-flat': '{ "lead_id": leadId, "email": lead.email, "layer": "environment" }',
  'acme-flat': '{ "lead_id": leadId, "email": lead.email, "layer": "environment" }',
};
/** The tenant level: its own flat body (over the environment's) and its own `nested` (over the platform's). */
const TENANT = {
  'acme-flat': '{ "ref": leadId, "campaign": campaign.id, "buyer": buyer.id, "contact": { "email": lead.email, "phone": lead.phone }, "layer": "tenant" }',
  nested: '{ "lead_id": leadId, "email": lead.email, "layer": "tenant", "risk": { "state": lead.state, "age": lead.age } }',
};

let d: DistributionStack;
/** The buyer document as stored first (its post names the tenant's `acme-flat`). */
let dupes: Record<string, any>;

beforeAll(async () => {
  d = await startDistributionStack({
    method: 'waterfall',
    buyers: ['dupes'],
    scenario: { distributionTemplates: TENANT },
    stack: { distributionTemplates: ENVIRONMENT },
    adjust: ({ buyers }) => {
      // The PUT that stores this buyer already validates the tenant's template name.
      const { mapping: _own, ...post } = buyers[0]!.post as Record<string, unknown>;
      buyers[0]!.post = { ...post, template: 'acme-flat' } as (typeof buyers)[0]['post'];
    },
  });
  // The emulated buyer buys (its default is to answer every post "duplicate").
  d.market.setBehaviour('dupes', { post: 'accept' });
  dupes = (await d.t.request('GET', '/v1/buyers/dupes')).body.document;
});
afterAll(async () => {
  await d?.close();
});

/** Stores the buyer with its post naming `template` (a 200 expected). */
const useTemplate = (template: string) => d.put('buyers', 'dupes', { ...dupes, post: { ...dupes['post'], template } });

/** Sells a new lead; the body the buyer received for it. */
async function sellAndReceive(lead: Record<string, unknown>): Promise<{ leadId: string; body: unknown }> {
  const since = d.market.requests().at(-1)?.seq ?? 0;
  const res = await d.sell(lead);
  expect(res.body).toMatchObject({ status: 'sold', soldTo: ['dupes'] });
  const posts = d.market.requests({ buyerId: 'dupes', kind: 'post', since });
  expect(posts).toHaveLength(1);
  expect(posts[0]!.headers['content-type']).toMatch(/^application\/json/);
  return { leadId: res.body.leadId as string, body: JSON.parse(posts[0]!.body) };
}

test('a buyer naming a tenant template is sent the body that template builds (the tenant\'s over the environment\'s)', async () => {
  expect(dupes['post']).toMatchObject({ kind: 'http', template: 'acme-flat' });
  expect(dupes['post']).not.toHaveProperty('mapping');
  const lead = uniqueLead();
  const { leadId, body } = await sellAndReceive(lead);
  expect(body).toEqual({
    ref: leadId,
    campaign: 'auto-insurance-us',
    buyer: 'dupes',
    contact: { email: lead['email'], phone: lead['phone'] },
    layer: 'tenant',
  });
});

test('a tenant template replaces the platform template of the same ID', async () => {
  expect(PLATFORM_TEMPLATES['nested']).toContain('"lead": lead');
  await useTemplate('nested');
  const lead = uniqueLead({ state: 'TX', age: 44 });
  const { leadId, body } = await sellAndReceive(lead);
  expect(body).toEqual({ lead_id: leadId, email: lead['email'], layer: 'tenant', risk: { state: 'TX', age: 44 } });
});

test('an environment template no tenant replaces is used as the environment gives it', async () => {
  await useTemplate('env-flat');
  const lead = uniqueLead();
  const { leadId, body } = await sellAndReceive(lead);
  expect(body).toEqual({ lead_id: leadId, email: lead['email'], layer: 'environment' });
});

test('a template no layer defines is a 400 naming post.template, and the stored buyer is unchanged', async () => {
  const before = (await d.t.request('GET', '/v1/buyers/dupes')).body;
  const res = await d.t.request('PUT', '/v1/buyers/dupes', { ...dupes, post: { ...dupes['post'], template: 'nowhere' } });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('invalid_request');
  expect(res.body.error.details).toEqual([{ field: 'post.template', message: 'is not a known template: nowhere' }]);
  const after = (await d.t.request('GET', '/v1/buyers/dupes')).body;
  expect(after.version).toBe(before.version);
  expect(after.document).toEqual(before.document);
});
