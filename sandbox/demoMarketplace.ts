/**
 * The sandbox marketplace's catalog: the campaign `auto-insurance-us`, two suppliers with
 * development keys, and one buyer document per emulated buyer of ./marketplace.ts, whose request
 * and response mappings (JSONata) speak that buyer's wire format. The documents are inputs to
 * CampaignSchema / SupplierSchema / BuyerSchema (defaults are filled by the parse).
 */
import type { z } from 'zod';
import type { BuyerSchema, CampaignSchema, DistributionMethod, SupplierSchema } from '../src/distribution/model';
import { sha256Hex } from '../src/tenants/registry';

export type CampaignInput = z.input<typeof CampaignSchema>;
export type SupplierInput = z.input<typeof SupplierSchema>;
export type BuyerInput = z.input<typeof BuyerSchema>;

export const DEMO_CAMPAIGN_ID = 'auto-insurance-us';

/** Development-only API keys of the demo suppliers (like `demo-key`), in the supplier key format `sk.<tenant>.<supplier>.<secret>`: never used outside the sandbox. */
export const DEMO_SUPPLIER_KEYS = {
  'acme-leads': 'sk.demo.acme-leads.acme-development-key-0001',
  'bright-media': 'sk.demo.bright-media.bright-development-key-0001',
} as const;
export type DemoSupplierId = keyof typeof DEMO_SUPPLIER_KEYS;

/** The buyer IDs of the demo catalog, the same as the marketplace emulator's default buyers. */
export const DEMO_MARKETPLACE_BUYER_IDS = ['fastbid', 'slowbid', 'flaky', 'dupes', 'xmlbuyer', 'daytime', 'ratelimited', 'formbuyer'] as const;

export const US_STATES = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'DC', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS', 'KY', 'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO',
  'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY', 'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV', 'WI', 'WY',
] as const;

// -------------------------------------------------------------------------------------- mappings

/**
 * Request mappings run over { kind, leadId, lead, campaign: { id, name, currency }, buyer: { id, name },
 * bid: { id, price } | null } (a ping's lead holds only the campaign's ping fields). Response
 * mappings run over { status, headers, body, text } and give { outcome, price?, reason?, reference? }.
 */
