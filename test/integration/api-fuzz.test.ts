import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { createApp } from '../../src/api/app';
import { signAcceptToken } from '../../src/accept/tokens';
import { slackSignature } from '../../src/api/signatures';
import type { LeadState } from '../../src/domain/leadState';
import { DEMO_ACCEPT_LINK_SECRET, DEMO_SLACK_SIGNING_SECRET } from '../../sandbox/demoTenant';
import { DEMO_CAMPAIGN_ID, demoMarketplaceCatalog, type BuyerInput, type CampaignInput, type SupplierInput } from '../../sandbox/demoMarketplace';
import { startMarketplace, type RunningMarketplace } from '../../sandbox/marketplace';
import type { DistributionState } from '../../src/distribution/lead';
import { TRUSTEDFORM_PREFIX } from '../../src/distribution/leadSchema';
import { distributedLeadWorkflowId, quarantineWorkflowId } from '../../src/protocol/ids';
import { genericSignatureHeader } from '../../src/sources/kinds/generic';
import { typeformSignature } from '../../src/sources/kinds/typeform';
import { sha256Hex } from '../../src/tenants/registry';
import { TenantRegistry } from '../../src/tenants/registry';
import { envelopeOf, rawRequest, type RawRequest, type RawResponse } from '../support/raw';
import { uniqueLead } from '../support/distribution';
import { demoScenario, type Scenario } from '../support/scenario';
import typeformResponse from '../fixtures/sources/typeform/form-response.json';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/*
 * A property test of the whole HTTP API against the real stack (Temporal dev server, worker,
 * sandbox): every route gets requests with one to three faults each (hostile path parameters,
 * query strings, bodies, headers, content types and encodings, forged signatures). Whatever the
 * mix, the answer is a 4xx in the error envelope, naming a field at fault when it is a 400
 * invalid_request, never a 5xx, and nothing is started, written or sent.
 */

const SEED = 20_261_130;
const RUNS = 3000;

let t: TestStack;
/** A lead routed to a rep and waiting for them to accept: the target of the lead routes' faults. */
let lead: { id: string; owner: string; other: string; state: LeadState };
let policy: Record<string, unknown>;

/** Buyer emulators the distribution catalog's endpoints point at: a request recorded here is a lead sent. */
let market: RunningMarketplace;
const CAMPAIGN = DEMO_CAMPAIGN_ID;
const BUYER = 'fastbid';
type SupplierKeyName = 'acme' | 'bright' | 'outsider' | 'paused';
/**
 * The fuzz tenant's distribution catalog (the demo campaign with fastbid and formbuyer, the two demo
 * suppliers, one supplier in no campaign and one paused) and the distributed leads the faults aim at.
 */
let dist: {
  keys: Record<SupplierKeyName, string>;
  docs: { campaign: CampaignInput; supplier: SupplierInput; buyer: BuyerInput };
  /** Sold to fastbid, no return asked. */
  sold: string;
  /** Sold to fastbid, its return waiting for a person's decision. */
  returned: string;
  /** Sold to fastbid, its return denied by the campaign's rule. */
  denied: string;
  /** acme-leads' ping, its bid waiting for a post. */
  bid: string;
  /** bright-media's ping, its bid waiting for a post. */
  otherBid: string;
};
const distLeads = () => [dist.sold, dist.returned, dist.denied, dist.bid, dist.otherBid];

