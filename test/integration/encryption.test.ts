import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { AuditEntry } from '../../src/audit/types';
import { leadWorkflowId } from '../../src/protocol/ids';
import type { TenantInput } from '../../src/tenants/schema';
import { demoScenario, type Scenario } from '../support/scenario';
import { startTestStackWith, testEnv, type TestStack } from '../support/stack';

/**
 * The proof that lead data is encrypted in Temporal: the raw history, read WITHOUT the codec,
 * holds none of the lead's email, name or phone; with the codec, the audit is complete; the
 * codec server decodes with the tenant's key and not another's; a rotated key still decodes.
 */

const UI_ORIGIN = 'http://127.0.0.1:8233';
const key = () => randomBytes(32).toString('base64');
const K1 = key();
const K2 = key();

/** Tenant A has keys of its own (by reference, inline here as the sandbox does); B uses the derived one. */
let tenantA: TenantInput;
const withKeys = (scenario: (url: string) => Scenario) => (url: string): Scenario => {
  const s = scenario(url);
  s.tenant = { ...s.tenant, encryption: { activeKey: 'k1', keys: [{ id: 'k1', secret: { value: K1 } }] } };
  tenantA = s.tenant;
  return s;
};

let t: TestStack;
let bare: Connection;

beforeAll(async () => {
  t = await startTestStackWith({ codecCorsOrigins: [UI_ORIGIN] }, withKeys(demoScenario({ allAvailable: true })), demoScenario({ allAvailable: true }));
  // A connection with no data converter at all: what anyone reading Temporal's store sees.
  bare = await Connection.connect({ address: testEnv().address });
});

afterAll(async () => {
  await bare?.close();
  await t?.close();
});

const otherKey = () => t.scenarios[1]!.apiKey;
const tag = randomBytes(3).toString('hex');
const digits = String(1000 + (parseInt(tag, 16) % 9000));

function newLead(n: number) {
  return {
    email: `zelda.quarrington.${tag}${n}@acme.com`,
    firstName: `Zelda${tag}`,
    lastName: `Quarrington${tag}${n}`,
    phone: `+1 415 555 ${digits}`,
    company: 'Acme',
    source: 'form',
  };
}

async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await bare.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId }, nextPageToken: nextPageToken ?? null });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

/**
 * Payloads the SDK's core writes itself and no codec ever sees: a local activity marker's own
 * record (`details.data`: activity ID and type, attempt, times; its result is `details.result`,
 * encrypted) and a patch marker's patch ID. The byte search above covers them too.
 */
const SDK_INTERNAL = /markerRecordedEventAttributes\.details\.(data|patch-data)\./;
/** Payloads the codec encodes: not search attributes (the visibility store's), headers, nor the SDK's own markers. */
const codecPayloads = (node: unknown) => payloadsIn(node).filter((p) => !/searchAttributes|\.header\./.test(p.at) && !SDK_INTERNAL.test(p.at));

/** Every payload in a message, with where it was found (search attributes and headers are not the codec's). */
function payloadsIn(node: unknown, at = ''): Array<{ at: string; payload: Payload }> {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return [];
  const obj = node as Record<string, unknown>;
  if (obj['metadata'] && typeof obj['metadata'] === 'object' && 'encoding' in (obj['metadata'] as object)) return [{ at, payload: obj as Payload }];
  return Object.entries(obj).flatMap(([k, v]) => payloadsIn(v, `${at}.${k}`));
}

const encodingOf = (p: Payload) => Buffer.from(p.metadata?.['encoding'] ?? []).toString();
const metaOf = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();
const toJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data ?? []).toString('base64') });

/** The personal data of a lead, in every spelling it could be stored in. */
const secretsOf = (lead: ReturnType<typeof newLead>) => [lead.email, lead.email.split('@')[0]!, lead.firstName, lead.lastName, `555 ${digits}`, `555${digits}`];

async function postAndRoute(lead: ReturnType<typeof newLead>): Promise<{ leadId: string; workflowId: string }> {
  const res = await t.request('POST', '/v1/leads', lead);
  expect(res.status).toBe(202);
  const state = await t.routed(res.body.leadId);
  expect(state.status).toBe('routed');
  return res.body;
}

