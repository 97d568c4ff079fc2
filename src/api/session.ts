import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import path from 'node:path';

/**
 * Console sessions: stateless tokens signed with HMAC-SHA256 (a restart of the API, or a second
 * API process with the same key, keeps everyone signed in), a CSRF token derived from each
 * session's ID, sign-out as an in-process revocation list, and the sign-in rate limits.
 */

export const SESSION_COOKIE = 'lr_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** The least key material accepted from LEADRELAY_SESSION_KEY (characters) or the key file (bytes). */
export const MIN_SESSION_KEY_LENGTH = 32;
const TOKEN_VERSION = 'v1';
const MAX_TOKEN_LENGTH = 2048;

/** What a session token says, once its signature and expiry have been checked. */
export interface SessionClaims {
  tenantId: string;
  email: string;
  sessionId: string;
  issuedAt: number;
  expiresAt: number;
  /** A keyed fingerprint of the password hash signed in with: a changed password ends the session. */
  credential: string;
}

interface TokenPayload {
  t: string;
  e: string;
  s: string;
  i: number;
  x: number;
  c: string;
}

function isPayload(value: unknown): value is TokenPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['t'] === 'string' &&
    typeof v['e'] === 'string' &&
    typeof v['s'] === 'string' &&
    typeof v['c'] === 'string' &&
    Number.isSafeInteger(v['i']) &&
    Number.isSafeInteger(v['x'])
  );
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface SessionsOptions {
  now?: () => number;
  ttlMs?: number;
  limits?: SignInLimitOptions;
  /**
   * A file that keeps sign-outs (session ID and expiry, nothing else), so a signed-out token stays
   * refused after a restart. Without it sign-outs hold for this process only.
   */
  revocationsFile?: string;
}

/** Issues and checks session tokens; holds this process's sign-outs and sign-in failures. */
export class Sessions {
  readonly ttlMs: number;
  readonly limiter: SignInLimiter;
  private readonly now: () => number;
  private readonly signingKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly credentialKey: Buffer;
  /** Session ID → its expiry: signed out here, refused until the token would have expired anyway. */
  private readonly revoked = new Map<string, number>();

