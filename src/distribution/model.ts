/**
 * The distribution model: campaigns, suppliers, buyers and their delivery endpoints. Data, validated
 * here, versioned in the tenant's catalog entity (workflows/distributionCatalog.ts). Money is in the
 * campaign's currency with at most two decimals; the engine counts it in integer cents.
 */
import { z } from 'zod';
import { key, line, text } from '../domain/input';
import { ConditionSchema } from '../domain/policy/schema';
import { ID_MESSAGE, ID_PATTERN } from './ids';

export { ID_PATTERN };
const Id = z.string().regex(ID_PATTERN, ID_MESSAGE);
const Money = z.number().finite().nonnegative().max(1_000_000).refine((n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-6, 'must have at most two decimals');
const ZoneName = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as America/New_York');
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be HH:MM or HH:MM:SS (24-hour)');
/** A JSONata expression kept as data; compiled when the document is validated. */
const Jsonata = z.string().min(1).max(20_000);

/** Money to integer cents (exact for two decimals). */
export const cents = (amount: number): number => Math.round(amount * 100);

// ------------------------------------------------------------------------------------- campaign

const FieldSpecSchema = z
  .object({
    type: z.enum(['string', 'number', 'integer', 'boolean', 'email', 'phone', 'zip', 'state', 'date', 'url']),
    required: z.boolean().default(false),
    /** Allowed values (strings compare case-insensitively). */
    enum: z.array(z.union([z.string().max(200), z.number()])).min(1).max(500).optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    maxLength: z.number().int().positive().max(10_000).optional(),
    /** Contact details: never in a ping, masked in the log view, hashed for dedupe. */
    pii: z.boolean().default(false),
  })
  .strict();
export type FieldSpec = z.infer<typeof FieldSpecSchema>;

const DedupeRuleSchema = z
  .object({
    fields: z.array(key(64)).min(1).max(10),
    lookbackDays: z.number().int().min(1).max(365),
    /** all: the same person when every field matches; any: when one does. */
    match: z.enum(['all', 'any']).default('all'),
  })
  .strict();
export type DedupeRule = z.infer<typeof DedupeRuleSchema>;

export const DISTRIBUTION_METHODS = ['waterfall', 'auction', 'send_to_all', 'round_robin', 'weighted'] as const;
export type DistributionMethod = (typeof DISTRIBUTION_METHODS)[number];

const ReturnsRuleSchema = z
  .object({
    windowDays: z.number().int().min(0).max(90).default(7),
    /** Reasons approved without a person; others wait for a decision through the API. */
    autoApprove: z.array(line(100).min(1)).max(50).default([]),
    /** Reasons denied without a person. */
    autoDeny: z.array(line(100).min(1)).max(50).default([]),
  })
  .strict();

export const CampaignSchema = z
  .object({
    id: Id,
    name: line(200).min(1),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').default('USD'),
    fields: z.record(key(64), FieldSpecSchema).refine((f) => Object.keys(f).length > 0 && Object.keys(f).length <= 100, 'must define 1 to 100 fields'),
    /** TCPA consent: a TrustedForm certificate URL in `trustedform_cert_url`. */
    consent: z.object({ trustedForm: z.enum(['required', 'optional']) }).strict().optional(),
    /** Fields a ping may carry: never contact details. */
    pingFields: z.array(key(64)).max(100).default([]),
    method: z.enum(DISTRIBUTION_METHODS),
    sale: z.union([
      z.object({ model: z.literal('exclusive') }).strict(),
      z.object({ model: z.literal('shared'), maxBuyers: z.number().int().min(2).max(20) }).strict(),
    ]),
    dedupe: DedupeRuleSchema.optional(),
    /** Share of the buyer's price the seller keeps; bids are ranked and floored after it. */
    marginPercent: z.number().min(0).max(100).default(0),
    /** Lowest net price worth selling for. */
    floorPrice: Money.default(0),
    /** The supplier's synchronous answer arrives within this (at most 8 s: inside the API's own deadline on Temporal calls). */
    deadlineMs: z.number().int().min(200).max(8_000).default(5_000),
    pingTimeoutMs: z.number().int().min(50).max(30_000).default(1_000),
    /** How long a bid from POST /ping can be posted against. */
    bidTtlSeconds: z.number().int().min(5).max(3600).default(60),
    returns: ReturnsRuleSchema.default({ windowDays: 7, autoApprove: [], autoDeny: [] }),
    /** Buyers taking part, by ID. */
    buyers: z.array(Id).max(200).default([]),
    paused: z.boolean().default(false),
  })
  .strict();
export type Campaign = z.infer<typeof CampaignSchema>;

// ------------------------------------------------------------------------------------- supplier

const CountCapsSchema = z
  .object({
    hour: z.number().int().min(0).optional(),
    day: z.number().int().min(0).optional(),
    week: z.number().int().min(0).optional(),
    month: z.number().int().min(0).optional(),
  })
  .strict();
export type CountCaps = z.infer<typeof CountCapsSchema>;

const Sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lower-case SHA-256 hex digest');

export const SupplierSchema = z
  .object({
    id: Id,
    name: line(200).min(1),
    /** SHA-256 of each API key the supplier may use (the key itself is never stored). */
    apiKeySha256: z.array(Sha256Hex).min(1).max(5),
    campaigns: z.array(Id).max(200).default([]),
    payout: z.union([
      z.object({ type: z.literal('fixed'), amount: Money }).strict(),
      z.object({ type: z.literal('revshare'), percent: z.number().min(0).max(100) }).strict(),
    ]),
    caps: CountCapsSchema.default({}),
    timeZone: ZoneName.default('UTC'),
    paused: z.boolean().default(false),
  })
  .strict();
export type Supplier = z.infer<typeof SupplierSchema>;

// -------------------------------------------------------------------------------------- buyer

/**
 * A buyer's secret: an environment variable the operator sets for the tenant (see reach.ts: its name
 * must start with LEADRELAY_BUYER_<TENANT>_). Never a file or an inline value: buyer documents are
 * the tenant's, and they are in history.
 */
const BuyerSecretSchema = z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name') }).strict();

const AuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('header'), name: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'), secret: BuyerSecretSchema, prefix: line(40).optional() }).strict(),
  z.object({ type: z.literal('basic'), username: line(200).min(1), password: BuyerSecretSchema }).strict(),
  /** HMAC of the body as sent, hex, in the named header (e.g. X-Signature: sha256=<hex>). */
  z.object({ type: z.literal('hmac'), header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'), secret: BuyerSecretSchema, algorithm: z.enum(['sha256', 'sha1']).default('sha256'), prefix: line(40).default('') }).strict(),
]);
export type EndpointAuth = z.infer<typeof AuthSchema>;

export const HttpEndpointSchema = z
  .object({
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000),
    /** Body format: the mapping's result serialized as JSON, form fields or XML. */
    format: z.enum(['json', 'form', 'xml']).default('json'),
    /** A template from the definitions (platform → environment → tenant), or the endpoint's own mapping. */
    template: Id.optional(),
    /** JSONata over { lead, campaign, buyer, bid, leadId } → the body object. */
    mapping: Jsonata.optional(),
    /** Root element name for XML bodies. */
    xmlRoot: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/).default('lead'),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'), line(1000)).default({}),
    auth: AuthSchema.optional(),
    timeoutMs: z.number().int().min(50).max(60_000).default(5_000),
    response: z
      .object({
        /** How to read the body (auto: by Content-Type). */
        format: z.enum(['auto', 'json', 'xml', 'form', 'text']).default('auto'),
        /** JSONata over { status, headers, body, text } → { outcome, price?, reason?, reference? }. */
        mapping: Jsonata,
      })
      .strict(),
  })
  .strict();
