import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createBuyerActivities } from '../../activities/buyers';
import { Connectors } from '../../src/connectors/registry';
import { deliver, DeliveryConfigError, maskText, validateEndpoint, type DeliveryContext } from '../../src/distribution/delivery';
import { HttpEndpointSchema, type HttpEndpoint } from '../../src/distribution/model';
import { resolveTemplates } from '../../src/distribution/templates';
import { TenantRegistry } from '../../src/tenants/registry';

// ------------------------------------------------------------------------ a buyer over real HTTP

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let server: Server;
let baseUrl: string;
let received: Received[] = [];
let handler: Handler = (_req, res) => res.end();
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const res of held.splice(0)) res.destroy();
  received = [];
  handler = (_req, res) => res.end();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The buyer answers every request with this. */
function answer(status: number, body: string, headers: Record<string, string> = {}): void {
  handler = (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

const ACCEPT_JSON = '{ "outcome": body.status, "price": body.price, "reference": body.id, "reason": body.message }';

function endpoint(overrides: Record<string, unknown> = {}): HttpEndpoint {
  return HttpEndpointSchema.parse({ kind: 'http', url: `${baseUrl}/leads`, response: { mapping: ACCEPT_JSON }, ...overrides });
}

const LEAD = { first_name: 'Jane', last_name: "O'Brien & Sons", email: 'jane.doe+x@example.com', state: 'TX', age: 42 };

function context(overrides: Partial<DeliveryContext> = {}): DeliveryContext {
  return {
    kind: 'post',
    leadId: 'lead-1',
    lead: LEAD,
    campaign: { id: 'auto-insurance-us', name: 'Auto insurance', currency: 'USD' },
    buyer: { id: 'acme', name: 'Acme Insurance' },
    bid: { id: 'bid-9', price: 12.5 },
    ...overrides,
  };
}

const env = { BUYER_TOKEN: 's3cret-token', BUYER_PASSWORD: 'pa:ss word', BUYER_HMAC: 'hmac-key' };

// ------------------------------------------------------------------------ request bodies

describe('request', () => {
  test('the standard template as JSON, with Content-Type and the Idempotency-Key, recorded as sent', async () => {
    answer(200, '{"status":"accepted","price":10,"id":"r-1"}', { 'content-type': 'application/json' });
    const record = await deliver(endpoint(), context(), { env });
    expect(received).toHaveLength(1);
    const got = received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/leads');
    expect(JSON.parse(got.body.toString('utf8'))).toEqual({ lead_id: 'lead-1', campaign: 'auto-insurance-us', ...LEAD, bid_id: 'bid-9' });
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['idempotency-key']).toBe('lead-1:acme:post');
    expect(record.request).toEqual({
      method: 'POST',
      url: `${baseUrl}/leads`,
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'lead-1:acme:post' },
      body: got.body.toString('utf8'),
    });
    expect(record.kind).toBe('post');
    expect(record.buyerId).toBe('acme');
    expect(record.notSent).toBe(false);
  });

  test('a ping without a bid carries no bid_id, and its key names the ping', async () => {
    answer(200, '{"status":"accepted","price":3}', { 'content-type': 'application/json' });
    await deliver(endpoint({ template: 'ping-standard' }), context({ kind: 'ping', lead: { state: 'TX' }, bid: null }));
    expect(JSON.parse(received[0]!.body.toString('utf8'))).toEqual({ lead_id: 'lead-1', campaign: 'auto-insurance-us', state: 'TX' });
    expect(received[0]!.headers['idempotency-key']).toBe('lead-1:acme:ping');
  });

  test('form bodies flatten nested objects and arrays; the endpoint headers are sent too', async () => {
    const mapping = '{ "lead": { "name": lead.first_name, "email": lead.email }, "tags": ["a b", "c"], "empty": null, "id": leadId }';
    await deliver(endpoint({ format: 'form', mapping, headers: { 'X-Source': 'leadrelay' } }), context());
    const got = received[0]!;
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got.headers['x-source']).toBe('leadrelay');
    expect(got.body.toString('utf8')).toBe('lead%5Bname%5D=Jane&lead%5Bemail%5D=jane.doe%2Bx%40example.com&tags%5B0%5D=a+b&tags%5B1%5D=c&empty=&id=lead-1');
    expect([...new URLSearchParams(got.body.toString('utf8'))]).toEqual([
      ['lead[name]', 'Jane'],
      ['lead[email]', 'jane.doe+x@example.com'],
      ['tags[0]', 'a b'],
      ['tags[1]', 'c'],
      ['empty', ''],
      ['id', 'lead-1'],
    ]);
  });

  test('XML bodies under the endpoint root, entities escaped; an endpoint Content-Type wins', async () => {
    const mapping = '{ "@_id": leadId, "name": lead.last_name, "age": lead.age }';
    await deliver(endpoint({ format: 'xml', xmlRoot: 'application', mapping, headers: { 'content-type': 'text/xml; charset=utf-8' } }), context());
    const got = received[0]!;
    expect(got.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(got.body.toString('utf8')).toBe('<?xml version="1.0" encoding="UTF-8"?><application id="lead-1"><name>O&apos;Brien &amp; Sons</name><age>42</age></application>');
  });

  test('a tenant template replaces the platform one; an unknown template is a config record and nothing is sent', async () => {
    const templates = resolveTemplates({ environment: { standard: '{ "env": true }' }, tenant: { standard: '{ "who": buyer.name }' } });
    await deliver(endpoint(), context(), { templates });
    expect(JSON.parse(received[0]!.body.toString('utf8'))).toEqual({ who: 'Acme Insurance' });

    const record = await deliver(endpoint({ template: 'missing' }), context(), { templates });
    expect(received).toHaveLength(1);
    expect(record.error).toEqual({ type: 'config', message: 'template missing is not defined' });
    expect(record.answer.outcome).toBe('error');
    expect(record.notSent).toBe(true);
  });

  test('a request mapping that fails is a mapping record and nothing is sent', async () => {
    const thrown = await deliver(endpoint({ mapping: '$error("no state")' }), context());
    expect(thrown.error?.type).toBe('mapping');
    expect(thrown.error?.message).toContain('no state');
    expect(thrown.notSent).toBe(true);
    const array = await deliver(endpoint({ format: 'form', mapping: '[1, 2]' }), context());
    expect(array.error).toEqual({ type: 'mapping', message: 'request mapping failed: a form body needs an object, the request mapping gave an array' });
    expect(received).toHaveLength(0);
  });
});