/** The demo marketplace catalog stored through the API (as test/support/distribution.ts does), narrowed for the fuzz. */
async function storeDistributionCatalog(): Promise<void> {
  market = await startMarketplace({});
  const catalog = demoMarketplaceCatalog(market.url, { method: 'auction' });
  const buyers = catalog.buyers.filter((b) => b.id === BUYER || b.id === 'formbuyer');
  // Consent required, so a missing or foreign certificate URL is a fault; bids live the whole fuzz.
  const campaign: CampaignInput = { ...catalog.campaign, buyers: buyers.map((b) => b.id), consent: { trustedForm: 'required' }, bidTtlSeconds: 3600 };
  const secret = () => randomBytes(12).toString('hex');
  const keys: Record<SupplierKeyName, string> = {
    acme: `sk.${t.tenant.id}.acme-leads.${secret()}`,
    bright: `sk.${t.tenant.id}.bright-media.${secret()}`,
    outsider: `sk.${t.tenant.id}.fuzz-outsider.${secret()}`,
    paused: `sk.${t.tenant.id}.fuzz-paused.${secret()}`,
  };
  const suppliers: SupplierInput[] = [
    { ...catalog.suppliers.find((s) => s.id === 'acme-leads')!, apiKeySha256: [sha256Hex(keys.acme)] },
    { ...catalog.suppliers.find((s) => s.id === 'bright-media')!, apiKeySha256: [sha256Hex(keys.bright)] },
    { id: 'fuzz-outsider', name: 'In no campaign', apiKeySha256: [sha256Hex(keys.outsider)], campaigns: [], payout: { type: 'fixed', amount: 1 } },
    { id: 'fuzz-paused', name: 'Paused', apiKeySha256: [sha256Hex(keys.paused)], campaigns: [CAMPAIGN], payout: { type: 'fixed', amount: 1 }, paused: true },
  ];
  const put = async (plural: string, doc: { id: string }) => {
    const res = await t.request('PUT', `/v1/${plural}/${doc.id}`, doc);
    if (res.status !== 200) throw new Error(`PUT /v1/${plural}/${doc.id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  };
  for (const b of buyers) await put('buyers', b as { id: string });
  await put('campaigns', campaign as { id: string });
  for (const s of suppliers) await put('suppliers', s as { id: string });

  type Answer = { leadId: string; status: string; soldTo: string[]; bidId?: string };
  const supplier = async (key: string, path: string, body: unknown): Promise<Answer> => {
    const res = await t.request('POST', `/v1/campaigns/${CAMPAIGN}/${path}`, body, { authorization: `Bearer ${key}` });
    if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (res.body.status !== 'pending') return res.body as Answer;
    // A busy machine may answer pending at the deadline: the lead's state holds the answer once decided.
    return eventually(async () => ((await t.request('GET', `/v1/leads/${res.body.leadId}`)).body as DistributionState).answer ?? undefined, 120_000, `lead ${res.body.leadId} answered`) as Promise<Answer>;
  };
  const soldLead = async () => {
    const answer = await supplier(keys.acme, 'leads', fuzzLead());
    expect(answer).toMatchObject({ status: 'sold', soldTo: [BUYER] });
    return answer.leadId;
  };
  const returnLead = async (leadId: string, reason: string, status: string) => {
    const res = await t.request('POST', `/v1/leads/${leadId}/returns`, { buyerId: BUYER, reason });
    expect({ status: res.status, returned: res.body.return?.status }).toEqual({ status: 200, returned: status });
  };
  const ping = async (key: string) => {
    const answer = await supplier(key, 'ping', pingOf(fuzzLead()));
    expect(answer.status).toBe('bid');
    return answer.bidId!;
  };
  const [sold, returned, denied, bid, otherBid] = [await soldLead(), await soldLead(), await soldLead(), await ping(keys.acme), await ping(keys.bright)];
  await returnLead(returned, 'wrong_number', 'pending');
  await returnLead(denied, 'changed_mind', 'denied');
  dist = { keys, docs: { campaign, supplier: suppliers[0]!, buyer: buyers.find((b) => b.id === BUYER)! }, sold, returned, denied, bid, otherBid };
}

const PING_FIELDS = ['state', 'zip', 'age', 'vehicle_year', 'insured'];
const fuzzLead = () => uniqueLead({ trustedform_cert_url: `${TRUSTEDFORM_PREFIX}${randomBytes(20).toString('hex')}` });
const pingOf = (full: Record<string, unknown>) => Object.fromEntries(PING_FIELDS.map((f) => [f, full[f]]));

/** The fuzz tenant's sources, with secrets the test signs with: Typeform (its deliveries are fuzzed), generic JSON (it feeds the quarantine), Meta (its handshake). */
const SOURCE_SECRETS = { typeform: 'typeform-secret-fuzz', generic: 'generic-secret-fuzz', meta: 'meta-app-secret-fuzz' };
const META_VERIFY_TOKEN = 'meta-verify-token-fuzz';
const SOURCE_IDS = ['typeform', 'generic', 'meta'] as const;
function withFuzzSources(build: (url: string) => Scenario): (url: string) => Scenario {
  return (url) => {
    const s = build(url);
    s.tenant.sources = [
      { id: 'typeform', kind: 'typeform', name: 'Fuzz form', secret: { value: SOURCE_SECRETS.typeform } },
      { id: 'generic', kind: 'generic', name: 'Fuzz feed', secret: { value: SOURCE_SECRETS.generic } },
      { id: 'meta', kind: 'meta', name: 'Fuzz lead ads', secret: { value: SOURCE_SECRETS.meta }, verifyToken: { value: META_VERIFY_TOKEN } },
    ];
    return s;
  };
}
const sourceId = (id: string) => `src_${t.tenant.id}_${id}`;
/** The Typeform response delivered once before the fuzz: every delivery the fuzz sends (re)delivers it, a duplicate at best. */
const TYPEFORM_RAW = JSON.stringify(typeformResponse.body);

/** What the source, quarantine and codec routes' faults aim at, made before the fuzz. */
let src: {
  /** The lead the Typeform response started (in the baseline; in flight). */
  leadId: string;
  /** A generic event its mapping cannot read, held in the quarantine. */
  held: string;
  /** Another one, discarded by a person. */
  discarded: string;
  /** A payload encrypted with the fuzz tenant's key (as /codec/encode answers it), and one in clear. */
  encrypted: { metadata: Record<string, string>; data: string };
  plain: { metadata: Record<string, string>; data: string };
};

async function prepareSources(): Promise<void> {
  const deliver = (id: string, raw: string, headers: Record<string, string>) =>
    rawRequest(t.api, { method: 'POST', path: `/v1/sources/${sourceId(id)}/events`, headers: { 'content-type': 'application/json', ...headers }, body: raw });
  const first = await deliver('typeform', TYPEFORM_RAW, { 'typeform-signature': typeformSignature(SOURCE_SECRETS.typeform, TYPEFORM_RAW) });
  expect({ status: first.status, body: first.json }).toMatchObject({ status: 202, body: { status: 'accepted' } });
  const leadId = (first.json as { leadId: string }).leadId;
  // Routed and its owner told, like the target lead: from here on it waits without calling out.
  await t.waitForLead(leadId, (s) => s.status === 'routed' && s.owner !== null && s.notifications.length > 0, 'source lead routed and notified');

  const quarantined = async (tag: string) => {
    const raw = JSON.stringify({ id: `fuzz-${tag}`, contact: { mail: `${tag}@fuzz-partner.example` } });
    const res = await deliver('generic', raw, { 'x-leadrelay-signature': genericSignatureHeader(SOURCE_SECRETS.generic, Math.floor(Date.now() / 1000), raw) });
    expect({ status: res.status, body: res.json }).toMatchObject({ status: 202, body: { status: 'quarantined' } });
    return (res.json as { quarantineId: string }).quarantineId;
  };
  const held = await quarantined('held');
  const discarded = await quarantined('discarded');
  const discard = await t.request('POST', `/v1/quarantine/${discarded}/discard`, { reason: 'fuzz setup' });
  expect({ status: discard.status, state: discard.body.status }).toEqual({ status: 200, state: 'discarded' });

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const plain = { metadata: { encoding: b64('json/plain') }, data: b64('"fuzz"') };
  const encoded = await t.request('POST', '/codec/encode', { payloads: [plain] });
  expect(encoded.status).toBe(200);
  src = { leadId, held, discarded, encrypted: encoded.body.payloads[0], plain };
}

beforeAll(async () => {
  t = await startTestStack(withFuzzSources(demoScenario({ allAvailable: true })));
  const res = await t.request('POST', '/v1/leads', { email: 'target@fuzz-target.example' });
  // Routed and its owner told: from here on the lead waits (an hour's SLA) without calling out.
  const state = await t.waitForLead(res.body.leadId, (s) => s.status === 'routed' && s.owner !== null && s.notifications.length > 0, 'routed and notified');
  const owner = state.owner!.id;
  lead = { id: res.body.leadId, owner, other: t.tenant.routing.team.map((m) => m.id).find((id) => id !== owner)!, state };
  policy = (await t.request('GET', '/v1/policy')).body.policy;
  await storeDistributionCatalog();
  await prepareSources();
});

afterAll(async () => {
  await t?.close();
  await market?.close();
});

// ---------------------------------------------------------------------------------------------
// Requests as drafts: a valid request per route, then faults applied to it
// ---------------------------------------------------------------------------------------------

interface Draft {
  method: string;
  params: Record<string, string>;
  /** Raw `key=value` pieces, already percent-encoded. */
  query: string[];
  headers: Record<string, string>;
  /** A JSON value, or a string sent as is; undefined: no body. */
  body: unknown;
  /** Bytes sent instead of the body (already encoded as the headers say). */
  raw?: Buffer;
  /** Sign the final body as Slack would (the signature faults turn this off). */
  slackSigned?: boolean;
  /** Sign the final body as Typeform would (the signature and tampering faults turn this off). */
  typeformSigned?: boolean;
  /** Compress the final body with this Content-Encoding (a valid encoding: not a fault by itself). */
  compress?: 'gzip' | 'deflate' | 'br';
}

type Slot = 'auth' | 'path' | 'query' | 'body' | 'type' | 'encoding' | 'header' | 'signature' | 'token' | 'method';

interface Fault {
  slot: Slot;
  label: string;
  /** Fields a 400 invalid_request may name for this fault (exact, or as a prefix of a nested field). */
  fields: string[];
  apply(d: Draft): void;
}

interface RouteSpec {
  route: string;
  base(): Draft;
  /** Each one alone makes the base request invalid. Empty: a read-only route with nothing to refuse. */
  faults: Array<fc.Arbitrary<Fault>>;
}

const fault = (slot: Slot, label: string, fields: string[], apply: (d: Draft) => void): Fault => ({ slot, label, fields, apply });

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

const CONTROL = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u000c', '\u000e', '\u001b', '\u001f', '\u007f'];
const printable = fc.string({ maxLength: 12 });
/** A string with a control character inside (kept inside: trimming must not remove it). */
const withControl = fc.tuple(printable, fc.constantFrom(...CONTROL), printable).map(([a, c, b]) => `x${a}${c}${b}x`);
/** A string longer than `cap`, without whitespace (so trimming keeps it too long). */
const overlong = (cap: number) => fc.string({ minLength: cap + 1, maxLength: cap + 40, unit: fc.constantFrom('a', 'Z', '9', '-', '_', 'é', '字', '\u{1F600}') }).filter((s) => s.length > cap);
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.array(printable, { minLength: 1, maxLength: 2 }), fc.constant({ nested: 'object' }));
const hostileString = (cap: number) => fc.oneof(withControl, overlong(cap), wrongType);
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
/** An object with an own prototype key, as JSON.parse builds it from a body. */
const protoObject = fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.oneof(fc.constant('x'), fc.constant({ polluted: true }))).map(([key, value]) => ({ key, value: JSON.parse(JSON.stringify({ [key]: value })) as Record<string, unknown> }));
const identifier = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,15}$/);
const unknownKey = (known: string[]) => identifier.filter((k) => !known.includes(k) && !(PROTOTYPE_KEYS as readonly string[]).includes(k));
const enc = encodeURIComponent;

const labels63 = (n: number) => Array.from({ length: n }, () => 'a'.repeat(63)).join('.');
const badEmail = fc.oneof(
  fc.integer({ min: 5, max: 34 }).map((n) => `jane@${labels63(n)}.com`),
  fc.integer({ min: 64, max: 200 }).map((n) => `jane@${'b'.repeat(n)}.com`),
  fc.integer({ min: 65, max: 200 }).map((n) => `${'j'.repeat(n)}@acme.com`),
  fc.stringMatching(/^[a-z.]{0,20}$/),
  withControl,
  wrongType,
  fc.constantFrom('a@b', '@acme.com', 'a@@acme.com', 'jane@acme.com\u0000', 'jane@acme..com', 'jane doe@acme.com', 'jane@-acme.com'),
);

// ---------------------------------------------------------------------------------------------
// Faults shared by routes
// ---------------------------------------------------------------------------------------------

const authFault = fc
  .constantFrom<string | null>(null, 'Bearer', 'Bearer nope', 'Basic dXNlcjpwYXNz', 'Token abc', 'Bearer a b')
  .map((value) => fault('auth', `authorization ${value}`, [], (d) => (value === null ? delete d.headers['authorization'] : (d.headers['authorization'] = value))));

const MALFORMED_PERCENT = ['%', '%zz', '%E0%A4%A', '%C0', '%ZZ%', 'ld_%G1', '%%', '%u0041', '%0', 'a%2'];
/** `field`: what a route that checks the parameter's form names in its 400 (others answer 404). */
const pathFault = (param: string, field?: string) =>
  fc.oneof(
    fc.constantFrom(...MALFORMED_PERCENT).map((raw) => fault('path', `${param} ${raw}`, ['path'], (d) => (d.params[param] = raw))),
    fc
      .oneof(withControl, overlong(120), fc.string({ unit: 'grapheme', minLength: 1 }), fc.constantFrom(...PROTOTYPE_KEYS, '..', '.', 'ld_000000000000000000000000', 'ld_ABCDEF', "'; DROP"))
      .map((value) => fault('path', `${param} ${JSON.stringify(value)}`, field ? [field] : [], (d) => (d.params[param] = enc(value)))),
  );

const contentTypeFault = fc
  .constantFrom<string | null>(null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/html', 'application/json; charset=klingon', 'application/json; charset=utf-16')
  .map((type) =>
    fault('type', `content-type ${type}`, [], (d) => {
      if (d.body === undefined) d.body = {};
      if (type === null) delete d.headers['content-type'];
      else d.headers['content-type'] = type;
    }),
  );

/** Bytes of the draft's body as the route would read them. */
const bodyBytes = (d: Draft): Buffer => Buffer.from(d.body === undefined ? '{}' : typeof d.body === 'string' ? d.body : JSON.stringify(d.body), 'utf8');
const COMPRESS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

const encodingFault = fc.oneof(
  fc.constantFrom('x-bogus', 'compress', 'gzip, br', 'identity;q=0', 'zip').map((e) => fault('encoding', `content-encoding ${e}`, [], (d) => {
    d.raw = bodyBytes(d);
    d.headers['content-encoding'] = e;
  })),
  // A compressed body cut short: every decoder fails on it (random bytes could be valid brotli).
  fc.tuple(fc.constantFrom('gzip', 'deflate', 'br') as fc.Arbitrary<keyof typeof COMPRESS>, fc.double({ min: 0, max: 0.9, noNaN: true })).map(([e, cut]) =>
    fault('encoding', `truncated ${e}`, ['(body)'], (d) => {
      const full = COMPRESS[e](bodyBytes(d));
      d.raw = full.subarray(0, Math.max(1, Math.floor(full.length * cut)));
      d.headers['content-encoding'] = e;
    }),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) =>
    fault('encoding', 'garbage gzip', ['(body)'], (d) => {
      d.raw = Buffer.concat([Buffer.from([0x00]), Buffer.from(bytes)]);
      d.headers['content-encoding'] = 'gzip';
    }),
  ),
);

const invalidJsonFault = fc
  .oneof(
    fc.constantFrom('{', '[', '{"a":1,}', "{'a':1}", 'nul', '{"email":', '\u0000', '{"a":"\\x"}', '"just a string"', 'null', '123', 'true', '[' .repeat(4000)),
    fc.string({ maxLength: 40 }).filter((s) => !s.trimStart().startsWith('{') && !s.trimStart().startsWith('[') && s.trim() !== ''),
  )
  .map((text) => fault('body', `invalid JSON ${JSON.stringify(text.slice(0, 30))}`, [], (d) => (d.body = text)));

// A policy names its root `(root)`, like parsePolicy.
const arrayBodyFault = fc.integer({ min: 0, max: 3000 }).map((depth) => fault('body', `array body depth ${depth}`, ['(body)', '(root)'], (d) => (d.body = `${'['.repeat(depth + 1)}${']'.repeat(depth + 1)}`)));

/** A field of an object body set to a hostile value, removed, or an unknown or prototype key added. */
function objectFaults(target: (d: Draft) => Record<string, unknown>, prefix: string, fields: Record<string, fc.Arbitrary<unknown>>, required: string[]): Array<fc.Arbitrary<Fault>> {
  const name = (f: string) => (prefix ? `${prefix}.${f}` : f);
  return [
    ...Object.entries(fields).map(([field, hostile]) => hostile.map((value) => fault('body', `${name(field)} = ${JSON.stringify(value)?.slice(0, 40)}`, [name(field)], (d) => (target(d)[field] = value)))),
    ...required.map((field) => fc.constant(fault('body', `${name(field)} missing`, [name(field)], (d) => delete target(d)[field]))),
    unknownKey(Object.keys(fields)).map((key) => fault('body', `unknown ${name(key)}`, [name(key)], (d) => (target(d)[key] = 'x'))),
    protoObject.map(({ key, value }) => fault('body', `${name(key)} key`, [name(key)], (d) => Object.defineProperty(target(d), key, { value: value[key], enumerable: true, writable: true, configurable: true }))),
  ];
}

// ---------------------------------------------------------------------------------------------
// Route-specific faults
// ---------------------------------------------------------------------------------------------

const LEAD_STRINGS = { externalId: 200, firstName: 100, lastName: 100, company: 200, website: 300, phone: 50, title: 200, country: 100 };

const attributesFault = fc.oneof(
  protoObject.map(({ key, value }) => ({ label: `attributes.${key}`, value: value as unknown })),
  fc.oneof(fc.constant({ a: 1 }), fc.constant([1]), overlong(2000), withControl).map((v) => ({ label: 'attribute value', value: { k: v } as unknown })),
  fc.oneof(overlong(100), withControl, fc.constant('')).map((k) => ({ label: 'attribute key', value: { [k]: 'v' } as unknown })),
  fc.constant({ label: '101 attributes', value: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, i])) as unknown }),
  fc.oneof(fc.constant('flat'), fc.constant([]), fc.integer()).map((v) => ({ label: 'attributes not a map', value: v as unknown })),
);

function leadFaults(target: (d: Draft) => Record<string, unknown>, prefix: string): Array<fc.Arbitrary<Fault>> {
  const name = (f: string) => (prefix ? `${prefix}.${f}` : f);
  return [
    ...objectFaults(
      target,
      prefix,
      {
        email: badEmail,
        ...Object.fromEntries(Object.entries(LEAD_STRINGS).map(([f, cap]) => [f, hostileString(cap)])),
        message: hostileString(5000),
        source: fc.oneof(fc.constantFrom('spam', 'FORM', ''), wrongType, withControl),
      },
      ['email'],
    ),
    attributesFault.map(({ label, value }) => fault('body', `${name('attributes')}: ${label}`, [name('attributes')], (d) => (target(d)['attributes'] = value))),
  ];
}

const idempotencyKeyFault = fc
  .oneof(overlong(255).map((s) => s.replace(/[^\x21-\x7e]/g, 'k')).filter((s) => s.length > 255), fc.constantFrom('has space', 'café', '', '\t', 'ünïcode'))
  .map((key) => fault('header', `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`, ['Idempotency-Key'], (d) => (d.headers['idempotency-key'] = key)));

/** `prefix`: where the policy sits in the body (prototype keys are named by their path in the body, policy issues by their path in the policy). */
function policyFaults(target: (d: Draft) => Record<string, unknown>, prefix = ''): Array<fc.Arbitrary<Fault>> {
  const rules = (d: Draft) => target(d)['rules'] as Array<Record<string, unknown>>;
  const pools = (d: Draft) => target(d)['pools'] as Array<Record<string, unknown>>;
  return [
    hostileString(100).map((v) => fault('body', 'rule id', ['rules.0.id'], (d) => (rules(d)[0]!['id'] = v))),
    hostileString(200).map((v) => fault('body', 'rule name', ['rules.0.name'], (d) => (rules(d)[0]!['name'] = v))),
    hostileString(100).map((v) => fault('body', 'pool id', ['pools.0.id'], (d) => (pools(d)[0]!['id'] = v))),
    hostileString(100).map((v) => fault('body', 'fallback label', ['fallback.label'], (d) => ((target(d)['fallback'] as Record<string, unknown>)['label'] = v))),
    fc.oneof(fc.constantFrom('Mars/Base', ''), withControl, wrongType).map((v) => fault('body', 'timezone', ['timezone'], (d) => (target(d)['timezone'] = v))),
    unknownKey(['timezone', 'pools', 'rules', 'fallback', 'segments', 'sla', 'escalation', 'maxWaitSeconds', 'slaBusinessHours', '$schema']).map((k) => fault('body', `unknown ${k}`, [k], (d) => (target(d)[k] = 1))),
    fc.constantFrom(...PROTOTYPE_KEYS).map((k) =>
      fault('body', `segments.${k}`, [`${prefix}segments.${k}`], (d) => (target(d)['segments'] = JSON.parse(JSON.stringify({ [k]: { field: 'lead.country', equals: 'DE' } })))),
    ),
  ];
}

/** Aliases of aliases, 9 × 3^12 strings once expanded: the YAML parser must refuse, not expand. */
function aliasBomb(): string {
  const names = 'abcdefghijklm';
  const levels = Array.from({ length: 12 }, (_, i) => `${names[i + 1]}: &${names[i + 1]} [*${names[i]}, *${names[i]}, *${names[i]}]`);
  return `a: &a [x, x, x, x, x, x, x, x, x]\n${levels.join('\n')}\n`;
}

/** The policy as YAML with a fault of its own (YAML is parsed by another parser than JSON). */
interface YamlCase {
  label: string;
  fields: string[];
  text: () => string;
}
const yamlFault = fc
  .oneof<fc.Arbitrary<YamlCase>[]>(
    fc.constantFrom(...PROTOTYPE_KEYS).map((k) => ({ label: `YAML ${k}`, fields: [k], text: () => `${toYaml(policy)}${k}:\n  polluted: true\n` })),
    fc.constantFrom('{ a: [', 'a: b: c', 'key: "unterminated', '- [').map((text) => ({ label: `bad YAML ${text}`, fields: ['(body)'], text: () => text })),
    fc.constant({ label: 'YAML alias bomb', fields: ['(body)'], text: aliasBomb }),
    withControl.map((id) => ({ label: 'YAML rule id', fields: ['rules.0.id'], text: () => toYaml({ ...policy, rules: [{ ...(policy['rules'] as object[])[0], id }, ...(policy['rules'] as object[]).slice(1)] }) })),
  )
  .map(({ label, fields, text }) =>
    fault('body', label, fields, (d) => {
      d.body = text();
      d.headers['content-type'] = 'application/yaml';
    }),
  );

const tokenFor = (claims: { leadId: string; ownerId: string; tenantId?: string; expiresAtMs?: number }, secret = DEMO_ACCEPT_LINK_SECRET) =>
  signAcceptToken(secret, { tenantId: t.tenant.id, expiresAtMs: Date.now() + 3_600_000, ...claims });

/** Accept-link tokens that must not accept: forged, expired, garbage (401), another owner's (409), an unknown lead (404). */
const tokenFault = (withOwnerChecks: boolean) =>
  fc
    .oneof(
      fc.constantFrom('forged', 'expired', 'wrong secret', 'other tenant', 'empty').map((kind) => ({
        kind,
        token: () => {
          const valid = tokenFor({ leadId: lead.id, ownerId: lead.owner });
          if (kind === 'forged') return `${valid.slice(0, -3)}${valid.endsWith('AAA') ? 'BBB' : 'AAA'}`;
          if (kind === 'expired') return tokenFor({ leadId: lead.id, ownerId: lead.owner, expiresAtMs: Date.now() - 60_000 });
          if (kind === 'wrong secret') return tokenFor({ leadId: lead.id, ownerId: lead.owner }, 'not-the-secret');
          if (kind === 'other tenant') return tokenFor({ leadId: lead.id, ownerId: lead.owner, tenantId: 'no-such-tenant' });
          return '';
        },
      })),
      fc.oneof(fc.string({ maxLength: 80 }), withControl, overlong(600)).map((garbage) => ({ kind: 'garbage', token: () => garbage })),
      ...(withOwnerChecks
        ? [
            fc.constant({ kind: 'not the owner', token: () => tokenFor({ leadId: lead.id, ownerId: lead.other }) }),
            fc.constantFrom('ld_000000000000000000000000', 'not-a-lead', '../../etc').map((leadId) => ({ kind: `lead ${leadId}`, token: () => tokenFor({ leadId, ownerId: lead.owner }) })),
          ]
        : []),
    )
    .map(({ kind, token }) =>
      fault('token', `token ${kind}`, [], (d) => {
        if (d.method === 'GET') d.query = [`token=${enc(token())}`];
        else d.body = new URLSearchParams({ token: token() }).toString();
      }),
    );

const slackPayload = (value: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'block_actions', user: { id: 'U1', username: 'fuzz' }, team: { id: 'T1' }, actions: [{ action_id: 'accept_lead', value }], ...extra });

/** Faults of a Slack interaction: the signature (401), the payload (400 naming it), or who clicks (409, 404). */
const slackFaults: Array<fc.Arbitrary<Fault>> = [
  fc.constantFrom('missing', 'bad', 'stale', 'not a number', 'future').map((kind) =>
    fault('signature', `signature ${kind}`, [], (d) => {
      d.slackSigned = false;
      const now = Math.floor(Date.now() / 1000);
      const body = String(d.body);
      if (kind === 'missing') return;
      const timestamp = kind === 'stale' ? String(now - 600) : kind === 'future' ? String(now + 600) : kind === 'not a number' ? 'soon' : String(now);
      d.headers['x-slack-request-timestamp'] = timestamp;
      d.headers['x-slack-signature'] = kind === 'bad' ? slackSignature('not-the-secret', timestamp, body) : slackSignature(DEMO_SLACK_SIGNING_SECRET, timestamp, body);
    }),
  ),
  fc
    .oneof(
      fc.constant('x=1'),
      fc.string({ maxLength: 40 }).map((s) => `payload=${enc(`{${s}`)}`),
      protoObject.map(({ value }) => `payload=${enc(slackPayload(`${t.tenant.id}|${lead.id}|${lead.owner}`, value))}`),
      fc.constantFrom('view_submission', 'shortcut', '').map((type) => `payload=${enc(JSON.stringify({ type, user: { id: 'U1' } }))}`),
      fc.constant(`payload=${enc(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [] }))}`),
      fc.constant(`payload=${enc(JSON.stringify({ type: 'block_actions', actions: [{ action_id: 'accept_lead', value: 'x' }] }))}`),
    )
    .map((body) => fault('body', `Slack body ${body.slice(0, 40)}`, ['payload'], (d) => (d.body = body))),
  fc.constant(fault('body', 'Slack button of another rep', [], (d) => (d.body = `payload=${enc(slackPayload(`${t.tenant.id}|${lead.id}|${lead.other}`))}`))),
  fc.constant(fault('body', 'Slack button of an unknown lead', [], (d) => (d.body = `payload=${enc(slackPayload(`${t.tenant.id}|ld_000000000000000000000000|${lead.owner}`))}`))),
];

const queryFault = (fields: Record<string, fc.Arbitrary<string>>) =>
  fc.oneof(
    ...Object.entries(fields).map(([key, hostile]) => hostile.map((v) => fault('query', `?${key}=${JSON.stringify(v).slice(0, 40)}`, [`query.${key}`], (d) => d.query.push(`${key}=${enc(v)}`)))),
    ...Object.keys(fields).map((key) => fc.tuple(printable, printable).map(([a, b]) => fault('query', `?${key} twice`, [`query.${key}`], (d) => d.query.push(`${key}=${enc(`a${a}`)}`, `${key}=${enc(`b${b}`)}`)))),
    fc.oneof(unknownKey(Object.keys(fields)), fc.constantFrom(...PROTOTYPE_KEYS)).map((key) => fault('query', `?${key}`, [`query.${key}`], (d) => d.query.push(`${key}=1`))),
  );

const textQuery = (cap: number) => fc.oneof(withControl, overlong(cap)).map(String);

// ---------------------------------------------------------------------------------------------
// Every route of the API
// ---------------------------------------------------------------------------------------------

const bearer = () => ({ authorization: `Bearer ${t.apiKey}` });
const jsonHeaders = () => ({ ...bearer(), 'content-type': 'application/json' });
const draft = (method: string, extra: Partial<Draft> = {}): Draft => ({ method, params: {}, query: [], headers: bearer(), body: undefined, ...extra });
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const bodyOf = (d: Draft) => d.body as Record<string, unknown>;
const JSON_BODY_FAULTS = [authFault, contentTypeFault, encodingFault, invalidJsonFault, arrayBodyFault];

// ---------------------------------------------------------------------------------------------
// Distribution: catalog documents, supplier keys, campaign leads, bids, returns
// ---------------------------------------------------------------------------------------------

const actorFault = fc
  .oneof(overlong(200).map((s) => s.replace(/[^\x21-\x7e]/g, 'a')).filter((s) => s.length > 200), fc.constantFrom('', 'rev\tops', 'a\tb'))
  .map((actor) => fault('header', `X-Actor ${JSON.stringify(actor.slice(0, 20))}`, ['X-Actor'], (d) => (d.headers['x-actor'] = actor)));

/** A value no catalog ID accepts (lower-case letters, digits, - and _, at most 64). */
const badId = fc.oneof(fc.constantFrom('', 'Upper', 'has space', 'a'.repeat(65), '-leading', 'dots.in.it', 'é'), withControl, wrongType);
/** Wrong types and out-of-range numbers for a number field of [min, max] (integers only when `integer`). */
const badNumber = (min: number, max: number, integer = true) =>
  fc.oneof(
    fc.integer({ max: Math.ceil(min) - 1 }),
    fc.integer({ min: Math.floor(max) + 1 }),
    ...(integer ? [fc.double({ min, max, noNaN: true }).filter((n) => !Number.isInteger(n))] : []),
    fc.constantFrom<unknown>('1', '', true, null, [], { n: 1 }),
  );
const badJsonata = fc.constantFrom('$$$(', '{ "a": ', '(', '"unterminated', 'lead.', ')', '$x := ');
const badZone = fc.oneof(fc.constantFrom('Mars/Base', '', 'America/Gotham'), withControl, wrongType);

/** Set a value at a dotted path of the body (creating objects on the way). */
const setPath = (d: Draft, path: string, value: unknown) => {
  const keys = path.split('.');
  let at = bodyOf(d);
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  if (value === undefined) delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
};
/** One fault per value, setting (or with undefined, deleting) `path`, naming `field` (default: the path). */
const at = (path: string, values: fc.Arbitrary<unknown>, field = path) => values.map((v) => fault('body', `${path} = ${JSON.stringify(v)?.slice(0, 40)}`, [field], (d) => setPath(d, path, v)));

/** An HTTP endpoint of a buyer (`ping` or `post`) made invalid. */
function endpointFaults(kind: 'ping' | 'post'): Array<fc.Arbitrary<Fault>> {
  const endpoint = (d: Draft) => bodyOf(d)[kind] as Record<string, unknown>;
  return [
    ...objectFaults(
      endpoint,
      kind,
      {
        kind: fc.constantFrom('pigeon', '', 'HTTP', null, 5),
        url: fc.oneof(fc.constantFrom('ftp://buyer.example/lead', 'not a url', 'javascript:alert(1)', '', 'http://', `https://buyer.example/${'p'.repeat(2001)}`), wrongType),
        format: fc.constantFrom('csv', 'JSON', '', null),
        mapping: fc.oneof(badJsonata, wrongType, fc.constant('')),
        template: badId,
        xmlRoot: fc.constantFrom('1lead', 'has space', '', '<lead>'),
        headers: fc.constantFrom<unknown>({ 'bad header': 'x' }, { 'X-Ok': 'a\u0000b' }, { 'X-Ok': 5 }, 'X-Ok: 1', []),
        auth: fc.constantFrom<unknown>({ type: 'oauth' }, { type: 'header', name: 'bad name', secret: { env: 'X' } }, { type: 'basic', username: '' }, { type: 'hmac' }, 'token'),
        timeoutMs: badNumber(50, 60_000),
        response: fc.oneof(wrongType, fc.constant({})),
      },
      ['kind', 'url', 'response'],
    ),
    ...objectFaults(
      (d) => endpoint(d)['response'] as Record<string, unknown>,
      `${kind}.response`,
      { format: fc.constantFrom('yaml', 'JSON', '', 5), mapping: fc.oneof(badJsonata, wrongType, fc.constant('')) },
      ['mapping'],
    ),
    // A template is only read without a mapping of the endpoint's own.
    fc.constant(fault('body', `${kind}.template unknown`, [`${kind}.template`], (d) => {
      delete endpoint(d)['mapping'];
      endpoint(d)['template'] = 'no-such-template';
    })),
  ];
}

