import {
  DEFAULT_RATE_LIMIT_HEADERS,
  headerNumber,
  lowerCaseHeaders,
  normalizeRateLimit,
  parseRetryAfter,
  toResetSeconds,
  type RateLimitHeaderNames,
} from '../../src/connectors/ratelimit';

/** A fixed clock: 2030-01-07T15:00:00Z, i.e. epoch second 1_894_028_400. */
const NOW_MS = Date.parse('2030-01-07T15:00:00.000Z');
const NOW_S = NOW_MS / 1000;

describe('normalizeRateLimit', () => {
  it('reads the IETF ratelimit-limit / -remaining / -reset fields as delay-seconds', () => {
    const state = normalizeRateLimit(
      { 'ratelimit-limit': '100', 'ratelimit-remaining': '42', 'ratelimit-reset': '17' },
      NOW_MS,
    );
    expect(state).toEqual({ limit: 100, remaining: 42, resetSeconds: 17, retryAfterSeconds: null });
  });

  it('reads x-ratelimit-* fields when the IETF ones are absent', () => {
    const state = normalizeRateLimit(
      { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4987', 'x-ratelimit-reset': '30' },
      NOW_MS,
    );
    expect(state).toEqual({ limit: 5000, remaining: 4987, resetSeconds: 30, retryAfterSeconds: null });
  });

  it('prefers the IETF field over x-ratelimit-* when a provider sends both', () => {
    const state = normalizeRateLimit(
      { 'RateLimit-Limit': '60', 'X-RateLimit-Limit': '5000', 'RateLimit-Remaining': '1', 'X-RateLimit-Remaining': '4000' },
      NOW_MS,
    );
    expect(state.limit).toBe(60);
    expect(state.remaining).toBe(1);
  });

  it('converts an Okta-style x-rate-limit-reset (UTC epoch seconds) into seconds from now', () => {
    const state = normalizeRateLimit(
      { 'X-Rate-Limit-Limit': '600', 'X-Rate-Limit-Remaining': '598', 'X-Rate-Limit-Reset': String(NOW_S + 45) },
      NOW_MS,
    );
    expect(state).toEqual({ limit: 600, remaining: 598, resetSeconds: 45, retryAfterSeconds: null });
  });

  it('converts a GitHub-style x-ratelimit-reset epoch into a delay, rounding a part-second up', () => {
    // 500 ms into the second: 59.5 s remain until the reset instant, reported as 60.
    const state = normalizeRateLimit({ 'x-ratelimit-reset': String(NOW_S + 60) }, NOW_MS + 500);
    expect(state.resetSeconds).toBe(60);
  });

  it('reports an epoch reset that is already in the past as 0, never negative', () => {
    const state = normalizeRateLimit({ 'x-rate-limit-reset': String(NOW_S - 120) }, NOW_MS);
    expect(state.resetSeconds).toBe(0);
  });

  it("honours an explicit resetUnit 'epoch-seconds' on custom header names", () => {
    const names: RateLimitHeaderNames = {
      limit: ['X-Quota-Limit'],
      remaining: ['X-Quota-Remaining'],
      reset: ['X-Quota-Reset-At'],
      resetUnit: 'epoch-seconds',
    };
    const state = normalizeRateLimit(
      { 'x-quota-limit': '10', 'x-quota-remaining': '0', 'x-quota-reset-at': String(NOW_S + 9) },
      NOW_MS,
      names,
    );
    expect(state).toEqual({ limit: 10, remaining: 0, resetSeconds: 9, retryAfterSeconds: null });
  });

  it("honours an explicit resetUnit 'delay-ms', rounding up to whole seconds", () => {
    const names: RateLimitHeaderNames = { limit: [], remaining: [], reset: ['x-ratelimit-reset-ms'], resetUnit: 'delay-ms' };
    expect(normalizeRateLimit({ 'x-ratelimit-reset-ms': '1500' }, NOW_MS, names).resetSeconds).toBe(2);
    expect(normalizeRateLimit({ 'x-ratelimit-reset-ms': '3000' }, NOW_MS, names).resetSeconds).toBe(3);
  });

  it('ignores headers that are not in the configured names', () => {
    const names: RateLimitHeaderNames = { limit: ['x-quota-limit'], remaining: ['x-quota-remaining'], reset: ['x-quota-reset'] };
    const state = normalizeRateLimit({ 'ratelimit-limit': '100', 'ratelimit-remaining': '5', 'ratelimit-reset': '7' }, NOW_MS, names);
    expect(state).toEqual({ limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: null });
  });

  it("takes the number out of a dict-like value such as {'minute': 99}", () => {
    const state = normalizeRateLimit({ 'x-ratelimit-remaining': "{'minute': 99}", 'x-ratelimit-limit': "{'minute': 100}" }, NOW_MS);
    expect(state.remaining).toBe(99);
    expect(state.limit).toBe(100);
  });

  it('takes the first quota out of a list value such as "100, 100;w=60" (the w parameter is not a quota)', () => {
    const state = normalizeRateLimit({ 'ratelimit-limit': '100, 100;w=60', 'ratelimit-remaining': '42' }, NOW_MS);
    expect(state.limit).toBe(100);
    expect(state.remaining).toBe(42);
  });

  it('reads the structured RateLimit / RateLimit-Policy fields of the later IETF drafts', () => {
    const state = normalizeRateLimit(
      { RateLimit: '"default";r=50;t=30', 'RateLimit-Policy': '"default";q=100;w=60' },
      NOW_MS,
    );
    expect(state).toEqual({ limit: 100, remaining: 50, resetSeconds: 30, retryAfterSeconds: null });
  });

  it('lets the plain fields win over the structured ones when both are present', () => {
    const state = normalizeRateLimit(
      { 'ratelimit-remaining': '7', 'ratelimit-reset': '5', ratelimit: '"default";r=50;t=30', 'ratelimit-policy': '"default";q=100;w=60' },
      NOW_MS,
    );
    expect(state).toEqual({ limit: 100, remaining: 7, resetSeconds: 5, retryAfterSeconds: null });
  });

  it('parses Retry-After alongside the window fields', () => {
    const state = normalizeRateLimit({ 'ratelimit-reset': '60', 'retry-after': '3' }, NOW_MS);
    expect(state.resetSeconds).toBe(60);
    expect(state.retryAfterSeconds).toBe(3);
  });

  it('reports all nulls for garbage values and for no headers at all', () => {
    const empty = { limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: null };
    expect(normalizeRateLimit({}, NOW_MS)).toEqual(empty);
    expect(
      normalizeRateLimit(
        { 'ratelimit-limit': 'unlimited', 'ratelimit-remaining': '', 'ratelimit-reset': 'soon', 'retry-after': 'later please' },
        NOW_MS,
      ),
    ).toEqual(empty);
  });

  it('matches header names case-insensitively, whatever the spelling on either side', () => {
    const names: RateLimitHeaderNames = { limit: ['X-App-Limit'], remaining: ['x-APP-remaining'], reset: ['X-App-Reset'] };
    const state = normalizeRateLimit({ 'x-app-LIMIT': '20', 'X-App-Remaining': '19', 'x-app-reset': '8', 'RETRY-AFTER': '4' }, NOW_MS, names);
    expect(state).toEqual({ limit: 20, remaining: 19, resetSeconds: 8, retryAfterSeconds: 4 });
    expect(normalizeRateLimit({ 'RATELIMIT-LIMIT': '9', 'RateLimit-Remaining': '8' }, NOW_MS)).toMatchObject({ limit: 9, remaining: 8 });
  });

  it('skips undefined header values', () => {
    expect(normalizeRateLimit({ 'ratelimit-limit': undefined, 'x-ratelimit-limit': '70' }, NOW_MS).limit).toBe(70);
  });

  it('lists the IETF names first in the defaults', () => {
    expect(DEFAULT_RATE_LIMIT_HEADERS.limit[0]).toBe('ratelimit-limit');
    expect(DEFAULT_RATE_LIMIT_HEADERS.reset).toEqual(expect.arrayContaining(['x-ratelimit-reset', 'x-rate-limit-reset']));
  });
});

describe('lowerCaseHeaders', () => {
  it('accepts a fetch Headers iterator as well as a plain object', () => {
    const headers = new Headers({ 'RateLimit-Limit': '10', 'Retry-After': '2' });
    expect(lowerCaseHeaders(headers.entries())).toEqual({ 'ratelimit-limit': '10', 'retry-after': '2' });
    expect(lowerCaseHeaders({ 'X-A': '1', 'X-B': undefined })).toEqual({ 'x-a': '1' });
  });
});

describe('headerNumber', () => {
  it.each<[string, number]>([
    ['100', 100],
    ['  42 ', 42],
    ['0', 0],
    ['2.5', 2.5],
    ["{'minute': 99}", 99],
    ["{'minute': 99, 'hour': 950}", 99],
    ['100, 100;w=60', 100],
    ['100;w=60, 10;w=1', 10],
    ['600;w=3600', 600],
  ])('reads %j as %d', (value, expected) => {
    expect(headerNumber(value)).toBe(expected);
  });

  it.each(['', '   ', 'unlimited', 'n/a'])('reads %j as null', (value) => {
    expect(headerNumber(value)).toBeNull();
  });

  it('reads an absent header as null', () => {
    expect(headerNumber(undefined)).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW_MS)).toBe(120);
    expect(parseRetryAfter(' 3 ', NOW_MS)).toBe(3);
    expect(parseRetryAfter('0', NOW_MS)).toBe(0);
  });

  it('reads an RFC 9110 IMF-fixdate as seconds from nowMs', () => {
    expect(parseRetryAfter('Mon, 07 Jan 2030 15:00:30 GMT', NOW_MS)).toBe(30);
    expect(parseRetryAfter('Mon, 07 Jan 2030 15:02:00 GMT', NOW_MS)).toBe(120);
  });

  it('rounds an HTTP-date that is a part-second away up to a whole second', () => {
    expect(parseRetryAfter('Mon, 07 Jan 2030 15:00:30 GMT', NOW_MS + 250)).toBe(30);
    expect(parseRetryAfter('Mon, 07 Jan 2030 15:00:01 GMT', NOW_MS + 999)).toBe(1);
  });

  it('reports an HTTP-date in the past as 0', () => {
    expect(parseRetryAfter('Mon, 07 Jan 2030 14:59:00 GMT', NOW_MS)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW_MS)).toBe(0);
  });

  it('reports garbage, empty and absent values as null', () => {
    expect(parseRetryAfter('soon', NOW_MS)).toBeNull();
    expect(parseRetryAfter('in 5 minutes', NOW_MS)).toBeNull();
    expect(parseRetryAfter('12abc', NOW_MS)).toBeNull();
    expect(parseRetryAfter('', NOW_MS)).toBeNull();
    expect(parseRetryAfter('  ', NOW_MS)).toBeNull();
    expect(parseRetryAfter(undefined, NOW_MS)).toBeNull();
  });
});

describe('toResetSeconds', () => {
  it('treats small values as delay-seconds and epoch-looking values as epoch seconds when no unit is given', () => {
    expect(toResetSeconds(30, undefined, NOW_MS)).toBe(30);
    expect(toResetSeconds(NOW_S + 30, undefined, NOW_MS)).toBe(30);
  });

  it('uses the explicit unit over the heuristic', () => {
    expect(toResetSeconds(NOW_S + 30, 'epoch-seconds', NOW_MS)).toBe(30);
    expect(toResetSeconds(2_000_000_000, 'delay-seconds', NOW_MS)).toBe(2_000_000_000);
    expect(toResetSeconds(2500, 'delay-ms', NOW_MS)).toBe(3);
  });

  it('never returns a negative delay', () => {
    expect(toResetSeconds(NOW_S - 10, 'epoch-seconds', NOW_MS)).toBe(0);
    expect(toResetSeconds(-5, 'delay-seconds', NOW_MS)).toBe(0);
    expect(toResetSeconds(-500, 'delay-ms', NOW_MS)).toBe(0);
  });
});
