import { ProviderClient } from '../../src/connectors/client';
import { compileProvider, type DefinitionOverride } from '../../src/connectors/definition';
import { oktaProvider } from '../../src/connectors/providers/okta';
import { searchEmails } from '../../sandbox/providers/okta';
import { DEMO_REPS, DEMO_TOKEN, demoWorkspace } from '../../sandbox/seed';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf } from '../support/failures';
import { recordingFetch, useSandbox, type RecordedAnswer } from '../support/sandbox';

/** Okta connector against its emulator over real loopback HTTP. */
const seed = demoWorkspace(new Date());
const [ava, ben, , dieter, mei] = DEMO_REPS;

const sandbox = useSandbox({ workspaces: [seed] });

/** A client whose answers are kept (status, headers, body), to compare failures with what Okta said. */
function client(opts: { token?: string; override?: DefinitionOverride } = {}): { client: ProviderClient; answers: RecordedAnswer[] } {
  const { fetch: recording, answers } = recordingFetch();
  const target = { connectionId: 't/okta', baseUrl: sandbox.url, accountId: null, secret: opts.token ?? DEMO_TOKEN };
  return { client: new ProviderClient(compileProvider(oktaProvider, opts.override), target, { fetch: recording }), answers };
}

const findEmployees = (c: ProviderClient, emails: string[]) => c.call('hris.findEmployees', { emails });

/** The platform's search expression, with a smaller page size: the emulator then pages. */
function pageSize(limit: number): DefinitionOverride {
  const query = oktaProvider.operations['hris.findEmployees']?.query ?? '';
  return { operations: { 'hris.findEmployees': { query: `$merge([${query}, { "limit": ${limit} }])` } } };
}

describe('okta hris.findEmployees', () => {
  it("finds users by email (any case) with their status as employment and the profile's IANA zone", async () => {
    const { client: c, answers } = client();
    const result = await findEmployees(c, [ava.email, mei.email.toUpperCase(), 'nobody@demo-sales.example']);
    expect(result.data).toEqual([
      { id: ava.employeeId, email: ava.email, employmentStatus: 'ACTIVE', timezone: ava.timezone, timeOff: [] },
      { id: mei.employeeId, email: mei.email, employmentStatus: 'ACTIVE', timezone: mei.timezone, timeOff: [] },
    ]);
    const [search] = sandbox.events().filter((e) => e.provider === 'okta').slice(-1);
    expect(search?.query).toEqual({
      search: `profile.email eq "${ava.email}" or profile.email eq "${mei.email.toUpperCase()}" or profile.email eq "nobody@demo-sales.example"`,
      limit: '200',
    });
    // X-Rate-Limit-Reset is epoch seconds: normalized to a delay within the 60 s window.
    const reset = Number(answers[0]?.headers.get('x-rate-limit-reset'));
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(result.meta.rateLimit).toMatchObject({ limit: 1000, remaining: 999, retryAfterSeconds: null });
    expect(result.meta.rateLimit.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(result.meta.rateLimit.resetSeconds).toBeLessThanOrEqual(60);
  });

  it('maps suspended users to INACTIVE and deprovisioned ones to TERMINATED', async () => {
    const ws: SandboxWorkspace = {
      ...seed,
      id: 'okta-lifecycle',
      token: 'okta-lifecycle-token',
      employees: seed.employees.map((e) =>
        e.email === ben.email ? { ...e, status: 'INACTIVE' as const } : e.email === dieter.email ? { ...e, status: 'TERMINATED' as const } : e,
      ),
    };
    sandbox.addWorkspace(ws);
    const { client: c, answers } = client({ token: ws.token });
    const result = await findEmployees(c, [ben.email, dieter.email]);
    expect((answers[0]?.body as Array<{ status: string }>).map((u) => u.status)).toEqual(['SUSPENDED', 'DEPROVISIONED']);
    expect(result.data.map((e) => [e.email, e.employmentStatus])).toEqual([
      [ben.email, 'INACTIVE'],
      [dieter.email, 'TERMINATED'],
    ]);
  });

  it('follows the Link rel="next" URLs page after page, keeping the search, until no next link is left', async () => {
    const { client: c, answers } = client({ override: pageSize(2) });
    const emails = DEMO_REPS.map((r) => r.email);
    const result = await findEmployees(c, emails);

    expect(result.data.map((e) => e.email)).toEqual(emails);
    expect(result.meta.pages).toBe(3);
    const links = answers.map((a) => a.headers.get('link') ?? '');
    expect(links[0]).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/api\/v1\/users\?[^>]+>; rel="self", <[^>]+after=emp_ben[^>]*>; rel="next"$/);
    expect(links[2]).not.toContain('rel="next"');
    const queries = sandbox.events().filter((e) => e.provider === 'okta').slice(-3).map((e) => e.query);
    expect(queries.map((q) => q['after'])).toEqual([undefined, ben.employeeId, dieter.employeeId]);
    for (const q of queries) expect(q['search']).toBe(emails.map((e) => `profile.email eq "${e}"`).join(' or '));
  });

  it('escapes quotes and backslashes inside the search values, so odd emails still match', async () => {
    const odd = 'o"brien\\sales@demo-sales.example';
    const ws: SandboxWorkspace = {
      ...seed,
      id: 'okta-odd',
      token: 'okta-odd-token',
      employees: [{ id: 'emp_obrien', email: odd, name: "Pat O'Brien", status: 'ACTIVE', timezone: 'Europe/Dublin', timeOff: [] }],
    };
    sandbox.addWorkspace(ws);
    const { client: c } = client({ token: ws.token });
    const result = await findEmployees(c, [odd]);
    expect(result.data).toEqual([{ id: 'emp_obrien', email: odd, employmentStatus: 'ACTIVE', timezone: 'Europe/Dublin', timeOff: [] }]);
    const [search] = sandbox.events().filter((e) => e.provider === 'okta').slice(-1);
    expect(search?.query['search']).toBe('profile.email eq "o\\"brien\\\\sales@demo-sales.example"');
  });

  it('fails a search Okta cannot parse as non-retryable UpstreamRejected with E0000031', async () => {
    const { client: c, answers } = client({ override: { operations: { 'hris.findEmployees': { query: '{ "search": "profile.login sw \\"ava\\"" }' } } } });
    const failure = await failureOf(findEmployees(c, [ava.email]));
    expect(answers[0]?.status).toBe(400);
    expect(answers[0]?.body).toMatchObject({ errorCode: 'E0000031', errorSummary: 'Invalid search criteria.', errorCauses: [] });
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('E0000031: Invalid search criteria.');
  });
});