const buyerFaults: Array<fc.Arbitrary<Fault>> = [
  ...objectFaults(
    bodyOf,
    '',
    {
      // Another valid ID in the body than in the path is refused too.
      id: fc.oneof(badId, fc.constantFrom('other-buyer', 'formbuyer')),
      name: fc.oneof(hostileString(200), fc.constantFrom('', '   ')),
      timeZone: badZone,
      priority: badNumber(0, 10_000),
      weight: badNumber(1, 1000),
      paused: fc.constantFrom('yes', 1, null, 'false'),
      filters: fc.constantFrom<unknown>(
        { field: 'lead.state', regex: '([a-' },
        { all: [{ field: 'lead.age', gte: 21 }, { field: 'lead.zip', regex: '(' }] },
        { field: 'lead.state', regex: 'ca', flags: 'zz' },
        { field: 'account.tier', equals: 'gold' },
        { segment: 'vip' },
        { field: 'lead.age' },
        { field: 'lead.state', in: 'CA' },
        { field: 'lead.state', bogus: 1 },
        'lead.age > 21',
        5,
      ),
      caps: fc.constantFrom<unknown>({ day: -1 }, { hour: 1.5 }, { year: 10 }, 'many', [1]),
      budget: fc.constantFrom<unknown>({ day: 1.234 }, { month: -5 }, { week: 100 }, { day: 2_000_000 }, 0),
      hours: fc.constantFrom<unknown>(
        { open: '25:00', close: '18:00' },
        { open: '08:00', close: '08:00' },
        { days: [0], open: '08:00', close: '18:00' },
        { days: [], open: '08:00', close: '18:00' },
        { open: '08:00', close: '18:00', outside: 'wait' },
        { open: '8am', close: '6pm' },
        { open: '08:00' },
      ),
      pricing: fc.constantFrom<unknown>({ type: 'auction' }, { type: 'fixed' }, { type: 'fixed', price: -1 }, { type: 'fixed', price: 1.005 }, { type: 'bid', price: 5 }, 'bid', null),
      dedupeDays: badNumber(1, 365),
      breaker: fc.constantFrom<unknown>({ consecutiveFailures: 0 }, { errorRate: 0 }, { errorRate: 1.5 }, { coolDownSeconds: 0 }, { minCalls: 1.5 }, { halfOpen: true }, 'open'),
      ping: fc.oneof(wrongType, fc.constant({ kind: 'email', to: ['bids@buyer.example'] })),
      post: fc.oneof(wrongType, fc.constant({ kind: 'email', to: ['not an email'] }), fc.constant({ kind: 'webhook', url: 'ftp://x.example' })),
    },
    // fastbid bids: without its ping it cannot.
    ['name', 'pricing', 'post', 'ping'],
  ),
  ...endpointFaults('ping'),
  ...endpointFaults('post'),
];

