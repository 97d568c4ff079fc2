import { metaGraphError, metaHandshake, metaKind, metaSignature, graphRoot, type MetaGraphError } from '../../src/sources/kinds/meta';
import type { SourceIo, SourceRequest } from '../../src/sources/types';
import type { SandboxWorkspace } from '../../sandbox/types';
import { useSandbox } from '../support/sandbox';
import documented from '../fixtures/sources/meta/leadgen-documented.json';
import batched from '../fixtures/sources/meta/batched-entries.json';

const APP_SECRET = 'meta-app-secret-for-tests';
const NOW = Date.parse('2024-06-03T16:00:00Z');

function request(body: unknown, headers: Record<string, string> = {}): SourceRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return { method: 'POST', url: 'https://leads.example/v1/sources/src_acme_meta/events', headers: { 'content-type': 'application/json', ...headers }, rawBody, query: {} };
}

function signed(body: unknown, secret = APP_SECRET): SourceRequest {
  const req = request(body);
  req.headers['x-hub-signature-256'] = metaSignature(secret, req.rawBody);
  return req;
}

describe('Meta X-Hub-Signature-256', () => {
  it('accepts the body signed with the app secret, in either hex case', () => {
    const req = signed(documented.body);
    expect(metaKind.verify(req, APP_SECRET, NOW)).toEqual({ ok: true });
    req.headers['x-hub-signature-256'] = req.headers['x-hub-signature-256']!.toUpperCase().replace('SHA256=', 'sha256=');
    expect(metaKind.verify(req, APP_SECRET, NOW)).toEqual({ ok: true });
  });

  it('refuses a forged body, a wrong secret, a missing or malformed header', () => {
    const req = signed(documented.body);
    const forged = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('123123123123', '123123123124')) };
    expect(metaKind.verify(forged, APP_SECRET, NOW)).toEqual({ ok: false, reason: 'signature does not match the body' });
    expect(metaKind.verify(signed(documented.body, 'another-app-secret'), APP_SECRET, NOW).ok).toBe(false);
    expect(metaKind.verify(request(documented.body), APP_SECRET, NOW)).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
    expect(metaKind.verify(request(documented.body, { 'x-hub-signature-256': 'sha1=abc' }), APP_SECRET, NOW).ok).toBe(false);
    expect(metaKind.verify(request(documented.body, { 'x-hub-signature-256': 'sha256=zz' }), APP_SECRET, NOW).ok).toBe(false);
  });

  it('has no time window: the signature covers the body only, so an old delivery still verifies (its leadgen_id makes it a redelivery)', () => {
    expect(metaKind.verify(signed(documented.body), APP_SECRET, NOW + 30 * 24 * 3600_000)).toEqual({ ok: true });
  });

  it('throws on an empty secret instead of verifying with a guessable key', () => {
    expect(() => metaKind.verify(signed(documented.body), '', NOW)).toThrow(/must not be empty/);
  });
});

describe('Meta verification handshake', () => {
  it('echoes hub.challenge for the right verify token, 403 for a wrong one', () => {
    const query = { 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': 'meatyhamhock' };
    expect(metaHandshake(query, 'meatyhamhock')).toEqual({ status: 200, body: '1158201444' });
    expect(metaKind.handshake?.({ ...query, 'hub.verify_token': 'meatyhamhocks' }, 'meatyhamhock').status).toBe(403);
    expect(metaHandshake({ ...query, 'hub.verify_token': '' }, 'meatyhamhock').status).toBe(403);
    expect(metaHandshake(query, '').status).toBe(403);
  });

  it('refuses another mode and a challenge it would not echo safely', () => {
    expect(metaHandshake({ 'hub.mode': 'unsubscribe', 'hub.challenge': '1', 'hub.verify_token': 't' }, 't').status).toBe(400);
    expect(metaHandshake({ 'hub.mode': 'subscribe', 'hub.challenge': '<script>', 'hub.verify_token': 't' }, 't').status).toBe(400);
    expect(metaHandshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 't' }, 't').status).toBe(400);
  });
});

