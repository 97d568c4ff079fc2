import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TenantRegistry } from '../tenants/registry';
import { describeSecret, resolveSecret } from '../tenants/secrets';
import type { Tenant } from '../tenants/schema';
import { FAILURE_CONVERTER_PATH } from './failureConverterPath';

/**
 * Lead data encrypted before it reaches Temporal: every payload the client and the worker send
 * (workflow and activity inputs and results, signals, updates, queries, memos, failures' details,
 * messages and stack traces, timers' summaries) goes through this codec. AES-256-GCM, a random
 * 96-bit nonce per payload, the 128-bit tag appended; the whole original payload (its metadata
 * included) is the plaintext.
 *
 * Whose key: the tenant of the workflow the payload belongs to, read from the workflow ID the SDK
 * passes as the serialization context (every Leadrelay workflow ID is `<type>:<tenantId>:…`; an
 * activity's context names the workflow that scheduled it). The tenant's configured active key
 * encrypts (`encryption: { activeKey, keys: [{ id, secret }] }`); a tenant without one gets a key
 * derived from the deployment key for it alone. A payload whose context names no tenant (none of
 * Leadrelay's own) is encrypted under the deployment key itself.
 *
 * Each encrypted payload names its key and tenant in plain metadata, and both are bound to the
 * ciphertext as additional authenticated data, so a payload cannot be relabelled to another tenant
 * or key. Decoding uses the named key: old keys keep decrypting after a rotation. Payloads without
 * the encrypted encoding pass through (histories written before encryption still replay).
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_TENANT = 'encryption-tenant';
export const METADATA_CIPHER = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';
/** The scope of payloads that belong to no tenant: encrypted under the deployment key itself. */
export const DEPLOYMENT_SCOPE = '_deployment';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Keys derived from the deployment key for tenants without keys of their own are named `dk:<fingerprint>`. */
const DERIVED_PREFIX = 'dk:';
const DEPLOYMENT_PREFIX = 'deploy:';
const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** A decode that cannot succeed: tampered data, a wrong or unknown key, another tenant's payload. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/** A key that is missing or malformed (a reference that resolves to nothing, not 32 bytes). */
export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

/**
 * The tenant a workflow ID belongs to: `<type>:<tenantId>` or `<type>:<tenantId>:…` (lead, pool,
 * policy, catalog, dlead, dedupe, account, simulate, availability, quarantine…); null for any
 * other shape.
 */
export function tenantOfWorkflowId(workflowId: string | null | undefined): string | null {
  if (!workflowId) return null;
  const m = /^[a-z][a-z0-9-]*:([a-z0-9][a-z0-9-]{1,62})(?::|$)/.exec(workflowId);
  return m?.[1] ?? null;
}

/** The key scope of a serialization context: its workflow's tenant, else the deployment. */
export function scopeOf(context: SerializationContext | undefined): string {
  return tenantOfWorkflowId(context?.workflowId) ?? DEPLOYMENT_SCOPE;
}