// ------------------------------------------------------------------------ auth

describe('auth', () => {
  test('a header secret with a prefix is sent, and redacted in the record', async () => {
    const record = await deliver(endpoint({ auth: { type: 'header', name: 'Authorization', prefix: 'Bearer', secret: { env: 'BUYER_TOKEN' } } }), context(), { env });
    expect(received[0]!.headers['authorization']).toBe('Bearer s3cret-token');
    expect(record.request.headers['Authorization']).toBe('[redacted]');
    expect(JSON.stringify(record)).not.toContain('s3cret-token');
  });

  test('basic auth', async () => {
    const record = await deliver(endpoint({ auth: { type: 'basic', username: 'acme', password: { env: 'BUYER_PASSWORD' } } }), context(), { env });
    const value = received[0]!.headers['authorization'] ?? '';
    expect(value.startsWith('Basic ')).toBe(true);
    expect(Buffer.from(value.slice(6), 'base64').toString('utf8')).toBe('acme:pa:ss word');
    expect(record.request.headers['Authorization']).toBe('[redacted]');
    expect(JSON.stringify(record)).not.toContain(value.slice(6));
  });

  test.each(['sha256', 'sha1'] as const)('HMAC-%s over the exact body bytes, verified by the receiver', async (algorithm) => {
    const auth = { type: 'hmac', header: 'X-Signature', secret: { env: 'BUYER_HMAC' }, algorithm, prefix: `${algorithm}=` };
    const record = await deliver(endpoint({ auth }), context(), { env });
    const got = received[0]!;
    const expected = `${algorithm}=${createHmac(algorithm, 'hmac-key').update(got.body).digest('hex')}`;
    expect(got.headers['x-signature']).toBe(expected);
    expect(record.request.headers['X-Signature']).toBe('[redacted]');
    expect(JSON.stringify(record)).not.toContain(expected.slice(algorithm.length + 1));
  });

  test('a plain endpoint header that carries a credential is redacted too', async () => {
    const record = await deliver(endpoint({ headers: { 'X-Api-Key': 'k-123', 'X-Source': 'lr' } }), context());
    expect(received[0]!.headers['x-api-key']).toBe('k-123');
    expect(record.request.headers).toMatchObject({ 'X-Api-Key': '[redacted]', 'X-Source': 'lr' });
  });

  test('a missing secret throws before anything is sent', async () => {
    const ep = endpoint({ auth: { type: 'header', name: 'X-Token', secret: { env: 'NOT_SET_ANYWHERE' } } });
    await expect(deliver(ep, context(), { env: {} })).rejects.toThrow(DeliveryConfigError);
    await expect(deliver(ep, context(), { env: {} })).rejects.toThrow('environment variable NOT_SET_ANYWHERE');
    expect(received).toHaveLength(0);
  });
});