const campaignFaults: Array<fc.Arbitrary<Fault>> = [
  ...objectFaults(
    bodyOf,
    '',
    {
      id: fc.oneof(badId, fc.constant('other-campaign')),
      name: fc.oneof(hostileString(200), fc.constantFrom('', '   ')),
      currency: fc.constantFrom('usd', 'US', 'DOLLARS', '', 5),
      fields: fc.constantFrom<unknown>({}, 'all', [], Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, { type: 'string' }]))),
      consent: fc.constantFrom<unknown>({ trustedForm: 'maybe' }, {}, 'required', { trustedForm: 'required', extra: 1 }),
      pingFields: fc.constantFrom<unknown>(['email'], ['state', 'phone'], ['nope'], 'state', [''], [5]),
      method: fc.constantFrom('lottery', '', 'AUCTION', null),
      sale: fc.constantFrom<unknown>({ model: 'shared', maxBuyers: 1 }, { model: 'shared' }, { model: 'exclusive', maxBuyers: 2 }, { model: 'auction' }, 'exclusive'),
      dedupe: fc.constantFrom<unknown>({ fields: ['nope'], lookbackDays: 30 }, { fields: [], lookbackDays: 30 }, { fields: ['email'], lookbackDays: 0 }, { fields: ['email'], lookbackDays: 30, match: 'some' }, true),
      marginPercent: badNumber(0, 100, false),
      floorPrice: fc.constantFrom<unknown>(-1, 1.234, 2_000_001, '2', null),
      deadlineMs: badNumber(200, 8_000),
      pingTimeoutMs: badNumber(50, 30_000),
      bidTtlSeconds: badNumber(5, 3600),
      returns: fc.constantFrom<unknown>({ windowDays: 91 }, { windowDays: -1 }, { autoApprove: [''] }, { autoApprove: 'all' }, { keep: true }),
      buyers: fc.constantFrom<unknown>(['no-such-buyer'], [BUYER, BUYER], ['Fast Bid'], BUYER, [5]),
      paused: fc.constantFrom('no', 0, null),
    },
    ['name', 'fields', 'method', 'sale'],
  ),
  at('fields.age.type', fc.constantFrom('float', '', null)),
  at('fields.age.min', fc.constant(200), 'fields.age.min'),
  at('fields.age.enum', fc.constantFrom<unknown>([], 'CA', [{}])),
  at('fields.age.maxLength', fc.constantFrom(0, 10_001, 1.5)),
  at('fields.age.pii', fc.constantFrom('yes', 1)),
  unknownKey(['type', 'required', 'enum', 'min', 'max', 'maxLength', 'pii']).map((k) => fault('body', `unknown fields.age.${k}`, [`fields.age.${k}`], (d) => setPath(d, `fields.age.${k}`, 1))),
  fc.oneof(withControl, overlong(64), fc.constant('')).map((name) => fault('body', `field name ${JSON.stringify(name).slice(0, 30)}`, ['fields'], (d) => setPath(d, 'fields', { ...(bodyOf(d)['fields'] as object), [name]: { type: 'string' } }))),
  // Consent needs the certificate's field.
  fc.constant(fault('body', 'consent without trustedform_cert_url', ['consent.trustedForm'], (d) => setPath(d, 'fields.trustedform_cert_url', undefined))),
];

const supplierFaults: Array<fc.Arbitrary<Fault>> = [
  ...objectFaults(
    bodyOf,
    '',
    {
      id: fc.oneof(badId, fc.constant('bright-media')),
      name: fc.oneof(hostileString(200), fc.constantFrom('', '   ')),
      apiKey: fc.oneof(fc.constantFrom('sk.x', 'not-a-key', 'sk.t.acme-leads.short', '', 'Bearer sk.t.acme-leads.0123456789abcdef', 'sk..acme-leads.0123456789abcdef'), withControl, wrongType),
      apiKeySha256: fc.constantFrom<unknown>([], ['ABC'], ['A'.repeat(64)], 'abc', Array.from({ length: 6 }, (_, i) => sha256Hex(`k${i}`)), [5]),
      campaigns: fc.constantFrom<unknown>(['no-such-campaign'], ['Auto Insurance'], CAMPAIGN, [5]),
      payout: fc.constantFrom<unknown>({ type: 'fixed' }, { type: 'fixed', amount: -3 }, { type: 'revshare', percent: 101 }, { type: 'bonus' }, 3),
      caps: fc.constantFrom<unknown>({ day: -1 }, { hour: 1.5 }, { year: 10 }, 'many'),
      timeZone: badZone,
      paused: fc.constantFrom('no', 0, null),
    },
    ['name', 'apiKeySha256', 'payout'],
  ),
  // A key that could never authenticate this supplier: another tenant's or another supplier's.
  fc.constantFrom('other tenant', 'other supplier').map((kind) =>
    fault('body', `apiKey of ${kind}`, ['apiKey'], (d) => {
      const secret = 'f'.repeat(24);
      bodyOf(d)['apiKey'] = kind === 'other tenant' ? `sk.not-${t.tenant.id}.acme-leads.${secret}` : `sk.${t.tenant.id}.bright-media.${secret}`;
    }),
  ),
];

/** Supplier keys that are not a valid key of a supplier sending to the campaign: 401, or 404/409 for a supplier outside it or paused. */
const supplierAuthFault = fc.oneof(
  authFault,
  fc.constantFrom('tenant key', 'wrong secret', 'another supplier secret', 'unknown supplier', 'unknown tenant', 'not enrolled', 'paused', 'lower-case bearer with tab').map((kind) =>
    fault('auth', `supplier key: ${kind}`, [], (d) => {
      const acmeSecret = dist.keys.acme.split('.').at(-1)!;
      const keys: Record<string, string> = {
        'tenant key': `Bearer ${t.apiKey}`,
        'wrong secret': `Bearer sk.${t.tenant.id}.acme-leads.${'0'.repeat(24)}`,
        'another supplier secret': `Bearer sk.${t.tenant.id}.acme-leads.${dist.keys.bright.split('.').at(-1)!}`,
        'unknown supplier': `Bearer sk.${t.tenant.id}.nobody.${acmeSecret}`,
        'unknown tenant': `Bearer sk.no-such-tenant.acme-leads.${acmeSecret}`,
        'not enrolled': `Bearer ${dist.keys.outsider}`,
        paused: `Bearer ${dist.keys.paused}`,
        'lower-case bearer with tab': `bearer\t${dist.keys.acme}x`,
      };
      d.headers['authorization'] = keys[kind]!;
    }),
  ),
);

const CAMPAIGN_LEAD_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  first_name: fc.oneof(hostileString(100), fc.constantFrom('', '   ')),
  last_name: fc.oneof(hostileString(100), fc.constantFrom('', '   ')),
  email: badEmail,
  phone: fc.oneof(fc.constantFrom('12345', 'call me', '+1-800-FLOWERS', '', '+1 415 555'), withControl, wrongType),
  state: fc.oneof(fc.constantFrom('ZZ', 'California', '', 'C A', 'ON'), withControl, wrongType),
  zip: fc.oneof(fc.constantFrom('9410', 'ABCDE', '94105-12', '', '94105 '.repeat(3)), withControl, wrongType),
  age: badNumber(18, 120),
  vehicle_year: badNumber(1980, 2100),
  insured: fc.constantFrom<unknown>('yes', 'true', 1, 0, null, [], ''),
  trustedform_cert_url: fc.oneof(
    fc.constantFrom('https://example.com/cert', 'http://cert.trustedform.com/abc', '', 'cert.trustedform.com/abc'),
    wrongType,
    withControl.map((s) => `${TRUSTEDFORM_PREFIX}${s}`),
    overlong(2000).map((s) => `${TRUSTEDFORM_PREFIX}${s}`),
  ),
};

