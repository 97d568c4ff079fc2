import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DEMO_CAMPAIGN_ID, DEMO_MARKETPLACE_BUYER_IDS } from '../../sandbox/demoMarketplace';
import { demoMarketplaceBanner, storeDemoMarketplace } from '../../sandbox/demoMarketplaceStore';
import { startMarketplace, type RunningMarketplace } from '../../sandbox/marketplace';
import { demoScenario } from '../support/scenario';
import { startTestStack, type TestStack } from '../support/stack';

/*
 * The sandbox marketplace as `npm start` sets it up: the demo catalog stored through the API's
 * validation and catalog functions, again at every start without new versions, and the start
 * banner's curl commands run as printed.
 */

const sh = promisify(execFile);
let t: TestStack;
let market: RunningMarketplace;
let keys: { 'acme-leads': string; 'bright-media': string };

beforeAll(async () => {
  t = await startTestStack(demoScenario());
  market = await startMarketplace();
  keys = {
    'acme-leads': `sk.${t.tenant.id}.acme-leads.${randomBytes(12).toString('hex')}`,
    'bright-media': `sk.${t.tenant.id}.bright-media.${randomBytes(12).toString('hex')}`,
  };
});

afterAll(async () => {
  await t?.close();
  await market?.close();
});

const store = (marketplaceUrl = market.url) =>
  storeDemoMarketplace({ client: t.stack.temporal.client, taskQueue: t.stack.taskQueue, tenantId: t.tenant.id, marketplaceUrl, supplierKeys: keys });

/** Runs one command of the banner (its lines joined as the shell reads them) and parses its JSON answer. */
async function run(command: string): Promise<any> {
  const { stdout } = await sh('bash', ['-c', command], { timeout: 30_000 });
  return JSON.parse(stdout);
}

describe('the sandbox marketplace at start', () => {
  it('stores the demo catalog with the buyers on the marketplace, and a second start adds no version', async () => {
    const first = await store();
    expect(first.map((d) => `${d.kind}:${d.id}`)).toEqual([...DEMO_MARKETPLACE_BUYER_IDS.map((id) => `buyer:${id}`), `campaign:${DEMO_CAMPAIGN_ID}`, 'supplier:acme-leads', 'supplier:bright-media']);
    expect(first.every((d) => d.changed && d.version === 1)).toBe(true);

    const again = await store();
    expect(again.every((d) => !d.changed && d.version === 1)).toBe(true);
    const versions = await t.request('GET', `/v1/campaigns/${DEMO_CAMPAIGN_ID}/versions`);
    expect(versions.body.versions).toHaveLength(1);
    expect(versions.body.versions[0]).toMatchObject({ actor: 'sandbox', note: 'demo marketplace' });

    const buyers = await t.request('GET', '/v1/buyers');
    expect(buyers.body.buyers.map((b: any) => b.id).sort()).toEqual([...DEMO_MARKETPLACE_BUYER_IDS].sort());
    for (const b of buyers.body.buyers) expect(b.document.post.url).toBe(`${market.url}/buyers/${b.id}/post`);

    // The marketplace on another port: the buyers follow it (new versions), the rest stays.
    const moved = await store('http://127.0.0.1:1');
    expect(moved.filter((d) => d.changed).map((d) => d.kind)).toEqual(DEMO_MARKETPLACE_BUYER_IDS.map(() => 'buyer'));
    const back = await store();
    expect(back.filter((d) => d.changed)).toHaveLength(DEMO_MARKETPLACE_BUYER_IDS.length);
    expect((await store()).some((d) => d.changed)).toBe(false);
  });

  it('prints curl commands that sell a new demo lead at each run and read its dispute log and the buyers', async () => {
    await store();
    const lines = demoMarketplaceBanner({ apiUrl: t.api, supplierKey: keys['acme-leads'], tenantKey: t.apiKey });
    const start = lines.findIndex((l) => l.trimStart().startsWith('P=$('));
    const sell = lines.slice(start, start + 3).join('\n');
    expect(sell).toContain(`-X POST ${t.api}/v1/campaigns/${DEMO_CAMPAIGN_ID}/leads`);

    const first = await run(sell);
    const second = await run(sell);
    expect(first).toMatchObject({ status: 'sold', soldTo: ['fastbid'], currency: 'USD' });
    expect(second).toMatchObject({ status: 'sold' });
    expect(second.leadId).not.toBe(first.leadId);
    const sold = market.sales({ buyerId: 'fastbid' }).map((s) => s.email);
    expect(new Set(sold).size).toBe(sold.length);

    const audit = await run(lines.find((l) => l.includes('/audit'))!.replace('LEAD_ID', first.leadId));
    expect(audit).toMatchObject({ leadId: first.leadId, status: 'sold', campaignId: DEMO_CAMPAIGN_ID, supplierId: 'acme-leads' });
    expect(audit.entries.some((e: any) => e.kind === 'post' && e.buyerId === 'fastbid')).toBe(true);

    const buyers = await run(lines.find((l) => l.includes('/v1/buyers -H'))!);
    expect(buyers.buyers).toHaveLength(DEMO_MARKETPLACE_BUYER_IDS.length);
  });
});