describe('okta errors and limits', () => {
  it('fails a wrong API token as non-retryable UpstreamAuthFailed with E0000011', async () => {
    const { client: c, answers } = client({ token: 'not-a-token' });
    const failure = await failureOf(findEmployees(c, [ava.email]));
    expect(answers[0]?.status).toBe(401);
    expect(answers[0]?.body).toMatchObject({ errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011' });
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('E0000011: Invalid token provided');
    expect(failure.message).not.toContain('not-a-token');
  });

  it('turns the E0000047 429 into UpstreamRateLimited waiting until the epoch X-Rate-Limit-Reset', async () => {
    const tight: SandboxWorkspace = { ...seed, id: 'okta-tight', token: 'okta-tight-token', rateLimit: { limit: 1, windowSeconds: 30 } };
    sandbox.addWorkspace(tight);
    const { client: c, answers } = client({ token: tight.token });
    await findEmployees(c, [ava.email]);
    const failure = await failureOf(findEmployees(c, [ava.email]));

    const limited = answers[1];
    expect(limited?.status).toBe(429);
    expect(limited?.body).toMatchObject({ errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' });
    // Okta says when, not how long: no Retry-After, only the window's end in epoch seconds.
    expect(limited?.headers.get('retry-after')).toBeNull();
    expect(limited?.headers.get('x-rate-limit-remaining')).toBe('0');
    const resetMs = Number(limited?.headers.get('x-rate-limit-reset')) * 1000;
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(typeof failure.nextRetryDelay).toBe('number');
    expect(Math.abs(Number(failure.nextRetryDelay) - (resetMs - (limited?.at ?? 0)))).toBeLessThanOrEqual(1000);
    expect(Number(failure.nextRetryDelay)).toBeGreaterThan(0);
    expect(failure.message).toContain('E0000047');
  });
});

describe('okta search emulation', () => {
  it('reads or-joined profile.email eq clauses, unescaping quoted values', () => {
    expect(searchEmails('profile.email eq "a@x.example" or profile.email eq "o\\"brien\\\\x@y.example"')).toEqual(['a@x.example', 'o"brien\\x@y.example']);
  });

  it('rejects anything else as Okta does (E0000031)', () => {
    for (const search of ['profile.email sw "a"', 'profile.email eq "a" or', 'profile.email eq "a" and profile.email eq "b"', '']) {
      expect(() => searchEmails(search)).toThrow('Invalid search criteria.');
    }
  });
});