/** A campaign lead with a bad field, a required one missing, an unknown or a prototype key (`ping`: only ping fields, contact details unknown). */
const campaignLeadFaults = (target: (d: Draft) => Record<string, unknown>, prefix: string, mode: 'full' | 'ping') => {
  const fields = mode === 'full' ? CAMPAIGN_LEAD_FIELDS : Object.fromEntries(PING_FIELDS.map((f) => [f, CAMPAIGN_LEAD_FIELDS[f]!]));
  const name = (f: string) => (prefix ? `${prefix}.${f}` : f);
  return [
    ...objectFaults(target, prefix, fields, Object.keys(fields)),
    ...(mode === 'ping' ? [fc.constantFrom('email', 'phone', 'first_name').map((f) => fault('body', `contact field ${f} in a ping`, [name(f)], (d) => (target(d)[f] = 'jane@example.com')))] : []),
  ];
};

const supplierHeaders = () => ({ authorization: `Bearer ${dist.keys.acme}`, 'content-type': 'application/json' });
const supplierDraft = (method: string, extra: Partial<Draft> = {}): Draft => draft(method, { headers: supplierHeaders(), ...extra });

const returnBodyFaults = objectFaults(
  bodyOf,
  '',
  { buyerId: fc.oneof(badId), reason: fc.oneof(hostileString(200), fc.constantFrom('', '   ')) },
  ['buyerId', 'reason'],
);
const decisionBodyFaults = objectFaults(
  bodyOf,
  '',
  { decision: fc.oneof(fc.constantFrom('APPROVE', 'maybe', 'approved', ''), withControl, wrongType), note: hostileString(500) },
  ['decision'],
);

// ---------------------------------------------------------------------------------------------
// Sources, quarantine, codec server, erasure
// ---------------------------------------------------------------------------------------------

const ascii = fc.string({ maxLength: 60, unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) });

/** Typeform-Signature values that do not sign the body with the source's secret: 401 whatever the body. */
const typeformSignatureFault = fc
  .oneof(
    fc.constantFrom('missing', 'empty', 'wrong secret', 'another body', 'no sha256= prefix', 'SHA256= prefix', 'hex digest', 'twice', 'truncated', 'padded').map((kind) => ({
      kind,
      value: (body: Buffer): string | null => {
        const valid = typeformSignature(SOURCE_SECRETS.typeform, body);
        const digest = valid.slice('sha256='.length);
        if (kind === 'missing') return null;
        if (kind === 'empty') return '';
        if (kind === 'wrong secret') return typeformSignature('not-the-secret', body);
        if (kind === 'another body') return typeformSignature(SOURCE_SECRETS.typeform, Buffer.concat([body, Buffer.from(' ')]));
        if (kind === 'no sha256= prefix') return digest;
        if (kind === 'SHA256= prefix') return `SHA256=${digest}`;
        if (kind === 'hex digest') return `sha256=${Buffer.from(digest, 'base64').toString('hex')}`;
        if (kind === 'twice') return `${valid}, ${valid}`;
        if (kind === 'truncated') return valid.slice(0, -4);
        return `${valid}AAAA`;
      },
    })),
    fc.oneof(ascii, ascii.map((s) => `sha256=${s}`), fc.integer({ min: 100, max: 6000 }).map((n) => `sha256=${'A'.repeat(n)}`)).map((garbage) => ({ kind: `garbage ${JSON.stringify(garbage.slice(0, 20))}`, value: () => garbage })),
  )
  .map(({ kind, value }) =>
    fault('signature', `Typeform-Signature ${kind}`, [], (d) => {
      d.typeformSigned = false;
      const v = value(bodyBytes(d));
      if (v === null) delete d.headers['typeform-signature'];
      else d.headers['typeform-signature'] = v;
    }),
  );

/** The delivery's body changed after it was signed (the signature is of the response as Typeform sent it): 401. */
const typeformTamperFault = fc
  .oneof(
    fc.oneof(fc.constantFrom('{', '[]', 'null', '', '{"form_response":', '\u0000'), fc.string({ maxLength: 40 })).map((text) => ({ label: `text ${JSON.stringify(text.slice(0, 20))}`, body: () => text as unknown })),
    fc.constantFrom('email', 'token', 'extra key', 'array').map((what) => ({
      label: what,
      body: (): unknown => {
        const body = clone(typeformResponse.body) as unknown as { form_response: Record<string, unknown> } & Record<string, unknown>;
        if (what === 'email') return JSON.stringify(body).replace('laura.diaz@globex.example', 'forged@fuzz-forged.example');
        if (what === 'token') body.form_response['token'] = `forged${randomBytes(8).toString('hex')}`;
        if (what === 'extra key') body['fuzz'] = true;
        if (what === 'array') return [body];
        return body;
      },
    })),
  )
  .filter(({ body }) => {
    const b = body();
    return (typeof b === 'string' ? b : JSON.stringify(b)) !== TYPEFORM_RAW;
  })
  .map(({ label, body }) =>
    fault('body', `body changed after signing: ${label}`, [], (d) => {
      d.headers['typeform-signature'] = typeformSignature(SOURCE_SECRETS.typeform, bodyBytes(d));
      d.typeformSigned = false;
      d.body = body();
    }),
  );

/** Correctly signed bodies the route refuses before reading them: a prototype key (400 naming it), over the body limit (413). */
const typeformSignedBodyFault = fc.oneof(
  fc.tuple(protoObject, fc.boolean()).map(([{ key, value }, nested]) =>
    fault('body', `signed ${nested ? 'form_response.' : ''}${key} key`, [nested ? `form_response.${key}` : key], (d) => {
      const target = nested ? (bodyOf(d)['form_response'] as Record<string, unknown>) : bodyOf(d);
      Object.defineProperty(target, key, { value: value[key], enumerable: true, writable: true, configurable: true });
    }),
  ),
  fc.integer({ min: 17 * 1024, max: 40 * 1024 }).map((n) => fault('body', `signed body of ${n} bytes`, ['(body)'], (d) => ((bodyOf(d)['form_response'] as Record<string, unknown>)['fuzz_padding'] = 'p'.repeat(n)))),
);

/** Source IDs that name no source of this kind: unknown, another tenant's, a bare ID (404), another kind's, whose signature is not Typeform's (401). */
const sourceIdFault = fc.constantFrom('unknown', 'other tenant', 'bare', 'generic', 'meta', 'upper case').map((kind) =>
  fault('path', `sourceId ${kind}`, [], (d) => {
    d.params['sourceId'] =
      kind === 'unknown' ? sourceId('nope') : kind === 'other tenant' ? `src_no-such-tenant_typeform` : kind === 'bare' ? 'typeform' : kind === 'upper case' ? sourceId('typeform').toUpperCase() : sourceId(kind);
  }),
);

/** Meta's handshake query with one parameter wrong or missing: hub.mode (400), hub.verify_token (403), hub.challenge (400). */
const handshakeFault = fc
  .oneof(
    fc.constantFrom<string | null>(null, '', 'unsubscribe', 'SUBSCRIBE', 'subscribe ').map((v) => ({ key: 'hub.mode', value: v, fields: ['query.hub.mode'] })),
    fc.oneof(fc.constantFrom<string | null>(null, '', `${META_VERIFY_TOKEN}x`, META_VERIFY_TOKEN.toUpperCase()), ascii).map((v) => ({ key: 'hub.verify_token', value: v, fields: [] as string[] })),
    fc.oneof(fc.constantFrom<string | null>(null, '', '<script>alert(1)</script>', 'a b', 'a'.repeat(257)), withControl).map((v) => ({ key: 'hub.challenge', value: v, fields: ['query.hub.challenge'] })),
  )
  .map(({ key, value, fields }) =>
    fault('query', `${key} ${JSON.stringify(value)?.slice(0, 30)}`, fields, (d) => {
      d.query = d.query.filter((p) => !p.startsWith(`${enc(key)}=`));
      if (value !== null) d.query.push(`${enc(key)}=${enc(value)}`);
    }),
  );

const handshakeQuery = () => ['hub.mode=subscribe', `hub.verify_token=${enc(META_VERIFY_TOKEN)}`, 'hub.challenge=1158201444'];

/** A body the codec server cannot read as Temporal's `{ payloads: [...] }`, naming where. */
const codecBodyFaults = (mode: 'decode' | 'encode'): Array<fc.Arbitrary<Fault>> => {
  const first = (d: Draft) => (bodyOf(d)['payloads'] as Array<Record<string, unknown>>)[0]!;
  return [
    fc.constantFrom<unknown>(undefined, 1, true, null, 'payloads', { 0: {} }).map((v) => fault('body', `payloads = ${JSON.stringify(v)}`, ['payloads'], (d) => (v === undefined ? delete bodyOf(d)['payloads'] : (bodyOf(d)['payloads'] = v)))),
    fc.constantFrom<unknown>(1, 'x', null, [], true).map((v) => fault('body', `payloads.0 = ${JSON.stringify(v)}`, ['payloads.0'], (d) => ((bodyOf(d)['payloads'] as unknown[])[0] = v))),
    fc.oneof(fc.constantFrom<unknown>('not base64', '!!!!', 'ab cd', 5, {}, [], true), withControl).map((v) => fault('body', `payloads.0.data = ${JSON.stringify(v)?.slice(0, 30)}`, ['payloads.0.data'], (d) => (first(d)['data'] = v))),
    fc.constantFrom<unknown>('x', [], 5, true).map((v) => fault('body', `payloads.0.metadata = ${JSON.stringify(v)}`, ['payloads.0.metadata'], (d) => (first(d)['metadata'] = v))),
    fc.oneof(fc.constantFrom<unknown>('json plain', '%%', 5, null, {}), withControl).map((v) => fault('body', `payloads.0.metadata.encoding = ${JSON.stringify(v)?.slice(0, 30)}`, ['payloads.0.metadata.encoding'], (d) => ((first(d)['metadata'] as Record<string, unknown>)['encoding'] = v))),
    ...(mode === 'decode'
      ? [
          // Ciphertext that is not what the key encrypted: the decryption fails (400), never a 500.
          fc.constantFrom('flipped byte', 'cut short', 'empty').map((kind) =>
            fault('body', `ciphertext ${kind}`, ['payloads.0'], (d) => {
              const bytes = Buffer.from(String(first(d)['data']), 'base64');
              if (kind === 'flipped byte') bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
              first(d)['data'] = (kind === 'cut short' ? bytes.subarray(0, Math.floor(bytes.length / 2)) : kind === 'empty' ? Buffer.alloc(0) : bytes).toString('base64');
            }),
          ),
        ]
      : []),
  ];
};
const namespaceFault = fc.oneof(fc.constantFrom('other', 'DEFAULT', 'default2'), ascii.filter((s) => s !== 'default' && s !== '')).map((ns) => fault('header', `X-Namespace ${JSON.stringify(ns)}`, ['X-Namespace'], (d) => (d.headers['x-namespace'] = ns)));

const unknownQuarantine = `qr_${'0'.repeat(24)}`;
const sourceMappingFaults = objectFaults(
  bodyOf,
  '',
  {
    // null is valid (it withdraws the override): never a fault here.
    mapping: fc.oneof(badJsonata, fc.constantFrom<unknown>('', '   ', 5, true, [], { nested: 'object' }), overlong(20_000)),
    note: fc.oneof(hostileString(500), fc.constantFrom('', '   ')),
    actor: fc.oneof(hostileString(200), fc.constantFrom('', '   ')),
  },
  ['mapping'],
);

