import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, DefaultFailureConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { encodeFailure, decodeFailure } from '@temporalio/common/lib/internal-non-workflow';
import * as ids from '../../src/protocol/ids';
import {
  decodeHistory,
  DEPLOYMENT_SCOPE,
  ENCRYPTED_ENCODING,
  encryptedBy,
  EncryptionKeyError,
  KeyRing,
  loadDeploymentKeys,
  PayloadDecryptionError,
  scopeOf,
  TenantPayloadCodec,
  tenantOfWorkflowId,
} from '../../src/temporal/codec';
import { failureConverter } from '../../src/temporal/failureConverter';
import { EncryptionSettingsSchema, type Tenant } from '../../src/tenants/schema';

const b64 = () => randomBytes(32).toString('base64');
const K1 = b64();
const K2 = b64();

/** A registry of tenants with (or without) their own keys. */
function registry(encryption: Record<string, Tenant['encryption']>): { get(id: string): Tenant | undefined } {
  return { get: (id) => (id in encryption ? ({ id, encryption: encryption[id] } as unknown as Tenant) : undefined) };
}

const wf = (workflowId: string): SerializationContext => ({ type: 'workflow', namespace: 'default', workflowId });
const lead = { email: 'jane.doe@acme.com', firstName: 'Jane', phone: '+1 415 555 0100' };
const text = (p: Payload) => Buffer.concat([Buffer.from(p.data ?? []), ...Object.values(p.metadata ?? {}).map((v) => Buffer.from(v))]).toString('latin1');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();

describe('the workflow ID names the tenant', () => {
  it('for every workflow ID Leadrelay builds', () => {
    expect(tenantOfWorkflowId(ids.leadWorkflowId('acme', 'ld_0123456789abcdef01234567'))).toBe('acme');
    expect(tenantOfWorkflowId(ids.poolWorkflowId('acme', 'ae'))).toBe('acme');
    expect(tenantOfWorkflowId(ids.policyWorkflowId('acme'))).toBe('acme');
    expect(tenantOfWorkflowId(ids.catalogWorkflowId('acme-2'))).toBe('acme-2');
    expect(tenantOfWorkflowId(ids.distributedLeadWorkflowId('acme', 'dl_0123'))).toBe('acme');
    expect(tenantOfWorkflowId(ids.dedupeWorkflowId('acme', 'email', 'ab12'))).toBe('acme');
    expect(tenantOfWorkflowId(ids.accountWorkflowId('acme', 'buyer', 'b1'))).toBe('acme');
    expect(tenantOfWorkflowId('simulate:acme:k1')).toBe('acme');
    expect(tenantOfWorkflowId('availability:acme:k1')).toBe('acme');
    expect(tenantOfWorkflowId('quarantine:acme:q_1')).toBe('acme');
  });

  it('and anything else is the deployment’s', () => {
    for (const id of ['', 'no-colon', 'lead:UPPER:x', 'lead::x', ':acme:x', 'lead:a:x']) expect(tenantOfWorkflowId(id)).toBeNull();
    expect(scopeOf(undefined)).toBe(DEPLOYMENT_SCOPE);
    expect(scopeOf({ type: 'activity', namespace: 'default', isLocal: false })).toBe(DEPLOYMENT_SCOPE);
    expect(scopeOf({ type: 'activity', namespace: 'default', workflowId: 'lead:acme:x', isLocal: true })).toBe('acme');
  });
});

