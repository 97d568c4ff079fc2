import { ApplicationFailure } from '@temporalio/common';
import { classifyResponse, upstreamMessage, type UpstreamAnswer } from '../../src/connectors/classify';
import { UpstreamFailure } from '../../src/protocol/failures';
import { failureFromClassification, upstreamFailure, type UpstreamFailureDetails } from '../../src/connectors/failure';

const NOW_MS = Date.parse('2030-01-07T15:00:00.000Z');

/** Error bodies as each provider family sends them (unified: the sandbox's wire format). */
const UNIFIED_429 = { status: 429, error_code: 'RATE_LIMITED', message: 'Rate limit exceeded' };
const UNIFIED_500 = { status: 500, error_code: 'INTERNAL', message: 'upstream CRM timed out' };
const CLEARBIT_404 = { error: { type: 'unknown_record', message: 'no company is known for nowhere.example' } };
const SALESFORCE_LIMIT = [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }];

function answer(status: number, headers: Record<string, string> = {}, body: unknown = null): UpstreamAnswer {
  return { status, headers, body };
}

function detailsOf(failure: ApplicationFailure): UpstreamFailureDetails {
  const [details] = failure.details ?? [];
  return details as UpstreamFailureDetails;
}

describe('upstreamMessage', () => {
  it('extracts "code: message" from the unified {status, error_code, message} body', () => {
    expect(upstreamMessage(UNIFIED_429)).toBe('RATE_LIMITED: Rate limit exceeded');
  });

  it('extracts the nested Clearbit {error: {type, message}} body', () => {
    expect(upstreamMessage(CLEARBIT_404)).toBe('unknown_record: no company is known for nowhere.example');
  });

  it('joins the entries of a Salesforce error array', () => {
    expect(upstreamMessage(SALESFORCE_LIMIT)).toBe('REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.');
    expect(
      upstreamMessage([
        { errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Owner must be active' },
        { errorCode: 'INVALID_FIELD', message: 'No such column Tier__c' },
      ]),
    ).toBe('FIELD_CUSTOM_VALIDATION_EXCEPTION: Owner must be active; INVALID_FIELD: No such column Tier__c');
  });

  it('reads OAuth-style error_description and plain-text bodies, and gives up quietly on empty ones', () => {
    expect(upstreamMessage({ error: 'invalid_token', error_description: 'The access token expired' })).toBe('The access token expired');
    expect(upstreamMessage('Service Unavailable')).toBe('Service Unavailable');
    expect(upstreamMessage('x'.repeat(1000))).toHaveLength(300);
    expect(upstreamMessage(null)).toBe('');
    expect(upstreamMessage('')).toBe('');
    expect(upstreamMessage({})).toBe('');
  });
});

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204])('calls HTTP %d ok, not retried, with no wait', (status) => {
    const c = classifyResponse(answer(status, { 'ratelimit-remaining': '10', 'retry-after': '5' }), NOW_MS);
    expect(c).toMatchObject({ outcome: 'ok', retry: false, waitMs: null, status, reason: `HTTP ${status}` });
    expect(c.rateLimit.remaining).toBe(10);
  });

  it('calls a 429 with Retry-After rate_limited and waits what Retry-After says', () => {
    const c = classifyResponse(answer(429, { 'retry-after': '3' }, UNIFIED_429), NOW_MS);
    expect(c).toMatchObject({ outcome: 'rate_limited', retry: true, waitMs: 3000, status: 429 });
  });

  it('lets Retry-After win over ratelimit-reset on a 429', () => {
    const c = classifyResponse(
      answer(429, { 'ratelimit-limit': '1000', 'ratelimit-remaining': '0', 'ratelimit-reset': '60', 'retry-after': '3' }, UNIFIED_429),
      NOW_MS,
    );
    expect(c.waitMs).toBe(3000);
    expect(c.rateLimit).toEqual({ limit: 1000, remaining: 0, resetSeconds: 60, retryAfterSeconds: 3 });
  });

  it('reads an HTTP-date Retry-After relative to nowMs', () => {
    const c = classifyResponse(answer(429, { 'retry-after': 'Mon, 07 Jan 2030 15:00:07 GMT' }), NOW_MS);
    expect(c.waitMs).toBe(7000);
  });

  it('waits for the window reset on a 429 that only sends ratelimit-reset', () => {
    const c = classifyResponse(answer(429, { 'ratelimit-limit': '1000', 'ratelimit-remaining': '0', 'ratelimit-reset': '12' }), NOW_MS);
    expect(c).toMatchObject({ outcome: 'rate_limited', retry: true, waitMs: 12_000 });
  });

  it('waits for an epoch-style reset converted to a delay on a 429', () => {
    const c = classifyResponse(answer(429, { 'x-rate-limit-reset': String(NOW_MS / 1000 + 20) }), NOW_MS);
    expect(c.waitMs).toBe(20_000);
  });

  it('leaves the wait to the backoff on a 429 without any timing header', () => {
    const c = classifyResponse(answer(429, {}, UNIFIED_429), NOW_MS);
    expect(c).toMatchObject({ outcome: 'rate_limited', retry: true, waitMs: null });
    expect(c.reason).toBe('HTTP 429 rate limited; retry after backoff: RATE_LIMITED: Rate limit exceeded');
  });

  it('names the wait and the upstream message in the reason of a 429', () => {
    const c = classifyResponse(answer(429, { 'retry-after': '3' }, UNIFIED_429), NOW_MS);
    expect(c.reason).toBe('HTTP 429 rate limited; retry after 3000 ms: RATE_LIMITED: Rate limit exceeded');
  });

  it('calls a 503 with Retry-After transient and waits what it says', () => {
    const c = classifyResponse(answer(503, { 'retry-after': '8' }, { status: 503, error_code: 'INTERNAL', message: 'maintenance' }), NOW_MS);
    expect(c).toMatchObject({ outcome: 'transient', retry: true, waitMs: 8000, status: 503 });
    expect(c.reason).toBe('HTTP 503 upstream error: INTERNAL: maintenance');
  });

  it('calls a 500 transient and leaves the wait to the backoff, even with a window reset present', () => {
    const c = classifyResponse(answer(500, { 'ratelimit-reset': '60' }, UNIFIED_500), NOW_MS);
    expect(c).toMatchObject({ outcome: 'transient', retry: true, waitMs: null });
    expect(c.reason).toContain('INTERNAL: upstream CRM timed out');
  });

  it.each([502, 504, 408])('calls HTTP %d transient', (status) => {
    expect(classifyResponse(answer(status), NOW_MS)).toMatchObject({ outcome: 'transient', retry: true });
  });

  it.each([401, 403])('calls HTTP %d auth, never retried', (status) => {
    const c = classifyResponse(answer(status, { 'retry-after': '5' }, { status, error_code: 'UNAUTHORIZED', message: 'missing or invalid bearer token' }), NOW_MS);
    expect(c).toMatchObject({ outcome: 'auth', retry: false, waitMs: null });
    expect(c.reason).toBe(`HTTP ${status} not authorized: UNAUTHORIZED: missing or invalid bearer token`);
  });

  it('calls a 404 not_found, never retried, with the Clearbit message in the reason', () => {
    const c = classifyResponse(answer(404, {}, CLEARBIT_404), NOW_MS);
    expect(c).toMatchObject({ outcome: 'not_found', retry: false, waitMs: null });
    expect(c.reason).toBe('HTTP 404 not found: unknown_record: no company is known for nowhere.example');
  });

  it.each([400, 409, 422])('calls HTTP %d permanent, never retried', (status) => {
    const c = classifyResponse(answer(status, {}, { status, error_code: 'VALIDATION', message: 'owner_id: no CRM user has the id usr_x' }), NOW_MS);
    expect(c).toMatchObject({ outcome: 'permanent', retry: false, waitMs: null });
    expect(c.reason).toBe(`HTTP ${status} rejected: VALIDATION: owner_id: no CRM user has the id usr_x`);
  });

  it('keeps the reason short when the body says nothing', () => {
    expect(classifyResponse(answer(400), NOW_MS).reason).toBe('HTTP 400 rejected');
  });

  it('lets a provider signal turn a Salesforce 403 REQUEST_LIMIT_EXCEEDED into rate_limited', () => {
    const signal = { outcome: 'rate_limited' as const };
    const limited = classifyResponse(answer(403, {}, SALESFORCE_LIMIT), NOW_MS, { signal });
    expect(limited).toMatchObject({ outcome: 'rate_limited', retry: true, waitMs: null, status: 403 });
    expect(limited.reason).toBe('HTTP 403 rate limited; retry after backoff: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.');
    // Without a signal a limit 403 is an auth failure.
    expect(classifyResponse(answer(403, {}, SALESFORCE_LIMIT), NOW_MS).outcome).toBe('auth');
  });

  it('takes the wait a signal implies unless Retry-After gives one', () => {
    const signal = { outcome: 'rate_limited' as const, reason: 'policy TEN_SECONDLY_ROLLING', waitSeconds: 10 };
    expect(classifyResponse(answer(429, {}, {}), NOW_MS, { signal })).toMatchObject({ waitMs: 10_000, reason: 'HTTP 429 rate limited; retry after 10000 ms: policy TEN_SECONDLY_ROLLING' });
    expect(classifyResponse(answer(429, { 'retry-after': '3' }, {}), NOW_MS, { signal }).waitMs).toBe(3000);
    // The provider's policy knows better than a window header: a daily limit outlasts a 10 s window.
    const daily = { outcome: 'rate_limited' as const, reason: 'daily limit', waitSeconds: 3600 };
    expect(classifyResponse(answer(429, { 'ratelimit-reset': '10' }, {}), NOW_MS, { signal: daily }).waitMs).toBe(3_600_000);
  });

  it('lets a signal make a 200 an error (Slack ok:false) and keeps the status in the reason', () => {
    const c = classifyResponse(answer(200, {}, { ok: false, error: 'channel_not_found' }), NOW_MS, { signal: { outcome: 'permanent', reason: 'channel_not_found' } });
    expect(c).toMatchObject({ outcome: 'permanent', retry: false, reason: 'HTTP 200 rejected: channel_not_found' });
    expect(classifyResponse(answer(200, {}, { ok: false, error: 'internal_error' }), NOW_MS, { signal: { outcome: 'transient' } })).toMatchObject({ outcome: 'transient', retry: true });
  });

  it('uses the provider header names given in the options', () => {
    const c = classifyResponse(answer(429, { 'x-quota-reset-ms': '2500' }), NOW_MS, {
      rateLimitHeaders: { limit: [], remaining: [], reset: ['X-Quota-Reset-Ms'], resetUnit: 'delay-ms' },
    });
    expect(c.waitMs).toBe(3000);
  });
});

