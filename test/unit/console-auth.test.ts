import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { demoTenant } from '../../sandbox/demoTenant';
import { actorOf, authenticate, cookieValues, principalOf } from '../../src/api/auth';
import { errorHandler } from '../../src/api/errors';
import { allows, authorize, ROLE_RULES, ruleFor } from '../../src/api/roles';
import { addressKey, loadSessionKey, Sessions, SignInLimiter } from '../../src/api/session';
import { hashPassword, hashPasswordSync, parsePasswordHash, SCRYPT_DEFAULTS, verifyPassword } from '../../src/console/users';
import { ConfigError, sha256Hex, TenantRegistry } from '../../src/tenants/registry';
import type { TenantInput } from '../../src/tenants/schema';

/** Cheap parameters where the cost itself is not under test. */
const FAST = { N: 2 ** 10 };
const KEY = Buffer.alloc(32, 7);

describe('password hashing', () => {
  it('hashes with scrypt at the default cost in the documented format, and verifies only the right password', async () => {
    const encoded = await hashPassword('correct horse battery staple');
    expect(encoded).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const parsed = parsePasswordHash(encoded);
    expect(parsed.ok && { N: parsed.value.N, r: parsed.value.r, p: parsed.value.p, salt: parsed.value.salt.length, hash: parsed.value.hash.length }).toEqual({ ...SCRYPT_DEFAULTS, salt: 16, hash: 32 });
    await expect(verifyPassword('correct horse battery staple', encoded)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapl', encoded)).resolves.toBe(false);
    await expect(verifyPassword('', encoded)).resolves.toBe(false);
  });

  it('salts every hash, and verifies a hash of other parameters by the parameters it carries', async () => {
    const a = hashPasswordSync('same', FAST);
    const b = hashPasswordSync('same', FAST);
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$1024$8$1$')).toBe(true);
    await expect(verifyPassword('same', a)).resolves.toBe(true);
    await expect(verifyPassword('same', b)).resolves.toBe(true);
  });

  it('verifies nothing against a malformed or altered hash, and refuses parameters out of bounds', async () => {
    const good = hashPasswordSync('pw-123456', FAST);
    const parts = good.split('$');
    const flipped = [...parts.slice(0, 5), Buffer.from(Buffer.from(parts[5]!, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64')].join('$');
    await expect(verifyPassword('pw-123456', flipped)).resolves.toBe(false);
    await expect(verifyPassword('pw-123456', 'not a hash')).resolves.toBe(false);
    await expect(verifyPassword('pw-123456', good.replace('$1024$', '$1000$'))).resolves.toBe(false);
    expect(parsePasswordHash(good.replace('$1024$', `$${2 ** 21}$`))).toMatchObject({ ok: false, reason: expect.stringContaining('power of two') });
    expect(parsePasswordHash(good.replace('$8$1$', '$8$99$'))).toMatchObject({ ok: false });
    expect(() => hashPasswordSync('x', { N: 3 })).toThrow(RangeError);
    await expect(hashPassword('')).rejects.toThrow('non-empty');
  });
});

function tenantWithUsers(id: string, users: Array<{ email: string; role: 'viewer' | 'ops' | 'admin'; password?: string }>): TenantInput {
  return {
    ...demoTenant('http://127.0.0.1:4010'),
    id,
    apiKeys: [{ id: 'k', sha256: sha256Hex(`key-${id}`) }],
    console: { users: users.map((u) => ({ email: u.email, name: u.email.split('@')[0]!, role: u.role, passwordHash: hashPasswordSync(u.password ?? 'pw', FAST) })) },
  };
}

describe('console users in the tenant configuration', () => {
  it('finds a user by email, case-insensitively, with their tenant', () => {
    const registry = new TenantRegistry();
    registry.add(tenantWithUsers('tenant-a', [{ email: 'Ana@A.example', role: 'ops' }]));
    expect(registry.consoleUser('ana@a.example')).toMatchObject({ tenant: { id: 'tenant-a' }, user: { email: 'ana@a.example', role: 'ops' } });
    expect(registry.consoleUser(' ANA@a.example ')?.tenant.id).toBe('tenant-a');
    expect(registry.consoleUser('nobody@a.example')).toBeUndefined();
    expect(registry.hasConsoleUsers()).toBe(true);
  });

  it('refuses the same email in two tenants, and twice in one, but lets a tenant be replaced with its own users', () => {
    const registry = new TenantRegistry();
    registry.add(tenantWithUsers('tenant-a', [{ email: 'ana@a.example', role: 'ops' }]));
    expect(() => registry.add(tenantWithUsers('tenant-b', [{ email: 'ANA@a.example', role: 'viewer' }]))).toThrow(ConfigError);
    expect(() => registry.add(tenantWithUsers('tenant-b', [{ email: 'ana@a.example', role: 'viewer' }]))).toThrow(/already a console user of tenant tenant-a/);
    expect(() => registry.add(tenantWithUsers('tenant-c', [{ email: 'x@c.example', role: 'viewer' }, { email: 'X@c.example', role: 'ops' }]))).toThrow(/listed twice/);
    expect(() => registry.add(tenantWithUsers('tenant-a', [{ email: 'ana@a.example', role: 'admin' }]))).not.toThrow();
    expect(registry.consoleUser('ana@a.example')?.user.role).toBe('admin');
  });

  it('refuses a password hash that is not one, naming the field', () => {
    const tenant = tenantWithUsers('tenant-a', [{ email: 'ana@a.example', role: 'ops' }]);
    tenant.console!.users[0]!.passwordHash = 'plaintext-password';
    expect(() => new TenantRegistry().add(tenant)).toThrow(/console\.users\.0\.passwordHash: must be scrypt\$/);
  });
});

describe('session tokens', () => {
  const clock = { now: 1_700_000_000_000 };
  const sessions = new Sessions(KEY, { now: () => clock.now });

  it('round-trips the tenant, email and a fresh session ID, valid for 12 hours', () => {
    const { token, claims } = sessions.issue('tenant-a', 'ana@a.example', 'hash');
    expect(claims.expiresAt - claims.issuedAt).toBe(12 * 3600 * 1000);
    expect(sessions.verify(token)).toEqual(claims);
    expect(sessions.issue('tenant-a', 'ana@a.example', 'hash').claims.sessionId).not.toBe(claims.sessionId);
    // Another process (a restart) with the same key accepts it; another key does not.
    expect(new Sessions(KEY, { now: () => clock.now }).verify(token)).toEqual(claims);
    expect(new Sessions(Buffer.alloc(32, 8), { now: () => clock.now }).verify(token)).toBeNull();
  });

  it('expires', () => {
    const { token } = sessions.issue('tenant-a', 'ana@a.example', 'hash');
    const start = clock.now;
    clock.now = start + 12 * 3600 * 1000 - 1;
    expect(sessions.verify(token)).not.toBeNull();
    clock.now = start + 12 * 3600 * 1000;
    expect(sessions.verify(token)).toBeNull();
    clock.now = start;
  });

  it('refuses any alteration of the token', () => {
    const { token } = sessions.issue('tenant-a', 'ana@a.example', 'hash');
    const [version, payload, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), t: 'tenant-b' })).toString('base64url');
    expect(sessions.verify(`${version}.${forged}.${signature}`)).toBeNull();
    expect(sessions.verify(`${version}.${payload}.${signature.slice(0, -2)}`)).toBeNull();
    expect(sessions.verify(`${version}.${payload}.`)).toBeNull();
    expect(sessions.verify(`v2.${payload}.${signature}`)).toBeNull();
    expect(sessions.verify(`${version}.${payload}`)).toBeNull();
    expect(sessions.verify('')).toBeNull();
    expect(sessions.verify('x'.repeat(5000))).toBeNull();
  });

  it('refuses a signed-out session until it would have expired, in this process', () => {
    const { token, claims } = sessions.issue('tenant-a', 'ana@a.example', 'hash');
    sessions.revoke(claims);
    expect(sessions.verify(token)).toBeNull();
    expect(sessions.verify(sessions.issue('tenant-a', 'ana@a.example', 'hash').token)).not.toBeNull();
  });

  it('keeps sign-outs in its revocations file, so a signed-out token stays refused after a restart', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'leadrelay-revoked-')), 'revoked-sessions.json');
    const clock = { now: 1_000_000 };
    const before = new Sessions(KEY, { now: () => clock.now, revocationsFile: file });
    const out = before.issue('tenant-a', 'ana@a.example', 'hash');
    const kept = before.issue('tenant-a', 'ana@a.example', 'hash');
    before.revoke(out.claims);
    // The file names sessions and expiries only.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ [out.claims.sessionId]: out.claims.expiresAt });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const after = new Sessions(KEY, { now: () => clock.now, revocationsFile: file });
    expect(after.verify(out.token)).toBeNull();
    expect(after.verify(kept.token)).not.toBeNull();
    // Without the file (another process), the sign-out is not known: hence the file.
    expect(new Sessions(KEY, { now: () => clock.now }).verify(out.token)).not.toBeNull();
  });

  it('derives the CSRF token from the session ID and checks it in constant time', () => {
    const a = sessions.issue('tenant-a', 'ana@a.example', 'hash').claims;
    const b = sessions.issue('tenant-a', 'ana@a.example', 'hash').claims;
    const csrf = sessions.csrfToken(a.sessionId);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.checkCsrf(a.sessionId, csrf)).toBe(true);
    expect(sessions.checkCsrf(b.sessionId, csrf)).toBe(false);
    expect(sessions.checkCsrf(a.sessionId, undefined)).toBe(false);
    expect(sessions.checkCsrf(a.sessionId, csrf.slice(1))).toBe(false);
    expect(new Sessions(Buffer.alloc(32, 8)).csrfToken(a.sessionId)).not.toBe(csrf);
  });

  it('needs a key of at least 32 bytes', () => {
    expect(() => new Sessions(Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('the session key', () => {
  it('comes from LEADRELAY_SESSION_KEY, of at least 32 characters', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-key-'));
    expect(loadSessionKey({ env: { LEADRELAY_SESSION_KEY: 'k'.repeat(40) }, dataDir, sandbox: false })).toEqual({ key: Buffer.from('k'.repeat(40)), source: 'LEADRELAY_SESSION_KEY' });
    expect(() => loadSessionKey({ env: { LEADRELAY_SESSION_KEY: 'short' }, dataDir, sandbox: true })).toThrow(/at least 32/);
  });

  it('is made once into the data folder in the sandbox (owner-only), and is absent otherwise', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'leadrelay-key-')), 'nested');
    expect(loadSessionKey({ env: {}, dataDir, sandbox: false })).toBeNull();
    const first = loadSessionKey({ env: {}, dataDir, sandbox: true })!;
    const again = loadSessionKey({ env: {}, dataDir, sandbox: true })!;
    expect(first.key.length).toBe(32);
    expect(again.key.equals(first.key)).toBe(true);
    expect(readFileSync(join(dataDir, 'session.key'), 'utf8').trim()).toBe(first.key.toString('hex'));
    expect(statSync(join(dataDir, 'session.key')).mode & 0o077).toBe(0);
  });
});

