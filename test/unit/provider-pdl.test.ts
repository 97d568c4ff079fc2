import { ProviderClient } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { pdlProvider } from '../../src/connectors/providers/pdl';
import { DEMO_TOKEN, demoWorkspace } from '../../sandbox/seed';
import { failureOf, detailsOf } from '../support/failures';
import { useSandbox } from '../support/sandbox';

/**
 * The sandbox clock is fixed in 2030 while JSONata's `$millis()` is the real clock: the exact
 * rate-limit waits below prove the wait is read from PDL's own reset and Date headers.
 */
const START = Date.parse('2030-01-07T15:00:00.000Z');
const clock = () => START;

const sandbox = useSandbox({ workspaces: [demoWorkspace(new Date(START))], now: clock });

beforeEach(() => sandbox.clearEvents());

function pdl(key: string = DEMO_TOKEN): ProviderClient {
  return new ProviderClient(compileProvider(pdlProvider), { connectionId: 'acme/pdl', baseUrl: sandbox.url, accountId: null, secret: key }, { now: clock });
}

const enrich = (domain: string, key?: string) => pdl(key).call('enrichment.company', { domain });

describe('pdl company enrichment', () => {
  it('maps a flat PDL company record onto the normalized company facts', async () => {
    const result = await enrich('acme.com');
    expect(result.data).toEqual({
      status: 'found',
      company: {
        name: 'Acme Corporation',
        domain: 'acme.com',
        industry: 'manufacturing',
        sector: null,
        country: 'united states',
        countryCode: 'US',
        state: 'new york',
        employees: 5400,
        employeesRange: '5001-10000',
        // PDL only infers a revenue range ("$1B-$10B"): its lower bound is the figure.
        annualRevenue: 1_000_000_000,
      },
    });
    expect(sandbox.events()).toMatchObject([
      { provider: 'pdl', system: 'enrichment', method: 'GET', path: '/v5/company/enrich', query: { website: 'acme.com', min_likelihood: '2' }, status: 200 },
    ]);
  });

  it("answers PDL's documented inferred_revenue ranges and maps each to its lower bound (null without one)", async () => {
    // One company inside each documented range (docs.peopledatalabs.com, "Inferred Revenue Ranges"), plus one without revenue.
    const ranges: Array<[number, string, number]> = [
      [400_000, '$0-$1M', 0],
      [5e6, '$1M-$10M', 1e6],
      [12e6, '$10M-$25M', 10e6],
      [30e6, '$25M-$50M', 25e6],
      [75e6, '$50M-$100M', 50e6],
      [150e6, '$100M-$250M', 100e6],
      [300e6, '$250M-$500M', 250e6],
      [750e6, '$500M-$1B', 500e6],
      [4e9, '$1B-$10B', 1e9],
      [25e9, '$10B+', 10e9],
    ];
    const base = demoWorkspace(new Date(START));
    const template = base.companies[0];
    if (!template) throw new Error('the demo workspace has no companies');
    const companies = ranges.map(([revenue], i) => ({ ...template, domain: `revenue-${i}.example`, name: `Revenue ${i}`, annualRevenue: revenue }));
    const { annualRevenue: _none, ...withoutRevenue } = template;
    sandbox.addWorkspace({ ...base, id: 'pdl-revenue', token: 'pdl-revenue-key', companies: [...companies, { ...withoutRevenue, domain: 'no-revenue.example' }] });

    for (const [i, [, , floor]] of ranges.entries()) {
      const result = await enrich(`revenue-${i}.example`, 'pdl-revenue-key');
      expect(result.data).toMatchObject({ status: 'found', company: { annualRevenue: floor } });
    }
    const answered = await Promise.all(
      ranges.map(async (_r, i) => {
        const res = await fetch(`${sandbox.url}/v5/company/enrich?website=revenue-${i}.example`, { headers: { 'x-api-key': 'pdl-revenue-key' } });
        return ((await res.json()) as { inferred_revenue?: unknown }).inferred_revenue;
      }),
    );
    expect(answered).toEqual(ranges.map(([, range]) => range));
    expect(await enrich('no-revenue.example', 'pdl-revenue-key')).toMatchObject({ data: { status: 'found', company: { annualRevenue: null } } });
  });

  it('finds a company from a full website URL and maps a country without a region', async () => {
    const result = await enrich('https://www.Wayne-Enterprises.com/about');
    expect(result.data).toMatchObject({ status: 'found', company: { domain: 'wayne-enterprises.com', country: 'singapore', countryCode: 'SG', state: null, employeesRange: '10001+' } });
  });

  it('answers 404 not_found as an enrichment result, not a failure', async () => {
    const result = await enrich('nowhere.example');
    expect(result.data).toEqual({ status: 'not_found', reason: 'no company record for nowhere.example' });
    expect(result.meta.status).toBe(404);
  });

  it("normalizes the dict-like limit headers ({'minute': 100}, {'minute': 99}) to limit 100, remaining 99", async () => {
    sandbox.addWorkspace({ ...demoWorkspace(new Date(START)), id: 'pdl-100', token: 'pdl-key-100-fake', rateLimit: { limit: 100, windowSeconds: 60 } });
    const result = await enrich('globex.com', 'pdl-key-100-fake');
    // The reset is a UTC timestamp the header normalization cannot read: it only becomes a wait on a 429.
    expect(result.meta.rateLimit).toEqual({ limit: 100, remaining: 99, resetSeconds: null, retryAfterSeconds: null });

    const res = await fetch(`${sandbox.url}/v5/company/enrich?website=globex.com`, { headers: { 'x-api-key': 'pdl-key-100-fake' } });
    expect(res.headers.get('x-ratelimit-limit')).toBe("{'minute': 100}");
    expect(res.headers.get('x-ratelimit-remaining')).toBe("{'minute': 98}");
    expect(res.headers.get('x-ratelimit-reset')).toBe('2030-01-07T15:01:00Z');
    expect(res.headers.get('date')).toBe('Mon, 07 Jan 2030 15:00:00 GMT');
  });

  it('signals its limit with 429 rate_limit_error: a retryable UpstreamRateLimited waiting until x-ratelimit-reset', async () => {
    sandbox.addWorkspace({ ...demoWorkspace(new Date(START)), id: 'pdl-tight', token: 'pdl-key-tight-fake', rateLimit: { limit: 1, windowSeconds: 30 } });
    await enrich('acme.com', 'pdl-key-tight-fake');
    const failure = await failureOf(enrich('acme.com', 'pdl-key-tight-fake'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(30_000);
    expect(detailsOf(failure)).toMatchObject({
      status: 429,
      waitMs: 30_000,
      reason: 'HTTP 429 rate limited; retry after 30000 ms: rate_limit_error: An error occurred due to requests hitting the API too quick',
      rateLimit: { limit: 1, remaining: 0, retryAfterSeconds: null },
    });
  });

  it.each([
    ['a reset 42 s after its Date', '2030-01-07T15:00:42Z', 42_000],
    ["no readable reset: PDL's 60 s window", 'soon', 60_000],
  ])('waits out a 429 with %s', async (_case, reset, waitMs) => {
    // Injected: a 429 without Retry-After, whatever the workspace window says.
    sandbox.injectFault({ provider: 'pdl', status: 429, headers: { 'Retry-After': '', 'x-ratelimit-reset': reset }, times: 1 });
    const failure = await failureOf(enrich('acme.com'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nextRetryDelay).toBe(waitMs);
    expect(detailsOf(failure).rateLimit?.retryAfterSeconds).toBeNull();
  });

  it('fails on a bad API key with 401 authentication_error: non-retryable UpstreamAuthFailed', async () => {
    const failure = await failureOf(enrich('acme.com', 'pdl-wrong-key-fake'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 401, reason: 'HTTP 401 not authorized: authentication_error: The API key provided is invalid' });
    expect(JSON.stringify(failure.details)).not.toContain('pdl-wrong-key-fake');
  });

  it('fails on 402 payment_required (credits used up) as a non-retryable UpstreamRejected', async () => {
    sandbox.injectFault({ provider: 'pdl', status: 402, times: 1 });
    const failure = await failureOf(enrich('acme.com'));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 402, reason: 'HTTP 402 rejected: payment_required: injected fault' });
  });

  it('fails on a request without a website as 400 invalid_request_error: non-retryable UpstreamRejected', async () => {
    const failure = await failureOf(enrich(''));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).reason).toContain('HTTP 400 rejected: invalid_request_error');
  });

  it('treats a 5xx api_error as a retryable UpstreamUnavailable', async () => {
    sandbox.injectFault({ provider: 'pdl', status: 500, times: 1 });
    const failure = await failureOf(enrich('acme.com'));
    expect(failure.type).toBe('UpstreamUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(detailsOf(failure).reason).toBe('HTTP 500 upstream error: api_error: injected fault');
  });
});
