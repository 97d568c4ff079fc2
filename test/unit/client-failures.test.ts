import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { clearbitProvider } from '../../src/connectors/providers/clearbit';
import { parseRetryAfter } from '../../src/connectors/ratelimit';

/** An upstream that sends its headers at once and its body only after `bodyDelayMs`, or drops the connection mid-body. */
let server: Server;
let baseUrl: string;
let mode: 'slow-body' | 'reset-mid-body' | 'zero-employees' = 'slow-body';

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (mode === 'zero-employees') {
      res.end(JSON.stringify({ name: '', domain: 'tiny.io', metrics: { employees: 0, annualRevenue: 0 } }));
      return;
    }
    res.write('{"name":');
    if (mode === 'reset-mid-body') setTimeout(() => res.destroy(), 20);
    else setTimeout(() => res.end('"Acme"}'), 800);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (options: ClientOptions = {}) =>
  new ProviderClient(compileProvider(clearbitProvider, { timeoutMs: 200 }), { connectionId: 't/c', baseUrl, accountId: null, secret: 'k' }, options);

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('upstream failures while the body is read', () => {
  it('reports a body slower than the timeout as a retryable UpstreamTimeout', async () => {
    mode = 'slow-body';
    const err = await failure(client().call('enrichment.company', { domain: 'acme.com' }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'UpstreamTimeout', nonRetryable: false });
  });

  it('reports a connection dropped mid-body as a retryable UpstreamNetworkError', async () => {
    mode = 'reset-mid-body';
    const err = await failure(client().call('enrichment.company', { domain: 'acme.com' }));
    expect(err).toMatchObject({ type: 'UpstreamNetworkError', nonRetryable: false });
  });

  it('lets an activity cancellation through as the cancellation, not as a retryable failure', async () => {
    mode = 'slow-body';
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    setTimeout(() => controller.abort(reason), 50);
    const err = await failure(client({ signal: controller.signal }).call('enrichment.company', { domain: 'acme.com' }));
    expect(err).toBe(reason);
  });
});

describe('mapping edge cases', () => {
  it('keeps zero and empty values instead of turning them into null', async () => {
    mode = 'zero-employees';
    const result = await client().call('enrichment.company', { domain: 'tiny.io' });
    expect(result.data).toMatchObject({ status: 'found', company: { name: '', employees: 0, annualRevenue: 0 } });
  });
});

describe('Retry-After parsing', () => {
  const now = Date.parse('2026-11-21T12:00:00Z');
  it.each(['-1', '1 2', 'May 5', 'soon', '2026-11-21T12:00:10Z'])('ignores %p rather than reading it as "retry now"', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });

  it('accepts the three HTTP-date forms', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 12:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfter('Saturday, 21-Nov-26 12:00:20 GMT', now)).toBe(20);
    expect(parseRetryAfter('Sat Nov 21 12:00:30 2026', now)).toBe(30);
  });
});