// ------------------------------------------------------------------------ answers

describe('response', () => {
  test('JSON answers are mapped; kept headers and the body excerpt are recorded', async () => {
    const big = 'x'.repeat(5000);
    answer(200, JSON.stringify({ status: 'accepted', price: '17.25', id: 991, pad: big }), {
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': 'req-77',
      'set-cookie': 'session=abc',
      'ratelimit-remaining': '9',
    });
    const record = await deliver(endpoint(), context());
    expect(record.answer).toEqual({ outcome: 'accepted', price: 17.25, reference: '991' });
    expect(record.error).toBeNull();
    expect(record.response?.status).toBe(200);
    expect(record.response?.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req-77', 'ratelimit-remaining': '9' });
    expect(record.response?.bodyExcerpt).toHaveLength(2000);
    expect(record.response?.bodyExcerpt.startsWith('{"status":"accepted"')).toBe(true);
    expect(record.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(record.startedAt))).toBe(false);
  });

  test('XML answers, attributes included', async () => {
    answer(200, '<?xml version="1.0"?><response status="accepted"><price>12.50</price><id>abc-1</id></response>', { 'content-type': 'application/xml' });
    const mapping = '{ "outcome": body.response."@_status", "price": body.response.price, "reference": body.response.id }';
    const record = await deliver(endpoint({ response: { mapping } }), context());
    expect(record.answer).toEqual({ outcome: 'accepted', price: 12.5, reference: 'abc-1' });
  });

  test('form answers (last field wins)', async () => {
    answer(200, 'result=rejected&result=duplicate&reason=seen+before', { 'content-type': 'application/x-www-form-urlencoded' });
    const record = await deliver(endpoint({ response: { mapping: '{ "outcome": body.result, "reason": body.reason }' } }), context());
    expect(record.answer).toEqual({ outcome: 'duplicate', reason: 'seen before' });
  });

  test('text answers are the trimmed string; status and headers are in the mapping input', async () => {
    answer(201, '  ACCEPTED|7.25|ref-3 \n', { 'content-type': 'text/plain', 'x-request-id': 'q' });
    const mapping = `(
      $parts := $split(body, "|");
      { "outcome": $lowercase($parts[0]), "price": $number($parts[1]), "reference": $parts[2] & "/" & $string(status) & "/" & headers."x-request-id" }
    )`;
    const record = await deliver(endpoint({ response: { mapping } }), context());
    expect(record.answer).toEqual({ outcome: 'accepted', price: 7.25, reference: 'ref-3/201/q' });
  });

  test('an explicit format overrides the Content-Type', async () => {
    answer(200, '{"status":"rejected","message":"no coverage"}', { 'content-type': 'text/plain' });
    const record = await deliver(endpoint({ response: { format: 'json', mapping: ACCEPT_JSON } }), context());
    expect(record.answer).toEqual({ outcome: 'rejected', reason: 'no coverage' });
  });

  test('a 5xx is an error without consulting the mapping', async () => {
    answer(503, '{"status":"accepted","price":99}', { 'content-type': 'application/json' });
    const record = await deliver(endpoint({ response: { mapping: '$error("consulted")' } }), context());
    expect(record.answer).toEqual({ outcome: 'error', reason: 'http_503' });
    expect(record.error).toBeNull();
    expect(record.response?.status).toBe(503);
    expect(record.notSent).toBe(false);
  });

  test('a 429 is rate_limited with Retry-After in milliseconds', async () => {
    answer(429, 'slow down', { 'retry-after': '7' });
    const record = await deliver(endpoint({ response: { mapping: '{ "outcome": "accepted", "price": 1 }' } }), context());
    expect(record.answer).toEqual({ outcome: 'error', reason: 'rate_limited' });
    expect(record.retryAfterMs).toBe(7000);
    expect(record.response?.headers['retry-after']).toBe('7');
  });

  test('a 429 with an HTTP-date Retry-After is read against the clock', async () => {
    const nowMs = Date.parse('2030-01-07T15:00:00.000Z');
    answer(429, '', { 'retry-after': 'Mon, 07 Jan 2030 15:01:30 GMT' });
    const record = await deliver(endpoint(), context(), { now: () => nowMs });
    expect(record.retryAfterMs).toBe(90_000);
    expect(record.startedAt).toBe('2030-01-07T15:00:00.000Z');
  });

  test('a mapping that gives a bad outcome, a bad price or throws is an error naming it', async () => {
    answer(200, '{"status":"maybe"}', { 'content-type': 'application/json' });
    const bad = await deliver(endpoint(), context());
    expect(bad.answer.outcome).toBe('error');
    expect(bad.error).toEqual({ type: 'mapping', message: 'outcome must be one of accepted, rejected, duplicate, error, the response mapping gave "maybe"' });
    expect(bad.answer.reason).toContain('outcome must be one of');
    expect(bad.response?.status).toBe(200);
    expect(bad.notSent).toBe(false);

    const price = await deliver(endpoint({ response: { mapping: '{ "outcome": "accepted", "price": "lots" }' } }), context());
    expect(price.error?.message).toBe('price must be a non-negative number, the response mapping gave "lots"');

    const thrown = await deliver(endpoint({ response: { mapping: '$error("cannot read")' } }), context());
    expect(thrown.error?.type).toBe('mapping');
    expect(thrown.error?.message).toContain('cannot read');

    const nothing = await deliver(endpoint({ response: { mapping: 'body.nope' } }), context());
    expect(nothing.error?.message).toBe('the response mapping must give an object, it gave nothing');
  });

  test('a redirect is recorded as the answer, not followed', async () => {
    answer(302, '', { location: 'https://elsewhere.example/leads' });
    const record = await deliver(endpoint({ response: { mapping: '{ "outcome": status = 302 ? "rejected" : "accepted", "reason": headers.location }' } }), context());
    expect(received).toHaveLength(1);
    expect(record.answer).toEqual({ outcome: 'rejected', reason: 'https://elsewhere.example/leads' });
    expect(record.response?.headers['location']).toBe('https://elsewhere.example/leads');
  });
});

