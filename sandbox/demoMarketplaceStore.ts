/**
 * The sandbox marketplace as `npm start` sets it up: the demo catalog (./demoMarketplace.ts) stored
 * for a tenant through the functions the API's PUT uses (validateDoc, then putCatalogDoc), and the
 * start banner's lines that sell a demo lead with curl.
 *
 * Storing is idempotent: a document whose content did not change keeps its version, so every start
 * stores the whole catalog again (the buyers' endpoints follow the marketplace's URL) and a restart
 * with the same marketplace adds no version.
 */
import type { Client } from '@temporalio/client';
import { validateDoc } from '../src/distribution/validate';
import type { DocKind } from '../src/distribution/model';
import { resolveTemplates, type TemplateMap } from '../src/distribution/templates';
import { catalogList, putCatalogDoc } from '../src/temporal/catalog';
import { sha256Hex } from '../src/tenants/registry';
import { DEMO_CAMPAIGN_ID, DEMO_SUPPLIER_KEYS, demoMarketplaceCatalog, demoMarketplaceLead, type DemoSupplierId } from './demoMarketplace';

export interface StoreDemoMarketplaceOptions {
  client: Client;
  taskQueue: string;
  tenantId: string;
  /** The marketplace emulator the buyers' endpoints point at. */
  marketplaceUrl: string;
  /** The suppliers' keys (default DEMO_SUPPLIER_KEYS, which belong to the tenant `demo`). */
  supplierKeys?: Record<DemoSupplierId, string>;
  /** Who the catalog's history names as the author. */
  actor?: string;
  /** The templates the tenant's buyers may name, as the API resolves them (default: the platform's). */
  templates?: TemplateMap;
  /** Buyer URLs may be loopback or private (default true: the marketplace runs on loopback). */
  allowPrivateUrls?: boolean;
}

export interface StoredDoc {
  kind: DocKind;
  id: string;
  version: number;
  /** This call stored a new version (first start, or the content changed). */
  changed: boolean;
}

/** Stores the demo catalog (buyers, then the campaign, then the suppliers: references resolve in that order). */
export async function storeDemoMarketplace(opts: StoreDemoMarketplaceOptions): Promise<StoredDoc[]> {
  const { client, taskQueue, tenantId } = opts;
  const actor = opts.actor ?? 'sandbox';
  const keys = opts.supplierKeys ?? DEMO_SUPPLIER_KEYS;
  const catalog = demoMarketplaceCatalog(opts.marketplaceUrl);
  const suppliers = catalog.suppliers.map((s) => ({ ...s, apiKeySha256: [sha256Hex(keys[s.id as DemoSupplierId])] }));
  const stored: StoredDoc[] = [];
  const templates = opts.templates ?? resolveTemplates();
  const scope = { tenantId, allowPrivateUrls: opts.allowPrivateUrls ?? true };

  const store = async (kind: DocKind, id: string, body: unknown) => {
    // As PUT /v1/<kind>s/:id does: references are checked against the catalog as it is now.
    const refKind: DocKind | null = kind === 'campaign' ? 'buyer' : kind === 'supplier' ? 'campaign' : null;
    const known = new Set(refKind ? (await catalogList(client, tenantId, refKind)).map((d) => d.id) : []);
    const before = new Map((await catalogList(client, tenantId, kind)).map((d) => [d.id, d.version]));
    const result = validateDoc(kind, id, body, (k, ref) => k === refKind && known.has(ref), templates, scope);
    if (!result.ok) throw new Error(`demo marketplace ${kind} ${id}: ${result.issues.map((i) => `${i.field} ${i.message}`).join('; ')}`);
    const version = await putCatalogDoc(client, taskQueue, tenantId, kind, result.doc, actor, 'demo marketplace');
    stored.push({ kind, id, version: version.version, changed: before.get(id) !== version.version });
  };

  for (const buyer of catalog.buyers) await store('buyer', buyer.id, buyer);
  await store('campaign', catalog.campaign.id, catalog.campaign);
  for (const supplier of suppliers) await store('supplier', supplier.id, supplier);
  return stored;
}

export interface DemoMarketplaceBannerOptions {
  apiUrl: string;
  /** The supplier key the sell example uses (acme-leads's). */
  supplierKey?: string;
  /** The tenant's own API key, for the buyers list and the lead's audit. */
  tenantKey: string;
}

/**
 * The banner's marketplace lines: a curl that sells a demo lead, then the buyers and the lead's
 * dispute log. Each run of the sell command draws a new email and phone with bash/zsh $RANDOM.
 */
export function demoMarketplaceBanner(opts: DemoMarketplaceBannerOptions): string[] {
  const supplierKey = opts.supplierKey ?? DEMO_SUPPLIER_KEYS['acme-leads'];
  // `'$P'` ends the single-quoted body, puts the shell's digits in, and goes on quoting.
  const body = JSON.stringify(demoMarketplaceLead({ email: 'jane.@P@@example.com', phone: '+1415@P@' })).replaceAll('@P@', `'$P'`);
  return [
    `Sell a demo lead to the marketplace's buyers (campaign ${DEMO_CAMPAIGN_ID}, supplier acme-leads; the answer says sold, to whom and the payout).`,
    'A lead\'s ID comes from its Idempotency-Key, or else from its body, so the same body gets the first answer again; and the',
    'campaign takes a person once in 30 days (same email or phone), so a new Idempotency-Key alone would be answered "duplicate".',
    'Each run therefore draws a new email and phone from $RANDOM (bash or zsh):',
    `  P=$(printf %07d $(( (RANDOM * 32768 + RANDOM) % 10000000 ))); curl -s -X POST ${opts.apiUrl}/v1/campaigns/${DEMO_CAMPAIGN_ID}/leads \\`,
    `    -H 'Authorization: Bearer ${supplierKey}' -H 'Content-Type: application/json' \\`,
    `    -d '${body}'`,
    'Then its dispute log: every buyer considered, each ping and post with the buyer\'s answer (replace LEAD_ID with the leadId returned):',
    `  curl -s ${opts.apiUrl}/v1/leads/LEAD_ID/audit -H 'Authorization: Bearer ${opts.tenantKey}'`,
    'The marketplace\'s buyers (GET /v1/buyers/<id> adds caps, budget and breakers):',
    `  curl -s ${opts.apiUrl}/v1/buyers -H 'Authorization: Bearer ${opts.tenantKey}'`,
  ];
}
