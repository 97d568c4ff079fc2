/**
 * The emulated buyers of the sandbox marketplace (./marketplace.ts): what each one does, as data
 * that can change while the server runs, and the wire formats they speak. Pure: no I/O here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';

export const MARKETPLACE_FORMATS = ['json', 'xml', 'form'] as const;
/** json: JSON in and out; xml: XML in and out; form: form-encoded in, `STATUS|k=v|…` plain text out. */
export type MarketplaceFormat = (typeof MARKETPLACE_FORMATS)[number];

const LatencySchema = z
  .object({
    meanMs: z.number().int().min(0).max(120_000),
    /** Uniform jitter: each answer waits meanMs ± jitterMs (never below 0). */
    jitterMs: z.number().int().min(0).max(60_000).default(0),
    /** Jitter from a PRNG seeded with this (the same sequence every run), instead of Math.random. */
    seed: z.number().int().optional(),
  })
  .strict();
export type MarketplaceLatency = z.infer<typeof LatencySchema>;

const RateLimitSchema = z.discriminatedUnion('type', [
  /** `limit` requests per fixed window (from the first request of the window), then 429 until it ends. */
  z.object({ type: z.literal('window'), limit: z.number().int().min(1), windowSeconds: z.number().int().min(1).max(86_400) }).strict(),
  /** The first request of every `every` is refused with 429 and `Retry-After: retryAfterSeconds`. */
  z.object({ type: z.literal('cycle'), every: z.number().int().min(1), retryAfterSeconds: z.number().int().min(0).max(86_400).default(1) }).strict(),
]);
export type MarketplaceRateLimit = z.infer<typeof RateLimitSchema>;

/** The behaviour of one emulated buyer (every field but `id` can be patched at run time). */
export const BehaviourSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters: a-z, 0-9, "-" and "_"'),
    name: z.string().min(1).max(200),
    format: z.enum(MARKETPLACE_FORMATS).default('json'),
    latency: LatencySchema.default({ meanMs: 50, jitterMs: 0 }),
    /** Latency of pings only (null: `latency`). */
    pingLatency: LatencySchema.nullable().default(null),
    /** What a ping bids and an accepted post confirms; null: pings answer "no bid", posts carry no price. */
    price: z.number().nonnegative().nullable().default(10),
    /** How posts are answered (a buyer that has already seen the email answers "duplicate" regardless). */
    post: z.enum(['accept', 'reject', 'duplicate']).default('accept'),
    rejectReason: z.string().min(1).max(200).default('not interested'),
    /** While true, every request fails as `failure` says. */
    failing: z.boolean().default(false),
    /** 503 / 500: that status; hang: never answer; close: drop the connection without answering. */
    failure: z.union([z.literal(503), z.literal(500), z.literal('hang'), z.literal('close')]).default(503),
    rateLimit: RateLimitSchema.nullable().default(null),
    /** Emails this buyer has bought (lower case): a post for one of them answers "duplicate". Accepted posts add theirs. */
    acceptedEmails: z.array(z.string().max(320)).default([]),
    /** Same Idempotency-Key (per buyer and kind) → the stored answer again, byte for byte, and no second sale. */
    idempotency: z.boolean().default(true),
  })
  .strict();
export type MarketplaceBuyerBehaviour = z.infer<typeof BehaviourSchema>;
/** What callers give: everything but id and name has a default. */
export type MarketplaceBuyerInput = z.input<typeof BehaviourSchema>;
/** A run-time change: any fields but `id`; the result is validated as a whole. */
export type MarketplaceBehaviourPatch = Partial<Omit<MarketplaceBuyerInput, 'id'>>;

/** The buyers every marketplace starts with; their IDs are fixed (tests and docs name them). */
export const DEFAULT_MARKETPLACE_BUYERS: readonly MarketplaceBuyerInput[] = [
  { id: 'fastbid', name: 'FastBid Insurance', format: 'json', latency: { meanMs: 50, jitterMs: 10, seed: 1 }, price: 12 },
  { id: 'slowbid', name: 'SlowBid Direct', format: 'json', latency: { meanMs: 50 }, pingLatency: { meanMs: 3000 }, price: 30 },
  { id: 'flaky', name: 'Flaky Auto Leads', format: 'json', latency: { meanMs: 40 }, price: 10, failing: true, failure: 503 },
  { id: 'dupes', name: 'Dupes R Us', format: 'json', latency: { meanMs: 30 }, price: 14, post: 'duplicate' },
  { id: 'xmlbuyer', name: 'XML Underwriters', format: 'xml', latency: { meanMs: 60, jitterMs: 20, seed: 2 }, price: 9.5 },
  { id: 'daytime', name: 'Daytime Call Center', format: 'json', latency: { meanMs: 80, jitterMs: 20, seed: 3 }, price: 8 },
  { id: 'ratelimited', name: 'Throttled Insurance Co', format: 'json', latency: { meanMs: 30 }, price: 7, rateLimit: { type: 'cycle', every: 3, retryAfterSeconds: 1 } },
  { id: 'formbuyer', name: 'Form & Text Brokers', format: 'form', latency: { meanMs: 40 }, price: 6 },
];