describe('Meta leadgen notifications', () => {
  it('splits a batched delivery into its leadgen changes, ignoring other fields', () => {
    const events = metaKind.events!(batched.body);
    expect(events.map((e) => metaKind.eventId(e, request(batched.body)))).toEqual(['900000000000001', '900000000000002', '900000000000003']);
  });

  it('reads IDs sent as JSON numbers (Meta documents them so) as strings, and drops ones beyond 2^53', () => {
    const [event] = metaKind.events!(documented.body);
    expect(event).toEqual({ leadgen_id: '123123123123', page_id: '153125381133', form_id: '12312312312', ad_id: '12312312312', adgroup_id: '12312312312', created_time: 1440120384 });
    const huge = { object: 'page', entry: [{ changes: [{ field: 'leadgen', value: { leadgen_id: 12345678901234567890 } }] }] };
    expect(metaKind.eventId(metaKind.events!(huge)[0], request(huge))).toBeNull();
  });

  it('yields nothing for other objects or malformed bodies', () => {
    for (const body of [null, 'x', [], { object: 'user', entry: [] }, { object: 'page' }, { object: 'page', entry: [{ changes: 'no' }] }]) {
      expect(metaKind.events!(body)).toEqual([]);
    }
  });
});

describe('Meta Graph API errors', () => {
  it('names code, subcode, type and trace ID, and marks throttling retryable', () => {
    const limited = metaGraphError(403, { error: { message: '(#4) Application request limit reached', type: 'OAuthException', is_transient: true, code: 4, fbtrace_id: 'FlQgl+5U8pF' } });
    expect(limited.message).toBe('Graph API rate limit (HTTP 403): (#4) Application request limit reached [code 4, OAuthException, fbtrace_id FlQgl+5U8pF]');
    expect(limited.retryable).toBe(true);
    for (const code of [17, 32, 613, 80001]) expect(metaGraphError(400, { error: { message: 'x', code } }).retryable).toBe(true);
    const token = metaGraphError(400, { error: { message: 'Error validating access token: Session has expired', type: 'OAuthException', code: 190, error_subcode: 463, fbtrace_id: 'A1' } });
    expect(token).toMatchObject({ code: 190, subcode: 463, retryable: false });
    expect(token.message).toContain('subcode 463');
    expect(metaGraphError(502, '<html>').message).toBe('Graph API error (HTTP 502): no Graph error envelope');
    expect(metaGraphError(502, null).retryable).toBe(true);
  });

  it('adds the default version to a bare base URL and keeps one that names its own', () => {
    expect(graphRoot('https://graph.facebook.com/')).toBe('https://graph.facebook.com/v26.0');
    expect(graphRoot('https://graph.facebook.com/v23.0')).toBe('https://graph.facebook.com/v23.0');
  });
});

// ------------------------------------------------------------------- against the Graph emulator

const PAGE_TOKEN = 'EAAG-page-token-for-tests';
const workspace: SandboxWorkspace = { id: 'meta-ws', token: PAGE_TOKEN, accounts: [], users: [], employees: [], busy: [], companies: [], rateLimit: { limit: 4, windowSeconds: 60 } };
const sandbox = useSandbox({ workspaces: [workspace], now: () => NOW });

function io(token = PAGE_TOKEN): SourceIo {
  return { baseUrl: sandbox.url, secret: (name) => (name === 'accessToken' ? token : 'unused'), fetch };
}