  constructor(key: Buffer, options: SessionsOptions = {}) {
    if (key.length < MIN_SESSION_KEY_LENGTH) throw new RangeError(`the session key must be at least ${MIN_SESSION_KEY_LENGTH} bytes`);
    const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `leadrelay console ${purpose}`, 32));
    this.signingKey = derive('session signing v1');
    this.csrfKey = derive('csrf v1');
    this.credentialKey = derive('credential fingerprint v1');
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.limiter = new SignInLimiter({ now: this.now, ...options.limits });
    this.revocationsFile = options.revocationsFile ?? null;
    if (this.revocationsFile) this.loadRevocations(this.revocationsFile);
  }

  private readonly revocationsFile: string | null;

  private loadRevocations(file: string): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read the console's sign-outs from ${file}: ${(err as Error).message}`);
    }
    const now = this.now();
    if (saved && typeof saved === 'object') {
      for (const [id, until] of Object.entries(saved)) if (typeof until === 'number' && until > now) this.revoked.set(id, until);
    }
  }

  /** Writes the live sign-outs (expired ones dropped) atomically: a crash leaves the old file or the new one. */
  private saveRevocations(file: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.revoked)), { mode: 0o600 });
    renameSync(tmp, file);
  }

  private sign(data: string): string {
    return createHmac('sha256', this.signingKey).update(data).digest('base64url');
  }

  /** The fingerprint of a password hash that sessions carry (not the hash, which could be attacked offline). */
  credentialOf(passwordHash: string): string {
    return createHmac('sha256', this.credentialKey).update(passwordHash).digest('base64url').slice(0, 22);
  }

  /** A new session for a user who just proved their password. */
  issue(tenantId: string, email: string, passwordHash: string): { token: string; claims: SessionClaims } {
    const issuedAt = this.now();
    const claims: SessionClaims = {
      tenantId,
      email,
      sessionId: randomBytes(16).toString('base64url'),
      issuedAt,
      expiresAt: issuedAt + this.ttlMs,
      credential: this.credentialOf(passwordHash),
    };
    const payload: TokenPayload = { t: claims.tenantId, e: claims.email, s: claims.sessionId, i: claims.issuedAt, x: claims.expiresAt, c: claims.credential };
    const body = `${TOKEN_VERSION}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return { token: `${body}.${this.sign(body)}`, claims };
  }

  /**
   * The claims of a token this key signed that has neither expired nor been signed out here;
   * null for anything else (forged, altered, truncated, expired, revoked).
   */
  verify(token: string): SessionClaims | null {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) return null;
    const body = `${parts[0]}.${parts[1]}`;
    if (!safeEqual(this.sign(body), parts[2]!)) return null;
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (!isPayload(payload)) return null;
    const now = this.now();
    if (payload.x <= now || payload.i > now + 60_000) return null;
    const revokedUntil = this.revoked.get(payload.s);
    if (revokedUntil !== undefined) return null;
    return { tenantId: payload.t, email: payload.e, sessionId: payload.s, issuedAt: payload.i, expiresAt: payload.x, credential: payload.c };
  }

  /**
   * Signs the session out: its token is refused from now until it expires, in this process and,
   * with a revocations file, after a restart (other API processes keep their own list).
   */
  revoke(claims: Pick<SessionClaims, 'sessionId' | 'expiresAt'>): void {
    const now = this.now();
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    if (claims.expiresAt > now) this.revoked.set(claims.sessionId, claims.expiresAt);
    if (this.revocationsFile) this.saveRevocations(this.revocationsFile);
  }

  /** The CSRF token of a session: an HMAC of its ID, sent back in `X-CSRF-Token` on every write. */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId).digest('base64url');
  }

  checkCsrf(sessionId: string, presented: string | undefined): boolean {
    return typeof presented === 'string' && safeEqual(this.csrfToken(sessionId), presented);
  }
}

/**
 * The session key: LEADRELAY_SESSION_KEY when set (at least 32 characters); in the sandbox, one
 * generated at first start into the data folder (`session.key`, readable by the owner only), so
 * restarts keep sessions; otherwise null, and the console cannot be signed in to.
 */
export function loadSessionKey(opts: { env: Record<string, string | undefined>; dataDir: string; sandbox: boolean }): { key: Buffer; source: string } | null {
  const fromEnv = opts.env['LEADRELAY_SESSION_KEY'];
  if (fromEnv) {
    if (fromEnv.length < MIN_SESSION_KEY_LENGTH) throw new Error(`LEADRELAY_SESSION_KEY must be at least ${MIN_SESSION_KEY_LENGTH} characters (a long random secret)`);
    return { key: Buffer.from(fromEnv, 'utf8'), source: 'LEADRELAY_SESSION_KEY' };
  }
  if (!opts.sandbox) return null;
  const file = path.join(opts.dataDir, 'session.key');
  mkdirSync(opts.dataDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length < MIN_SESSION_KEY_LENGTH) throw new Error(`${file} does not hold a ${MIN_SESSION_KEY_LENGTH}-byte hex key: delete it to have a new one made`);
  chmodSync(file, 0o600);
  return { key, source: file };
}

export interface SignInLimitOptions {
  now?: () => number;
  /** Failed sign-ins allowed per email from one client address within the window (default 5). */
  perEmail?: number;
  /** Failed sign-ins allowed per email from all addresses together within the window (default 100). */
  perEmailAnywhere?: number;
  /** Failed sign-ins allowed per client address within the window (default 20). */
  perAddress?: number;
  windowMs?: number;
  /** Most emails and addresses remembered at once (oldest forgotten first). */
  maxKeys?: number;
}

export type SignInAttempt = { ok: true; succeeded(): void } | { ok: false; retryAfterSeconds: number; limitedBy: 'email' | 'address' };

/**
 * IPv6 clients are counted per /64 (one host usually holds a whole /64); IPv4-mapped addresses as IPv4.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Failed sign-ins in a sliding window, per email and per client address. An attempt is counted
 * as a failure when it starts and uncounted if it succeeds, so a burst of parallel guesses cannot
 * all slip in before the first of them fails. A success clears the email's failures.
 */
export class SignInLimiter {
  private readonly now: () => number;
  private readonly perEmail: number;
  private readonly perAddress: number;
  private readonly perEmailAnywhere: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly failures = new Map<string, number[]>();

  constructor(options: SignInLimitOptions = {}) {
    this.now = options.now ?? Date.now;
    this.perEmail = options.perEmail ?? 5;
    this.perAddress = options.perAddress ?? 20;
    this.perEmailAnywhere = options.perEmailAnywhere ?? 100;
    this.windowMs = options.windowMs ?? 15 * 60 * 1000;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  private recent(key: string, now: number): number[] {
    const list = this.failures.get(key);
    if (!list) return [];
    const kept = list.filter((at) => at > now - this.windowMs);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  private wait(list: number[], limit: number, now: number): number {
    if (list.length < limit) return 0;
    // Allowed again once enough of the oldest failures have left the window.
    const freeAt = list[list.length - limit]! + this.windowMs;
    return Math.max(1, Math.ceil((freeAt - now) / 1000));
  }

  private remember(key: string, at: number): void {
    const list = this.failures.get(key) ?? [];
    list.push(at);
    this.failures.delete(key);
    this.failures.set(key, list);
    if (this.failures.size <= this.maxKeys) return;
    const now = this.now();
    for (const k of [...this.failures.keys()]) this.recent(k, now);
    for (const k of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break;
      this.failures.delete(k);
    }
  }

  private forget(key: string, at: number): void {
    const list = this.failures.get(key);
    const i = list?.indexOf(at) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (!list.length) this.failures.delete(key);
  }

  attempt(email: string, address: string): SignInAttempt {
    const now = this.now();
    // Failures for an email count per address (5): a handful of wrong passwords from elsewhere
    // cannot lock its owner out, as one count per email would (five guesses every 15 minutes would
    // keep a tenant's admin out for good). A guessing campaign spread over many addresses still
    // meets the email's overall limit (100), which takes that many guesses to trigger.
    const who = email.trim().toLowerCase();
    const emailKey = `email:${who}|${addressKey(address)}`;
    const anywhereKey = `email:${who}`;
    const addrKey = `addr:${addressKey(address)}`;
    const byEmail = Math.max(this.wait(this.recent(emailKey, now), this.perEmail, now), this.wait(this.recent(anywhereKey, now), this.perEmailAnywhere, now));
    const byAddress = this.wait(this.recent(addrKey, now), this.perAddress, now);
    if (byEmail || byAddress) {
      return { ok: false, retryAfterSeconds: Math.max(byEmail, byAddress), limitedBy: byEmail >= byAddress ? 'email' : 'address' };
    }
    this.remember(emailKey, now);
    this.remember(anywhereKey, now);
    this.remember(addrKey, now);
    let settled = false;
    return {
      ok: true,
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.forget(addrKey, now);
        this.forget(anywhereKey, now);
        this.failures.delete(emailKey);
      },
    };
  }
}