describe('sign-in rate limits', () => {
  const fifteenMinutes = 15 * 60 * 1000;

  it('refuses an email from an address after 5 failures in 15 minutes, with the seconds until the oldest leaves the window, and leaves its owner elsewhere alone', () => {
    const clock = { now: 0 };
    const limiter = new SignInLimiter({ now: () => clock.now });
    for (let i = 0; i < 5; i++) {
      clock.now = i * 1000;
      expect(limiter.attempt('ana@a.example', '10.0.0.9').ok).toBe(true);
    }
    clock.now = 10_000;
    expect(limiter.attempt('ANA@a.example', '10.0.0.9')).toEqual({ ok: false, retryAfterSeconds: 890, limitedBy: 'email' });
    // Guesses from one place do not lock Ana out from her own, and other emails are not affected.
    expect(limiter.attempt('ana@a.example', '198.51.100.4').ok).toBe(true);
    expect(limiter.attempt('ben@a.example', '10.0.0.9').ok).toBe(true);
    clock.now = fifteenMinutes;
    expect(limiter.attempt('ana@a.example', '10.0.0.9').ok).toBe(true);
  });

  it('refuses an email after 100 failures from any addresses together: guesses spread wide still meet a limit', () => {
    const clock = { now: 0 };
    const limiter = new SignInLimiter({ now: () => clock.now });
    for (let i = 0; i < 100; i++) expect(limiter.attempt('ana@a.example', `10.0.${Math.floor(i / 4)}.${i % 4}`).ok).toBe(true);
    expect(limiter.attempt('ana@a.example', '203.0.113.50')).toMatchObject({ ok: false, limitedBy: 'email' });
    expect(limiter.attempt('ben@a.example', '203.0.113.50').ok).toBe(true);
  });

  it('refuses an address after 20 failures in 15 minutes, whatever the emails', () => {
    const clock = { now: 0 };
    const limiter = new SignInLimiter({ now: () => clock.now });
    for (let i = 0; i < 20; i++) expect(limiter.attempt(`u${i}@a.example`, '192.0.2.7').ok).toBe(true);
    expect(limiter.attempt('new@a.example', '192.0.2.7')).toEqual({ ok: false, retryAfterSeconds: 900, limitedBy: 'address' });
    expect(limiter.attempt('new@a.example', '::ffff:192.0.2.7').ok).toBe(false);
    expect(limiter.attempt('new@a.example', '192.0.2.8').ok).toBe(true);
  });

  it('counts an attempt from its start (parallel guesses cannot pass the limit) and uncounts a success, which clears the email', () => {
    const limiter = new SignInLimiter({ now: () => 0 });
    const pending = Array.from({ length: 5 }, () => limiter.attempt('ana@a.example', '10.0.0.1'));
    expect(pending.every((a) => a.ok)).toBe(true);
    expect(limiter.attempt('ana@a.example', '10.0.0.1').ok).toBe(false);
    const last = pending[4]!;
    if (last.ok) last.succeeded();
    expect(limiter.attempt('ana@a.example', '10.0.0.1').ok).toBe(true);
  });

  it('counts IPv6 clients per /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
  });

  it('forgets the oldest keys beyond its bound', () => {
    const limiter = new SignInLimiter({ now: () => 0, maxKeys: 10, perEmail: 1 });
    limiter.attempt('first@a.example', '10.0.0.1');
    expect(limiter.attempt('first@a.example', '10.0.0.1').ok).toBe(false);
    for (let i = 0; i < 10; i++) limiter.attempt(`u${i}@a.example`, `10.0.1.${i}`);
    expect(limiter.attempt('first@a.example', '10.0.0.1').ok).toBe(true);
  });
});

