import { randomBytes } from 'node:crypto';
import { demoMarketplaceCatalog, type BuyerInput, type CampaignInput, type DemoMarketplaceOptions } from '../../sandbox/demoMarketplace';
import { startMarketplace, type RunningMarketplace } from '../../sandbox/marketplace';
import { demoScenario, type ScenarioOptions } from './scenario';
import { eventually, startTestStackWith, type TestStack, type TestStackOptions } from './stack';

export interface DistributionStack {
  t: TestStack;
  market: RunningMarketplace;
  /** The supplier key of each demo supplier for this test's tenant. */
  keys: Record<'acme-leads' | 'bright-media', string>;
  /** PUT a document through the API (400s thrown with their details). */
  put(kind: 'campaigns' | 'suppliers' | 'buyers', id: string, doc: unknown): Promise<any>;
  /** A supplier's request (default acme-leads). */
  supplier(method: string, path: string, body?: unknown, options?: { supplier?: 'acme-leads' | 'bright-media'; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any; ms: number }>;
  /**
   * POST a lead as the supplier and its final answer: a busy machine may answer `pending` at the
   * campaign's deadline, then the supplier's own GET of the lead gives the answer once it is decided.
   */
  sell(lead: Record<string, unknown>, options?: { supplier?: 'acme-leads' | 'bright-media'; headers?: Record<string, string> }): Promise<{ status: number; body: any }>;
  /** POST a lead as the supplier, sending it again after a 503 as the answer asks (its first answer, pending or not). */
  post(lead: Record<string, unknown>, options?: { supplier?: 'acme-leads' | 'bright-media'; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

let leadCounter = 0;
/** A lead of the demo campaign, unique per call unless overridden (so campaign dedupe does not see a person twice). */
export function uniqueLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const n = `${Date.now().toString(36)}${(leadCounter++).toString(36)}${randomBytes(2).toString('hex')}`;
  const digits = String(parseInt(randomBytes(4).toString('hex'), 16) % 10_000_000).padStart(7, '0');
  return {
    first_name: 'Jane',
    last_name: 'Doe',
    email: `jane.${n}@example.com`,
    phone: `+1415${digits}`,
    state: 'CA',
    zip: '94105',
    age: 35,
    vehicle_year: 2019,
    insured: true,
    ...overrides,
  };
}

/**
 * A test stack with the marketplace emulator and the demo catalog stored through the API (buyers
 * narrowed or changed by `adjust`), under a fresh tenant and fresh supplier keys.
 */
export async function startDistributionStack(
  options: DemoMarketplaceOptions & {
    buyers?: string[];
    adjust?: (c: { campaign: CampaignInput; buyers: BuyerInput[] }) => void;
    /** The test tenant's settings (its `distribution.templates`, say). */
    scenario?: ScenarioOptions;
    /** The stack's own settings (environment-level templates). */
    stack?: TestStackOptions;
  } = {},
): Promise<DistributionStack> {
  const t = await startTestStackWith(options.stack ?? {}, demoScenario(options.scenario));
  const market = await startMarketplace({});
  const catalog = demoMarketplaceCatalog(market.url, options);
  if (options.buyers) {
    catalog.buyers = catalog.buyers.filter((b) => options.buyers!.includes(b.id));
    catalog.campaign.buyers = options.buyers;
  }
  options.adjust?.({ campaign: catalog.campaign, buyers: catalog.buyers });
  const tenantId = t.tenant.id;
  const keys = {
    'acme-leads': `sk.${tenantId}.acme-leads.${randomBytes(12).toString('hex')}`,
    'bright-media': `sk.${tenantId}.bright-media.${randomBytes(12).toString('hex')}`,
  };
  const put = async (kind: 'campaigns' | 'suppliers' | 'buyers', id: string, doc: unknown) => {
    const res = await t.request('PUT', `/v1/${kind}/${id}`, doc);
    if (res.status !== 200) throw new Error(`PUT /v1/${kind}/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  for (const buyer of catalog.buyers) await put('buyers', buyer.id, buyer);
  await put('campaigns', catalog.campaign.id, catalog.campaign);
  for (const s of catalog.suppliers) {
    const { apiKeySha256: _hashes, ...rest } = s;
    await put('suppliers', s.id, { ...rest, apiKey: keys[s.id as keyof typeof keys] });
  }
  const stack: DistributionStack = {
    t,
    market,
    keys,
    put,
    async supplier(method, path, body, opts = {}) {
      const started = performance.now();
      const res = await t.request(method, path, body, { authorization: `Bearer ${keys[opts.supplier ?? 'acme-leads']}`, ...(opts.headers ?? {}) });
      return { ...res, ms: performance.now() - started };
    },
    async post(lead, opts = {}) {
      let res = await stack.supplier('POST', '/v1/campaigns/auto-insurance-us/leads', lead, opts);
      // A 503 (Temporal too busy to answer in time) asks the supplier to send the same lead again.
      for (let i = 0; res.status === 503 && i < 10; i++) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        res = await stack.supplier('POST', '/v1/campaigns/auto-insurance-us/leads', lead, opts);
      }
      return res;
    },
    async sell(lead, opts = {}) {
      const res = await stack.post(lead, opts);
      if (res.status !== 200 || res.body.status !== 'pending') return res;
      const body = await eventually(async () => {
        const answer = await stack.supplier('GET', `/v1/campaigns/auto-insurance-us/leads/${res.body.leadId}`, undefined, opts);
        return answer.body.status === 'pending' ? undefined : answer.body;
      }, 120_000, `lead ${res.body.leadId} decided`);
      return { status: 200, body };
    },
    async close() {
      await t.close();
      await market.close();
    },
  };
  return stack;
}

/**
 * A fixed-offset zone where it is about noon now (business clock): day and month caps counted
 * there cannot roll over during a test, whatever the hour it runs at.
 */
export function middayZone(nowMs: number): string {
  const offset = 12 - new Date(nowMs).getUTCHours();
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}