const SPECS: RouteSpec[] = [
  { route: 'GET /healthz', base: () => draft('GET', { headers: {} }), faults: [] },
  { route: 'GET /metrics', base: () => draft('GET', { headers: {} }), faults: [] },
  { route: 'GET /v1/accept', base: () => draft('GET', { headers: {}, query: [`token=${enc(tokenFor({ leadId: lead.id, ownerId: lead.owner }))}`] }), faults: [tokenFault(false)] },
  {
    route: 'POST /v1/accept',
    base: () => draft('POST', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokenFor({ leadId: lead.id, ownerId: lead.owner }) }).toString() }),
    faults: [tokenFault(true), encodingFault, fc.constantFrom('text/plain', 'application/json').map((type) => fault('type', `content-type ${type}`, [], (d) => (d.headers['content-type'] = type)))],
  },
  {
    route: 'POST /v1/integrations/slack/:tenantId/interactions',
    base: () => draft('POST', { params: { tenantId: t.tenant.id }, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `payload=${enc(slackPayload(`${t.tenant.id}|${lead.id}|${lead.owner}`))}`, slackSigned: true }),
    faults: [...slackFaults, pathFault('tenantId'), encodingFault],
  },
  {
    route: 'POST /v1/leads',
    base: () => draft('POST', { headers: jsonHeaders(), body: { email: 'fuzz@fuzz.example', firstName: 'Fuzz' } }),
    faults: [...JSON_BODY_FAULTS, ...leadFaults(bodyOf, ''), idempotencyKeyFault],
  },
  {
    route: 'GET /v1/leads',
    base: () => draft('GET', { query: ['limit=5'] }),
    faults: [
      authFault,
      queryFault({
        owner: textQuery(100),
        domain: textQuery(253),
        rule: textQuery(100),
        status: fc.oneof(fc.constantFrom('Not Valid', 'ROUTED', 'routed1', 'a'.repeat(33)), withControl),
        from: fc.oneof(fc.constantFrom('yesterday', '2024-13-45T00:00:00Z', '2024-01-01', '1e9'), withControl),
        to: fc.oneof(fc.constantFrom('tomorrow', '2024-02-30T25:00:00Z'), withControl),
        limit: fc.constantFrom('0', '501', '-1', '1.5', 'abc', '', '1e3', 'Infinity', 'NaN'),
        email: badEmail.map(String),
        company: textQuery(200),
        source: fc.oneof(fc.constantFrom('fax', 'FORM', '', 'form '), withControl),
        // Not base64url, not a token of this API, a token of another listing, too long.
        pageToken: fc.constantFrom('not a token', '!!!', 'eyJxIjoiYSIsInQiOiJiIn0', 'e30', 'a'.repeat(5000)),
      }),
    ],
  },
  { route: 'GET /v1/leads/:leadId', base: () => draft('GET', { params: { leadId: lead.id } }), faults: [authFault, pathFault('leadId')] },
  {
    route: 'POST /v1/leads/:leadId/reassign',
    base: () => draft('POST', { params: { leadId: lead.id }, headers: jsonHeaders(), body: { ownerId: lead.other, reason: 'fuzz', actor: 'fuzz@demo' } }),
    faults: [
      ...JSON_BODY_FAULTS,
      pathFault('leadId'),
      idempotencyKeyFault,
      ...objectFaults(
        bodyOf,
        '',
        {
          ownerId: fc.oneof(hostileString(100), fc.constant('usr_nobody'), fc.constant('')),
          reason: fc.oneof(hostileString(1000), fc.constantFrom('', '   ')),
          actor: fc.oneof(hostileString(200), fc.constant('')),
        },
        ['ownerId', 'reason'],
      ),
      fc.constant(fault('body', 'ownerId = the current owner', ['ownerId'], (d) => (bodyOf(d)['ownerId'] = lead.owner))),
    ],
  },
  { route: 'GET /v1/leads/:leadId/audit', base: () => draft('GET', { params: { leadId: lead.id } }), faults: [authFault, pathFault('leadId'), queryFault({ format: fc.oneof(fc.constantFrom('xml', 'JSON', '', 'csv ', 'pdf'), withControl) })] },
  {
    route: 'POST /v1/leads/:leadId/accept',
    base: () => draft('POST', { params: { leadId: lead.id }, headers: jsonHeaders(), body: {} }),
    faults: [...JSON_BODY_FAULTS, pathFault('leadId'), ...objectFaults(bodyOf, '', { actor: fc.oneof(hostileString(200), fc.constant('')) }, [])],
  },
  { route: 'GET /v1/policy/schema', base: () => draft('GET'), faults: [authFault] },
  { route: 'GET /v1/policy', base: () => draft('GET'), faults: [authFault] },
  {
    route: 'PUT /v1/policy',
    base: () => draft('PUT', { headers: jsonHeaders(), body: clone(policy) }),
    faults: [
      ...JSON_BODY_FAULTS,
      ...policyFaults(bodyOf),
      yamlFault,
      queryFault({ note: textQuery(500) }),
      actorFault,
    ],
  },
  { route: 'GET /v1/policy/versions', base: () => draft('GET'), faults: [authFault] },
  { route: 'GET /v1/policy/versions/:version', base: () => draft('GET', { params: { version: 'v1' } }), faults: [authFault, pathFault('version', 'params.version')] },
  {
    // The fuzz tenant never publishes: a rollback that passed validation would find no version (404), never publish.
    route: 'POST /v1/policy/rollback',
    base: () => draft('POST', { headers: jsonHeaders(), body: { version: 'v1', note: 'fuzz' } }),
    faults: [
      ...JSON_BODY_FAULTS,
      ...objectFaults(bodyOf, '', { version: fc.oneof(hostileString(20), fc.constantFrom('latest', 'v0', '0', '', 'v1.5', 'v-1', '1e3')), note: hostileString(500) }, ['version']),
      actorFault,
    ],
  },
  { route: 'GET /v1/availability', base: () => draft('GET'), faults: [authFault, queryFault({ at: fc.constant('2026-01-01T00:00:00Z') })] },
  { route: 'GET /v1/openapi.json', base: () => draft('GET', { headers: {} }), faults: [] },
  // Console sign-in: no API key; wrong credentials are a 401 and, past the limit, a 429, never a 5xx.
  {
    route: 'POST /v1/session',
    base: () => draft('POST', { headers: { 'content-type': 'application/json' }, body: { email: 'nobody@fuzz.example', password: 'not-a-password' } }),
    faults: [
      contentTypeFault,
      encodingFault,
      invalidJsonFault,
      arrayBodyFault,
      ...objectFaults(bodyOf, '', { email: fc.oneof(hostileString(300), fc.constantFrom('', 'no-at-sign', '@x', 'a@')), password: hostileString(300) }, ['email', 'password']),
    ],
  },
  { route: 'GET /v1/session', base: () => draft('GET'), faults: [authFault] },
  { route: 'DELETE /v1/session', base: () => draft('DELETE'), faults: [authFault] },
  { route: 'GET /console', base: () => draft('GET', { headers: {} }), faults: [] },
  { route: 'GET /console/', base: () => draft('GET', { headers: {} }), faults: [] },
  {
    route: 'POST /v1/policy/simulate',
    base: () => draft('POST', { headers: jsonHeaders(), body: { lead: { email: 'sim@fuzz.example' } } }),
    faults: [
      ...JSON_BODY_FAULTS,
      ...leadFaults((d) => bodyOf(d)['lead'] as Record<string, unknown>, 'lead'),
      ...policyFaults((d) => (bodyOf(d)['policy'] ??= clone(policy)) as Record<string, unknown>, 'policy.'),
      ...objectFaults(bodyOf, '', { lead: fc.oneof(wrongType, fc.constant({})) }, ['lead']),
    ],
  },
  { route: 'GET /v1/pools/:pool/stats', base: () => draft('GET', { params: { pool: 'inbound' } }), faults: [authFault, pathFault('pool'), queryFault({ period: fc.oneof(fc.constantFrom('year', 'DAY', '', 'hour'), withControl) })] },
  { route: 'GET /v1/connections', base: () => draft('GET'), faults: [authFault] },
  { route: 'GET /v1/connections/:category/mapping', base: () => draft('GET', { params: { category: 'crm' } }), faults: [authFault, pathFault('category')] },
  { route: 'POST /v1/connections/:category/reauthorize', base: () => draft('POST', { params: { category: 'crm' } }), faults: [authFault, pathFault('category'), contentTypeFault, encodingFault, invalidJsonFault] },
  ...(['campaigns', 'suppliers', 'buyers'] as const).flatMap((plural): RouteSpec[] => {
    const id = () => (plural === 'campaigns' ? CAMPAIGN : plural === 'suppliers' ? 'acme-leads' : BUYER);
    const doc = () => clone(plural === 'campaigns' ? dist.docs.campaign : plural === 'suppliers' ? dist.docs.supplier : dist.docs.buyer) as Record<string, unknown>;
    return [
      { route: `GET /v1/${plural}`, base: () => draft('GET'), faults: [authFault] },
      { route: `GET /v1/${plural}/:id`, base: () => draft('GET', { params: { id: id() } }), faults: [authFault, pathFault('id', 'id')] },
      { route: `GET /v1/${plural}/:id/versions`, base: () => draft('GET', { params: { id: id() } }), faults: [authFault, pathFault('id', 'id')] },
      {
        route: `PUT /v1/${plural}/:id`,
        // The document as stored: sent as is, it would keep its version.
        base: () => draft('PUT', { params: { id: id() }, headers: jsonHeaders(), body: doc() }),
        faults: [...JSON_BODY_FAULTS, pathFault('id', 'id'), queryFault({ note: textQuery(500) }), actorFault, ...(plural === 'campaigns' ? campaignFaults : plural === 'suppliers' ? supplierFaults : buyerFaults)],
      },
    ];
  }),
  ...(['pause', 'resume'] as const).map(
    (action): RouteSpec => ({
      route: `POST /v1/buyers/:id/${action}`,
      base: () => draft('POST', { params: { id: BUYER }, headers: jsonHeaders(), body: { reason: `fuzz ${action}` } }),
      faults: [...JSON_BODY_FAULTS, pathFault('id', 'id'), actorFault, ...objectFaults(bodyOf, '', { reason: hostileString(500) }, [])],
    }),
  ),
  ...(['buyers', 'suppliers'] as const).map(
    (plural): RouteSpec => ({
      route: `GET /v1/${plural}/:id/stats`,
      base: () => draft('GET', { params: { id: plural === 'buyers' ? BUYER : 'acme-leads' }, query: ['period=month'] }),
      faults: [
        authFault,
        pathFault('id', 'id'),
        // Either a period or a range.
        fc.oneof(
          queryFault({
            period: fc.oneof(fc.constantFrom('year', 'DAY', '', 'hour'), withControl),
            from: fc.oneof(fc.constantFrom('yesterday', '2024-13-01', '24-01-01', '2024-02-30'), withControl),
            to: fc.oneof(fc.constantFrom('tomorrow', '2024-01-32'), withControl),
          }),
          fc.constant(fault('query', 'from after to', ['query.from'], (d) => (d.query = ['from=2024-02-01', 'to=2024-01-01']))),
        ),
      ],
    }),
  ),
  {
    route: 'POST /v1/campaigns/:campaignId/leads',
    base: () => supplierDraft('POST', { params: { campaignId: CAMPAIGN }, body: fuzzLead() }),
    faults: [...JSON_BODY_FAULTS, supplierAuthFault, pathFault('campaignId'), idempotencyKeyFault, ...campaignLeadFaults(bodyOf, '', 'full')],
  },
  {
    route: 'POST /v1/campaigns/:campaignId/ping',
    base: () => supplierDraft('POST', { params: { campaignId: CAMPAIGN }, body: pingOf(fuzzLead()) }),
    faults: [...JSON_BODY_FAULTS, supplierAuthFault, pathFault('campaignId'), idempotencyKeyFault, ...campaignLeadFaults(bodyOf, '', 'ping')],
  },
  {
    route: 'POST /v1/campaigns/:campaignId/post',
    base: () => supplierDraft('POST', { params: { campaignId: CAMPAIGN }, body: { bidId: dist.bid, lead: fuzzLead() } }),
    faults: [
      ...JSON_BODY_FAULTS,
      supplierAuthFault,
      pathFault('campaignId'),
      ...objectFaults(bodyOf, '', { bidId: fc.oneof(badId, fc.constantFrom('ld_000000000000000000000000', 'dl_XYZ', `dl_${'g'.repeat(24)}`, `dl_${'a'.repeat(25)}`)), lead: fc.oneof(wrongType, fc.constant('{}')) }, ['bidId', 'lead']),
      ...campaignLeadFaults((d) => bodyOf(d)['lead'] as Record<string, unknown>, 'lead', 'full'),
      // Bids that are not this supplier's to post against: unknown, another supplier's, a lead sent in full.
      fc.constantFrom('unknown', 'another supplier', 'full lead').map((kind) =>
        fault('body', `bidId of ${kind}`, [], (d) => (bodyOf(d)['bidId'] = kind === 'unknown' ? `dl_${'0'.repeat(24)}` : kind === 'another supplier' ? dist.otherBid : dist.sold)),
      ),
    ],
  },
  {
    route: 'GET /v1/campaigns/:campaignId/leads/:leadId',
    base: () => supplierDraft('GET', { params: { campaignId: CAMPAIGN, leadId: dist.sold }, headers: { authorization: `Bearer ${dist.keys.acme}` } }),
    faults: [
      supplierAuthFault,
      pathFault('campaignId'),
      pathFault('leadId'),
      fc.constantFrom('another supplier', 'routed lead').map((kind) => fault('path', `leadId of ${kind}`, [], (d) => (d.params['leadId'] = kind === 'another supplier' ? dist.otherBid : lead.id))),
    ],
  },
  {
    route: 'POST /v1/leads/:leadId/returns',
    base: () => draft('POST', { params: { leadId: dist.sold }, headers: jsonHeaders(), body: { buyerId: BUYER, reason: 'fuzz_return' } }),
    faults: [
      ...JSON_BODY_FAULTS,
      pathFault('leadId'),
      actorFault,
      ...returnBodyFaults,
      // Not sold to that buyer (404), a lead not sold at all (404), a return already decided (409), an unknown lead (404).
      fc.constant(fault('body', 'buyerId not sold to', [], (d) => (bodyOf(d)['buyerId'] = 'formbuyer'))),
      fc.constantFrom('bid', 'denied', 'unknown').map((kind) => fault('path', `leadId ${kind}`, [], (d) => (d.params['leadId'] = kind === 'bid' ? dist.bid : kind === 'denied' ? dist.denied : `dl_${'0'.repeat(24)}`))),
    ],
  },
  {
    route: 'POST /v1/leads/:leadId/returns/:buyerId/decision',
    base: () => draft('POST', { params: { leadId: dist.returned, buyerId: BUYER }, headers: jsonHeaders(), body: { decision: 'approve', note: 'fuzz' } }),
    faults: [
      ...JSON_BODY_FAULTS,
      pathFault('leadId'),
      pathFault('buyerId'),
      actorFault,
      ...decisionBodyFaults,
      // No return waits for a decision (409), not sold to that buyer (404), an unknown lead (404).
      fc.constantFrom('sold', 'denied', 'bid', 'unknown').map((kind) =>
        fault('path', `leadId ${kind}`, [], (d) => (d.params['leadId'] = kind === 'sold' ? dist.sold : kind === 'denied' ? dist.denied : kind === 'bid' ? dist.bid : `dl_${'0'.repeat(24)}`)),
      ),
      fc.constant(fault('path', 'buyerId not sold to', [], (d) => (d.params['buyerId'] = 'formbuyer'))),
    ],
  },
  // Sources: the Typeform delivery is the response delivered before the fuzz, signed; every fault makes it unsigned, unreadable or unknown.
  {
    route: 'POST /v1/sources/:sourceId/events',
    base: () => draft('POST', { params: { sourceId: sourceId('typeform') }, headers: { 'content-type': 'application/json' }, body: clone(typeformResponse.body), typeformSigned: true }),
    faults: [typeformSignatureFault, typeformTamperFault, typeformSignedBodyFault, encodingFault, pathFault('sourceId'), sourceIdFault],
  },
  {
    route: 'GET /v1/sources/:sourceId/events',
    base: () => draft('GET', { params: { sourceId: sourceId('meta') }, headers: {}, query: handshakeQuery() }),
    faults: [handshakeFault, pathFault('sourceId'), sourceIdFault.filter((f) => !f.label.endsWith(' meta'))],
  },
  { route: 'GET /v1/sources', base: () => draft('GET'), faults: [authFault] },
  {
    route: 'GET /v1/sources/:sourceId/mapping',
    base: () => draft('GET', { params: { sourceId: 'generic' } }),
    faults: [authFault, pathFault('sourceId'), fc.constantFrom('nope', 'src_no-such-tenant_generic').map((id) => fault('path', `sourceId ${id}`, [], (d) => (d.params['sourceId'] = id)))],
  },
  {
    // Every fault keeps the mapping from being published (the versions are checked after the fuzz).
    route: 'PUT /v1/sources/:sourceId/mapping',
    base: () => draft('PUT', { params: { sourceId: sourceId('generic') }, headers: jsonHeaders(), body: { mapping: '{ "email": contact.mail }', note: 'fuzz' } }),
    faults: [
      ...JSON_BODY_FAULTS,
      pathFault('sourceId'),
      fc.constantFrom('nope', 'src_no-such-tenant_generic').map((id) => fault('path', `sourceId ${id}`, [], (d) => (d.params['sourceId'] = id))),
      actorFault,
      ...sourceMappingFaults,
    ],
  },
  {
    route: 'GET /v1/quarantine',
    base: () => draft('GET', { query: ['limit=5'] }),
    faults: [
      authFault,
      queryFault({
        status: fc.oneof(fc.constantFrom('HELD', 'open', '', 'held '), withControl),
        source: fc.oneof(textQuery(100), fc.constant('')),
        limit: fc.constantFrom('0', '201', '-1', '1.5', 'abc', '', 'Infinity'),
        pageToken: fc.constantFrom('not a token', '!!!', 'eyJxIjoiYSIsInQiOiJiIn0', 'e30', 'a'.repeat(5000)),
      }),
    ],
  },
  {
    route: 'GET /v1/quarantine/:id',
    base: () => draft('GET', { params: { id: src.held } }),
    faults: [authFault, pathFault('id'), fc.constantFrom(unknownQuarantine, `qr_${'A'.repeat(24)}`, 'ld_000000000000000000000000').map((id) => fault('path', `id ${id}`, [], (d) => (d.params['id'] = id)))],
  },
  {
    // The held event still fails its mapping (no override is ever published): 422, nothing started or recorded.
    route: 'POST /v1/quarantine/:id/replay',
    base: () => draft('POST', { params: { id: src.held }, headers: jsonHeaders(), body: {} }),
    faults: [
      ...JSON_BODY_FAULTS,
      pathFault('id'),
      actorFault,
      ...objectFaults(bodyOf, '', { actor: fc.oneof(hostileString(200), fc.constantFrom('', '   ')) }, []),
      fc.constantFrom('discarded', 'unknown').map((kind) => fault('path', `id ${kind}`, [], (d) => (d.params['id'] = kind === 'discarded' ? src.discarded : unknownQuarantine))),
    ],
  },
  {
    // Aimed at an unknown event (404): a discard of the held one would succeed, and one of the discarded one answers it as it stands.
    route: 'POST /v1/quarantine/:id/discard',
    base: () => draft('POST', { params: { id: unknownQuarantine }, headers: jsonHeaders(), body: { reason: 'fuzz' } }),
    faults: [
      ...JSON_BODY_FAULTS,
      pathFault('id'),
      actorFault,
      ...objectFaults(bodyOf, '', { reason: fc.oneof(hostileString(1000), fc.constantFrom('', '   ')), actor: fc.oneof(hostileString(200), fc.constantFrom('', '   ')) }, ['reason']),
    ],
  },
  {
    route: 'POST /codec/decode',
    base: () => draft('POST', { headers: jsonHeaders(), body: { payloads: [clone(src.encrypted), clone(src.plain)] } }),
    faults: [authFault, contentTypeFault, encodingFault, invalidJsonFault, arrayBodyFault, namespaceFault, ...codecBodyFaults('decode')],
  },
  {
    route: 'POST /codec/encode',
    base: () => draft('POST', { headers: jsonHeaders(), body: { payloads: [clone(src.plain)] } }),
    faults: [authFault, contentTypeFault, encodingFault, invalidJsonFault, arrayBodyFault, namespaceFault, ...codecBodyFaults('encode')],
  },
  {
    // Every lead the fuzz knows is in flight (409) or unknown (404): nothing is ever erased (the erasure log is checked after).
    route: 'DELETE /v1/leads/:leadId',
    base: () => draft('DELETE', { params: { leadId: lead.id } }),
    faults: [
      authFault,
      pathFault('leadId'),
      actorFault,
      fc.constantFrom('source lead', 'distributed', 'unknown routed', 'unknown distributed').map((kind) =>
        fault('path', `leadId ${kind}`, [], (d) => (d.params['leadId'] = kind === 'source lead' ? src.leadId : kind === 'distributed' ? dist.sold : kind === 'unknown routed' ? `ld_${'0'.repeat(24)}` : `dl_${'0'.repeat(24)}`)),
      ),
    ],
  },
  {
    route: 'GET /v1/erasures',
    base: () => draft('GET', { query: ['limit=5'] }),
    faults: [
      authFault,
      queryFault({
        leadId: fc.oneof(fc.constantFrom('ld_123', 'LD_000000000000000000000000', 'xx_000000000000000000000000', ''), withControl),
        before: fc.constantFrom('0', '-1', 'abc', '1.5', ''),
        limit: fc.constantFrom('0', '1001', '-1', '1.5', 'abc', '', 'NaN'),
      }),
    ],
  },
];

