import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario } from '../support/scenario';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Console sign-in over real HTTP against the real stack: cookies, CSRF, roles, tenants, actors,
 * sign-out and the sign-in rate limits. Reps work around the clock in test scenarios, so leads
 * route the same at any hour.
 */

const [ava, ben] = DEMO_REPS;
const users = {
  admin: { email: 'admin@console-a.example', password: 'admin-password-a', role: 'admin' as const, name: 'Ada Admin' },
  ops: { email: 'ops@console-a.example', password: 'ops-password-a', role: 'ops' as const, name: 'Oscar Ops' },
  viewer: { email: 'viewer@console-a.example', password: 'viewer-password-a', role: 'viewer' as const, name: 'Vera Viewer' },
  otherAdmin: { email: 'admin@console-b.example', password: 'admin-password-b', role: 'admin' as const },
};

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack(demoScenario({ consoleUsers: [users.admin, users.ops, users.viewer] }), demoScenario({ consoleUsers: [users.otherAdmin] }));
});

afterAll(async () => {
  await t?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** A request as a browser would make it: no API key, the session cookie and CSRF token when given. */
async function call(method: string, path: string, opts: { cookie?: string; csrf?: string; body?: unknown } = {}): Promise<Answer> {
  const res = await fetch(`${t.api}${path}`, {
    method,
    headers: {
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: any;
}

async function signIn(email: string, password: string): Promise<Session> {
  const res = await call('POST', '/v1/session', { body: { email, password } });
  expect(res.status).toBe(200);
  const setCookie = res.headers.getSetCookie()[0] ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: res.body.csrfToken, setCookie, body: res.body };
}

async function routedLead(email: string, apiKey = t.apiKey): Promise<string> {
  const posted = await t.request('POST', '/v1/leads', { email, firstName: 'Jo', lastName: 'Lead', company: 'Acme', source: 'form' }, { authorization: `Bearer ${apiKey}` });
  expect(posted.status).toBe(202);
  const state = await t.routed(posted.body.leadId, apiKey);
  expect(state.status).toBe('routed');
  return posted.body.leadId as string;
}

describe('signing in to the console', () => {
  let ops: Session;

  beforeAll(async () => {
    ops = await signIn(users.ops.email, users.ops.password);
  });

  it('answers the user, their tenant and a CSRF token, and sets an HttpOnly, SameSite=Strict session cookie for 12 hours', async () => {
    expect(ops.body).toEqual({
      user: { email: users.ops.email, name: users.ops.name, role: 'ops' },
      tenant: { id: t.tenant.id, name: t.tenant.name, timezone: t.tenant.routing.timezone },
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const attributes = ops.setCookie.split(';').map((a) => a.trim());
    expect(attributes[0]).toMatch(/^lr_session=v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(attributes.slice(1)).toEqual(['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']);
    // Over plain HTTP the cookie is not marked Secure (the browser would drop it).
    expect(ops.setCookie).not.toMatch(/Secure/);
  });

  it('takes the email in any case', async () => {
    const again = await signIn(users.ops.email.toUpperCase(), users.ops.password);
    expect(again.body.user.email).toBe(users.ops.email);
  });

  it('refuses a wrong password and an unknown email with the same answer', async () => {
    const wrong = await call('POST', '/v1/session', { body: { email: users.admin.email, password: 'not-it' } });
    const unknown = await call('POST', '/v1/session', { body: { email: 'nobody@console-a.example', password: 'not-it' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ error: { code: 'invalid_credentials', message: 'Email or password is incorrect' } });
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('names each bad field of the sign-in body', async () => {
    const res = await call('POST', '/v1/session', { body: { email: 'not an email', extra: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'extra', 'password']);
  });

  it('answers GET /v1/session with the cookie, and 401 without it', async () => {
    const res = await call('GET', '/v1/session', { cookie: ops.cookie });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(ops.body);
    expect((await call('GET', '/v1/session')).status).toBe(401);
  });

  it('reads the tenant\'s data with the cookie alone, and refuses a write without the CSRF token', async () => {
    const leadId = await routedLead('jo@csrf.example');
    const read = await call('GET', `/v1/leads/${leadId}`, { cookie: ops.cookie });
    expect(read.status).toBe(200);
    expect(read.body.leadId).toBe(leadId);
    const noToken = await call('POST', `/v1/leads/${leadId}/reassign`, { cookie: ops.cookie, body: { ownerId: ben.id, reason: 'no token' } });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.code).toBe('csrf_failed');
    const otherToken = await call('POST', `/v1/leads/${leadId}/reassign`, { cookie: ops.cookie, csrf: (await signIn(users.viewer.email, users.viewer.password)).csrf, body: { ownerId: ben.id, reason: 'wrong token' } });
    expect(otherToken.status).toBe(403);
    expect((await t.leadState(leadId)).reassignments).toEqual([]);
  });
});

describe('roles and actors', () => {
  it('refuses a viewer a reassignment (403 forbidden) and records an ops user\'s reassignment under their email', async () => {
    const viewer = await signIn(users.viewer.email, users.viewer.password);
    const ops = await signIn(users.ops.email, users.ops.password);
    const leadId = await routedLead('jane@roles.example');
    const before = await t.leadState(leadId);
    const target = before.owner?.id === ben.id ? ava.id : ben.id;

    const refused = await call('POST', `/v1/leads/${leadId}/reassign`, { cookie: viewer.cookie, csrf: viewer.csrf, body: { ownerId: target, reason: 'viewer tries' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({ code: 'forbidden', message: 'Your role (viewer) cannot reassign leads: ops or admin can' });

    // A body naming another actor does not change who acted.
    const done = await call('POST', `/v1/leads/${leadId}/reassign`, { cookie: ops.cookie, csrf: ops.csrf, body: { ownerId: target, reason: 'territory', actor: 'someone-else@example.com' } });
    expect(done.status).toBe(202);
    const after = await t.waitForLead(leadId, (s) => s.owner?.id === target && s.reassignments.length === 1, 'reassigned');
    expect(after.reassignments[0]).toMatchObject({ to: target, reason: 'territory', actor: users.ops.email });
  });

  it('keeps publishing to admins', async () => {
    const ops = await signIn(users.ops.email, users.ops.password);
    const res = await call('PUT', '/v1/policy', { cookie: ops.cookie, csrf: ops.csrf, body: {} });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe('Your role (ops) cannot publish policies: admin can');
  });

  it('shows a tenant\'s user nothing of another tenant: its lead is not found', async () => {
    const otherLead = await routedLead('bo@other-tenant.example', t.scenarios[1]!.apiKey);
    const admin = await signIn(users.admin.email, users.admin.password);
    const res = await call('GET', `/v1/leads/${otherLead}`, { cookie: admin.cookie });
    expect(res.status).toBe(404);
    const theirs = await signIn(users.otherAdmin.email, users.otherAdmin.password);
    expect(theirs.body.tenant.id).toBe(t.scenarios[1]!.tenant.id);
    expect((await call('GET', `/v1/leads/${otherLead}`, { cookie: theirs.cookie })).status).toBe(200);
  });

  it('still takes API keys as before', async () => {
    const res = await t.request('GET', '/v1/policy');
    expect(res.status).toBe(200);
  });
});

describe('signing out', () => {
  it('needs the CSRF token, clears the cookie, and makes the old cookie useless', async () => {
    const admin = await signIn(users.admin.email, users.admin.password);
    expect((await call('DELETE', '/v1/session', { cookie: admin.cookie })).status).toBe(403);
    const out = await call('DELETE', '/v1/session', { cookie: admin.cookie, csrf: admin.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()).toEqual(['lr_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0']);
    const after = await call('GET', '/v1/session', { cookie: admin.cookie });
    expect(after.status).toBe(401);
    expect((await call('GET', '/v1/leads', { cookie: admin.cookie })).status).toBe(401);
    // Another session of the same user is unaffected.
    const again = await signIn(users.admin.email, users.admin.password);
    expect((await call('GET', '/v1/session', { cookie: again.cookie })).status).toBe(200);
  });
});

describe('restarting the API', () => {
  it('keeps signed-in users signed in: sessions are signed, not stored', async () => {
    const ops = await signIn(users.ops.email, users.ops.password);
    await t.restart();
    const res = await call('GET', '/v1/session', { cookie: ops.cookie });
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(users.ops.email);
  });
});

// Last: the address limit counts every failure from this machine in the file.
describe('failed sign-in limits', () => {
  it('refuses an email after 5 failures, even with the right password, saying when to retry', async () => {
    for (let i = 0; i < 5; i++) expect((await call('POST', '/v1/session', { body: { email: users.viewer.email, password: `guess-${i}` } })).status).toBe(401);
    const limited = await call('POST', '/v1/session', { body: { email: users.viewer.email, password: users.viewer.password } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('too_many_requests');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // Other users are not locked out.
    await signIn(users.ops.email, users.ops.password);
  });

  it('refuses an address after 20 failures, whatever the emails', async () => {
    let status = 0;
    let last: Answer | undefined;
    for (let i = 0; i < 25 && status !== 429; i++) {
      last = await call('POST', '/v1/session', { body: { email: `nobody-${i}@console-a.example`, password: 'x' } });
      status = last.status;
    }
    expect(last?.status).toBe(429);
    expect(last?.body.error.message).toMatch(/from this address/);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('POST', '/v1/session', { body: { email: users.admin.email, password: users.admin.password } })).status).toBe(429);
  });
});