/** A 32-byte key from its base64 (or base64url) text. */
export function parseKey(value: string, where: string): Buffer {
  const trimmed = value.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new EncryptionKeyError(`${where} must be ${KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`), got ${key.length} bytes`);
  }
  return key;
}

const fingerprint = (key: Buffer) => createHash('sha256').update('leadrelay-key-id').update(key).digest('hex').slice(0, 12);

/** The deployment's own key (and earlier ones still accepted for decoding, after a rotation). */
export interface DeploymentKeys {
  active: Buffer;
  previous?: Buffer[];
}

interface Key {
  id: string;
  key: Buffer;
}

/**
 * The keys of every scope, resolved when used (a key rotated in a secret file shows within
 * seconds, see secrets.ts): a tenant's configured keys, keys derived from the deployment key for
 * tenants without any, and the deployment key itself.
 */
export class KeyRing {
  private readonly deployment: Key[];
  private readonly derived = new Map<string, Buffer>();
  private readonly parsed = new Map<string, Buffer>();

  constructor(
    private readonly tenants: Pick<TenantRegistry, 'get'>,
    deployment: DeploymentKeys,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    const all = [deployment.active, ...(deployment.previous ?? [])];
    all.forEach((k, i) => {
      if (k.length !== KEY_BYTES) throw new EncryptionKeyError(`deployment key ${i === 0 ? '(active)' : `(previous #${i})`} must be ${KEY_BYTES} bytes, got ${k.length}`);
    });
    this.deployment = all.map((key) => ({ id: fingerprint(key), key }));
  }

  /** The key that encrypts new payloads of this scope. */
  active(scope: string): Key {
    const main = this.deployment[0]!;
    if (scope === DEPLOYMENT_SCOPE) return { id: `${DEPLOYMENT_PREFIX}${main.id}`, key: main.key };
    const config = this.tenants.get(scope)?.encryption;
    if (config) return { id: config.activeKey, key: this.tenantKey(scope, config.activeKey) };
    return { id: `${DERIVED_PREFIX}${main.id}`, key: this.derive(scope, main) };
  }

  /** The key a payload names, or a clear error saying why it cannot be had. */
  find(scope: string, keyId: string): Buffer {
    if (keyId.startsWith(DEPLOYMENT_PREFIX) || keyId.startsWith(DERIVED_PREFIX)) {
      const fp = keyId.slice(keyId.indexOf(':') + 1);
      const base = this.deployment.find((k) => k.id === fp);
      if (!base) {
        throw new PayloadDecryptionError(
          `payload of ${scope === DEPLOYMENT_SCOPE ? 'the deployment' : `tenant ${scope}`} is encrypted with deployment key ${fp}, which is neither LEADRELAY_ENCRYPTION_KEY nor one of LEADRELAY_ENCRYPTION_PREVIOUS_KEYS (known: ${this.deployment.map((k) => k.id).join(', ')})`,
        );
      }
      if (keyId.startsWith(DEPLOYMENT_PREFIX)) {
        if (scope !== DEPLOYMENT_SCOPE) throw new PayloadDecryptionError(`payload of tenant ${scope} names the deployment key ${keyId}`);
        return base.key;
      }
      if (scope === DEPLOYMENT_SCOPE) throw new PayloadDecryptionError(`deployment payload names a tenant key ${keyId}`);
      return this.derive(scope, base);
    }
    if (scope === DEPLOYMENT_SCOPE) throw new PayloadDecryptionError(`deployment payload names key ${keyId}, not a deployment key`);
    const config = this.tenants.get(scope)?.encryption;
    if (!config) throw new PayloadDecryptionError(`payload of tenant ${scope} is encrypted with key ${keyId}, but ${this.tenants.get(scope) ? 'the tenant has no encryption keys configured' : 'no such tenant is configured'}`);
    if (!config.keys.some((k) => k.id === keyId)) {
      throw new PayloadDecryptionError(`payload of tenant ${scope} is encrypted with key ${keyId}, which its configuration no longer lists (keys: ${config.keys.map((k) => k.id).join(', ')}): keep retired keys in encryption.keys while histories encrypted with them are kept`);
    }
    return this.tenantKey(scope, keyId);
  }

  /** Checks that every configured key resolves to a 32-byte key: at start, so a bad reference fails there and not on the first lead. */
  validate(tenants: Tenant[]): void {
    for (const t of tenants) for (const k of t.encryption?.keys ?? []) this.tenantKey(t.id, k.id);
  }

  private tenantKey(tenantId: string, keyId: string): Buffer {
    const ref = this.tenants.get(tenantId)?.encryption?.keys.find((k) => k.id === keyId)?.secret;
    if (!ref) throw new EncryptionKeyError(`tenant ${tenantId}: encryption key ${keyId} is not configured`);
    const value = resolveSecret(ref, this.env);
    if (!value) throw new EncryptionKeyError(`tenant ${tenantId}: encryption key ${keyId} (${describeSecret(ref)}) is not set`);
    const cacheKey = `${tenantId}\u0000${keyId}\u0000${value}`;
    let key = this.parsed.get(cacheKey);
    if (!key) {
      key = parseKey(value, `tenant ${tenantId}: encryption key ${keyId} (${describeSecret(ref)})`);
      if (this.parsed.size > 1000) this.parsed.clear();
      this.parsed.set(cacheKey, key);
    }
    return key;
  }

  private derive(tenantId: string, base: Key): Buffer {
    const cacheKey = `${base.id}\u0000${tenantId}`;
    let key = this.derived.get(cacheKey);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', base.key, 'leadrelay-tenant-payload-key', `tenant:${tenantId}`, KEY_BYTES));
      if (this.derived.size > 10_000) this.derived.clear();
      this.derived.set(cacheKey, key);
    }
    return key;
  }
}

/** Bound to the ciphertext: the scope and the key cannot be swapped in the plain metadata. */
const aad = (scope: string, keyId: string) => Buffer.from(`leadrelay/payload/v1\u0000${scope}\u0000${keyId}`, 'utf8');

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.['encoding']) === ENCRYPTED_ENCODING;
}

/** The tenant (or DEPLOYMENT_SCOPE) and key an encrypted payload names. */
export function encryptedBy(payload: Payload): { scope: string; keyId: string } | null {
  if (!isEncrypted(payload)) return null;
  const scope = text(payload.metadata?.[METADATA_TENANT]);
  const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
  return scope && keyId ? { scope, keyId } : null;
}

/**
 * The codec of the client, the worker and the codec server. `encode`/`decode` follow the SDK's
 * serialization context; `encodeFor`/`decodeFor` take the scope explicitly (the codec server: the
 * caller's tenant).
 */
export class TenantPayloadCodec implements PayloadCodec {
  constructor(readonly keys: KeyRing) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return this.encodeFor(scopeOf(context), payloads);
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const scope = scopeOf(context);
    return payloads.map((p) => {
      const by = encryptedBy(p);
      // A tenant's workflow never holds another tenant's data: refuse rather than decrypt it there.
      if (by && scope !== DEPLOYMENT_SCOPE && by.scope !== DEPLOYMENT_SCOPE && by.scope !== scope) {
        throw new PayloadDecryptionError(`a payload of tenant ${by.scope} found in ${context?.workflowId ?? 'a workflow'} of tenant ${scope}`);
      }
      return this.decodeOne(p);
    });
  }

  encodeFor(scope: string, payloads: Payload[]): Payload[] {
    if (scope !== DEPLOYMENT_SCOPE && !TENANT_SLUG.test(scope)) throw new EncryptionKeyError(`not a tenant: ${scope}`);
    const { id, key } = this.keys.active(scope);
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(scope, id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: utf8(ENCRYPTED_ENCODING),
          [METADATA_CIPHER]: utf8(CIPHER),
          [METADATA_KEY_ID]: utf8(id),
          [METADATA_TENANT]: utf8(scope),
        },
        data,
      };
    });
  }

  /** One payload decrypted with the key it names; a payload that is not encrypted, as it is. */
  decodeOne(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const by = encryptedBy(payload);
    if (!by) throw new PayloadDecryptionError(`encrypted payload without ${METADATA_TENANT} and ${METADATA_KEY_ID} metadata`);
    const cipherName = text(payload.metadata?.[METADATA_CIPHER]);
    if (cipherName && cipherName !== CIPHER) throw new PayloadDecryptionError(`payload encrypted with ${cipherName}; this codec knows ${CIPHER}`);
    const key = this.keys.find(by.scope, by.keyId);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`encrypted payload of ${by.scope} is truncated (${data.length} bytes)`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(by.scope, by.keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`payload of ${by.scope === DEPLOYMENT_SCOPE ? 'the deployment' : `tenant ${by.scope}`} failed authentication with key ${by.keyId}: it was altered, or encrypted with another key of that ID`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** The data converter of every client and worker: the codec, and failures whose message and stack trace are encoded too. */
export function dataConverterOf(codec: TenantPayloadCodec): { payloadCodecs: PayloadCodec[]; failureConverterPath: string } {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/**
 * The deployment key: LEADRELAY_ENCRYPTION_KEY (base64 of 32 bytes), earlier ones in
 * LEADRELAY_ENCRYPTION_PREVIOUS_KEYS (comma-separated) still decrypt; without it the sandbox makes
 * one in the data folder (`encryption.key`), and anything else refuses to start.
 */
export function loadDeploymentKeys(opts: { env: Record<string, string | undefined>; dataDir: string; sandbox: boolean }): { keys: DeploymentKeys; source: string } {
  const previous = (opts.env['LEADRELAY_ENCRYPTION_PREVIOUS_KEYS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => parseKey(s, `LEADRELAY_ENCRYPTION_PREVIOUS_KEYS #${i + 1}`));
  const fromEnv = opts.env['LEADRELAY_ENCRYPTION_KEY'];
  if (fromEnv) return { keys: { active: parseKey(fromEnv, 'LEADRELAY_ENCRYPTION_KEY'), previous }, source: 'LEADRELAY_ENCRYPTION_KEY' };
  if (!opts.sandbox) {
    throw new Error('set LEADRELAY_ENCRYPTION_KEY (32 random bytes in base64, e.g. `openssl rand -base64 32`) to run without the sandbox: it encrypts the payloads of tenants without keys of their own');
  }
  const file = path.join(opts.dataDir, 'encryption.key');
  mkdirSync(opts.dataDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(file, 0o600);
  return { keys: { active: parseKey(readFileSync(file, 'utf8'), file), previous }, source: file };
}

type HistoryLike = temporal.api.history.v1.IHistory;

/**
 * A history as Temporal stores it, with every payload decoded (in place) and failures' encoded
 * messages and stack traces restored: what the audit renders. `client.workflow…fetchHistory()`
 * returns the stored bytes, so every reader of history goes through here.
 */
export async function decodeHistory<H extends HistoryLike>(history: H, codecs: readonly PayloadCodec[], workflowId: string): Promise<H> {
  const context: SerializationContext = { type: 'workflow', namespace: '', workflowId };
  const decodePayload = async (p: Payload): Promise<Payload> => {
    let out = [p];
    for (const codec of [...codecs].reverse()) out = await codec.decode(out, context);
    return out[0] ?? p;
  };
  const pending: Array<Promise<void>> = [];
  const visit = (node: unknown, depth: number): void => {
    if (!node || typeof node !== 'object' || depth > 64 || node instanceof Uint8Array) return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        if (looksLikePayload(item)) pending.push(decodePayload(item).then((d) => void (node[i] = d)));
        else visit(item, depth + 1);
      });
      return;
    }
    const obj = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (looksLikePayload(v)) pending.push(decodePayload(v).then((d) => void (obj[k] = d)));
      else visit(v, depth + 1);
    }
  };
  visit(history, 0);
  await Promise.all(pending);
  restoreFailureAttributes(history, 0);
  return history;
}