/** Paths and methods no route serves. */
const UNKNOWN: RouteSpec = {
  route: '* (no route)',
  base: () => draft('GET'),
  faults: [
    fc
      .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.oneof(fc.constantFrom('/v1/lead', '/v1/leads/x/y/z', '/v2/leads', '/v1/policy/nope', '/v1/accept/x', '/'), printable.map((s) => `/v1/${enc(s)}x`), fc.constantFrom(...MALFORMED_PERCENT).map((p) => `/v1/${p}`)))
      .map(([method, path]) => fault('method', `${method} ${path}`, ['path'], (d) => {
        d.method = method;
        d.params['*'] = path;
      })),
  ],
};

/** Every `METHOD /path` the app (and the routers it mounts) registers. */
function registeredRoutes(app: Express): string[] {
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> };
    handle: { stack?: Layer[] };
  }
  const walk = (stack: Layer[]): string[] =>
    stack.flatMap((layer) => {
      const route = layer.route;
      if (route) {
        const methods = Object.keys(route.methods).filter((m) => m !== '_all');
        return (Array.isArray(route.path) ? route.path : [route.path]).flatMap((path) => methods.map((m) => `${m.toUpperCase()} ${path}`));
      }
      return layer.handle.stack ? walk(layer.handle.stack) : [];
    });
  return [...new Set(walk((app as unknown as { router: { stack: Layer[] } }).router.stack))];
}

// ---------------------------------------------------------------------------------------------
// Rendering and judging one request
// ---------------------------------------------------------------------------------------------

interface Sample {
  spec: RouteSpec;
  faults: Fault[];
  compress: Draft['compress'] | null;
  junkHeader: [string, string] | null;
}

const sampleArb: fc.Arbitrary<Sample> = fc
  .constantFrom(...SPECS, UNKNOWN)
  .chain((spec) =>
    fc.record({
      spec: fc.constant(spec),
      // One fault per slot (two body faults would overwrite each other).
      faults: spec.faults.length === 0 ? fc.constant<Fault[]>([]) : fc.uniqueArray(fc.oneof(...spec.faults), { minLength: 1, maxLength: Math.min(3, spec.faults.length), selector: (f) => f.slot }),
      compress: fc.constantFrom(null, null, 'gzip', 'deflate', 'br') as fc.Arbitrary<Draft['compress'] | null>,
      junkHeader: fc.option(fc.tuple(fc.constantFrom('x-forwarded-for', 'x-request-id', 'accept', 'accept-encoding', 'user-agent', 'cookie'), printable)),
    }),
  )
  // A counterexample reads as the route and its faults, not as the arbitraries that made them.
  .map((sample) => Object.assign(sample, { [fc.toStringMethod]: () => `${sample.spec.route} [${sample.faults.map((f) => f.label).join('; ')}] compress=${sample.compress} junk=${JSON.stringify(sample.junkHeader)}` }));

