import {
  DEMO_REPS,
  DEMO_REP_BUSY,
  DEMO_REP_ON_PTO,
  DEMO_TOKEN,
  DEMO_WORKSPACE_ID,
  demoWorkspace,
} from '../../sandbox/seed';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import type { SandboxEvent, SandboxWorkspace } from '../../sandbox/types';

/** The sandbox clock is faked so rate windows and "now"-relative seed data are deterministic. */
const START = Date.parse('2030-01-07T15:00:00.000Z');
let clock = START;

const TIGHT: SandboxWorkspace = {
  ...demoWorkspace(new Date(START)),
  id: 'tight-workspace',
  token: 'tight-token',
  rateLimit: { limit: 3, windowSeconds: 10 },
};

let sandbox: RunningSandbox;

interface Call {
  status: number;
  headers: Headers;
  body: unknown;
}

interface CallOptions {
  method?: string;
  token?: string | null;
  workspace?: string | null;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One request over real HTTP; unified defaults (demo token and workspace) unless overridden. */
async function call(path: string, opts: CallOptions = {}): Promise<Call> {
  const url = new URL(path, sandbox.url);
  const workspace = opts.workspace === undefined ? DEMO_WORKSPACE_ID : opts.workspace;
  if (workspace !== null) url.searchParams.set('integrated_account_id', workspace);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? DEMO_TOKEN : opts.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined || opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = opts.rawBody ?? JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

function resultOf<T = Record<string, unknown>>(c: Call): T {
  return (c.body as { result: T }).result;
}

async function eventsFor(query: Record<string, string> = {}): Promise<SandboxEvent[]> {
  const res = await call('/_sandbox/events', { token: null, workspace: null, query });
  expect(res.status).toBe(200);
  return (res.body as { events: SandboxEvent[] }).events;
}

beforeAll(async () => {
  sandbox = await startSandbox({ workspaces: [demoWorkspace(new Date(START)), TIGHT], port: 0, now: () => clock });
});

afterEach(async () => {
  clock = START;
  await call('/_sandbox/faults', { method: 'DELETE', token: null, workspace: null });
  sandbox.setLatency({});
});

afterAll(async () => {
  await sandbox.close();
});

describe('startSandbox', () => {
  it('listens on an ephemeral loopback port and answers the health check', async () => {
    expect(sandbox.port).toBeGreaterThan(0);
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`);
    const res = await call('/_sandbox/healthz', { token: null, workspace: null });
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
  });
});

describe('CRM accounts', () => {
  it('matches an account by a registered domain, case-insensitively', async () => {
    const res = await call('/unified/crm/accounts', { query: { domain: 'ACME.com' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: [
        {
          id: 'acc_acme',
          name: 'Acme Corporation',
          domains: ['acme.com'],
          website: 'https://www.acme.com',
          owner_id: 'usr_ava',
          industry: 'Manufacturing',
          country: 'US',
          remote_data: {
            Id: 'acc_acme',
            Name: 'Acme Corporation',
            Website: 'https://www.acme.com',
            OwnerId: 'usr_ava',
          },
        },
      ],
      next_cursor: null,
    });
    const secondary = await call('/unified/crm/accounts', { query: { domain: 'globex.io' } });
    expect(resultOf<{ id: string }[]>(secondary).map((a) => a.id)).toEqual(['acc_globex']);
  });

  it('matches an account whose only domain evidence is its website host (www. stripped)', async () => {
    const res = await call('/unified/crm/accounts', { query: { domain: 'initech.com' } });
    const accounts = resultOf<{ id: string; domains: string[]; owner_id: string }[]>(res);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ id: 'acc_initech', domains: [], owner_id: 'usr_dieter' });
  });

  it('returns no accounts for a domain nobody owns', async () => {
    const res = await call('/unified/crm/accounts', { query: { domain: 'hooli.com' } });
    expect(res.body).toEqual({ result: [], next_cursor: null });
  });

  it('pages through every account with the opaque cursor', async () => {
    const all = resultOf<{ id: string }[]>(await call('/unified/crm/accounts'));
    expect(all).toHaveLength(5);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: '2', ...(cursor !== null ? { cursor } : {}) };
      const res = await call('/unified/crm/accounts', { query });
      expect(res.status).toBe(200);
      const page = res.body as { result: { id: string }[]; next_cursor: string | null };
      expect(page.result.length).toBeLessThanOrEqual(2);
      seen.push(...page.result.map((a) => a.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);

    expect(pages).toBe(3);
    expect(seen).toEqual(all.map((a) => a.id));
  });

  it('rejects a cursor it did not issue and a bad limit', async () => {
    const bad = await call('/unified/crm/accounts', { query: { cursor: 'not-a-cursor' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 400, error_code: 'VALIDATION' });
    expect((bad.body as { message: string }).message).toMatch(/cursor/);
    const limit = await call('/unified/crm/accounts', { query: { limit: '0' } });
    expect(limit.status).toBe(400);
    expect((limit.body as { message: string }).message).toMatch(/limit/);
  });

  it('lists CRM users', async () => {
    const res = await call('/unified/crm/users');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: DEMO_REPS.map((r) => ({ id: r.id, email: r.email, name: r.name })),
      next_cursor: null,
    });
  });
});

describe('authentication', () => {
  it('answers 401 with the unified body (and rate-limit headers) for a wrong or missing token', async () => {
    for (const token of ['wrong-token', null]) {
      const res = await call('/unified/crm/accounts', { token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ status: 401, error_code: 'UNAUTHORIZED', message: expect.any(String) });
      expect(res.headers.get('ratelimit-limit')).not.toBeNull();
      expect(res.headers.get('ratelimit-remaining')).not.toBeNull();
      expect(res.headers.get('ratelimit-reset')).not.toBeNull();
    }
  });

  it('does not accept another workspace’s token', async () => {
    const res = await call('/unified/crm/accounts', { token: 'tight-token' });
    expect(res.status).toBe(401);
  });

  it('answers 404 for an unknown workspace', async () => {
    const res = await call('/unified/crm/accounts', { workspace: 'nobody' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 404, error_code: 'NOT_FOUND' });
  });
});

describe('CRM leads', () => {
  const lead = {
    email: 'wile.e@acme.com',
    first_name: 'Wile',
    last_name: 'Coyote',
    company: 'Acme',
    owner_id: 'usr_ava',
  };

  it('replays an Idempotency-Key: same status and body, flagged, and only one lead created', async () => {
    const key = 'idem-create-1';
    const first = await call('/unified/crm/leads', { method: 'POST', body: lead, headers: { 'Idempotency-Key': key } });
    expect(first.status).toBe(201);
    const created = resultOf<{ id: string; owner_id: string; created_at: string }>(first);
    expect(created).toMatchObject({
      email: lead.email,
      owner_id: 'usr_ava',
      created_at: new Date(START).toISOString(),
    });
    expect(created.id).toMatch(/^lead_\d+$/);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const replay = await call('/unified/crm/leads', {
      method: 'POST',
      body: { ...lead, owner_id: 'usr_ben' },
      headers: { 'Idempotency-Key': key },
    });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    // A fresh create gets the very next number: the replay did not create anything.
    const next = await call('/unified/crm/leads', { method: 'POST', body: lead });
    const nextId = resultOf<{ id: string }>(next).id;
    expect(Number(nextId.slice('lead_'.length))).toBe(Number(created.id.slice('lead_'.length)) + 1);

    const events = (await eventsFor({ system: 'crm' })).filter((e) => e.headers.idempotencyKey === key);
    expect(events.map((e) => [e.status, e.replayed])).toEqual([
      [201, false],
      [201, true],
    ]);
  });

  it('creates once when two requests with one Idempotency-Key race (answers delayed by latency)', async () => {
    sandbox.setLatency({ crm: { baseMs: 50, jitterMs: 0 } });
    const send = () =>
      call('/unified/crm/leads', { method: 'POST', body: lead, headers: { 'Idempotency-Key': 'idem-race' } });
    const [a, b] = await Promise.all([send(), send()]);
    expect(a.body).toEqual(b.body);
    const replayed = [a, b].map((r) => r.headers.get('idempotent-replayed'));
    expect(replayed.sort()).toEqual(['true', null].sort());
  });

  it('validates the body, naming the field', async () => {
    const noEmail = await call('/unified/crm/leads', { method: 'POST', body: { owner_id: 'usr_ava' } });
    expect(noEmail.status).toBe(400);
    expect(noEmail.body).toMatchObject({ status: 400, error_code: 'VALIDATION' });
    expect((noEmail.body as { message: string }).message).toMatch(/^email/);

    const badOwner = await call('/unified/crm/leads', { method: 'POST', body: { ...lead, owner_id: 'usr_nobody' } });
    expect(badOwner.status).toBe(400);
    expect((badOwner.body as { message: string }).message).toMatch(/^owner_id/);
  });

  it('reassigns a lead with PATCH, 404 for an unknown lead, 400 for an unknown owner', async () => {
    const id = resultOf<{ id: string }>(await call('/unified/crm/leads', { method: 'POST', body: lead })).id;

    clock = START + 5000;
    const moved = await call(`/unified/crm/leads/${id}`, { method: 'PATCH', body: { owner_id: 'usr_mei' } });
    expect(moved.status).toBe(200);
    expect(resultOf(moved)).toMatchObject({
      id,
      owner_id: 'usr_mei',
      email: lead.email,
      updated_at: new Date(START + 5000).toISOString(),
    });

    const missing = await call('/unified/crm/leads/lead_999999', { method: 'PATCH', body: { owner_id: 'usr_mei' } });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, error_code: 'NOT_FOUND' });

    const badOwner = await call(`/unified/crm/leads/${id}`, { method: 'PATCH', body: { owner_id: 'usr_nobody' } });
    expect(badOwner.status).toBe(400);
    expect((badOwner.body as { message: string }).message).toMatch(/^owner_id/);
  });

  it('answers malformed JSON with 400 and still records the request', async () => {
    const res = await call('/unified/crm/leads', { method: 'POST', rawBody: '{"email": ' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, error_code: 'VALIDATION' });
    expect(res.headers.get('ratelimit-remaining')).not.toBeNull();
    const last = (await eventsFor({ system: 'crm' })).at(-1);
    expect(last).toMatchObject({ method: 'POST', path: '/unified/crm/leads', status: 400, body: null });
  });
});

describe('faults', () => {
  it('serves an injected 429 with Retry-After, then answers normally', async () => {
    const injected = await call('/_sandbox/faults', {
      method: 'POST',
      token: null,
      workspace: null,
      body: {
        system: 'hris',
        method: 'GET',
        pathPrefix: '/unified/hris/employees',
        status: 429,
        headers: { 'Retry-After': '7' },
        times: 1,
      },
    });
    expect(injected.status).toBe(201);
    expect(injected.body).toEqual({ id: expect.any(String) });

    const faulted = await call('/unified/hris/employees');
    expect(faulted.status).toBe(429);
    expect(faulted.headers.get('retry-after')).toBe('7');
    expect(faulted.headers.get('ratelimit-limit')).toBe('1000');
    expect(faulted.body).toMatchObject({ status: 429, error_code: 'RATE_LIMITED' });

    const normal = await call('/unified/hris/employees');
    expect(normal.status).toBe(200);
    expect(resultOf<unknown[]>(normal)).toHaveLength(DEMO_REPS.length);

    const statuses = (await eventsFor({ system: 'hris' })).slice(-2).map((e) => e.status);
    expect(statuses).toEqual([429, 200]);
  });

  it('only hits matching requests and a faulted POST does not consume the idempotency key', async () => {
    sandbox.injectFault({ system: 'crm', method: 'POST', status: 503, times: 1 });
    const unaffected = await call('/unified/crm/users');
    expect(unaffected.status).toBe(200);

    const body = { email: 'retry@acme.com', owner_id: 'usr_ava' };
    const headers = { 'Idempotency-Key': 'idem-after-fault' };
    const failed = await call('/unified/crm/leads', { method: 'POST', body, headers });
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ status: 503, error_code: 'INTERNAL' });

    const retried = await call('/unified/crm/leads', { method: 'POST', body, headers });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });

  it('validates the fault body', async () => {
    const res = await call('/_sandbox/faults', { method: 'POST', token: null, workspace: null, body: { status: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, error_code: 'VALIDATION' });
  });
});

describe('rate limiting', () => {
  const tight = { token: 'tight-token', workspace: 'tight-workspace' };

  it('counts down a fixed window, then 429s with Retry-After until the window resets', async () => {
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call('/unified/crm/users', tight);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      expect(res.headers.get('ratelimit-reset')).toBe('10');
      remaining.push(res.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await call('/unified/crm/users', tight);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('10');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.body).toEqual({ status: 429, error_code: 'RATE_LIMITED', message: 'Rate limit exceeded' });

    // Windows are per system: HRIS still has its full allowance.
    const hris = await call('/unified/hris/employees', tight);
    expect(hris.status).toBe(200);
    expect(hris.headers.get('ratelimit-remaining')).toBe('2');

    clock = START + 4_000;
    const stillLimited = await call('/unified/crm/users', tight);
    expect(stillLimited.status).toBe(429);
    expect(stillLimited.headers.get('retry-after')).toBe('6');
    expect(stillLimited.headers.get('ratelimit-reset')).toBe('6');

    clock = START + 10_000;
    const reset = await call('/unified/crm/users', tight);
    expect(reset.status).toBe(200);
    expect(reset.headers.get('ratelimit-remaining')).toBe('2');
    expect(reset.headers.get('ratelimit-reset')).toBe('10');
  });

  it('answers enrichment 429s in the Clearbit format', async () => {
    sandbox.addWorkspace({ ...TIGHT, id: 'tight-enrichment', token: 'tight-enrichment-token' });
    const opts = { token: 'tight-enrichment-token', workspace: null, query: { domain: 'hooli.com' } };
    for (let i = 0; i < 3; i++) expect((await call('/v2/companies/find', opts)).status).toBe(200);
    const limited = await call('/v2/companies/find', opts);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('10');
    expect(limited.body).toEqual({ error: { type: 'rate_limit', message: expect.any(String) } });
  });
});

describe('HRIS', () => {
  it('filters employees by email and reports time off', async () => {
    const res = await call('/unified/hris/employees', {
      query: { emails: `${DEMO_REP_ON_PTO.email.toUpperCase()}, nobody@demo-sales.example` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: [
        {
          id: DEMO_REP_ON_PTO.employeeId,
          name: DEMO_REP_ON_PTO.name,
          emails: [{ email: DEMO_REP_ON_PTO.email, type: 'WORK' }],
          employment_status: 'ACTIVE',
          timezone: DEMO_REP_ON_PTO.timezone,
          time_off: [
            {
              start_at: new Date(START - 86_400_000).toISOString(),
              end_at: new Date(START + 3 * 86_400_000).toISOString(),
              type: 'PTO',
              status: 'APPROVED',
            },
          ],
        },
      ],
      next_cursor: null,
    });
  });

  it('paginates employees', async () => {
    const first = await call('/unified/hris/employees', { query: { limit: '4' } });
    const page = first.body as { result: { id: string }[]; next_cursor: string | null };
    expect(page.result).toHaveLength(4);
    expect(page.next_cursor).not.toBeNull();
    const second = await call('/unified/hris/employees', { query: { limit: '4', cursor: page.next_cursor ?? '' } });
    expect(second.body).toMatchObject({ result: [{ id: DEMO_REPS[4].employeeId }], next_cursor: null });
  });
});

describe('calendar availability', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('returns the busy block overlapping the window, for every requested email', async () => {
    const res = await call('/unified/calendar/availability', {
      query: {
        emails: `${DEMO_REP_BUSY.email},${DEMO_REPS[0].email}`,
        start: iso(START),
        end: iso(START + 15 * 60_000),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: [
        { email: DEMO_REP_BUSY.email, busy: [{ start: iso(START - 30 * 60_000), end: iso(START + 60 * 60_000) }] },
        { email: DEMO_REPS[0].email, busy: [] },
      ],
      next_cursor: null,
    });
  });

  it('treats the window as half-open: a block ending at start does not overlap', async () => {
    const res = await call('/unified/calendar/availability', {
      query: { emails: DEMO_REP_BUSY.email, start: iso(START + 60 * 60_000), end: iso(START + 120 * 60_000) },
    });
    expect(res.body).toEqual({ result: [{ email: DEMO_REP_BUSY.email, busy: [] }], next_cursor: null });
  });

  it('rejects a missing start and a malformed end, naming the parameter', async () => {
    const noStart = await call('/unified/calendar/availability', {
      query: { emails: DEMO_REP_BUSY.email, end: iso(START) },
    });
    expect(noStart.status).toBe(400);
    expect(noStart.body).toMatchObject({ status: 400, error_code: 'VALIDATION' });
    expect((noStart.body as { message: string }).message).toMatch(/^start/);

    const badEnd = await call('/unified/calendar/availability', {
      query: { emails: DEMO_REP_BUSY.email, start: iso(START), end: 'tomorrow' },
    });
    expect(badEnd.status).toBe(400);
    expect((badEnd.body as { message: string }).message).toMatch(/^end/);
  });
});

describe('messaging', () => {
  it('posts a DM and replays it by Idempotency-Key', async () => {
    const body = { recipient_email: DEMO_REPS[1].email, text: 'New lead for you', blocks: [{ type: 'section' }] };
    const headers = { 'Idempotency-Key': 'idem-msg-1' };
    const first = await call('/unified/instant-messaging/messages', { method: 'POST', body, headers });
    expect(first.status).toBe(201);
    expect(resultOf(first)).toEqual({
      id: expect.stringMatching(/^msg_\d+$/),
      channel_id: expect.any(String),
      recipient_email: DEMO_REPS[1].email,
      text: 'New lead for you',
      created_at: new Date(START).toISOString(),
    });
    const replay = await call('/unified/instant-messaging/messages', { method: 'POST', body, headers });
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('requires a recipient or a channel, and text', async () => {
    const res = await call('/unified/instant-messaging/messages', { method: 'POST', body: { text: 'hi' } });
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toMatch(/recipient_email/);
    const noText = await call('/unified/instant-messaging/messages', { method: 'POST', body: { channel_id: 'C1' } });
    expect(noText.status).toBe(400);
    expect((noText.body as { message: string }).message).toMatch(/^text/);
  });
});

describe('enrichment', () => {
  const enrichment = { token: DEMO_TOKEN, workspace: null };

  it('finds a company by domain, with the workspace found by token alone', async () => {
    const res = await call('/v2/companies/find', { ...enrichment, query: { domain: 'hooli.com' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe('1000');
    expect(res.body).toEqual({
      name: 'Hooli',
      domain: 'hooli.com',
      category: { sector: 'Information Technology', industry: 'Internet Software & Services' },
      geo: { country: 'United States', countryCode: 'US', state: 'CA' },
      metrics: { employees: 2500, employeesRange: '1K-5K', annualRevenue: 750_000_000 },
    });
  });

  it('answers 404 unknown_record for an unknown domain and 422 for a missing one', async () => {
    const unknown = await call('/v2/companies/find', { ...enrichment, query: { domain: 'no-such-company.example' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { type: 'unknown_record', message: expect.any(String) } });
    expect(unknown.headers.get('ratelimit-remaining')).not.toBeNull();

    const missing = await call('/v2/companies/find', enrichment);
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual({ error: { type: 'missing_parameter', message: expect.any(String) } });
  });

  it('answers 401 for an unknown token', async () => {
    const res = await call('/v2/companies/find', { token: 'nope', workspace: null, query: { domain: 'hooli.com' } });
    expect(res.status).toBe(401);
  });
});

describe('events', () => {
  it('records method, path, query, body, status and the idempotency key, in seq order', async () => {
    await call('/_sandbox/events', { method: 'DELETE', token: null, workspace: null });
    expect(await eventsFor()).toEqual([]);

    clock = START + 1234;
    const body = { email: 'events@globex.com', owner_id: 'usr_ben', source: 'form' };
    await call('/unified/crm/leads', { method: 'POST', body, headers: { 'Idempotency-Key': 'idem-events' } });
    await call('/unified/crm/accounts', { query: { domain: 'globex.com' } });
    await call('/v2/companies/find', { workspace: null, query: { domain: 'globex.com' } });

    const events = await eventsFor();
    expect(events).toHaveLength(3);
    expect(events[0]).toEqual({
      seq: expect.any(Number),
      system: 'crm',
      provider: 'unified',
      workspace: DEMO_WORKSPACE_ID,
      method: 'POST',
      path: '/unified/crm/leads',
      query: { integrated_account_id: DEMO_WORKSPACE_ID },
      headers: { idempotencyKey: 'idem-events' },
      body,
      status: 201,
      replayed: false,
      receivedAt: START + 1234,
      at: new Date(START + 1234).toISOString(),
      latencyMs: 0,
    });
    expect(events[1]).toMatchObject({ method: 'GET', path: '/unified/crm/accounts', body: null, status: 200 });
    expect(events[1]?.headers).toEqual({});
    expect(events[1]?.query).toEqual({ integrated_account_id: DEMO_WORKSPACE_ID, domain: 'globex.com' });
    expect(events[2]).toMatchObject({ system: 'enrichment', workspace: DEMO_WORKSPACE_ID, status: 200 });
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const crmOnly = await eventsFor({ system: 'crm' });
    expect(crmOnly.map((e) => e.path)).toEqual(['/unified/crm/leads', '/unified/crm/accounts']);
    const since = await eventsFor({ since: String(events[0]?.seq) });
    expect(since.map((e) => e.seq)).toEqual(seqs.slice(1));
    expect(sandbox.events()).toEqual(events);

    // Control routes are not recorded.
    expect(await eventsFor()).toHaveLength(3);
  });
});

describe('latency', () => {
  it('delays answers by the configured latency and records it', async () => {
    const put = await call('/_sandbox/latency', {
      method: 'PUT',
      token: null,
      workspace: null,
      body: { hris: { baseMs: 80, jitterMs: 0 } },
    });
    expect(put.status).toBe(204);

    const started = performance.now();
    const res = await call('/unified/hris/employees');
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect((await eventsFor({ system: 'hris' })).at(-1)?.latencyMs).toBe(80);

    const fast = performance.now();
    await call('/unified/crm/users');
    expect((await eventsFor({ system: 'crm' })).at(-1)?.latencyMs).toBe(0);
    expect(performance.now() - fast).toBeLessThan(1000);
  });
});

describe('workspaces and routing', () => {
  it('adds a workspace over HTTP and serves it', async () => {
    const w: SandboxWorkspace = { ...TIGHT, id: 'added-workspace', token: 'added-token', accounts: [] };
    const added = await call('/_sandbox/workspaces', { method: 'POST', token: null, workspace: null, body: w });
    expect(added.status).toBe(201);
    const res = await call('/unified/crm/accounts', { token: 'added-token', workspace: 'added-workspace' });
    expect(res.body).toEqual({ result: [], next_cursor: null });

    const invalid = await call('/_sandbox/workspaces', {
      method: 'POST',
      token: null,
      workspace: null,
      body: { id: 'x' },
    });
    expect(invalid.status).toBe(400);
  });

  it('answers unknown routes with the unified 404 body', async () => {
    for (const path of ['/unified/crm/opportunities', '/nothing/here']) {
      const res = await call(path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ status: 404, error_code: 'NOT_FOUND', message: expect.any(String) });
    }
  });
});

describe('demoWorkspace', () => {
  const now = new Date('2030-03-01T12:00:00Z');
  const w = demoWorkspace(now);
  const t = now.getTime();

  it('has five reps in five time zones, each a CRM user and an ACTIVE employee', () => {
    expect(w.id).toBe('demo-workspace');
    expect(w.token).toBe('sandbox-demo-token');
    expect(new Set(DEMO_REPS.map((r) => r.timezone)).size).toBe(5);
    for (const rep of DEMO_REPS) {
      expect(rep.email.endsWith('@demo-sales.example')).toBe(true);
      expect(w.users.some((u) => u.id === rep.id && u.email === rep.email)).toBe(true);
      const employee = w.employees.find((e) => e.email === rep.email);
      expect(employee).toMatchObject({ status: 'ACTIVE', timezone: rep.timezone });
    }
    for (const account of w.accounts) expect(w.users.some((u) => u.id === account.ownerId)).toBe(true);
  });

  it('puts one rep on PTO and one in a meeting, both covering now', () => {
    const onPto = w.employees.filter((e) => e.timeOff.some((o) => Date.parse(o.start) <= t && t < Date.parse(o.end)));
    expect(onPto.map((e) => e.email)).toEqual([DEMO_REP_ON_PTO.email]);
    const busy = w.busy.filter((b) => Date.parse(b.start) <= t && t < Date.parse(b.end));
    expect(busy.map((b) => b.email)).toEqual([DEMO_REP_BUSY.email]);
  });

  it('enriches every account domain plus two domains without an account', () => {
    const enriched = new Set(w.companies.map((c) => c.domain));
    const accountDomains = ['acme.com', 'globex.com', 'initech.com', 'umbrella.co.uk', 'wayne-enterprises.com'];
    for (const d of accountDomains) expect(enriched.has(d)).toBe(true);
    expect([...enriched].filter((d) => !accountDomains.includes(d)).sort()).toEqual(['hooli.com', 'piedpiper.com']);
  });
});