describe('lead data encrypted in Temporal', () => {
  let first: { leadId: string; workflowId: string };
  const lead = newLead(1);

  beforeAll(async () => {
    first = await postAndRoute(lead);
    expect(first.workflowId).toBe(leadWorkflowId(t.tenant.id, first.leadId));
  });

  it('the raw history, read without the codec, holds none of the lead’s email, name or phone', async () => {
    const events = await rawHistory(first.workflowId);
    expect(events.length).toBeGreaterThan(10);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish()).toString('latin1').toLowerCase();
    for (const secret of secretsOf(lead)) expect(bytes).not.toContain(secret.toLowerCase());
    // …because every payload the codec sees is encrypted, under tenant A's key k1 (search attributes are the visibility store's, checked below).
    const payloads = codecPayloads(events);
    expect(payloads.length).toBeGreaterThan(10);
    const plain = payloads.filter((p) => encodingOf(p.payload) !== 'binary/encrypted').map((p) => `${p.at}: ${encodingOf(p.payload)}`);
    expect(plain).toEqual([]);
    expect(new Set(payloads.map((p) => `${metaOf(p.payload, 'encryption-tenant')}/${metaOf(p.payload, 'encryption-key-id')}`))).toEqual(new Set([`${t.tenant.id}/k1`]));
  });

  it('memo and search attributes hold no plain personal data', async () => {
    const raw = await bare.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: first.workflowId } });
    const memo = payloadsIn(raw.workflowExecutionInfo?.memo);
    expect(memo.length).toBeGreaterThan(0);
    expect(memo.every((p) => encodingOf(p.payload) === 'binary/encrypted')).toBe(true);
    const visible = JSON.stringify(raw.workflowExecutionInfo, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)).toLowerCase();
    for (const secret of secretsOf(lead)) expect(visible).not.toContain(secret.toLowerCase());
    // The client with the codec reads the memo as written.
    expect((await t.stack.temporal.client.workflow.getHandle(first.workflowId).describe()).memo).toMatchObject({ payloadHash: expect.any(String) });
  });

  it('with the codec, the audit is complete', async () => {
    const res = await t.request('GET', `/v1/leads/${first.leadId}/audit`);
    expect(res.status).toBe(200);
    const timeline = res.body.timeline as AuditEntry[];
    const kinds = new Set(timeline.map((e) => e.kind));
    for (const kind of ['received', 'decision', 'crm_write', 'notification'] as const) expect(kinds).toContain(kind);
    const text = JSON.stringify(timeline);
    expect(text).not.toContain('Encoded failure');
    expect(text).toContain(lead.email);
  });

  describe('the codec server', () => {
    let encrypted: Payload[];
    beforeAll(async () => {
      encrypted = codecPayloads(await rawHistory(first.workflowId))
        .map((p) => p.payload)
        .slice(0, 20);
    });
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) => t.request('POST', path, body, headers);

    it('decodes the tenant’s payloads with its API key, in the codec-server JSON form', async () => {
      const res = await post('/codec/decode', { payloads: encrypted.map(toJson) }, { 'x-namespace': 'default' });
      expect(res.status).toBe(200);
      const decoded = res.body.payloads as Array<{ metadata: Record<string, string>; data: string }>;
      expect(decoded).toHaveLength(encrypted.length);
      expect(decoded.every((p) => Buffer.from(p.metadata['encoding'] ?? '', 'base64').toString() !== 'binary/encrypted')).toBe(true);
      expect(decoded.map((p) => Buffer.from(p.data, 'base64').toString()).join('\n')).toContain(lead.email);
    });

    it('does not decode them with another tenant’s key: they come back as they were, encrypted', async () => {
      const res = await post('/codec/decode', { payloads: encrypted.map(toJson) }, { authorization: `Bearer ${otherKey()}` });
      expect(res.status).toBe(200);
      expect(res.body.payloads).toEqual(encrypted.map(toJson));
    });

    it('refuses a caller without credentials, and another namespace', async () => {
      expect((await post('/codec/decode', { payloads: [] }, { authorization: '' })).status).toBe(401);
      expect((await post('/codec/decode', { payloads: [] }, { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await post('/codec/decode', { payloads: [] }, { 'x-namespace': 'other' })).status).toBe(400);
      expect((await post('/codec/decode', { nope: 1 })).status).toBe(400);
    });

    it('encodes with the tenant’s active key, and decodes that back', async () => {
      const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64') };
      const enc = await post('/codec/encode', { payloads: [plain] });
      expect(enc.status).toBe(200);
      const [p] = enc.body.payloads as Array<{ metadata: Record<string, string>; data: string }>;
      expect(Buffer.from(p!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k1');
      expect(Buffer.from(p!.data, 'base64').toString('latin1')).not.toContain('world');
      expect((await post('/codec/decode', { payloads: [p] })).body.payloads).toEqual([plain]);
    });

    it('answers the Web UI’s CORS preflight for its origin only, credentials allowed', async () => {
      const preflight = (origin: string) =>
        fetch(`${t.api}/codec/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' } });
      const ok = await preflight(UI_ORIGIN);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
      expect(ok.headers.get('access-control-allow-headers')).toBe('Content-Type, Authorization, X-Namespace');
      const other = await preflight('http://evil.example');
      expect(other.status).toBe(403);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const res = await fetch(`${t.api}/codec/decode`, { method: 'POST', headers: { origin: UI_ORIGIN, 'content-type': 'application/json', authorization: `Bearer ${t.apiKey}` }, body: JSON.stringify({ payloads: [] }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    });
  });

  it('after a rotation (k2 active, k1 kept), new runs are encrypted with k2 and old runs still decode', async () => {
    t.tenants.add({ ...tenantA, encryption: { activeKey: 'k2', keys: [{ id: 'k1', secret: { value: K1 } }, { id: 'k2', secret: { value: K2 } }] } });
    const second = newLead(2);
    const { leadId, workflowId } = await postAndRoute(second);
    const events = await rawHistory(workflowId);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish()).toString('latin1').toLowerCase();
    for (const secret of secretsOf(second)) expect(bytes).not.toContain(secret.toLowerCase());
    const keyIds = new Set(codecPayloads(events).map((p) => metaOf(p.payload, 'encryption-key-id')));
    expect(keyIds).toEqual(new Set(['k2']));

    for (const id of [first.leadId, leadId]) {
      const audit = await t.request('GET', `/v1/leads/${id}/audit`);
      expect(audit.status).toBe(200);
      expect((audit.body.timeline as AuditEntry[]).some((e) => e.kind === 'decision')).toBe(true);
    }
    // The codec server reads both generations too.
    const old = codecPayloads(await rawHistory(first.workflowId)).slice(0, 3).map((p) => toJson(p.payload));
    const res = await t.request('POST', '/codec/decode', { payloads: old });
    expect(res.status).toBe(200);
    expect(res.body.payloads.every((p: { metadata: Record<string, string> }) => Buffer.from(p.metadata['encoding']!, 'base64').toString() !== 'binary/encrypted')).toBe(true);
  });
});
