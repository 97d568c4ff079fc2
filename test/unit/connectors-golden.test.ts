import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { isOperationName, type OperationInput, type OperationName } from '../../src/connectors/normalized';
import type { Classification } from '../../src/connectors/classify';
import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider, type DefinitionOverride, type ProviderDefinitionInput } from '../../src/connectors/definition';
import { clearbitProvider } from '../../src/connectors/providers/clearbit';
import { PLATFORM_PROVIDERS } from '../../src/connectors/providers';
import { unifiedProvider } from '../../src/connectors/providers/unified';
import { PROVIDER_IDS } from '../../src/connectors/providers';
import { failureOf, detailsOf } from '../support/failures';

/**
 * Golden tests of the provider definitions: recorded upstream answers (in the sandbox's wire
 * formats) are served over real loopback HTTP, so the whole ProviderClient path runs — request
 * JSONata, fetch, classification, response JSONata, schema check — and both the request it sent
 * and the normalized result it returned are compared with the fixture.
 */

// ------------------------------------------------------------------------------------- fixtures

const GOLDEN_DIR = join(__dirname, '..', 'fixtures', 'golden');

const ExchangeSchema = z
  .object({
    request: z
      .object({
        method: z.string(),
        path: z.string(),
        query: z.record(z.string(), z.string()),
        idempotencyKey: z.string().optional(),
        /** Headers the request must carry (lower-case names), e.g. the provider's own auth header. */
        headers: z.record(z.string(), z.string()).optional(),
        body: z.unknown().optional(),
      })
      .strict(),
    status: z.number().int(),
    headers: z.record(z.string(), z.string()),
    /** The wire body; null means the upstream sent no body. */
    response: z.unknown(),
  })
  .strict();

const FixtureSchema = z
  .object({
    description: z.string().min(1),
    provider: z.enum(PROVIDER_IDS),
    operation: z.string(),
    /** The connection's account ID (default `acct-1`). */
    accountId: z.string().optional(),
    input: z.unknown(),
    exchanges: z.array(ExchangeSchema).min(1),
    expected: z.unknown(),
    /**
     * The normalized rate-limit state expected from the last answer (default: its `ratelimit-*`
     * headers). Fields left out are not compared (an epoch reset depends on the clock).
     */
    rateLimit: z
      .object({ limit: z.number().nullable(), remaining: z.number().nullable(), resetSeconds: z.number().nullable(), retryAfterSeconds: z.number().nullable() })
      .partial()
      .optional(),
    /** Whether the call reports a replayed write (an upsert that found the record). */
    replayed: z.boolean().optional(),
  })
  .strict();

type Fixture = z.infer<typeof FixtureSchema>;
type Exchange = z.infer<typeof ExchangeSchema>;

function loadFixture(file: string): Fixture {
  return FixtureSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, file), 'utf8')));
}

const FIXTURE_FILES = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

const PROVIDERS: Record<Fixture['provider'], ProviderDefinitionInput> = PLATFORM_PROVIDERS;

/** The fixture's operation, which must be one of the operation table's. */
function operationOf(fixture: Fixture): OperationName {
  if (!isOperationName(fixture.operation)) throw new Error(`no schema for ${fixture.operation}`);
  return fixture.operation;
}

/** The fixture's recorded input (JSON: the fixture vouches for its shape) as the input of its operation. */
function inputOf<Op extends OperationName>(fixture: Fixture, operation: Op): OperationInput<Op> {
  if (fixture.operation !== operation) throw new Error(`fixture is for ${fixture.operation}, not ${operation}`);
  return fixture.input as OperationInput<Op>;
}

// ------------------------------------------------------------------------ recording upstream

interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  /** JSON body; undefined or null sends none. */
  body?: unknown;
  /** Sent as is (with a JSON content type) instead of `body`. */
  rawBody?: string;
  /** Wait this long before sending the status line. */
  delayMs?: number;
}

interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when none was sent. */
  body: unknown;
}

/** A tiny upstream on 127.0.0.1:0 that answers from a script and records what it was sent. */
class RecordingUpstream {
  readonly received: ReceivedRequest[] = [];
  private replies: ScriptedReply[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<RecordingUpstream> {
    let upstream: RecordingUpstream | undefined;
    const server = createServer((req, res) => void upstream?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    upstream = new RecordingUpstream(server, `http://127.0.0.1:${port}`);
    return upstream;
  }

  script(...replies: ScriptedReply[]): void {
    this.replies = replies;
    this.received.length = 0;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    this.received.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    });
    const reply = this.replies.shift() ?? { status: 500, body: { status: 500, error_code: 'INTERNAL', message: 'no scripted reply left' } };
    const send = () => {
      if (res.destroyed) return;
      const payload = reply.rawBody ?? (reply.body === undefined || reply.body === null ? undefined : JSON.stringify(reply.body));
      res.writeHead(reply.status, {
        ...(payload === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...reply.headers,
      });
      res.end(payload);
    };
    if (reply.delayMs) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, reply.delayMs);
      this.timers.add(timer);
    } else {
      send();
    }
  }
}

