import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Console users' passwords, stored as `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>` (Node's
 * crypto.scrypt): the cost parameters travel with each hash, so a later, stronger default does not
 * invalidate the hashes already in tenant configurations.
 */

export const CONSOLE_ROLES = ['viewer', 'ops', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** Cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB and about 50–120 ms per verification). */
export const SCRYPT_DEFAULTS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * Bounds on the parameters a stored hash may name: a configuration cannot make one sign-in cost
 * gigabytes or seconds (N ≤ 2^20 and 128·N·r·p ≤ 256 MiB), nor be too cheap to matter (N ≥ 2^10).
 */
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16, maxMemBytes: 256 * 1024 * 1024 };

export const PASSWORD_HASH_PATTERN = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface ParsedHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** The scrypt memory a verification needs (128·N·r·p), with headroom for Node's own check. */
function maxmemFor({ N, r, p }: ScryptParams): number {
  return 128 * N * r * p + 1024 * 1024;
}

/** Why the parameters are refused, or null when they are acceptable. */
export function scryptParamsProblem({ N, r, p }: ScryptParams): string | null {
  const logN = Math.log2(N);
  if (!Number.isInteger(logN) || logN < LIMITS.minLogN || logN > LIMITS.maxLogN) return `N must be a power of two from 2^${LIMITS.minLogN} to 2^${LIMITS.maxLogN}`;
  if (!Number.isInteger(r) || r < 1 || r > LIMITS.maxR) return `r must be 1 to ${LIMITS.maxR}`;
  if (!Number.isInteger(p) || p < 1 || p > LIMITS.maxP) return `p must be 1 to ${LIMITS.maxP}`;
  if (128 * N * r * p > LIMITS.maxMemBytes) return 'N·r·p needs more than 256 MiB';
  return null;
}

/** The parts of an encoded hash, or why it is not one this module can verify. */
export function parsePasswordHash(encoded: string): { ok: true; value: ParsedHash } | { ok: false; reason: string } {
  const match = PASSWORD_HASH_PATTERN.exec(encoded);
  if (!match) return { ok: false, reason: 'must be scrypt$<N>$<r>$<p>$<salt base64>$<hash base64> (see scripts/hash-password.ts)' };
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const problem = scryptParamsProblem({ N, r, p });
  if (problem) return { ok: false, reason: problem };
  const salt = Buffer.from(match[4]!, 'base64');
  const hash = Buffer.from(match[5]!, 'base64');
  if (salt.length < 16) return { ok: false, reason: 'salt must be at least 16 bytes' };
  if (hash.length < 32 || hash.length > 64) return { ok: false, reason: 'hash must be 32 to 64 bytes' };
  return { ok: true, value: { N, r, p, salt, hash } };
}

function encode(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function checkedParams(params: Partial<ScryptParams>): ScryptParams {
  const full = { ...SCRYPT_DEFAULTS, ...params };
  const problem = scryptParamsProblem(full);
  if (problem) throw new RangeError(`scrypt parameters: ${problem}`);
  return full;
}

function checkedPassword(password: string): string {
  if (typeof password !== 'string' || password.length === 0) throw new TypeError('password must be a non-empty string');
  return password;
}

function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new hash of `password` with a fresh 16-byte salt (the default cost unless `params` says otherwise). */
export async function hashPassword(password: string, params: Partial<ScryptParams> = {}): Promise<string> {
  const p = checkedParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(checkedPassword(password), salt, KEY_BYTES, { ...p, maxmem: maxmemFor(p) });
  return encode(p, salt, hash);
}

/** hashPassword, blocking: for build-time configuration (test scenarios), never on a request path. */
export function hashPasswordSync(password: string, params: Partial<ScryptParams> = {}): string {
  const p = checkedParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(checkedPassword(password), salt, KEY_BYTES, { ...p, maxmem: maxmemFor(p) });
  return encode(p, salt, hash);
}

/**
 * Whether `password` matches `encoded`, compared in constant time. A malformed hash verifies
 * nothing (false), after the same work as a real one, so a bad entry cannot be told apart by timing.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  const target = parsed.ok ? parsed.value : { ...SCRYPT_DEFAULTS, salt: Buffer.alloc(SALT_BYTES), hash: Buffer.alloc(KEY_BYTES) };
  const candidate = await scryptAsync(typeof password === 'string' ? password : '', target.salt, target.hash.length, {
    N: target.N,
    r: target.r,
    p: target.p,
    maxmem: maxmemFor(target),
  });
  return parsed.ok && typeof password === 'string' && password.length > 0 && timingSafeEqual(candidate, target.hash);
}

let dummy: string | null = null;

/**
 * A hash no password is known to match, at the default cost: verified against when the email is
 * not a console user's, so an unknown address takes as long to refuse as a wrong password.
 */
export function dummyPasswordHash(): string {
  dummy ??= encode(SCRYPT_DEFAULTS, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
  return dummy;
}