function looksLikePayload(v: unknown): v is Payload {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = v as { metadata?: unknown; data?: unknown };
  return !!p.metadata && typeof p.metadata === 'object' && (p.data === undefined || p.data === null || p.data instanceof Uint8Array) && 'encoding' in (p.metadata as object);
}

/** A failure encoded with `encodeCommonAttributes`: its message and stack trace back from the (decoded) attributes. */
function restoreFailureAttributes(node: unknown, depth: number): void {
  if (!node || typeof node !== 'object' || depth > 64 || node instanceof Uint8Array) return;
  if (Array.isArray(node)) {
    for (const item of node) restoreFailureAttributes(item, depth + 1);
    return;
  }
  const f = node as { encodedAttributes?: Payload | null; message?: string | null; stackTrace?: string | null };
  if (f.encodedAttributes && !isEncrypted(f.encodedAttributes) && text(f.encodedAttributes.metadata?.['encoding']) === 'json/plain') {
    try {
      const attrs = JSON.parse(text(f.encodedAttributes.data) ?? '{}') as { message?: unknown; stack_trace?: unknown };
      if (typeof attrs.message === 'string') f.message = attrs.message;
      if (typeof attrs.stack_trace === 'string') f.stackTrace = attrs.stack_trace;
      f.encodedAttributes = null;
    } catch {
      // Left as it is: the audit shows "Encoded failure".
    }
  }
  for (const v of Object.values(node)) restoreFailureAttributes(v, depth + 1);
}

/** What `fetchDecodedHistory` needs of a workflow handle (its client's codecs come with it). */
interface HistoryHandle {
  workflowId: string;
  fetchHistory(): Promise<temporal.api.history.v1.IHistory>;
  client: { options: { loadedDataConverter: { payloadCodecs: PayloadCodec[] } } };
}

/** A run's history with its payloads decoded through the handle's client's codecs. */
export async function fetchDecodedHistory(handle: HistoryHandle): Promise<temporal.api.history.v1.IHistory> {
  return decodeHistory(await handle.fetchHistory(), handle.client.options.loadedDataConverter.payloadCodecs, handle.workflowId);
}