function replyOf(exchange: Exchange, extraHeaders: Record<string, string> = {}): ScriptedReply {
  return { status: exchange.status, headers: { ...exchange.headers, ...extraHeaders }, body: exchange.response };
}

// ----------------------------------------------------------------------------------- helpers

const SECRET = 's3cret';
let upstream: RecordingUpstream;

beforeAll(async () => {
  upstream = await RecordingUpstream.start();
});

afterAll(async () => {
  await upstream.close();
});

function clientFor(provider: ProviderDefinitionInput, options: ClientOptions = {}, ...overrides: DefinitionOverride[]): ProviderClient {
  return clientWith(provider, 'acct-1', options, ...overrides);
}

function clientWith(provider: ProviderDefinitionInput, accountId: string, options: ClientOptions = {}, ...overrides: DefinitionOverride[]): ProviderClient {
  return new ProviderClient(compileProvider(provider, ...overrides), { connectionId: 't/c', baseUrl: upstream.url, accountId, secret: SECRET }, options);
}

function expectRequest(received: ReceivedRequest | undefined, expected: Exchange['request'], auth: ProviderDefinitionInput['auth']): void {
  expect(received).toBeDefined();
  if (!received) return;
  expect(received.method).toBe(expected.method);
  expect(received.path).toBe(expected.path);
  expect(received.query).toEqual(expected.query);
  if (expected.headers) expect(received.headers).toMatchObject(expected.headers);
  else if (auth.type === 'bearer' || auth.type === 'oauth2') expect(received.headers['authorization']).toBe(`Bearer ${SECRET}`);
  else throw new Error(`a ${auth.type} provider's fixture must name the auth headers it expects`);
  expect(received.headers['accept']).toBe('application/json');
  expect(received.headers['idempotency-key']).toBe(expected.idempotencyKey);
  if (expected.body === undefined) {
    expect(received.body).toBeUndefined();
    expect(received.headers['content-type']).toBeUndefined();
  } else {
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.body).toEqual(expected.body);
  }
}

// ------------------------------------------------------------------------------ golden cases

describe('golden provider operations', () => {
  it('has a golden fixture for every operation of every platform provider', () => {
    const covered = new Set(FIXTURE_FILES.map((f) => {
      const fixture = loadFixture(f);
      return `${fixture.provider}:${fixture.operation}`;
    }));
    for (const [id, def] of Object.entries(PROVIDERS)) {
      for (const op of Object.keys(def.operations)) expect(covered).toContain(`${id}:${op}`);
    }
    expect(FIXTURE_FILES).toEqual(
      expect.arrayContaining([
        'clearbit.enrichment.company.json',
        'clearbit.enrichment.company.not_found.json',
        'clearbit.enrichment.company.pending.json',
      ]),
    );
  });

  it.each(FIXTURE_FILES)('%s: sends the recorded request and maps the answer to the expected result', async (file) => {
    const fixture = loadFixture(file);
    expect(file.startsWith(`${fixture.provider}.${fixture.operation}`)).toBe(true);
    upstream.script(...fixture.exchanges.map((e) => replyOf(e)));
    const answers: Classification[] = [];
    const client = clientWith(PROVIDERS[fixture.provider], fixture.accountId ?? 'acct-1', { onAnswer: (_id, c) => answers.push(c) });

    const operation = operationOf(fixture);
    const result = await client.call(operation, inputOf(fixture, operation));

    expect(result.data).toEqual(fixture.expected);
    expect(upstream.received).toHaveLength(fixture.exchanges.length);
    fixture.exchanges.forEach((exchange, i) => expectRequest(upstream.received[i], exchange.request, PROVIDERS[fixture.provider].auth));

    const last = fixture.exchanges[fixture.exchanges.length - 1];
    expect(result.meta).toMatchObject({
      provider: fixture.provider,
      operation: fixture.operation,
      status: last?.status,
      pages: fixture.exchanges.length,
      replayed: fixture.replayed ?? false,
    });
    if (fixture.rateLimit) {
      expect(result.meta.rateLimit).toMatchObject(fixture.rateLimit);
    } else {
      expect(result.meta.rateLimit).toEqual({
        limit: Number(last?.headers['ratelimit-limit']),
        remaining: Number(last?.headers['ratelimit-remaining']),
        resetSeconds: Number(last?.headers['ratelimit-reset']),
        retryAfterSeconds: null,
      });
    }
    expect(answers.map((a) => a.status)).toEqual(fixture.exchanges.map((e) => e.status));
  });
});