// ------------------------------------------------------------------------ failures

describe('failures', () => {
  test('no answer within the timeout is a timeout error, possibly sent', async () => {
    handler = (_req, res) => void held.push(res);
    const record = await deliver(endpoint({ timeoutMs: 100 }), context());
    expect(received).toHaveLength(1);
    expect(record.error).toEqual({ type: 'timeout', message: 'no answer within 100 ms' });
    expect(record.answer).toEqual({ outcome: 'error', reason: 'timeout' });
    expect(record.response).toBeNull();
    expect(record.notSent).toBe(false);
  });

  test('the campaign ping timeout caps the endpoint timeout', async () => {
    handler = (_req, res) => void held.push(res);
    const record = await deliver(endpoint({ timeoutMs: 60_000 }), context({ kind: 'ping' }), { maxTimeoutMs: 80 });
    expect(record.error).toEqual({ type: 'timeout', message: 'no answer within 80 ms' });
  });

  test('a refused connection was never sent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const record = await deliver(endpoint({ url: `http://127.0.0.1:${port}/leads` }), context());
    expect(record.error?.type).toBe('connection');
    expect(record.error?.message).toContain('ECONNREFUSED');
    expect(record.answer).toEqual({ outcome: 'error', reason: 'connection' });
    expect(record.notSent).toBe(true);
  });

  test('a connection reset after the request arrived may have been sent', async () => {
    handler = (req) => req.socket.destroy();
    const record = await deliver(endpoint(), context());
    expect(received).toHaveLength(1);
    expect(record.error?.type).toBe('connection');
    expect(record.notSent).toBe(false);
  });

  test('cancellation is thrown, not recorded', async () => {
    handler = (_req, res) => void held.push(res);
    const cancel = new AbortController();
    const pending = deliver(endpoint(), context(), { signal: cancel.signal });
    await new Promise<void>((resolve) => {
      const wait = () => (received.length > 0 ? resolve() : setImmediate(wait));
      wait();
    });
    cancel.abort(new Error('activity cancelled'));
    await expect(pending).rejects.toThrow('activity cancelled');
  });
});

// ------------------------------------------------------------------------ validation and masking

describe('validateEndpoint', () => {
  test('names every expression that does not compile and every unknown template', () => {
    expect(validateEndpoint(endpoint(), 'post')).toEqual([]);
    const issues = validateEndpoint(endpoint({ mapping: '{ "a": ', response: { mapping: 'status = ' } }), 'post');
    expect(issues.map((i) => i.field)).toEqual(['post.mapping', 'post.response.mapping']);
    expect(issues[0]!.message).toMatch(/^the mapping is not valid JSONata: /);
    expect(validateEndpoint(endpoint({ template: 'nope' }), 'ping')).toEqual([{ field: 'ping.template', message: 'is not a known template: nope' }]);
    const templates = resolveTemplates({ tenant: { broken: '$merge([' } });
    expect(validateEndpoint(endpoint({ template: 'broken' }), 'post', templates).map((i) => i.field)).toEqual(['post.template']);
    expect(validateEndpoint({ kind: 'email', to: ['a@b.co'], subject: 'x' }, 'post')).toEqual([]);
  });
});