function render(sample: Sample): RawRequest {
  const d = sample.spec.base();
  for (const f of sample.faults) f.apply(d);
  let bytes = d.raw ?? (d.body === undefined ? undefined : Buffer.from(typeof d.body === 'string' ? d.body : JSON.stringify(d.body), 'utf8'));
  if (bytes && d.slackSigned) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    d.headers['x-slack-request-timestamp'] = timestamp;
    d.headers['x-slack-signature'] = slackSignature(DEMO_SLACK_SIGNING_SECRET, timestamp, bytes);
  }
  if (bytes && d.typeformSigned) d.headers['typeform-signature'] = typeformSignature(SOURCE_SECRETS.typeform, bytes);
  // A valid compression of the body changes nothing about what it says.
  if (bytes && !d.raw && sample.compress) {
    bytes = COMPRESS[sample.compress](bytes);
    d.headers['content-encoding'] = sample.compress;
  }
  if (sample.junkHeader) d.headers[sample.junkHeader[0]] = sample.junkHeader[1];
  const template = sample.spec.route.split(' ')[1]!;
  const path = d.params['*'] ?? template.replace(/:(\w+)/g, (_, name: string) => d.params[name] ?? '');
  return { method: d.method, path: `${path}${d.query.length ? `?${d.query.join('&')}` : ''}`, headers: d.headers, ...(bytes ? { body: bytes } : {}) };
}

/** What is wrong with the answer to a sample, or null. */
function judge(sample: Sample, res: RawResponse): string | null {
  if (res.status >= 500) return `answered ${res.status}: ${res.text.slice(0, 300)}`;
  if (sample.faults.length > 0 && res.status < 400) return `invalid input answered ${res.status}: ${res.text.slice(0, 300)}`;
  if (res.status < 400) return null;
  const error = envelopeOf(res);
  if (typeof error === 'string') return error;
  if (error.code !== 'invalid_request') return null;
  const details = error.details;
  if (!Array.isArray(details) || details.length === 0) return `invalid_request without details: ${res.text.slice(0, 300)}`;
  if (!details.every((x: { field?: unknown; message?: unknown }) => typeof x.field === 'string' && typeof x.message === 'string')) return `details not { field, message }: ${res.text.slice(0, 300)}`;
  const expected = sample.faults.flatMap((f) => f.fields);
  const named = (field: string) => expected.some((e) => field === e || field.startsWith(`${e}.`));
  if (expected.length > 0 && !details.some((x: { field: string }) => named(x.field))) return `details name ${details.map((x: { field: string }) => x.field).join(', ')}, not ${expected.join(' or ')}`;
  return null;
}

/** Workflow IDs on the stack's lead task queue (leads and simulations), as visibility lists them. */
async function workflowsOnQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of t.stack.temporal.client.workflow.list({ query: `TaskQueue = "${t.stack.taskQueue}"` })) ids.push(`${run.workflowId} ${run.runId}`);
  return ids.sort();
}

/** Every catalog document's ID, version and paused flag, by kind. */
async function catalogVersionsNow(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const plural of ['campaigns', 'suppliers', 'buyers']) {
    const res = await t.request('GET', `/v1/${plural}`);
    expect(res.status).toBe(200);
    out[plural] = (res.body[plural] as Array<{ id: string; version: number; document: { paused?: boolean } }>).map((d) => `${d.id} v${d.version}${d.document.paused ? ' paused' : ''}`).sort();
  }
  return out;
}

/** What a fuzz request could change in a distributed lead: its status, answer and sales (with their returns). */
async function distLeadStates(): Promise<Array<Pick<DistributionState, 'status' | 'answer' | 'sales'>>> {
  return Promise.all(
    distLeads().map(async (id) => {
      const res = await t.request('GET', `/v1/leads/${id}`);
      expect(res.status).toBe(200);
      const state = res.body as DistributionState;
      return { status: state.status, answer: state.answer, sales: state.sales };
    }),
  );
}

/** What a fuzz request to a source, quarantine or erasure route could change. */
async function sourceStateNow(): Promise<{ mappingVersions: number[]; quarantine: unknown[]; erasures: unknown[]; counts: unknown[] }> {
  const mappingVersions = await Promise.all(
    SOURCE_IDS.map(async (id) => {
      const res = await t.request('GET', `/v1/sources/${id}/mapping`);
      expect(res.status).toBe(200);
      return (res.body.versions as unknown[]).length;
    }),
  );
  const quarantine = await Promise.all(
    [src.held, src.discarded].map(async (id) => {
      const res = await t.request('GET', `/v1/quarantine/${id}`);
      expect(res.status).toBe(200);
      return { status: res.body.status, replay: res.body.replay ?? null, discard: res.body.discard ?? null };
    }),
  );
  const erasures = await t.request('GET', '/v1/erasures');
  expect(erasures.status).toBe(200);
  const sources = await t.request('GET', '/v1/sources');
  expect(sources.status).toBe(200);
  const counts = (sources.body.sources as Array<{ sourceId: string; counts: { accepted: number; quarantined: number } }>).map((s) => ({ source: s.sourceId, accepted: s.counts.accepted, quarantined: s.counts.quarantined }));
  return { mappingVersions, quarantine, erasures: erasures.body.erasures as unknown[], counts };
}

it('lists a fuzz spec for every route the API registers', () => {
  const app = createApp({ client: {} as Client, tenants: new TenantRegistry(), taskQueue: 'q', namespace: 'default', webUiUrl: null, bodyLimit: '1kb', temporalTimeoutMs: 1, health: async () => ({ ok: true, checks: {} }), onError: () => undefined });
  const covered = new Set(SPECS.map((s) => s.route));
  expect(registeredRoutes(app).filter((r) => !covered.has(r))).toEqual([]);
});

it(`answers ${RUNS} hostile requests (seed ${SEED}) over every route with a 4xx in the error envelope, never a 5xx, and starts, writes and sends nothing`, async () => {
  // The routed lead and every distributed lead made before the fuzz are listed in the baseline.
  const known = [lead.id, src.leadId, quarantineWorkflowId(t.tenant.id, src.held), quarantineWorkflowId(t.tenant.id, src.discarded), ...distLeads().map((id) => distributedLeadWorkflowId(t.tenant.id, id))];
  const baselineWorkflows = await eventually(async () => {
    const ids = await workflowsOnQueue();
    return known.every((k) => ids.some((id) => id.includes(k))) ? ids : undefined;
  });
  const eventsBefore = t.events().length;
  const marketBefore = market.requests().at(-1)?.seq ?? 0;
  const catalogBefore = await catalogVersionsNow();
  const distBefore = await distLeadStates();
  const sourcesBefore = await sourceStateNow();
  let requests = 0;
  const answered = new Map<string, Set<number>>();

  await fc.assert(
    fc.asyncProperty(sampleArb, async (sample) => {
      const req = render(sample);
      const res = await rawRequest(t.api, req);
      requests += 1;
      const seen = answered.get(sample.spec.route) ?? new Set<number>();
      answered.set(sample.spec.route, seen.add(res.status));
      const problem = judge(sample, res);
      if (problem) throw new Error(`${req.method} ${req.path.slice(0, 200)} [${sample.faults.map((f) => f.label).join('; ')}]: ${problem}`);
    }),
    { seed: SEED, numRuns: RUNS },
  );
  expect(requests).toBe(RUNS);
  // Every route was reached.
  expect([...answered.keys()].sort()).toEqual([...SPECS.map((s) => s.route), UNKNOWN.route].sort());

  // Nothing was sent upstream: no CRM, HRIS, calendar, messaging or enrichment call.
  expect(t.events().slice(eventsBefore)).toEqual([]);
  // The lead the faults aimed at is as it was.
  const after = await t.leadState(lead.id);
  expect({ owner: after.owner, accepted: after.accepted, reassignments: after.reassignments, notifications: after.notifications.length, status: after.status }).toEqual({
    owner: lead.state.owner,
    accepted: null,
    reassignments: [],
    notifications: lead.state.notifications.length,
    status: 'routed',
  });
  expect((await t.request('GET', '/v1/policy/versions')).body.versions).toEqual([]);

  // No buyer was pinged or posted to, no catalog document changed version (nor was added or paused),
  // and the distributed leads are as they were: no sale, bid posted, return asked or decided.
  expect(market.requests({ since: marketBefore }).map((r) => `${r.kind} ${r.buyerId}`)).toEqual([]);
  expect(await catalogVersionsNow()).toEqual(catalogBefore);
  expect(await distLeadStates()).toEqual(distBefore);

  // No source mapping was published, no quarantined event replayed or discarded, no lead erased,
  // and no source delivery was accepted or quarantined (duplicates and refusals are only counted).
  expect(await sourceStateNow()).toEqual(sourcesBefore);
  expect(sourcesBefore.erasures).toEqual([]);
  expect(sourcesBefore.mappingVersions).toEqual(SOURCE_IDS.map(() => 0));

  // No workflow was started: once a lead started after the fuzz is listed, the only new run is its own.
  const sentinel = await t.request('POST', '/v1/leads', { email: 'sentinel@fuzz-sentinel.example' });
  expect(sentinel.status).toBe(202);
  const listed = await eventually(async () => {
    const ids = await workflowsOnQueue();
    return ids.some((id) => id.startsWith(`${sentinel.body.workflowId} `)) ? ids : undefined;
  });
  expect(listed.filter((id) => !baselineWorkflows.includes(id)).map((id) => id.split(' ')[0])).toEqual([sentinel.body.workflowId]);
});

it('refuses what the fuzz found answered wrongly: each in the error envelope, naming the field', async () => {
  const named = (res: RawResponse) => ({ status: res.status, code: (envelopeOf(res) as { code?: string }).code, fields: ((envelopeOf(res) as { details?: Array<{ field: string }> }).details ?? []).map((x) => x.field) });
  // A signed Typeform body with a prototype key: 400 naming it (it had no details).
  const proto = TYPEFORM_RAW.replace('{', '{"__proto__":{"polluted":true},');
  const signed = await rawRequest(t.api, { method: 'POST', path: `/v1/sources/${sourceId('typeform')}/events`, headers: { 'content-type': 'application/json', 'typeform-signature': typeformSignature(SOURCE_SECRETS.typeform, proto) }, body: proto });
  expect(named(signed)).toEqual({ status: 400, code: 'invalid_request', fields: ['__proto__'] });
  // Meta's handshake refused: the envelope (it was plain text), naming the query field.
  const handshake = (query: string) => rawRequest(t.api, { method: 'GET', path: `/v1/sources/${sourceId('meta')}/events?${query}` });
  expect(named(await handshake(`hub.mode=unsubscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=1`))).toEqual({ status: 400, code: 'invalid_request', fields: ['query.hub.mode'] });
  expect(named(await handshake(`hub.mode=subscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=%3Cscript%3E`))).toEqual({ status: 400, code: 'invalid_request', fields: ['query.hub.challenge'] });
  expect(named(await handshake('hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1'))).toEqual({ status: 403, code: 'forbidden', fields: [] });
  // The codec server: a body not JSON is 415, one not an object names the body (both named `payloads`).
  const codec = (type: string, body: string) => rawRequest(t.api, { method: 'POST', path: '/codec/decode', headers: { ...bearer(), 'content-type': type }, body });
  expect(named(await codec('text/plain', JSON.stringify({ payloads: 1 })))).toMatchObject({ status: 415 });
  expect(named(await codec('application/json', '[]'))).toEqual({ status: 400, code: 'invalid_request', fields: ['(body)'] });
  // A mapping's actor or note with a control character: 400 naming it (it was published).
  for (const field of ['actor', 'note']) {
    const res = await t.request('PUT', `/v1/sources/generic/mapping`, { mapping: '{ "email": contact.mail }', [field]: 'x\u0000x' });
    expect({ status: res.status, fields: (res.body.error.details as Array<{ field: string }>).map((x) => x.field) }).toEqual({ status: 400, fields: [field] });
  }
  expect((await t.request('GET', '/v1/sources/generic/mapping')).body.versions).toEqual([]);
});