// ---------------------------------------------------------------------------- client behaviour

describe('ProviderClient over real HTTP', () => {
  const RATE_LIMITED_BODY = { status: 429, error_code: 'RATE_LIMITED', message: 'Rate limit exceeded' };

  it('concatenates pages linked by next_cursor and sends the cursor on the second request', async () => {
    const fixture = loadFixture('unified.crm.findAccounts.paginated.json');
    upstream.script(...fixture.exchanges.map((e) => replyOf(e)));
    const result = await clientFor(unifiedProvider).call('crm.findAccounts', { domain: 'acme.com' });

    expect(result.data.map((a) => a.id)).toEqual(['acc_acme', 'acc_acme_eu', 'acc_acme_labs']);
    expect(result.meta.pages).toBe(2);
    const [first, second] = upstream.received;
    expect(first?.query['cursor']).toBeUndefined();
    expect(second?.query).toEqual({ integrated_account_id: 'acct-1', domain: 'acme.com', limit: '100', cursor: 'eyJvIjoyfQ' });
  });

  it('stops following next_cursor after pagination.maxPages pages', async () => {
    const fixture = loadFixture('unified.crm.findAccounts.paginated.json');
    upstream.script(...fixture.exchanges.map((e) => replyOf(e)));
    const client = clientFor(unifiedProvider, {}, { operations: { 'crm.findAccounts': { pagination: { maxPages: 1 } } } });
    const result = await client.call('crm.findAccounts', { domain: 'acme.com' });
    expect(upstream.received).toHaveLength(1);
    expect(result.data.map((a) => a.id)).toEqual(['acc_acme', 'acc_acme_eu']);
  });

  it('turns a 429 with Retry-After: 3 into a retryable UpstreamRateLimited failure with nextRetryDelay 3000 ms, without retrying itself', async () => {
    upstream.script({
      status: 429,
      headers: { 'ratelimit-limit': '1000', 'ratelimit-remaining': '0', 'ratelimit-reset': '3', 'retry-after': '3' },
      body: RATE_LIMITED_BODY,
    });
    const failure = await failureOf(clientFor(unifiedProvider).call('crm.findAccounts', { domain: 'acme.com' }));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(3000);
    expect(failure.message).toContain('RATE_LIMITED: Rate limit exceeded');
    expect(detailsOf(failure)).toMatchObject({
      provider: 'unified',
      operation: 'crm.findAccounts',
      status: 429,
      waitMs: 3000,
      rateLimit: { limit: 1000, remaining: 0, resetSeconds: 3, retryAfterSeconds: 3 },
    });
    expect(upstream.received).toHaveLength(1);
  });

  it('fails a write on 401 as non-retryable UpstreamAuthFailed without the secret in the failure', async () => {
    upstream.script({ status: 401, body: { status: 401, error_code: 'UNAUTHORIZED', message: 'missing or invalid bearer token' } });
    const failure = await failureOf(
      clientFor(unifiedProvider).call('crm.updateLeadOwner', { crmLeadId: 'lead_1', ownerId: 'usr_ava', idempotencyKey: 'k' }),
    );
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(JSON.stringify({ message: failure.message, details: failure.details })).not.toContain(SECRET);
  });

  it('throws a non-retryable MappingError naming the path when a 200 maps to the wrong shape', async () => {
    const fixture = loadFixture('unified.crm.findAccounts.json');
    const exchange = fixture.exchanges[0];
    if (!exchange) throw new Error('fixture has no exchange');
    // The CRM renamed owner_id to a nested owner object: the mapping yields no ownerId.
    const drifted = {
      result: [{ ...(exchange.response as { result: Record<string, unknown>[] }).result[0], owner_id: undefined, owner: { id: 'usr_ben' } }],
      next_cursor: null,
    };
    upstream.script({ status: 200, headers: exchange.headers, body: drifted });
    const failure = await failureOf(clientFor(unifiedProvider).call('crm.findAccounts', { domain: 'globex.com' }));
    expect(failure.type).toBe('MappingError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('mapped response does not fit at 0.ownerId');
    expect(detailsOf(failure)).toMatchObject({ provider: 'unified', operation: 'crm.findAccounts', status: null });
  });

  it('throws a non-retryable MappingError when the mapping itself fails on the answer', async () => {
    upstream.script({
      status: 200,
      body: { result: [{ id: 'emp_x', emails: [{ email: 42, type: 'WORK' }], employment_status: 'ACTIVE', time_off: [] }], next_cursor: null },
    });
    const failure = await failureOf(
      clientFor(unifiedProvider).call('hris.findEmployees', { emails: ['x@demo-sales.example'] }),
    );
    expect(failure.type).toBe('MappingError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('mapping failed');
  });

  it('throws a non-retryable MappingError when a 2xx JSON answer is not valid JSON', async () => {
    upstream.script({ status: 200, rawBody: '{"result": [' });
    const failure = await failureOf(clientFor(unifiedProvider).call('crm.findAccounts', { domain: 'acme.com' }));
    expect(failure.type).toBe('MappingError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('response is not valid JSON');
  });

  it('throws a retryable UpstreamNetworkError when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const client = new ProviderClient(compileProvider(unifiedProvider), {
      connectionId: 't/c',
      baseUrl: `http://127.0.0.1:${port}`,
      accountId: 'acct-1',
      secret: SECRET,
    });
    const failure = await failureOf(client.call('crm.findAccounts', { domain: 'acme.com' }));
    expect(failure.type).toBe('UpstreamNetworkError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('ECONNREFUSED');
    expect(JSON.stringify(failure.details)).not.toContain(SECRET);
  });

  it('throws a retryable UpstreamTimeout when the answer is slower than the provider timeoutMs', async () => {
    const fixture = loadFixture('clearbit.enrichment.company.json');
    const exchange = fixture.exchanges[0];
    if (!exchange) throw new Error('fixture has no exchange');
    upstream.script({ ...replyOf(exchange), delayMs: 2000 });
    const client = clientFor(clearbitProvider, {}, { timeoutMs: 200 });

    const failure = await failureOf(client.call('enrichment.company', { domain: 'acme.com' }));
    expect(failure.type).toBe('UpstreamTimeout');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('clearbit enrichment.company: no answer within 200 ms');
  });

  it('reports meta.replayed when the upstream answers with Idempotent-Replayed: true', async () => {
    const fixture = loadFixture('unified.crm.createLead.json');
    const exchange = fixture.exchanges[0];
    if (!exchange) throw new Error('fixture has no exchange');
    upstream.script(replyOf(exchange, { 'Idempotent-Replayed': 'true' }), replyOf(exchange));
    const client = clientFor(unifiedProvider);

    const replay = await client.call('crm.createLead', inputOf(fixture, 'crm.createLead'));
    expect(replay.meta.replayed).toBe(true);
    expect(replay.data).toEqual(fixture.expected);
    const fresh = await client.call('crm.createLead', inputOf(fixture, 'crm.createLead'));
    expect(fresh.meta.replayed).toBe(false);
    expect(upstream.received.map((r) => r.headers['idempotency-key'])).toEqual(['lead-7f3a:assign', 'lead-7f3a:assign']);
  });

  it('hands onAnswer the connection id and the normalized rate-limit state of every answer, failures included', async () => {
    const calls: Array<[string, Classification]> = [];
    const client = clientFor(unifiedProvider, { onAnswer: (id, c) => calls.push([id, c]) });

    upstream.script({
      status: 200,
      headers: { 'RateLimit-Limit': '1000', 'RateLimit-Remaining': '998', 'RateLimit-Reset': '42' },
      body: { result: [], next_cursor: null },
    });
    const ok = await client.call('crm.findAccounts', { domain: 'example.org' });
    expect(ok.data).toEqual([]);

    upstream.script({ status: 429, headers: { 'ratelimit-limit': '1000', 'ratelimit-remaining': '0', 'ratelimit-reset': '7' }, body: RATE_LIMITED_BODY });
    const failure = await failureOf(client.call('crm.findAccounts', { domain: 'example.org' }));
    expect(failure.nextRetryDelay).toBe(7000);

    expect(calls.map(([id]) => id)).toEqual(['t/c', 't/c']);
    expect(calls[0]?.[1]).toMatchObject({ outcome: 'ok', status: 200, rateLimit: { limit: 1000, remaining: 998, resetSeconds: 42, retryAfterSeconds: null } });
    expect(calls[1]?.[1]).toMatchObject({
      outcome: 'rate_limited',
      status: 429,
      waitMs: 7000,
      rateLimit: { limit: 1000, remaining: 0, resetSeconds: 7, retryAfterSeconds: null },
    });
    expect(ok.meta.rateLimit).toEqual({ limit: 1000, remaining: 998, resetSeconds: 42, retryAfterSeconds: null });
  });

  it('fails an operation the provider does not define as ConnectionMisconfigured, without calling upstream', async () => {
    upstream.script();
    const failure = await failureOf(clientFor(clearbitProvider).call('crm.findAccounts', { domain: 'acme.com' }));
    expect(failure.type).toBe('ConnectionMisconfigured');
    expect(failure.nonRetryable).toBe(true);
    expect(upstream.received).toHaveLength(0);
  });
});
