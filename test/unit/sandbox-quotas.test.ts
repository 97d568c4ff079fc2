import { REAL_QUOTAS } from '../../sandbox/quotaPresets';
import { LIFTED_LIMIT, parseQuotaOverride, quotaFor, quotasFor, type SandboxQuotas } from '../../sandbox/quotas';
import { DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import type { SandboxWorkspace } from '../../sandbox/types';

/** The sandbox clock is faked: windows depend on it, not on when the test runs. */
const START = Date.parse('2030-01-07T15:00:00.000Z');
let clock = START;

describe('quota overrides', () => {
  it('reads limit/seconds, a per-parameter window and off; the key is everything before the last =', () => {
    expect(parseQuotaOverride('crm=500/60')).toEqual(['crm', { limit: 500, windowSeconds: 60 }]);
    expect(parseQuotaOverride('hubspot/crm=100/10')).toEqual(['hubspot/crm', { limit: 100, windowSeconds: 10 }]);
    expect(parseQuotaOverride('slack:/api/chat.postMessage=1/1/channel')).toEqual(['slack:/api/chat.postMessage', { limit: 1, windowSeconds: 1, per: 'channel' }]);
    expect(parseQuotaOverride('pdl=10/0.5')).toEqual(['pdl', { limit: 10, windowSeconds: 0.5 }]);
    expect(parseQuotaOverride(' slack = off ')).toEqual(['slack', 'off']);
  });

  it.each(['crm', 'crm=', '=5/10', 'crm=0/60', 'crm=5/0', 'crm=5', 'crm=-1/60', 'crm=5/60/', 'crm=five/60', 'my crm=5/60'])('refuses %p', (text) => {
    expect(() => parseQuotaOverride(text)).toThrow(/--quota/);
  });

  it('off lifts everything, sandbox keeps no table, real is the presets; an override replaces its key', () => {
    expect(quotasFor('off', [], REAL_QUOTAS)).toEqual({ '*': 'off' });
    expect(quotasFor('sandbox', [], REAL_QUOTAS)).toBeUndefined();
    expect(quotasFor('real', [], REAL_QUOTAS)).toEqual(REAL_QUOTAS);
    expect(quotasFor('sandbox', ['crm=2/10'], REAL_QUOTAS)).toEqual({ crm: { limit: 2, windowSeconds: 10 } });
    const real = quotasFor('real', ['hubspot/crm=100/10', 'clearbit=off'], REAL_QUOTAS);
    expect(real?.['hubspot/crm']).toEqual({ limit: 100, windowSeconds: 10 });
    expect(real?.['clearbit']).toBe('off');
    expect(real?.['pdl']).toEqual(REAL_QUOTAS['pdl']);
    expect(quotasFor('off', ['crm=5/60'], REAL_QUOTAS)).toEqual({ '*': 'off', crm: { limit: 5, windowSeconds: 60 } });
  });
});

describe('which quota applies', () => {
  const table: SandboxQuotas = {
    '*': 'off',
    crm: { limit: 1, windowSeconds: 1 },
    hubspot: { limit: 2, windowSeconds: 2 },
    'hubspot/crm': { limit: 3, windowSeconds: 3 },
    'slack:/api/chat': { limit: 4, windowSeconds: 4 },
    'slack:/api/chat.postMessage': { limit: 5, windowSeconds: 5 },
  };

  it('takes the most specific key: a path, then provider/system, provider, system, *', () => {
    expect(quotaFor(table, 'hubspot', 'crm', '/crm/v3/owners')?.key).toBe('hubspot/crm');
    expect(quotaFor(table, 'hubspot', 'auth', '/oauth/v1/token')?.key).toBe('hubspot');
    expect(quotaFor(table, 'salesforce', 'crm', '/services/data/v59.0/query')?.key).toBe('crm');
    expect(quotaFor(table, 'clearbit', 'enrichment', '/v2/companies/find')?.key).toBe('*');
    expect(quotaFor(table, 'slack', 'messaging', '/api/chat.postMessage')?.key).toBe('slack:/api/chat.postMessage');
    // A path prefix matches whole segments only: /api/chat is not a prefix of /api/chat.postMessage.
    expect(quotaFor(table, 'slack', 'messaging', '/api/users.lookupByEmail')?.key).toBe('*');
    expect(quotaFor({ crm: 'off' }, 'clearbit', 'enrichment', '/v2/companies/find')).toBeNull();
  });
});

describe('a sandbox with quotas', () => {
  /** A workspace whose own window is tiny: the quota, not the seed, must decide. */
  const tight = (id: string): SandboxWorkspace => ({ ...demoWorkspace(new Date(START)), id, token: `${id}-token`, rateLimit: { limit: 2, windowSeconds: 10 } });
  let sandbox: RunningSandbox | null = null;
  const start = async (workspaces: SandboxWorkspace[], quotas: SandboxQuotas | undefined) => {
    clock = START;
    sandbox = await startSandbox({ workspaces, now: () => clock, ...(quotas ? { quotas } : {}) });
    return sandbox;
  };
  afterEach(async () => {
    await sandbox?.close();
    sandbox = null;
  });

  const get = (s: RunningSandbox, path: string, token: string, query: Record<string, string> = {}) => {
    const url = new URL(path, s.url);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return fetch(url, { headers: { authorization: `Bearer ${token}` } });
  };
  const post = (s: RunningSandbox, path: string, token: string, body: unknown) =>
    fetch(new URL(path, s.url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers HubSpot calls past the preset 190 per 10 s with HubSpot 429 TEN_SECONDLY_ROLLING and its own headers', async () => {
    const ws = tight('hubspot-real');
    const s = await start([ws], REAL_QUOTAS);
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: ws.id, client_secret: ws.token, refresh_token: ws.token });
    const tokenRes = await fetch(new URL('/oauth/v1/token', s.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const token = String(((await tokenRes.json()) as Record<string, unknown>)['access_token']);

    for (let i = 0; i < 190; i++) {
      const ok = await get(s, '/crm/v3/owners', token);
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      if (i === 0) expect(ok.headers.get('x-hubspot-ratelimit-max')).toBe('190');
      if (i === 189) expect(ok.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    }
    const limited = await get(s, '/crm/v3/owners', token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(limited.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    expect(await limited.json()).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    expect(s.events().filter((e) => e.rateLimited)).toEqual([expect.objectContaining({ path: '/crm/v3/owners', status: 429, rateLimited: { window: 'default', resetSeconds: 10 } })]);

    clock = START + 10_000;
    expect((await get(s, '/crm/v3/owners', token)).status).toBe(200);
  });

  it("limits Slack's chat.postMessage to one a second per channel, with Slack's 429 and Retry-After, apart from its other methods", async () => {
    const s = await start([tight('slack-real')], REAL_QUOTAS);
    const token = 'slack-real-token';
    const send = (channel: string) => post(s, '/api/chat.postMessage', token, { channel, text: 'New lead' });
    expect((await send('C0ONE')).status).toBe(200);
    const limited = await send('C0ONE');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    // Another channel has its own window, and so do Slack's other methods (Tier 3: 50 a minute).
    expect((await send('C0TWO')).status).toBe(200);
    const lookups = await Promise.all([0, 1, 2].map(() => get(s, '/api/users.lookupByEmail', token, { email: 'nobody@example.com' })));
    expect(lookups.map((r) => r.status)).toEqual([200, 200, 200]);

    clock = START + 1_000;
    expect((await send('C0ONE')).status).toBe(200);
  });

  it('lifts every window with off, the workspace own included; without quotas the workspace window still applies', async () => {
    const lifted = await start([tight('lifted')], quotasFor('off', [], REAL_QUOTAS));
    for (let i = 0; i < 5; i++) {
      const res = await get(lifted, '/unified/crm/users', 'lifted-token', { integrated_account_id: 'lifted' });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe(String(LIFTED_LIMIT));
    }
    await lifted.close();

    const plain = await start([tight('plain')], undefined);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(plain, '/unified/crm/users', 'plain-token', { integrated_account_id: 'plain' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('resizes a system window from an override, leaving the other systems on the sandbox window', async () => {
    const s = await start([{ ...demoWorkspace(new Date(START)) }], quotasFor('sandbox', ['crm=2/30'], REAL_QUOTAS));
    const crm = () => get(s, '/unified/crm/users', DEMO_TOKEN, { integrated_account_id: DEMO_WORKSPACE_ID });
    expect((await crm()).status).toBe(200);
    expect((await crm()).status).toBe(200);
    const limited = await crm();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    const hris = await get(s, '/unified/hris/employees', DEMO_TOKEN, { integrated_account_id: DEMO_WORKSPACE_ID });
    expect(hris.status).toBe(200);
    expect(hris.headers.get('ratelimit-limit')).toBe('1000');
  });
});