export type HttpEndpoint = z.infer<typeof HttpEndpointSchema>;

export const WebhookEndpointSchema = z.object({ kind: z.literal('webhook'), url: z.url({ protocol: /^https?$/ }).max(2000), timeoutMs: z.number().int().min(50).max(60_000).default(5_000) }).strict();
export const EmailEndpointSchema = z.object({ kind: z.literal('email'), to: z.array(z.email()).min(1).max(20), subject: line(200).default('New lead') }).strict();
export const PostEndpointSchema = z.discriminatedUnion('kind', [HttpEndpointSchema, WebhookEndpointSchema, EmailEndpointSchema]);
export type PostEndpoint = z.infer<typeof PostEndpointSchema>;

const BreakerSchema = z
  .object({
    /** Opens after this many failures in a row. */
    consecutiveFailures: z.number().int().min(1).max(1000).default(5),
    /** Or when the share of failures in the window is above this (with at least minCalls calls). */
    errorRate: z.number().gt(0).max(1).default(0.5),
    windowSeconds: z.number().int().min(1).max(3600).default(60),
    minCalls: z.number().int().min(1).max(10_000).default(20),
    /** Open this long, then one probe is let through (half-open). */
    coolDownSeconds: z.number().int().min(1).max(86_400).default(30),
  })
  .strict();
