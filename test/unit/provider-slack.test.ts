import { ProviderClient } from '../../src/connectors/client';
import { compileProvider } from '../../src/connectors/definition';
import { MessageSchema, MessagingUserSchema } from '../../src/connectors/normalized';
import { slackProvider } from '../../src/connectors/providers/slack';
import { ARCHIVED_CHANNEL_ID, slackUserId } from '../../src/sandbox/providers/slack';
import { dmChannelId } from '../../src/sandbox/providers/unified';
import { DEMO_REPS, DEMO_TOKEN, demoWorkspace } from '../../src/sandbox/seed';
import { failureOf, detailsOf } from '../support/failures';
import { useSandbox } from '../support/sandbox';

/** The sandbox clock is fixed, so the rate window's Retry-After is exact. */
const START = Date.parse('2030-01-07T15:00:00.000Z');
const clock = () => START;
const [ava, ben] = DEMO_REPS;

const sandbox = useSandbox({ workspaces: [demoWorkspace(new Date(START))], now: clock });

beforeEach(() => sandbox.clearEvents());

function slack(token: string = DEMO_TOKEN): ProviderClient {
  return new ProviderClient(compileProvider(slackProvider), { connectionId: 'acme/slack', baseUrl: sandbox.url, accountId: null, secret: token }, { now: clock });
}

const send = (input: Record<string, unknown>, token?: string) =>
  slack(token).call('messaging.send', { text: 'New lead: Jane Doe (Globex) is yours.', idempotencyKey: 'notify:1', ...input }, MessageSchema);

describe('slack users.lookupByEmail', () => {
  it('finds a workspace member by email (any case) and returns their Slack user ID, not the CRM ID', async () => {
    const result = await slack().call('messaging.lookupUser', { email: ben.email.toUpperCase() }, MessagingUserSchema);
    expect(result.data).toEqual({ userId: slackUserId(ben.email) });
    expect(result.data.userId).toMatch(/^U[0-9A-F]{10}$/);
    expect(result.data.userId).not.toBe(ben.id);
    expect(sandbox.events()).toMatchObject([{ provider: 'slack', method: 'GET', path: '/api/users.lookupByEmail', query: { email: ben.email.toUpperCase() }, status: 200 }]);
  });

  it('turns 200 users_not_found into a non-retryable UpstreamNotFound', async () => {
    const failure = await failureOf(slack().call('messaging.lookupUser', { email: 'nobody@demo-sales.example' }, MessagingUserSchema));
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 200, reason: 'HTTP 200 not found: users_not_found' });
  });
});

describe('slack chat.postMessage', () => {
  it('posts to a user ID: Slack opens the DM and answers with its D channel and the message ts', async () => {
    const userId = slackUserId(ben.email);
    const result = await send({ userId, recipientEmail: ben.email });
    expect(result.data).toEqual({ messageId: expect.stringMatching(new RegExp(`^${START / 1000}\\.\\d{6}$`)), channel: dmChannelId(ben.email) });
    expect(result.meta).toMatchObject({ provider: 'slack', operation: 'messaging.send', status: 200, replayed: false });
    const [event] = sandbox.events();
    expect(event?.body).toEqual({ channel: userId, text: 'New lead: Jane Doe (Globex) is yours.', unfurl_links: false });
  });

  it('posts to a channel ID with blocks, and reuses one DM channel per user', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*New lead*' } }];
    const channel = await send({ channelId: 'C0123ABCDE', blocks });
    expect(channel.data.channel).toBe('C0123ABCDE');
    expect(sandbox.events()[0]?.body).toMatchObject({ channel: 'C0123ABCDE', blocks });

    const first = await send({ userId: slackUserId(ava.email) });
    const again = await send({ userId: slackUserId(ava.email) });
    expect(again.data.channel).toBe(first.data.channel);
  });

  it('has no idempotency key: a repeated send posts a second message (Slack cannot tell)', async () => {
    const first = await send({ userId: slackUserId(ben.email), idempotencyKey: 'same' });
    const second = await send({ userId: slackUserId(ben.email), idempotencyKey: 'same' });
    expect(second.data.messageId).not.toBe(first.data.messageId);
    expect(second.meta.replayed).toBe(false);
  });

  it.each([
    ['an unknown user ID', { userId: 'UNOBODY0000' }, 'channel_not_found'],
    ['a channel name instead of an ID', { channelId: '#sales' }, 'channel_not_found'],
    ['an archived channel', { channelId: ARCHIVED_CHANNEL_ID }, 'is_archived'],
    ['a text over 40 000 characters', { channelId: 'C0123ABCDE', text: 'x'.repeat(40_001) }, 'msg_too_long'],
    ['no text and no blocks', { channelId: 'C0123ABCDE', text: '' }, 'no_text'],
    ['51 blocks', { channelId: 'C0123ABCDE', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }, 'invalid_blocks: [ERROR] no more than 50 items allowed [json-pointer:/blocks]'],
  ])('turns 200 ok:false for %s into a non-retryable UpstreamRejected naming the Slack error', async (_case, input, reason) => {
    const failure = await failureOf(send(input));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 200, reason: `HTTP 200 rejected: ${reason}` });
  });

  it('turns 200 invalid_auth (wrong bot token) into a non-retryable UpstreamAuthFailed', async () => {
    const failure = await failureOf(send({ channelId: 'C0123ABCDE' }, 'xoxb-not-a-real-token'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ status: 200, reason: 'HTTP 200 not authorized: invalid_auth' });
    expect(JSON.stringify(failure.details)).not.toContain('xoxb-not-a-real-token');
  });

  it('turns missing_scope into UpstreamAuthFailed naming the scope the bot needs', async () => {
    sandbox.injectFault({ provider: 'slack', status: 200, body: { ok: false, error: 'missing_scope', needed: 'chat:write', provided: 'users:read' }, times: 1 });
    const failure = await failureOf(send({ channelId: 'C0123ABCDE' }));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).reason).toBe('HTTP 200 not authorized: missing_scope (needs chat:write)');
  });

  it('treats ok:false internal_error as transient even on HTTP 200, and a bare 503 likewise', async () => {
    sandbox.injectFault({ provider: 'slack', status: 200, body: { ok: false, error: 'internal_error' }, times: 1 });
    const soft = await failureOf(send({ channelId: 'C0123ABCDE' }));
    expect(soft.type).toBe('UpstreamUnavailable');
    expect(soft.nonRetryable).toBe(false);

    sandbox.injectFault({ provider: 'slack', status: 503, times: 1 });
    const hard = await failureOf(send({ channelId: 'C0123ABCDE' }));
    expect(hard.type).toBe('UpstreamUnavailable');
    expect(hard.nonRetryable).toBe(false);
    expect(detailsOf(hard).reason).toBe('HTTP 503 upstream error: internal_error');
  });

  it('signals its limit with 429 ratelimited + Retry-After: a retryable UpstreamRateLimited waiting exactly that long', async () => {
    sandbox.addWorkspace({ ...demoWorkspace(new Date(START)), id: 'slack-tight', token: 'xoxb-tight-fake', rateLimit: { limit: 1, windowSeconds: 30 } });
    await send({ channelId: 'C0123ABCDE' }, 'xoxb-tight-fake');
    const failure = await failureOf(send({ channelId: 'C0123ABCDE' }, 'xoxb-tight-fake'));
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(30_000);
    expect(detailsOf(failure)).toMatchObject({
      status: 429,
      reason: 'HTTP 429 rate limited; retry after 30000 ms: ratelimited',
      rateLimit: { limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: 30 },
    });
  });
});