describe('maskText', () => {
  test('masks each value in every spelling a request carries it, keeping the first character', () => {
    const values = ['jane.doe+x@example.com', "O'Brien & Sons", '5551234567'];
    const json = JSON.stringify({ email: values[0], name: values[1], phone: values[2], state: 'TX' });
    expect(maskText(json, values)).toBe('{"email":"j***","name":"O***","phone":"5***","state":"TX"}');
    const form = new URLSearchParams({ email: values[0]!, name: values[1]! }).toString();
    expect(maskText(form, values)).toBe('email=j***&name=O***');
    expect(maskText('<n>O&apos;Brien &amp; Sons</n>', values)).toBe('<n>O***</n>');
    expect(maskText('mail JANE.DOE+X@EXAMPLE.COM', values)).toBe('mail j***');
    expect(maskText('state TX', ['T', ''])).toBe('state TX');
  });
});

// ------------------------------------------------------------------------ activities

describe('buyer activities', () => {
  const tenants = new TenantRegistry();
  const activities = createBuyerActivities({ tenants, connectors: new Connectors(tenants), env, allowPrivateUrls: true });
  const campaign = { id: 'auto-insurance-us', name: 'Auto insurance', currency: 'USD', pingTimeoutMs: 1000, pingFields: ['state', 'age'] };

  test('a ping carries only the ping fields', async () => {
    answer(200, '{"status":"accepted","price":4.5,"id":"b-1"}', { 'content-type': 'application/json' });
    const buyer = { id: 'acme', name: 'Acme', ping: endpoint({ template: 'ping-standard' }), post: endpoint() };
    const record = await activities.pingBuyer({ tenantId: 't', leadId: 'lead-2', campaign, buyer, lead: LEAD });
    expect(JSON.parse(received[0]!.body.toString('utf8'))).toEqual({ lead_id: 'lead-2', campaign: 'auto-insurance-us', state: 'TX', age: 42 });
    expect(record.answer).toEqual({ outcome: 'accepted', price: 4.5, reference: 'b-1' });
    expect(record.kind).toBe('ping');
  });

  test('a webhook post sends the standard JSON body; its status is its answer', async () => {
    const buyer = { id: 'hooked', name: 'Hooked', post: { kind: 'webhook' as const, url: `${baseUrl}/hook`, timeoutMs: 2000 } };
    answer(202, '{"id":"w-1"}', { 'content-type': 'application/json' });
    const accepted = await activities.postToBuyer({ tenantId: 't', leadId: 'lead-3', campaign, buyer, lead: LEAD, bid: null });
    expect(received[0]!.url).toBe('/hook');
    expect(received[0]!.headers['idempotency-key']).toBe('lead-3:hooked:post');
    expect(JSON.parse(received[0]!.body.toString('utf8'))).toEqual({ lead_id: 'lead-3', campaign: 'auto-insurance-us', ...LEAD });
    expect(accepted.answer).toEqual({ outcome: 'accepted', reference: 'w-1' });
    answer(409, '');
    expect((await activities.postToBuyer({ tenantId: 't', leadId: 'lead-3', campaign, buyer, lead: LEAD, bid: null })).answer).toEqual({ outcome: 'duplicate' });
    answer(400, 'bad');
    expect((await activities.postToBuyer({ tenantId: 't', leadId: 'lead-3', campaign, buyer, lead: LEAD, bid: null })).answer).toEqual({ outcome: 'rejected', reason: 'http_400' });
  });

  test('an email post is a config record: nothing is sent', async () => {
    const buyer = { id: 'mailed', name: 'Mailed', post: { kind: 'email' as const, to: ['buyer@example.com'], subject: 'New lead' } };
    const record = await activities.postToBuyer({ tenantId: 't', leadId: 'lead-4', campaign, buyer, lead: LEAD, bid: null });
    expect(record.error?.type).toBe('config');
    expect(record.notSent).toBe(true);
    expect(received).toHaveLength(0);
  });

  test('a missing secret fails the activity for good', async () => {
    const post = endpoint({ auth: { type: 'basic', username: 'u', password: { env: 'LEADRELAY_BUYER_T_MISSING_PASSWORD' } } });
    const failure = await activities.postToBuyer({ tenantId: 't', leadId: 'lead-5', campaign, buyer: { id: 'acme', name: 'Acme', post }, lead: LEAD, bid: null }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('ConnectionMisconfigured');
    expect(received).toHaveLength(0);
  });
});
