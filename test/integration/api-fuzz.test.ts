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
import { TenantRegistry } from '../../src/tenants/registry';
import { envelopeOf, rawRequest, type RawRequest, type RawResponse } from '../support/raw';
import { demoScenario } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/*
 * A property test of the whole HTTP API against the real stack (Temporal dev server, worker,
 * sandbox): every route gets requests with one to three faults each (hostile path parameters,
 * query strings, bodies, headers, content types and encodings, forged signatures). Whatever the
 * mix, the answer is a 4xx in the error envelope, naming a field at fault when it is a 400
 * invalid_request, never a 5xx, and nothing is started, written or sent.
 */

const SEED = 20_261_130;
const RUNS = 1000;

let t: TestStack;
/** A lead routed to a rep and waiting for them to accept: the target of the lead routes' faults. */
let lead: { id: string; owner: string; other: string; state: LeadState };
let policy: Record<string, unknown>;

beforeAll(async () => {
  t = await startTestStack(demoScenario({ allAvailable: true }));
  const res = await t.request('POST', '/v1/leads', { email: 'target@fuzz-target.example' });
  // Routed and its owner told: from here on the lead waits (an hour's SLA) without calling out.
  const state = await t.waitForLead(res.body.leadId, (s) => s.status === 'routed' && s.owner !== null && s.notifications.length > 0, 'routed and notified');
  const owner = state.owner!.id;
  lead = { id: res.body.leadId, owner, other: t.tenant.routing.team.map((m) => m.id).find((id) => id !== owner)!, state };
  policy = (await t.request('GET', '/v1/policy')).body.policy;
});

afterAll(async () => {
  await t?.close();
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
const pathFault = (param: string) =>
  fc.oneof(
    fc.constantFrom(...MALFORMED_PERCENT).map((raw) => fault('path', `${param} ${raw}`, ['path'], (d) => (d.params[param] = raw))),
    fc
      .oneof(withControl, overlong(120), fc.string({ unit: 'grapheme', minLength: 1 }), fc.constantFrom(...PROTOTYPE_KEYS, '..', '.', 'ld_000000000000000000000000', 'ld_ABCDEF', "'; DROP"))
      .map((value) => fault('path', `${param} ${JSON.stringify(value)}`, [], (d) => (d.params[param] = enc(value)))),
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
      fc.oneof(overlong(200).map((s) => s.replace(/[^\x21-\x7e]/g, 'a')).filter((s) => s.length > 200), fc.constantFrom('', 'rev\tops', 'a\tb')).map((actor) => fault('header', `X-Actor ${JSON.stringify(actor.slice(0, 20))}`, ['X-Actor'], (d) => (d.headers['x-actor'] = actor))),
    ],
  },
  { route: 'GET /v1/policy/versions', base: () => draft('GET'), faults: [authFault] },
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

it('lists a fuzz spec for every route the API registers', () => {
  const app = createApp({ client: {} as Client, tenants: new TenantRegistry(), taskQueue: 'q', namespace: 'default', webUiUrl: null, bodyLimit: '1kb', temporalTimeoutMs: 1, health: async () => ({ ok: true, checks: {} }), onError: () => undefined });
  const covered = new Set(SPECS.map((s) => s.route));
  expect(registeredRoutes(app).filter((r) => !covered.has(r))).toEqual([]);
});

it(`answers ${RUNS} hostile requests (seed ${SEED}) over every route with a 4xx in the error envelope, never a 5xx, and starts, writes and sends nothing`, async () => {
  const baselineWorkflows = await eventually(async () => {
    const ids = await workflowsOnQueue();
    return ids.some((id) => id.includes(lead.id)) ? ids : undefined;
  });
  const eventsBefore = t.events().length;
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

  // No workflow was started: once a lead started after the fuzz is listed, the only new run is its own.
  const sentinel = await t.request('POST', '/v1/leads', { email: 'sentinel@fuzz-sentinel.example' });
  expect(sentinel.status).toBe(202);
  const listed = await eventually(async () => {
    const ids = await workflowsOnQueue();
    return ids.some((id) => id.startsWith(`${sentinel.body.workflowId} `)) ? ids : undefined;
  });
  expect(listed.filter((id) => !baselineWorkflows.includes(id)).map((id) => id.split(' ')[0])).toEqual([sentinel.body.workflowId]);
});