async function createTestLead(fieldData: unknown): Promise<string> {
  const res = await fetch(`${sandbox.url}/v26.0/700000000000001/test_leads?access_token=${PAGE_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ field_data: fieldData }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describe('Meta pass-through read against the sandbox Graph API', () => {
  beforeEach(async () => {
    // A fresh rate window per test: replacing the workspace resets its runtime (and its leads).
    sandbox.addWorkspace(workspace);
  });

  it('reads the lead named by the leadgen_id with the Page token and adds the notification references', async () => {
    const id = await createTestLead([{ name: 'email', values: ['joe@example.com'] }, { name: 'full_name', values: ['Joe Example'] }]);
    const event = { leadgen_id: id, page_id: '153125381133', form_id: '700000000000001', ad_id: null, adgroup_id: null, created_time: 1717430400 };
    const lead = await metaKind.fetch!(event, io());
    expect(lead).toEqual({
      id,
      created_time: '2024-06-03T16:00:00+0000',
      field_data: [{ name: 'email', values: ['joe@example.com'] }, { name: 'full_name', values: ['Joe Example'] }],
      form_id: '700000000000001',
      ad_id: null,
      adgroup_id: null,
      page_id: '153125381133',
    });
    const read = sandbox.events().filter((e) => e.provider === 'meta' && e.method === 'GET');
    expect(read.map((e) => [e.path, e.query])).toEqual([[`/v26.0/${id}`, { fields: 'id,created_time,field_data' }]]);
  });

  it('surfaces Graph errors: an unknown lead, a bad token, throttling', async () => {
    const event = { leadgen_id: '1999999999999999', page_id: null, form_id: null, ad_id: null, adgroup_id: null, created_time: null };
    const unknown = (await metaKind.fetch!(event, io()).catch((e: unknown) => e)) as MetaGraphError;
    expect(unknown).toMatchObject({ name: 'MetaGraphError', status: 400, code: 100, subcode: 33, type: 'GraphMethodException', retryable: false });
    expect(unknown.fbtraceId).toMatch(/^[\w-]{11}$/);

    const badToken = (await metaKind.fetch!(event, io('not-a-token')).catch((e: unknown) => e)) as MetaGraphError;
    expect(badToken).toMatchObject({ status: 400, code: 190, retryable: false });
    expect(badToken.message).toContain('Invalid OAuth access token');

    let limited: MetaGraphError | null = null;
    for (let i = 0; i < 6 && !limited; i++) {
      const err = (await metaKind.fetch!(event, io()).catch((e: unknown) => e)) as MetaGraphError;
      if (err.code === 4) limited = err;
    }
    expect(limited).toMatchObject({ status: 403, code: 4, retryable: true });
    expect(limited?.message).toMatch(/^Graph API rate limit \(HTTP 403\): \(#4\) Application request limit reached/);
  });

  it('answers the emulator in Graph formats: nonexisting fields, no token, X-App-Usage', async () => {
    const id = await createTestLead([{ name: 'email', values: ['a@example.com'] }]);
    const res = await fetch(`${sandbox.url}/v26.0/${id}?fields=id,nonsense`, { headers: { authorization: `Bearer ${PAGE_TOKEN}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number; message: string } }).error).toMatchObject({ code: 100, message: '(#100) Tried accessing nonexisting field (nonsense) on node type (Lead)' });
    expect(JSON.parse(res.headers.get('x-app-usage') ?? '{}')).toHaveProperty('call_count');
    const anonymous = await fetch(`${sandbox.url}/v26.0/${id}`);
    expect(anonymous.status).toBe(400);
    expect(((await anonymous.json()) as { error: { code: number; type: string } }).error).toMatchObject({ code: 104, type: 'OAuthException' });
    const withFields = await fetch(`${sandbox.url}/v23.0/${id}?fields=form_id,platform,is_organic`, { headers: { authorization: `OAuth ${PAGE_TOKEN}` } });
    expect(await withFields.json()).toEqual({ id, form_id: '700000000000001', platform: 'fb', is_organic: false });
  });

  it('refuses a notification without a usable leadgen_id before calling Graph', async () => {
    await expect(metaKind.fetch!({ leadgen_id: null }, io())).rejects.toThrow('leadgen change without a usable leadgen_id');
  });
});