export const DEMO_MAPPINGS = {
  /** JSON ping: the ping fields as they are, with the lead and campaign IDs. */
  jsonPingRequest: '$merge([lead, { "lead_id": leadId, "campaign": campaign.id }])',
  /** JSON post: every lead field, with the bid it answers (absent for fixed-price buyers). */
  jsonPostRequest: '$merge([lead, { "lead_id": leadId, "campaign": campaign.id, "bid_id": bid.id, "price": bid.price }])',
  /** {"status":"bid","price":12.00,"id":"…"} or {"status":"no_bid"}. */
  jsonPingResponse: `body.status = "bid" and $type(body.price) = "number"
  ? { "outcome": "accepted", "price": body.price, "reference": body.id }
  : { "outcome": "rejected", "reason": body.status = "no_bid" ? "no_bid" : "unexpected answer" }`,
  /** {"status":"accepted","price":12.00,"id":"…"} / "rejected" / "duplicate", with a reason. */
  jsonPostResponse: `(
  $s := body.status;
  $s = "accepted" ? { "outcome": "accepted", "price": body.price, "reference": body.id }
  : $s = "duplicate" ? { "outcome": "duplicate", "reason": body.reason }
  : $s = "rejected" ? { "outcome": "rejected", "reason": body.reason }
  : { "outcome": "error", "reason": "HTTP " & $string(status) & ": " & (body.reason ? body.reason : "unexpected answer") }
)`,
  /** <ping><lead_id/><campaign/><risk>…</risk></ping> */
  xmlPingRequest: `{
  "lead_id": leadId,
  "campaign": campaign.id,
  "risk": { "state": lead.state, "zip": lead.zip, "age": lead.age, "vehicle_year": lead.vehicle_year, "insured": lead.insured }
}`,
  /** <lead><lead_id/><bid_id/><contact>…</contact><risk>…</risk></lead> */
  xmlPostRequest: `{
  "lead_id": leadId,
  "bid_id": bid.id,
  "contact": { "first_name": lead.first_name, "last_name": lead.last_name, "email": lead.email, "phone": lead.phone },
  "risk": { "state": lead.state, "zip": lead.zip, "age": lead.age, "vehicle_year": lead.vehicle_year, "insured": lead.insured },
  "trustedform_cert_url": lead.trustedform_cert_url
}`,
  /** <response><status>bid</status><price>9.50</price><id>…</id></response> (the parser reads 9.50 as a number). */
  xmlPingResponse: `(
  $r := body.response;
  $r.status = "bid"
  ? { "outcome": "accepted", "price": $number($r.price), "reference": $string($r.id) }
  : { "outcome": "rejected", "reason": $r.status = "no_bid" ? "no_bid" : "unexpected answer" }
)`,
  /** <response><status>accepted|rejected|duplicate</status><price/><id/><reason/></response> */
  xmlPostResponse: `(
  $r := body.response;
  $s := $r.status;
  $s = "accepted" ? { "outcome": "accepted", "price": $number($r.price), "reference": $string($r.id) }
  : $s = "duplicate" ? { "outcome": "duplicate", "reason": $string($r.reason) }
  : $s = "rejected" ? { "outcome": "rejected", "reason": $string($r.reason) }
  : { "outcome": "error", "reason": "HTTP " & $string(status) & ": " & ($r.reason ? $string($r.reason) : "unexpected answer") }
)`,
  /** Flat form fields under the buyer's own names. */
  formPostRequest: `{
  "lead_id": leadId,
  "fname": lead.first_name,
  "lname": lead.last_name,
  "email": lead.email,
  "phone": lead.phone,
  "state": lead.state,
  "zip": lead.zip,
  "age": lead.age,
  "vehicle_year": lead.vehicle_year,
  "insured": lead.insured ? "Y" : "N"
}`,
  /** ACCEPTED|ref=…|price=6.00, REJECTED|reason=…, DUPLICATE|reason=… */
  textPostResponse: `(
  $parts := $split($trim(text), "|");
  $fields := $merge($map($filter($parts, function($p) { $contains($p, "=") }), function($p) { { $substringBefore($p, "="): $substringAfter($p, "=") } }));
  $word := $parts[0];
  $word = "ACCEPTED" ? { "outcome": "accepted", "price": $number($fields.price), "reference": $fields.ref }
  : $word = "DUPLICATE" ? { "outcome": "duplicate", "reason": $fields.reason }
  : $word = "REJECTED" ? { "outcome": "rejected", "reason": $fields.reason }
  : { "outcome": "error", "reason": "HTTP " & $string(status) & ": " & $substring($trim(text), 0, 100) }
)`,
} as const;

// --------------------------------------------------------------------------------------- catalog

export interface DemoMarketplaceOptions {
  /** Distribution method of the campaign (default auction). */
  method?: DistributionMethod;
  /** The campaign's ping timeout (default 1000 ms: slowbid's 3 s answer misses it). */
  pingTimeoutMs?: number;
}

export interface DemoMarketplaceCatalog {
  campaign: CampaignInput;
  suppliers: SupplierInput[];
  buyers: BuyerInput[];
}