describe('failureFromClassification', () => {
  const cases: Array<[string, UpstreamAnswer, string, boolean]> = [
    ['429', answer(429, { 'retry-after': '3' }, UNIFIED_429), UpstreamFailure.RateLimited, true],
    ['503', answer(503, {}, UNIFIED_500), UpstreamFailure.Unavailable, true],
    ['401', answer(401), UpstreamFailure.AuthFailed, false],
    ['404', answer(404, {}, CLEARBIT_404), UpstreamFailure.NotFound, false],
    ['422', answer(422), UpstreamFailure.Rejected, false],
  ];

  it.each(cases)('turns a classified %s into the right type, retryable or not', (_label, a, type, retryable) => {
    const c = classifyResponse(a, NOW_MS);
    const failure = failureFromClassification('unified', 'crm.findAccounts', c);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(!retryable);
    expect(failure.nonRetryable).toBe(!c.retry);
    expect(failure.message).toBe(`unified crm.findAccounts: ${c.reason}`);
  });

  it('sets nextRetryDelay to the upstream wait, in milliseconds as a number', () => {
    const c = classifyResponse(answer(429, { 'retry-after': '3', 'ratelimit-reset': '60' }, UNIFIED_429), NOW_MS);
    const failure = failureFromClassification('unified', 'crm.findAccounts', c);
    expect(failure.nextRetryDelay).toBe(3000);
    expect(typeof failure.nextRetryDelay).toBe('number');
  });

  it('sets nextRetryDelay from the reset when a 429 has no Retry-After, and from Retry-After on a 503', () => {
    const reset = failureFromClassification('unified', 'op', classifyResponse(answer(429, { 'ratelimit-reset': '12' }), NOW_MS));
    expect(reset.nextRetryDelay).toBe(12_000);
    const unavailable = failureFromClassification('unified', 'op', classifyResponse(answer(503, { 'retry-after': '8' }), NOW_MS));
    expect(unavailable.nextRetryDelay).toBe(8000);
  });

  it('keeps nextRetryDelay positive when the upstream says to retry immediately', () => {
    const failure = failureFromClassification('unified', 'op', classifyResponse(answer(429, { 'retry-after': '0' }), NOW_MS));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(1);
  });

  it('leaves nextRetryDelay unset when there is no upstream wait, or no retry', () => {
    const noWait = failureFromClassification('unified', 'op', classifyResponse(answer(500), NOW_MS));
    expect(noWait.nonRetryable).toBe(false);
    expect(noWait.nextRetryDelay).toBeUndefined();
    const noRetry = failureFromClassification('unified', 'op', classifyResponse(answer(401, { 'retry-after': '5' }), NOW_MS));
    expect(noRetry.nonRetryable).toBe(true);
    expect(noRetry.nextRetryDelay).toBeUndefined();
  });

  it('carries provider, operation, status, wait and rate-limit state in details[0]', () => {
    const c = classifyResponse(
      answer(429, { 'ratelimit-limit': '1000', 'ratelimit-remaining': '0', 'ratelimit-reset': '60', 'retry-after': '3' }, UNIFIED_429),
      NOW_MS,
    );
    const failure = failureFromClassification('unified', 'crm.createLead', c);
    expect(failure.details).toHaveLength(1);
    expect(detailsOf(failure)).toEqual({
      provider: 'unified',
      operation: 'crm.createLead',
      status: 429,
      reason: c.reason,
      waitMs: 3000,
      rateLimit: { limit: 1000, remaining: 0, resetSeconds: 60, retryAfterSeconds: 3 },
    });
  });

  it('never carries a secret the answer came with', () => {
    const secretHeaders = {
      authorization: 'Bearer s3cret',
      'set-cookie': 'session=s3cret; HttpOnly',
      'x-api-key': 's3cret',
      'retry-after': '3',
    };
    const failure = failureFromClassification('unified', 'crm.findAccounts', classifyResponse(answer(429, secretHeaders, UNIFIED_429), NOW_MS));
    const serialized = JSON.stringify({ message: failure.message, details: failure.details, type: failure.type });
    expect(serialized).not.toContain('s3cret');
    expect(Object.keys(detailsOf(failure)).sort()).toEqual(['operation', 'provider', 'rateLimit', 'reason', 'status', 'waitMs']);
  });

  it('refuses to turn an ok answer into a failure', () => {
    expect(() => failureFromClassification('unified', 'op', classifyResponse(answer(200), NOW_MS))).toThrow('an ok answer is not a failure');
  });
});

describe('upstreamFailure', () => {
  it('builds a failure without an HTTP status, retryable as asked', () => {
    const network = upstreamFailure(UpstreamFailure.Network, 'unified', 'crm.findAccounts', 'fetch failed (ECONNREFUSED)', true);
    expect(network.type).toBe('UpstreamNetworkError');
    expect(network.nonRetryable).toBe(false);
    expect(network.nextRetryDelay).toBeUndefined();
    expect(detailsOf(network)).toEqual({
      provider: 'unified',
      operation: 'crm.findAccounts',
      status: null,
      reason: 'fetch failed (ECONNREFUSED)',
      waitMs: null,
      rateLimit: null,
    });
    expect(upstreamFailure(UpstreamFailure.Mapping, 'unified', 'op', 'bad', false).nonRetryable).toBe(true);
  });
});