export type BreakerSettings = z.infer<typeof BreakerSchema>;
export const DEFAULT_BREAKER: BreakerSettings = BreakerSchema.parse({});

export const BuyerSchema = z
  .object({
    id: Id,
    name: line(200).min(1),
    timeZone: ZoneName.default('UTC'),
    /** Lower goes first (waterfall) and breaks ties between equal bids. */
    priority: z.number().int().min(0).max(10_000).default(100),
    weight: z.number().int().min(1).max(1000).default(1),
    paused: z.boolean().default(false),
    /** The same condition language as routing policies, over { lead: { <campaign fields> } }. */
    filters: ConditionSchema.optional(),
    /** Leads accepted per calendar hour/day/week/month in the buyer's zone. */
    caps: CountCapsSchema.default({}),
    /** Money spent per calendar day/month in the buyer's zone. */
    budget: z.object({ day: Money.optional(), month: Money.optional() }).strict().default({}),
    /** Operating hours in the buyer's zone; outside them the lead is queued to the opening, or the buyer skipped. */
    hours: z
      .object({
        days: z.array(z.number().int().min(1).max(7)).min(1).max(7).default([1, 2, 3, 4, 5]),
        open: ClockTime,
        close: ClockTime,
        outside: z.enum(['queue', 'skip']).default('skip'),
      })
      .strict()
      .optional(),
    pricing: z.discriminatedUnion('type', [
      z.object({ type: z.literal('fixed'), price: Money }).strict(),
      /** The price comes from a ping's bid. */
      z.object({ type: z.literal('bid') }).strict(),
    ]),
    /** Never the same person twice within this many days (fields: the campaign's dedupe fields, else its PII fields). */
    dedupeDays: z.number().int().min(1).max(365).optional(),
    ping: HttpEndpointSchema.optional(),
    post: PostEndpointSchema,
    breaker: BreakerSchema.default(DEFAULT_BREAKER),
  })
  .strict()
  .superRefine((buyer, ctx) => {
    if (buyer.pricing.type === 'bid' && !buyer.ping) ctx.addIssue({ code: 'custom', path: ['ping'], message: 'is required when pricing.type is "bid"' });
  });
export type Buyer = z.infer<typeof BuyerSchema>;

// ------------------------------------------------------------------------------------ outcomes

export const OUTCOMES = ['accepted', 'rejected', 'duplicate', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** What a buyer's answer means, after its response mapping. */
export interface MappedAnswer {
  outcome: Outcome;
  price?: number;
  reason?: string;
  reference?: string;
}

/** Why a buyer was not offered (or not sold) a lead. */
export const SKIP_REASONS = [
  'filter',
  'cap_reached',
  'budget_reached',
  'outside_hours',
  'breaker_open',
  'paused',
  'duplicate_for_buyer',
  'bid_below_floor',
  'ping_timeout',
  'no_bid',
  'already_sold',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type DocKind = 'campaign' | 'supplier' | 'buyer';
export type DistributionDoc = Campaign | Supplier | Buyer;
export const DOC_SCHEMAS = { campaign: CampaignSchema, supplier: SupplierSchema, buyer: BuyerSchema } as const;

export { text as freeText };