describe('TenantPayloadCodec', () => {
  const deployment = { active: randomBytes(32) };
  const codec = new TenantPayloadCodec(new KeyRing(registry({ acme: { activeKey: 'k1', keys: [{ id: 'k1', secret: { value: K1 } }] } }), deployment));

  it('round-trips a payload, with nothing of it left in clear, naming its key and tenant', async () => {
    const plain = defaultPayloadConverter.toPayload(lead);
    const [enc] = await codec.encode([plain], wf('lead:acme:ld_1'));
    expect(meta(enc!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(enc!, 'encryption-key-id')).toBe('k1');
    expect(meta(enc!, 'encryption-tenant')).toBe('acme');
    for (const secret of ['jane', 'Jane', 'acme.com', '555', 'json/plain']) expect(text(enc!)).not.toContain(secret);
    const [dec] = await codec.decode([enc!], wf('lead:acme:ld_1'));
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual(lead);
    // A fresh nonce each time: the same value never encrypts to the same bytes.
    const [again] = await codec.encode([plain], wf('lead:acme:ld_1'));
    expect(Buffer.from(again!.data!).equals(Buffer.from(enc!.data!))).toBe(false);
  });

  it('refuses a tampered payload, and one relabelled to another key or tenant', async () => {
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload(lead)], wf('pool:acme:p'));
    const flipped = Buffer.from(enc!.data!);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => codec.decodeOne({ ...enc!, data: flipped })).toThrow(PayloadDecryptionError);
    expect(() => codec.decodeOne({ ...enc!, data: Buffer.from(enc!.data!).subarray(0, 10) })).toThrow(/truncated/);
    const relabelled = { ...enc!, metadata: { ...enc!.metadata, 'encryption-tenant': Buffer.from('globex') } };
    expect(() => codec.decodeOne(relabelled)).toThrow(PayloadDecryptionError);
  });

  it('names an unknown key ID clearly', async () => {
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload(lead)], wf('lead:acme:x'));
    const unknown = { ...enc!, metadata: { ...enc!.metadata, 'encryption-key-id': Buffer.from('k9') } };
    expect(() => codec.decodeOne(unknown)).toThrow('payload of tenant acme is encrypted with key k9, which its configuration no longer lists (keys: k1)');
  });

  it('passes payloads that are not encrypted through (histories recorded before encryption replay)', async () => {
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await codec.decode([plain], wf('lead:acme:x'))).toEqual([plain]);
  });

  it('will not decrypt one tenant’s payload in another tenant’s workflow', async () => {
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload(lead)], wf('lead:acme:x'));
    await expect(codec.decode([enc!], wf('lead:globex:x'))).rejects.toThrow('a payload of tenant acme found in lead:globex:x of tenant globex');
  });

  it('gives a tenant without keys of its own a key derived for it alone, and tenantless payloads the deployment key', async () => {
    const [g] = await codec.encode([defaultPayloadConverter.toPayload(lead)], wf('lead:globex:x'));
    const [h] = await codec.encode([defaultPayloadConverter.toPayload(lead)], wf('lead:hooli:x'));
    const [d] = await codec.encode([defaultPayloadConverter.toPayload(lead)], undefined);
    expect(meta(g!, 'encryption-key-id')).toMatch(/^dk:[0-9a-f]{12}$/);
    expect(meta(d!, 'encryption-key-id')).toMatch(/^deploy:[0-9a-f]{12}$/);
    expect(encryptedBy(d!)).toEqual({ scope: DEPLOYMENT_SCOPE, keyId: meta(d!, 'encryption-key-id') });
    for (const p of [g, h, d]) expect(defaultPayloadConverter.fromPayload(codec.decodeOne(p!))).toEqual(lead);
    // globex's ciphertext relabelled as hooli's does not open with hooli's derived key.
    expect(() => codec.decodeOne({ ...g!, metadata: { ...g!.metadata, 'encryption-tenant': Buffer.from('hooli') } })).toThrow(PayloadDecryptionError);
    // Another deployment key cannot read any of them.
    const other = new TenantPayloadCodec(new KeyRing(registry({}), { active: randomBytes(32) }));
    expect(() => other.decodeOne(g!)).toThrow(/deployment key [0-9a-f]{12}, which is neither LEADRELAY_ENCRYPTION_KEY/);
  });

  it('rotates: the new active key encrypts, the old one still decrypts, a removed one is named', async () => {
    const tenants: Record<string, Tenant['encryption']> = { acme: { activeKey: 'k1', keys: [{ id: 'k1', secret: { value: K1 } }] } };
    const rotating = new TenantPayloadCodec(new KeyRing(registry(tenants), deployment));
    const [old] = await rotating.encode([defaultPayloadConverter.toPayload(lead)], wf('lead:acme:x'));
    tenants['acme'] = { activeKey: 'k2', keys: [{ id: 'k1', secret: { value: K1 } }, { id: 'k2', secret: { value: K2 } }] };
    const [fresh] = await rotating.encode([defaultPayloadConverter.toPayload(lead)], wf('lead:acme:x'));
    expect(meta(fresh!, 'encryption-key-id')).toBe('k2');
    expect(defaultPayloadConverter.fromPayload(rotating.decodeOne(old!))).toEqual(lead);
    expect(defaultPayloadConverter.fromPayload(rotating.decodeOne(fresh!))).toEqual(lead);
    tenants['acme'] = { activeKey: 'k2', keys: [{ id: 'k2', secret: { value: K2 } }] };
    expect(() => rotating.decodeOne(old!)).toThrow(/key k1, which its configuration no longer lists/);
  });

  it('reads keys by reference and refuses one that is not 32 bytes, naming tenant, key and reference', () => {
    const env = { ACME_K1: K1, SHORT: randomBytes(16).toString('base64') };
    const ring = new KeyRing(registry({ acme: { activeKey: 'k1', keys: [{ id: 'k1', secret: { env: 'ACME_K1' } }, { id: 'k0', secret: { env: 'SHORT' } }, { id: 'kx', secret: { env: 'UNSET' } }] } }), deployment, env);
    expect(ring.active('acme').key.equals(Buffer.from(K1, 'base64'))).toBe(true);
    expect(() => ring.find('acme', 'k0')).toThrow('tenant acme: encryption key k0 (environment variable SHORT) must be 32 random bytes in base64');
    expect(() => ring.find('acme', 'kx')).toThrow(EncryptionKeyError);
    expect(() => ring.validate([{ id: 'acme', encryption: { activeKey: 'k1', keys: [{ id: 'kx', secret: { env: 'UNSET' } }] } } as unknown as Tenant])).toThrow('tenant acme: encryption key kx (environment variable UNSET) is not set');
  });

  it('checks the tenant configuration: the active key is listed, IDs are unique', () => {
    expect(EncryptionSettingsSchema.safeParse({ activeKey: 'k2', keys: [{ id: 'k1', secret: { env: 'A' } }] }).success).toBe(false);
    expect(EncryptionSettingsSchema.safeParse({ activeKey: 'k1', keys: [{ id: 'k1', secret: { env: 'A' } }, { id: 'k1', secret: { env: 'B' } }] }).success).toBe(false);
    expect(EncryptionSettingsSchema.safeParse({ activeKey: 'k1', keys: [{ id: 'k1', secret: { env: 'A' } }] }).success).toBe(true);
    expect(EncryptionSettingsSchema.safeParse({ activeKey: 'dk:x', keys: [{ id: 'dk:x', secret: { env: 'A' } }] }).success).toBe(false);
  });

  it('encrypts failures’ messages and stack traces, and the audit’s history decoding restores them', async () => {
    const context = wf('lead:acme:x');
    const failure = failureConverter.errorToFailure(new Error('CRM refused jane.doe@acme.com'), defaultPayloadConverter, context);
    expect(failure.message).toBe('Encoded failure');
    const encoded = await encodeFailure([codec], failure, context);
    expect(JSON.stringify(encoded)).not.toContain('jane');
    expect(text(encoded.encodedAttributes!)).not.toContain('jane');
    // The SDK's own decoding gives the error back…
    const err = new DefaultFailureConverter({ encodeCommonAttributes: true }).failureToError(await decodeFailure([codec], encoded, context), defaultPayloadConverter);
    expect(err.message).toBe('CRM refused jane.doe@acme.com');
    // …and so does decodeHistory, for the audit, which reads failures as protos.
    const history = { events: [{ activityTaskFailedEventAttributes: { failure: encoded } }] };
    await decodeHistory(history, [codec], 'lead:acme:x');
    expect(history.events[0]!.activityTaskFailedEventAttributes.failure.message).toBe('CRM refused jane.doe@acme.com');
  });
});