/** The demo catalog, its buyers' endpoints on the marketplace emulator at `baseUrl`. */
export function demoMarketplaceCatalog(baseUrl: string, opts: DemoMarketplaceOptions = {}): DemoMarketplaceCatalog {
  const base = baseUrl.replace(/\/+$/, '');
  const endpoint = (buyerId: string, kind: 'ping' | 'post') => `${base}/buyers/${buyerId}/${kind}`;
  const jsonPing = (buyerId: string) => ({
    kind: 'http' as const,
    url: endpoint(buyerId, 'ping'),
    format: 'json' as const,
    mapping: DEMO_MAPPINGS.jsonPingRequest,
    timeoutMs: 5000,
    response: { mapping: DEMO_MAPPINGS.jsonPingResponse },
  });
  const jsonPost = (buyerId: string) => ({
    kind: 'http' as const,
    url: endpoint(buyerId, 'post'),
    format: 'json' as const,
    mapping: DEMO_MAPPINGS.jsonPostRequest,
    timeoutMs: 3000,
    response: { mapping: DEMO_MAPPINGS.jsonPostResponse },
  });

  const campaign: CampaignInput = {
    id: DEMO_CAMPAIGN_ID,
    name: 'Auto insurance (US)',
    currency: 'USD',
    fields: {
      first_name: { type: 'string', required: true, maxLength: 100 },
      last_name: { type: 'string', required: true, maxLength: 100 },
      email: { type: 'email', required: true, pii: true },
      phone: { type: 'phone', required: true, pii: true },
      state: { type: 'state', required: true, enum: [...US_STATES] },
      zip: { type: 'zip', required: true },
      age: { type: 'integer', required: true, min: 18, max: 120 },
      vehicle_year: { type: 'integer', required: true, min: 1980, max: 2100 },
      insured: { type: 'boolean', required: true },
      trustedform_cert_url: { type: 'url', required: false },
    },
    consent: { trustedForm: 'optional' },
    pingFields: ['state', 'zip', 'age', 'vehicle_year', 'insured'],
    method: opts.method ?? 'auction',
    sale: { model: 'exclusive' },
    dedupe: { fields: ['email', 'phone'], lookbackDays: 30, match: 'any' },
    marginPercent: 20,
    floorPrice: 2,
    deadlineMs: 5000,
    pingTimeoutMs: opts.pingTimeoutMs ?? 1000,
    bidTtlSeconds: 60,
    returns: { windowDays: 7, autoApprove: ['disconnected_phone', 'invalid_email'], autoDeny: ['changed_mind'] },
    buyers: [...DEMO_MARKETPLACE_BUYER_IDS],
  };

  const suppliers: SupplierInput[] = [
    {
      id: 'acme-leads',
      name: 'Acme Leads',
      apiKeySha256: [sha256Hex(DEMO_SUPPLIER_KEYS['acme-leads'])],
      campaigns: [DEMO_CAMPAIGN_ID],
      payout: { type: 'fixed', amount: 3 },
      caps: { day: 1000 },
      timeZone: 'America/New_York',
    },
    {
      id: 'bright-media',
      name: 'Bright Media',
      apiKeySha256: [sha256Hex(DEMO_SUPPLIER_KEYS['bright-media'])],
      campaigns: [DEMO_CAMPAIGN_ID],
      payout: { type: 'revshare', percent: 60 },
      caps: { hour: 200, day: 2000 },
      timeZone: 'America/Los_Angeles',
    },
  ];

  const buyers: BuyerInput[] = [
    {
      // Bids $12.00 in about 50 ms: wins most auctions.
      id: 'fastbid',
      name: 'FastBid Insurance',
      priority: 10,
      filters: { field: 'lead.age', gte: 21 },
      caps: { day: 500 },
      budget: { day: 3000 },
      pricing: { type: 'bid' },
      dedupeDays: 30,
      ping: jsonPing('fastbid'),
      post: jsonPost('fastbid'),
    },
    {
      // Bids $30.00 but after 3 s: always past the campaign's ping timeout.
      id: 'slowbid',
      name: 'SlowBid Direct',
      priority: 20,
      filters: { field: 'lead.state', in: ['CA', 'TX', 'FL', 'NY', 'IL'] },
      pricing: { type: 'bid' },
      ping: jsonPing('slowbid'),
      post: jsonPost('slowbid'),
    },
    {
      // Answers 503 while failing: trips its breaker after 3 failures in a row.
      id: 'flaky',
      name: 'Flaky Auto Leads',
      priority: 30,
      pricing: { type: 'fixed', price: 10 },
      post: jsonPost('flaky'),
      breaker: { consecutiveFailures: 3, errorRate: 0.5, windowSeconds: 60, minCalls: 10, coolDownSeconds: 30 },
    },
    {
      // The highest fixed price, but every post answers "duplicate": the lead falls through.
      id: 'dupes',
      name: 'Dupes R Us',
      priority: 40,
      pricing: { type: 'fixed', price: 14 },
      dedupeDays: 30,
      post: jsonPost('dupes'),
    },
    {
      // XML in, XML out; bids $9.50 on insured drivers of recent vehicles.
      id: 'xmlbuyer',
      name: 'XML Underwriters',
      priority: 50,
      filters: { all: [{ field: 'lead.insured', equals: true }, { field: 'lead.vehicle_year', gte: 2005 }] },
      caps: { day: 300 },
      pricing: { type: 'bid' },
      ping: {
        kind: 'http',
        url: endpoint('xmlbuyer', 'ping'),
        format: 'xml',
        xmlRoot: 'ping',
        mapping: DEMO_MAPPINGS.xmlPingRequest,
        timeoutMs: 5000,
        response: { format: 'xml', mapping: DEMO_MAPPINGS.xmlPingResponse },
      },
      post: {
        kind: 'http',
        url: endpoint('xmlbuyer', 'post'),
        format: 'xml',
        xmlRoot: 'lead',
        mapping: DEMO_MAPPINGS.xmlPostRequest,
        timeoutMs: 3000,
        response: { format: 'xml', mapping: DEMO_MAPPINGS.xmlPostResponse },
      },
    },
    {
      // $8.00, weekdays 08:00-18:00 Chicago time; outside them leads wait for the opening.
      id: 'daytime',
      name: 'Daytime Call Center',
      priority: 60,
      timeZone: 'America/Chicago',
      hours: { days: [1, 2, 3, 4, 5], open: '08:00', close: '18:00', outside: 'queue' },
      caps: { hour: 50 },
      pricing: { type: 'fixed', price: 8 },
      post: jsonPost('daytime'),
    },
    {
      // $7.00; refuses the first of every 3 requests with 429 and Retry-After: 1.
      id: 'ratelimited',
      name: 'Throttled Insurance Co',
      priority: 70,
      caps: { day: 200 },
      budget: { month: 1000 },
      pricing: { type: 'fixed', price: 7 },
      post: jsonPost('ratelimited'),
    },
    {
      // $6.00; form-encoded in, `ACCEPTED|ref=…|price=6.00` plain text out.
      id: 'formbuyer',
      name: 'Form & Text Brokers',
      priority: 80,
      filters: { field: 'lead.state', in: ['CA', 'TX', 'FL', 'GA', 'AZ'] },
      pricing: { type: 'fixed', price: 6 },
      post: {
        kind: 'http',
        url: endpoint('formbuyer', 'post'),
        format: 'form',
        mapping: DEMO_MAPPINGS.formPostRequest,
        timeoutMs: 3000,
        response: { format: 'text', mapping: DEMO_MAPPINGS.textPostResponse },
      },
    },
  ];

  return { campaign, suppliers, buyers };
}

/** A lead the demo campaign accepts (and most buyers want): for the printed curl and tests. */
export function demoMarketplaceLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    first_name: 'Jane',
    last_name: 'Doe',
    email: 'jane.doe@example.com',
    phone: '+14155550123',
    state: 'CA',
    zip: '94105',
    age: 35,
    vehicle_year: 2019,
    insured: true,
    trustedform_cert_url: 'https://cert.trustedform.com/2f1e3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5',
    ...overrides,
  };
}
