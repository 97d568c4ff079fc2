import { createHmac } from 'node:crypto';
import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { webhookProvider } from '../../src/connectors/providers/webhook';
import { DEMO_REPS, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import { failureOf, detailsOf } from '../support/failures';
import { useSandbox } from '../support/sandbox';

/** The sandbox clock is fixed: signature timestamps and the rate window are exact. */
const START = Date.parse('2030-01-07T15:00:00.000Z');
const clock = () => START;
const [, ben] = DEMO_REPS;

const sandbox = useSandbox({ workspaces: [demoWorkspace(new Date(START))], now: clock });

beforeEach(() => sandbox.clearEvents());

interface Target {
  accountId?: string;
  secret?: string;
}

function hook(target: Target = {}, options: ClientOptions = {}): ProviderClient {
  return new ProviderClient(
    compileProvider(webhookProvider),
    { connectionId: 'acme/sms', baseUrl: sandbox.url, accountId: target.accountId ?? DEMO_WORKSPACE_ID, secret: target.secret ?? DEMO_TOKEN },
    { now: clock, ...options },
  );
}

const NOTIFICATION = {
  text: 'New lead: Jane Doe (Globex) is yours.',
  title: 'New lead',
  recipientEmail: ben.email,
  acceptUrl: 'https://app.leadrelay.example/accept/lead-7f3a',
  idempotencyKey: 'notify:usr_ben:0',
};

const send = (client: ProviderClient, input: Record<string, unknown> = {}) => client.call('messaging.send', { ...NOTIFICATION, ...input });

/** A fetch that lets a test see, or change, what leaves the client. */
function interceptingFetch(change: (init: RequestInit) => RequestInit, seen: RequestInit[] = []): typeof fetch {
  return (url, init) => {
    seen.push(init ?? {});
    return fetch(url, change(init ?? {}));
  };
}

describe('webhook messaging.send', () => {
  it('delivers a signed lead.notification whose signature verifies over the exact body', async () => {
    const seen: RequestInit[] = [];
    const result = await send(hook({}, { fetch: interceptingFetch((init) => init, seen) }));

    expect(result.data).toEqual({ messageId: expect.stringMatching(/^whmsg_\d+$/), channel: null });
    expect(result.meta).toMatchObject({ status: 202, replayed: false, rateLimit: { limit: 1000, remaining: 999, resetSeconds: 60 } });

    const headers = seen[0]?.headers as Record<string, string>;
    const body = String(seen[0]?.body);
    const t = START / 1000;
    expect(headers['x-leadrelay-signature']).toBe(`t=${t},v1=${createHmac('sha256', DEMO_TOKEN).update(`${t}.${body}`).digest('hex')}`);
    expect(headers['Idempotency-Key']).toBe('notify:usr_ben:0');
    expect(JSON.parse(body)).toEqual({
      type: 'lead.notification',
      id: 'notify:usr_ben:0',
      title: 'New lead',
      text: 'New lead: Jane Doe (Globex) is yours.',
      recipient: { email: ben.email },
      acceptUrl: 'https://app.leadrelay.example/accept/lead-7f3a',
    });
    expect(sandbox.events()).toMatchObject([{ provider: 'webhook', path: `/hooks/${DEMO_WORKSPACE_ID}`, status: 202, replayed: false }]);
  });

  it('replays a repeated Idempotency-Key: same message, no second delivery, reported as replayed', async () => {
    const client = hook();
    const first = await send(client, { idempotencyKey: 'notify:usr_ben:replay' });
    const again = await send(client, { idempotencyKey: 'notify:usr_ben:replay' });

    expect(again.data).toEqual(first.data);
    expect(first.meta.replayed).toBe(false);
    expect(again.meta.replayed).toBe(true);
    expect(sandbox.events().map((e) => ({ status: e.status, replayed: e.replayed }))).toEqual([
      { status: 202, replayed: false },
      { status: 202, replayed: true },
    ]);
  });

  it('names the message by the idempotency key when the receiver answers an empty 204', async () => {
    sandbox.injectFault({ provider: 'webhook', status: 204, times: 1 });
    const result = await send(hook(), { channelId: '+15550100', recipientEmail: undefined });
    expect(result.data).toEqual({ messageId: 'notify:usr_ben:0', channel: '+15550100' });
  });

  it.each([
    [
      'a body changed after signing',
      () => hook({}, { fetch: interceptingFetch((init) => ({ ...init, body: String(init.body).replace('Jane Doe', 'John Roe') })) }),
      'signature does not match the body',
    ],
    ['a timestamp 6 minutes old', () => hook({}, { now: () => START - 6 * 60_000 }), 'signature timestamp is more than 5 minutes off'],
    ['the wrong shared secret', () => hook({ secret: 'not-the-shared-secret' }), 'signature does not match the body'],
  ])('rejects %s with 401 invalid_signature: a non-retryable UpstreamAuthFailed', async (_case, client, problem) => {
    const failure = await failureOf(send(client()));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 401, reason: `HTTP 401 not authorized: ${problem}` });
    expect(sandbox.events()).toMatchObject([{ provider: 'webhook', status: 401 }]);
  });

  it('answers an unsigned delivery with 401 {"error":"invalid_signature"} in its own format', async () => {
    const res = await fetch(`${sandbox.url}/hooks/${DEMO_WORKSPACE_ID}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_signature', message: 'missing or malformed x-leadrelay-signature header' });
  });

  it('answers 404 for an endpoint no workspace owns (a misconfigured account ID)', async () => {
    const failure = await failureOf(send(hook({ accountId: 'no-such-endpoint' })));
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
  });

  it('rejects a notification without a recipient as a non-retryable UpstreamRejected', async () => {
    const failure = await failureOf(send(hook(), { recipientEmail: undefined, idempotencyKey: 'notify:nobody' }));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 400, reason: 'HTTP 400 rejected: recipient: one of email or channel is required' });
  });

  it('signals its limit with 429 + Retry-After: a retryable UpstreamRateLimited waiting exactly that long', async () => {
    sandbox.addWorkspace({ ...demoWorkspace(new Date(START)), id: 'hooks-tight', token: 'hook-secret-fake', rateLimit: { limit: 1, windowSeconds: 30 } });
    const client = hook({ accountId: 'hooks-tight', secret: 'hook-secret-fake' });
    await send(client, { idempotencyKey: 'tight:1' });
    const failure = await failureOf(send(client, { idempotencyKey: 'tight:2' }));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(30_000);
    expect(detailsOf(failure)).toMatchObject({ status: 429, rateLimit: { limit: 1, remaining: 0, resetSeconds: 30, retryAfterSeconds: 30 } });
  });
});