describe('loadDeploymentKeys', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes LEADRELAY_ENCRYPTION_KEY, with previous keys still decrypting', () => {
    const prev = b64();
    const { keys, source } = loadDeploymentKeys({ env: { LEADRELAY_ENCRYPTION_KEY: K1, LEADRELAY_ENCRYPTION_PREVIOUS_KEYS: ` ${prev} ` }, dataDir: dir, sandbox: false });
    expect(source).toBe('LEADRELAY_ENCRYPTION_KEY');
    expect(keys.active.equals(Buffer.from(K1, 'base64'))).toBe(true);
    expect(keys.previous?.[0]?.equals(Buffer.from(prev, 'base64'))).toBe(true);
    expect(() => loadDeploymentKeys({ env: { LEADRELAY_ENCRYPTION_KEY: 'short' }, dataDir: dir, sandbox: false })).toThrow(/32 random bytes in base64/);
  });

  it('makes a development key in the data folder with the sandbox (kept across starts), and refuses to start without one otherwise', () => {
    const first = loadDeploymentKeys({ env: {}, dataDir: dir, sandbox: true });
    expect(first.source).toBe(path.join(dir, 'encryption.key'));
    expect(statSync(first.source).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(first.source, 'utf8').trim(), 'base64').equals(first.keys.active)).toBe(true);
    expect(loadDeploymentKeys({ env: {}, dataDir: dir, sandbox: true }).keys.active.equals(first.keys.active)).toBe(true);
    expect(() => loadDeploymentKeys({ env: {}, dataDir: dir, sandbox: false })).toThrow(/set LEADRELAY_ENCRYPTION_KEY/);
  });
});