describe('the role table', () => {
  it.each([
    ['viewer', 'GET', '/v1/leads', true],
    ['viewer', 'HEAD', '/v1/leads/ld_1', true],
    ['viewer', 'POST', '/v1/policy/simulate', true],
    ['viewer', 'DELETE', '/v1/session', true],
    ['viewer', 'POST', '/v1/leads/ld_1/reassign', false],
    ['viewer', 'POST', '/v1/leads/ld_1/accept', false],
    ['ops', 'POST', '/v1/leads/ld_1/reassign', true],
    ['ops', 'POST', '/v1/Leads/ld_1/Reassign/', true],
    ['ops', 'POST', '/v1/leads/ld_1/accept', true],
    ['ops', 'POST', '/v1/buyers/fastbid/pause', true],
    ['ops', 'POST', '/v1/buyers/fastbid/resume', true],
    ['ops', 'POST', '/v1/leads/dl_1/returns', true],
    ['ops', 'POST', '/v1/leads/dl_1/returns/fastbid/decision', true],
    ['ops', 'PUT', '/v1/policy', false],
    ['ops', 'POST', '/v1/policy/rollback', false],
    ['ops', 'PUT', '/v1/buyers/fastbid', false],
    ['ops', 'POST', '/v1/connections/crm/reauthorize', false],
    ['ops', 'POST', '/v1/leads', false],
    ['ops', 'POST', '/v1/leads/ld_1/reassign/extra', false],
    ['ops', 'PATCH', '/v1/anything', false],
    ['admin', 'PUT', '/v1/policy', true],
    ['admin', 'POST', '/v1/policy/rollback', true],
    ['admin', 'PUT', '/v1/campaigns/auto', true],
    ['admin', 'POST', '/v1/connections/crm/reauthorize', true],
    ['admin', 'DELETE', '/v1/whatever', true],
  ] as const)('%s %s %s → %s', (role, method, path, allowed) => {
    expect(allows(role, method, path)).toBe(allowed);
  });

  it('leaves anything unlisted that changes state to admins', () => {
    expect(ruleFor('POST', '/v1/some/new/route')).toMatchObject({ role: 'admin' });
    expect(ROLE_RULES.filter((r) => r.role === 'viewer').flatMap((r) => r.methods)).toEqual(['GET', 'HEAD', 'DELETE', 'POST']);
  });
});