export function parseBehaviour(input: MarketplaceBuyerInput): MarketplaceBuyerBehaviour {
  const parsed = BehaviourSchema.parse(input);
  return { ...parsed, acceptedEmails: parsed.acceptedEmails.map((e) => e.toLowerCase()) };
}

/** A new behaviour from a patch (an unknown buyer starts from the defaults). */
export function applyPatch(id: string, current: MarketplaceBuyerBehaviour | undefined, patch: MarketplaceBehaviourPatch): MarketplaceBuyerBehaviour {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new z.ZodError([{ code: 'custom', path: [], message: 'must be an object', input: patch }]);
  const defined = Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && k !== 'id'));
  return parseBehaviour({ ...(current ?? { name: id }), ...defined, id });
}

// ------------------------------------------------------------------------------------ randomness

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Milliseconds to wait: mean ± jitter drawn from `random`. */
export function drawLatency(latency: MarketplaceLatency, random: () => number): number {
  if (latency.jitterMs === 0) return latency.meanMs;
  return Math.max(0, Math.round(latency.meanMs + (random() * 2 - 1) * latency.jitterMs));
}

// ----------------------------------------------------------------------------------- wire formats

export type AnswerStatus = 'bid' | 'no_bid' | 'accepted' | 'rejected' | 'duplicate' | 'error';

/** One answer before encoding: its status word and fields (price, id, reason). */
export interface Answer {
  status: AnswerStatus;
  price?: number;
  id?: string;
  reason?: string;
}

export interface EncodedReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CONTENT_TYPES: Record<MarketplaceFormat, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  form: 'text/plain; charset=utf-8',
};

/** Encodes an answer in the buyer's format; prices always with two decimals. */
export function encodeAnswer(format: MarketplaceFormat, httpStatus: number, answer: Answer, headers: Record<string, string> = {}): EncodedReply {
  const price = answer.price !== undefined ? answer.price.toFixed(2) : undefined;
  let body: string;
  switch (format) {
    case 'json': {
      const fields = [`"status":${JSON.stringify(answer.status)}`];
      if (price !== undefined) fields.push(`"price":${price}`);
      if (answer.id !== undefined) fields.push(`"id":${JSON.stringify(answer.id)}`);
      if (answer.reason !== undefined) fields.push(`"reason":${JSON.stringify(answer.reason)}`);
      body = `{${fields.join(',')}}`;
      break;
    }
    case 'xml': {
      const parts = [`<status>${answer.status}</status>`];
      if (price !== undefined) parts.push(`<price>${price}</price>`);
      if (answer.id !== undefined) parts.push(`<id>${escapeXml(answer.id)}</id>`);
      if (answer.reason !== undefined) parts.push(`<reason>${escapeXml(answer.reason)}</reason>`);
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<response>${parts.join('')}</response>\n`;
      break;
    }
    case 'form': {
      const parts = [answer.status.toUpperCase().replace('NO_BID', 'NOBID')];
      if (answer.id !== undefined) parts.push(`ref=${answer.id}`);
      if (price !== undefined) parts.push(`price=${price}`);
      if (answer.reason !== undefined) parts.push(`reason=${answer.reason.replace(/[|\r\n]/g, ' ')}`);
      body = `${parts.join('|')}\n`;
      break;
    }
  }
  return { status: httpStatus, headers: { 'content-type': CONTENT_TYPES[format], ...headers }, body };
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const EXPECTED_CONTENT_TYPE: Record<MarketplaceFormat, RegExp> = {
  json: /json/i,
  xml: /xml/i,
  form: /x-www-form-urlencoded/i,
};

/**
 * Reads a request body as the buyer's format. Like a real endpoint it refuses another content
 * type (415) and a body it cannot read (400). Gives the email it carries, if any.
 */
export function readRequest(format: MarketplaceFormat, contentType: string, raw: string): { email: string | undefined } | { error: { status: 400 | 415; reason: string } } {
  if (!EXPECTED_CONTENT_TYPE[format].test(contentType)) {
    return { error: { status: 415, reason: `expected a ${format === 'form' ? 'form-encoded' : format.toUpperCase()} body, got ${contentType || 'no content type'}` } };
  }
  switch (format) {
    case 'json': {
      let body: unknown;
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        return { error: { status: 400, reason: 'malformed JSON' } };
      }
      if (typeof body !== 'object' || body === null) return { error: { status: 400, reason: 'the body must be a JSON object' } };
      return { email: findEmail(body, 0) };
    }
    case 'xml': {
      if (raw.trim() === '' || XMLValidator.validate(raw) !== true) return { error: { status: 400, reason: 'malformed XML' } };
      // Tag values as text: a parsed number would lose a ZIP code's leading zero or an email's case.
      const body: unknown = new XMLParser({ ignoreAttributes: true, parseTagValue: false }).parse(raw);
      return { email: findEmail(body, 0) };
    }
    case 'form':
      return { email: new URLSearchParams(raw).get('email') ?? undefined };
  }
}

/** The first `email` string in a body (its own key first, then its children), a few levels deep. */
function findEmail(value: unknown, depth: number): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 4) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['email'] === 'string') return record['email'];
  for (const child of Object.values(record)) {
    const found = findEmail(child, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