describe('cookies', () => {
  it('reads every value of a cookie, ignoring others and quoting', () => {
    expect(cookieValues('a=1; lr_session=abc.def.ghi; b=2', 'lr_session')).toEqual(['abc.def.ghi']);
    expect(cookieValues('lr_session="x.y.z";lr_session=q', 'lr_session')).toEqual(['x.y.z', 'q']);
    expect(cookieValues('xlr_session=1; lr_sessionx=2; lr_session=', 'lr_session')).toEqual([]);
    expect(cookieValues(undefined, 'lr_session')).toEqual([]);
    expect(cookieValues('garbage;;=;', 'lr_session')).toEqual([]);
  });
});

describe('authenticate and authorize over HTTP', () => {
  let server: Server;
  let base: string;
  const registry = new TenantRegistry();
  const sessions = new Sessions(KEY);
  let opsInput: TenantInput;

  beforeAll(async () => {
    opsInput = tenantWithUsers('tenant-a', [
      { email: 'ops@a.example', role: 'ops' },
      { email: 'viewer@a.example', role: 'viewer' },
    ]);
    registry.add(opsInput);
    const app = express();
    app.use(authenticate(registry, sessions), authorize, express.json());
    const whoami: express.RequestHandler = (req, res) => {
      const p = principalOf(req);
      res.json({ tenant: p.tenant.id, via: p.via, role: p.role, actor: actorOf(req, `api-key:${p.tenant.id}`, (req.body as { actor?: string } | undefined)?.actor) });
    };
    app.get('/v1/whoami', whoami);
    app.post('/v1/leads/:id/reassign', whoami);
    app.put('/v1/policy', whoami);
    app.use(errorHandler(() => {}));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cookieFor = (email: string) => {
    const found = registry.consoleUser(email)!;
    const { token, claims } = sessions.issue(found.tenant.id, email, found.user.passwordHash);
    return { cookie: `lr_session=${token}`, csrf: sessions.csrfToken(claims.sessionId), claims };
  };
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as any, setCookie: res.headers.getSetCookie() };
  };

  it('takes an API key as an admin whose actor is X-Actor, the body or the default', async () => {
    expect((await call('GET', '/v1/whoami', { authorization: 'Bearer key-tenant-a' })).body).toEqual({ tenant: 'tenant-a', via: 'api_key', role: 'admin', actor: 'api-key:tenant-a' });
    expect((await call('POST', '/v1/leads/x/reassign', { authorization: 'Bearer key-tenant-a', 'x-actor': 'crm-sync' })).body.actor).toBe('crm-sync');
    expect((await call('POST', '/v1/leads/x/reassign', { authorization: 'Bearer key-tenant-a', 'x-actor': 'crm-sync' }, { actor: 'body@a' })).body.actor).toBe('body@a');
    expect((await call('GET', '/v1/whoami', { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('refuses a request carrying two session cookies, even when one is valid: a planted cookie must not choose the session', async () => {
    const ops = cookieFor('ops@a.example');
    const viewer = cookieFor('viewer@a.example');
    const res = await call('GET', '/v1/whoami', { cookie: `${viewer.cookie}; ${ops.cookie}` });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/More than one session cookie/);
    expect((await call('GET', '/v1/whoami', { cookie: ops.cookie })).status).toBe(200);
  });

  it('takes a session cookie: reads need no CSRF token, writes do, and the actor is the user whatever the request says', async () => {
    const ops = cookieFor('ops@a.example');
    expect((await call('GET', '/v1/whoami', { cookie: `theme=dark; ${ops.cookie}` })).body).toEqual({ tenant: 'tenant-a', via: 'session', role: 'ops', actor: 'ops@a.example' });
    const noCsrf = await call('POST', '/v1/leads/x/reassign', { cookie: ops.cookie }, { actor: 'someone-else' });
    expect(noCsrf).toMatchObject({ status: 403, body: { error: { code: 'csrf_failed' } } });
    const wrongCsrf = await call('POST', '/v1/leads/x/reassign', { cookie: ops.cookie, 'x-csrf-token': cookieFor('ops@a.example').csrf }, {});
    expect(wrongCsrf.status).toBe(403);
    const ok = await call('POST', '/v1/leads/x/reassign', { cookie: ops.cookie, 'x-csrf-token': ops.csrf, 'x-actor': 'header-actor' }, { actor: 'someone-else' });
    expect(ok.body).toMatchObject({ via: 'session', actor: 'ops@a.example' });
  });

  it('applies the role table to sessions', async () => {
    const viewer = cookieFor('viewer@a.example');
    const refused = await call('POST', '/v1/leads/x/reassign', { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf }, {});
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: 'Your role (viewer) cannot reassign leads: ops or admin can' } } });
    const ops = cookieFor('ops@a.example');
    expect((await call('PUT', '/v1/policy', { cookie: ops.cookie, 'x-csrf-token': ops.csrf }, {})).body.error.message).toBe('Your role (ops) cannot publish policies: admin can');
  });

  it('reads the user from the configuration at every request: a changed role applies at once; a removed user, a changed password or a sign-out ends the session', async () => {
    const viewer = cookieFor('viewer@a.example');
    const ops = cookieFor('ops@a.example');
    const users = opsInput.console!.users;
    registry.add({ ...opsInput, console: { users: [users[0]!, { ...users[1]!, role: 'admin' }] } });
    expect((await call('GET', '/v1/whoami', { cookie: viewer.cookie })).body.role).toBe('admin');
    registry.add({ ...opsInput, console: { users: [users[0]!] } });
    const gone = await call('GET', '/v1/whoami', { cookie: viewer.cookie });
    expect(gone.status).toBe(401);
    expect(gone.setCookie).toEqual(['lr_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0']);
    registry.add({ ...opsInput, console: { users: [{ ...users[0]!, passwordHash: hashPasswordSync('new-password', FAST) }] } });
    expect((await call('GET', '/v1/whoami', { cookie: ops.cookie })).status).toBe(401);
    registry.add(opsInput);
    const fresh = cookieFor('ops@a.example');
    expect((await call('GET', '/v1/whoami', { cookie: fresh.cookie })).status).toBe(200);
    sessions.revoke(fresh.claims);
    expect((await call('GET', '/v1/whoami', { cookie: fresh.cookie })).status).toBe(401);
  });

  it('prefers the API key when a request carries both, and refuses a forged cookie', async () => {
    const viewer = cookieFor('ops@a.example');
    expect((await call('PUT', '/v1/policy', { cookie: viewer.cookie, authorization: 'Bearer key-tenant-a' }, {})).body).toMatchObject({ via: 'api_key' });
    expect((await call('GET', '/v1/whoami', { cookie: 'lr_session=v1.e30.AAAA' })).status).toBe(401);
  });
});
