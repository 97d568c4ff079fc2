import type { KnownBlock } from '@slack/types';
import { LogLevel, WebClient } from '@slack/web-api';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import { ProviderClient } from '../../src/connectors/client';
import type { OperationInput } from '../../src/connectors/normalized';
import { compileProvider } from '../../src/connectors/definition';
import { slackProvider } from '../../src/connectors/providers/slack';
import { unifiedProvider } from '../../src/connectors/providers/unified';
import { Connectors } from '../../src/connectors/registry';
import { demoStackTenant } from '../../sandbox/demoTenant';
import { ARCHIVED_CHANNEL_ID, slackUserId } from '../../sandbox/providers/slack';
import { dmChannelId } from '../../sandbox/providers/unified';
import { DEMO_REPS, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import { TenantRegistry } from '../../src/tenants/registry';
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
  slack(token).call('messaging.send', { text: 'New lead: Jane Doe (Globex) is yours.', idempotencyKey: 'notify:1', ...input });

describe('slack users.lookupByEmail', () => {
  it('finds a workspace member by email (any case) and returns their Slack user ID, not the CRM ID', async () => {
    const result = await slack().call('messaging.lookupUser', { email: ben.email.toUpperCase() });
    expect(result.data).toEqual({ userId: slackUserId(ben.email) });
    expect(result.data.userId).toMatch(/^U[0-9A-F]{10}$/);
    expect(result.data.userId).not.toBe(ben.id);
    expect(sandbox.events()).toMatchObject([{ provider: 'slack', method: 'GET', path: '/api/users.lookupByEmail', query: { email: ben.email.toUpperCase() }, status: 200 }]);
  });

  it('turns 200 users_not_found into a non-retryable UpstreamNotFound', async () => {
    const failure = await failureOf(slack().call('messaging.lookupUser', { email: 'nobody@demo-sales.example' }));
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
    expect(event?.body).toEqual({
      channel: userId,
      text: 'New lead: Jane Doe (Globex) is yours.',
      unfurl_links: false,
      metadata: { event_type: 'leadrelay_notification', event_payload: { idempotency_key: 'notify:1' } },
    });
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

  it('has no idempotency key: a repeated send itself posts a second message (only the notify retry looks first)', async () => {
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

// ------------------------------------------------------------------ reading posts back (dedupe)

/** A raw Slack Web API call with the demo bot token: GET with a query, or POST with a JSON or form body. */
async function slackApi(method: string, args: Record<string, string> = {}, post?: 'json' | 'form'): Promise<Record<string, unknown>> {
  const url = new URL(`/api/${method}`, sandbox.url);
  const init: RequestInit = { headers: { authorization: `Bearer ${DEMO_TOKEN}` } };
  if (post) {
    init.method = 'POST';
    init.headers = { ...init.headers, 'content-type': post === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' };
    init.body = post === 'json' ? JSON.stringify(args) : new URLSearchParams(args).toString();
  } else {
    for (const [k, v] of Object.entries(args)) url.searchParams.set(k, v);
  }
  const res = await fetch(url, init);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

interface HistoryMessage {
  type: string;
  ts: string;
  text: string;
  bot_id?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

async function history(channel: string, args: Record<string, string> = {}): Promise<{ messages: HistoryMessage[]; has_more: boolean; response_metadata: { next_cursor: string } }> {
  const body = await slackApi('conversations.history', { channel, ...args });
  expect(body['ok']).toBe(true);
  return body as unknown as { messages: HistoryMessage[]; has_more: boolean; response_metadata: { next_cursor: string } };
}

const keyOf = (m: HistoryMessage) => m.metadata?.event_payload['idempotency_key'];
const iso = (ms: number) => new Date(ms).toISOString();

describe('slack message metadata, conversations.open and conversations.history', () => {
  it('tags the post with our idempotency key; history returns it only with include_all_metadata', async () => {
    const channel = 'C0METADATA1';
    const posted = await send({ channelId: channel, idempotencyKey: 'meta:1' });
    expect(sandbox.events()[0]?.body).toMatchObject({ metadata: { event_type: 'leadrelay_notification', event_payload: { idempotency_key: 'meta:1' } } });

    const withMetadata = await history(channel, { include_all_metadata: 'true' });
    expect(withMetadata.messages).toEqual([
      expect.objectContaining({
        type: 'message',
        ts: posted.data.messageId,
        text: 'New lead: Jane Doe (Globex) is yours.',
        bot_id: expect.stringMatching(/^B[0-9A-F]{10}$/),
        metadata: { event_type: 'leadrelay_notification', event_payload: { idempotency_key: 'meta:1' } },
      }),
    ]);
    expect(withMetadata).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });
    const plain = await history(channel);
    expect(plain.messages[0]).not.toHaveProperty('metadata');
  });

  it('opens the same D channel a post to the user ID answers with (JSON or form body); an unknown user is user_not_found', async () => {
    const userId = slackUserId(ava.email);
    const posted = await send({ userId, idempotencyKey: 'open:1' });
    expect(await slackApi('conversations.open', { users: userId }, 'json')).toEqual({ ok: true, channel: { id: posted.data.channel } });
    expect(await slackApi('conversations.open', { users: userId }, 'form')).toEqual({ ok: true, channel: { id: posted.data.channel } });
    expect(await slackApi('conversations.open', { users: 'U0NOBODY000' }, 'json')).toEqual({ ok: false, error: 'user_not_found' });

    const opened = await slack().call('messaging.openDirect', { userId });
    expect(opened.data).toEqual({ channelId: dmChannelId(ava.email) });
    expect(sandbox.events().at(-1)).toMatchObject({ method: 'POST', path: '/api/conversations.open', body: { users: userId }, status: 200 });
    const dm = await history(opened.data.channelId, { include_all_metadata: 'true' });
    expect(dm.messages.map(keyOf)).toContain('open:1');
  });

  it('lists newest first, bounded by oldest (exclusive) and paged by limit with has_more and next_cursor', async () => {
    const channel = 'C0HISTORY01';
    const first = await send({ channelId: channel, idempotencyKey: 'page:1' });
    const second = await send({ channelId: channel, idempotencyKey: 'page:2' });
    const third = await send({ channelId: channel, idempotencyKey: 'page:3' });
    const ts = [third, second, first].map((r) => r.data.messageId);

    const page1 = await history(channel, { limit: '2' });
    expect(page1.messages.map((m) => m.ts)).toEqual(ts.slice(0, 2));
    expect(page1.has_more).toBe(true);
    expect(page1.response_metadata.next_cursor).not.toBe('');
    const page2 = await history(channel, { limit: '2', cursor: page1.response_metadata.next_cursor });
    expect(page2.messages.map((m) => m.ts)).toEqual(ts.slice(2));
    expect(page2).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });

    expect((await history(channel, { oldest: first.data.messageId })).messages.map((m) => m.ts)).toEqual(ts.slice(0, 2));
    expect((await history(channel, { oldest: first.data.messageId, inclusive: 'true' })).messages.map((m) => m.ts)).toEqual(ts);
    expect((await history(channel, { oldest: `${START / 1000 + 1}.000000` })).messages).toEqual([]);
  });

  it('answers channel_not_found for a missing or unknown channel, and invalid_ts_oldest for a bad oldest', async () => {
    expect(await slackApi('conversations.history')).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await slackApi('conversations.history', { channel: 'D0NOTADMXX' })).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await slackApi('conversations.history', { channel: 'C0123ABCDE', oldest: 'yesterday' })).toEqual({ ok: false, error: 'invalid_ts_oldest' });
  });
});

describe('slack messaging.findSent', () => {
  const findSent = (channelId: string, idempotencyKey: string, oldest = iso(START - 120_000)) =>
    slack().call('messaging.findSent', { channelId, idempotencyKey, oldest });

  it('finds a DM posted to a user ID through openDirect, and a channel post, by idempotency key', async () => {
    const dm = await send({ userId: slackUserId(ben.email), idempotencyKey: 'find:dm' });
    const { data } = await slack().call('messaging.openDirect', { userId: slackUserId(ben.email) });
    sandbox.clearEvents();
    expect((await findSent(data.channelId, 'find:dm')).data).toEqual({ messageId: dm.data.messageId });
    expect(sandbox.events()).toMatchObject([
      {
        method: 'GET',
        path: '/api/conversations.history',
        query: { channel: data.channelId, oldest: `${(START - 120_000) / 1000}.000000`, limit: '100', include_all_metadata: 'true' },
        status: 200,
      },
    ]);

    const posted = await send({ channelId: 'C0FINDSENT1', idempotencyKey: 'find:channel' });
    await send({ channelId: 'C0FINDSENT1', idempotencyKey: 'find:other' });
    expect((await findSent('C0FINDSENT1', 'find:channel')).data).toEqual({ messageId: posted.data.messageId });
  });

  it('returns null for a key nobody posted, and for a message older than oldest', async () => {
    await send({ channelId: 'C0FINDSENT2', idempotencyKey: 'find:old' });
    expect((await findSent('C0FINDSENT2', 'find:never')).data).toEqual({ messageId: null });
    expect((await findSent('C0FINDSENT2', 'find:old', iso(START + 1000))).data).toEqual({ messageId: null });
    expect((await findSent('C0FINDSENT2', 'find:old')).data.messageId).not.toBeNull();
  });

  it('fails like any Slack call when the bot lacks the history scope (the activity then posts anyway)', async () => {
    sandbox.injectFault({ provider: 'slack', pathPrefix: '/api/conversations.history', status: 200, body: { ok: false, error: 'missing_scope', needed: 'im:history' }, times: 1 });
    const failure = await failureOf(findSent('C0FINDSENT2', 'find:old'));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(detailsOf(failure).reason).toBe('HTTP 200 not authorized: missing_scope (needs im:history)');
  });
});

describe('notify activity on Slack: a retry does not post twice', () => {
  const tenants = new TenantRegistry();
  let activities: Activities;
  /** The salesforce demo stack messages through Slack; here it reaches this file's workspace. */
  const TENANT = 'demo-salesforce';

  beforeAll(() => {
    tenants.add(demoStackTenant(sandbox.url, 'salesforce', { id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN }));
    activities = createActivities({ tenants, connectors: new Connectors(tenants, { now: clock }), temporal: {} as Client, entityTaskQueue: 'unused' });
  });

  type Notify = Activities['notify'];
  /** Runs notify as the given attempt, first scheduled a minute before the sandbox's clock; collects warnings. */
  async function notifyAs(attempt: number, input: Parameters<Notify>[0], warnings: LogEntry[] = []) {
    const env = new MockActivityEnvironment(
      { attempt, scheduledTimestampMs: START - 60_000, currentAttemptScheduledTimestampMs: START, scheduleToCloseTimeoutMs: 0 },
      { logger: new DefaultLogger('WARN', (entry) => warnings.push(entry)) },
    );
    return env.run<Parameters<Notify>, Awaited<ReturnType<Notify>>, Notify>(activities.notify, input);
  }

  const toBen = (idempotencyKey: string) => ({ tenantId: TENANT, recipient: { email: ben.email }, text: 'New lead: Jane Doe (Globex) is yours.', idempotencyKey });
  const paths = () => sandbox.events().map((e) => e.path);
  const postsWith = async (channel: string, key: string) => (await history(channel, { include_all_metadata: 'true' })).messages.filter((m) => keyOf(m) === key);

  it('attempt 1 posts without reading history; attempt 2 with the same key returns that message and posts nothing', async () => {
    const first = await notifyAs(1, toBen('notify:retry:1'));
    expect(paths()).toEqual(['/api/users.lookupByEmail', '/api/chat.postMessage']);
    expect(first.calls.map((c) => c.operation)).toEqual(['messaging.lookupUser', 'messaging.send']);

    sandbox.clearEvents();
    const retry = await notifyAs(2, toBen('notify:retry:1'));
    expect(retry.messageId).toBe(first.messageId);
    expect(paths()).toEqual(['/api/users.lookupByEmail', '/api/conversations.open', '/api/conversations.history']);
    expect(retry.calls).toMatchObject([
      { operation: 'messaging.lookupUser', status: 200 },
      { operation: 'messaging.openDirect', status: 200, replayed: false },
      { operation: 'messaging.findSent', status: 200, replayed: true },
    ]);
    expect((await postsWith(dmChannelId(ben.email), 'notify:retry:1')).map((m) => m.ts)).toEqual([first.messageId]);
  });

  it('attempt 2 to a channel looks in that channel directly (no conversations.open)', async () => {
    const input = { tenantId: TENANT, recipient: { channel: 'C0TRIAGE001' }, text: 'Lead lost@hooli.com needs triage.', idempotencyKey: 'notify:retry:channel' };
    const first = await notifyAs(1, input);
    sandbox.clearEvents();
    const retry = await notifyAs(2, input);
    expect(retry.messageId).toBe(first.messageId);
    expect(paths()).toEqual(['/api/conversations.history']);
    expect(await postsWith('C0TRIAGE001', 'notify:retry:channel')).toHaveLength(1);
  });

  it('attempt 2 whose first attempt never posted looks, finds nothing and posts once', async () => {
    const retry = await notifyAs(2, toBen('notify:retry:unsent'));
    expect(paths()).toEqual(['/api/users.lookupByEmail', '/api/conversations.open', '/api/conversations.history', '/api/chat.postMessage']);
    expect(retry.calls.map((c) => c.operation)).toEqual(['messaging.lookupUser', 'messaging.openDirect', 'messaging.findSent', 'messaging.send']);
    expect((await postsWith(dmChannelId(ben.email), 'notify:retry:unsent')).map((m) => m.ts)).toEqual([retry.messageId]);
  });

  it('puts an Accept button naming tenant, lead and owner and the signed link in Block Kit, and the link in the text', async () => {
    const text = 'New lead: Jane Doe (Globex) is yours.';
    const leadId = 'ld_0123456789abcdef01234567';
    await notifyAs(1, { ...toBen('notify:accept:1'), accept: { leadId, ownerId: ben.id } });
    const body = sandbox.events().find((e) => e.path === '/api/chat.postMessage')?.body as Record<string, unknown>;
    const link = /\nAccept: (\S+)$/.exec(String(body['text']))?.[1];
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3000\/v1\/accept\?token=[\w.%-]+$/);
    expect(body['text']).toBe(`${text}\nAccept: ${link}`);
    expect(body['blocks']).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'accept_lead', style: 'primary', text: { type: 'plain_text', text: 'Accept' }, value: `${TENANT}|${leadId}|${ben.id}` },
          { type: 'button', action_id: 'open_accept_link', text: { type: 'plain_text', text: 'Accept by link' }, url: link },
        ],
      },
    ]);
  });

  it('sends no blocks for a message without an accept', async () => {
    await notifyAs(1, toBen('notify:accept:none'));
    const body = sandbox.events().find((e) => e.path === '/api/chat.postMessage')?.body as Record<string, unknown>;
    expect(body['text']).toBe('New lead: Jane Doe (Globex) is yours.');
    expect(body).not.toHaveProperty('blocks');
  });

  it.each([
    ['a missing im:history scope', { status: 200, body: { ok: false, error: 'missing_scope', needed: 'im:history' } }, 'missing_scope (needs im:history)'],
    ['a rate limit', { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'Retry-After': '60' } }, 'ratelimited'],
  ])('attempt 2 whose lookup fails with %s warns and posts anyway', async (_case, fault, reason) => {
    const key = `notify:retry:fault:${fault.status}`;
    await notifyAs(1, toBen(key));
    sandbox.injectFault({ provider: 'slack', pathPrefix: '/api/conversations.history', times: 1, ...fault });
    sandbox.clearEvents();
    const warnings: LogEntry[] = [];
    const retry = await notifyAs(2, toBen(key), warnings);
    expect(paths()).toEqual(['/api/users.lookupByEmail', '/api/conversations.open', '/api/conversations.history', '/api/chat.postMessage']);
    expect(retry.calls.map((c) => c.operation)).toEqual(['messaging.lookupUser', 'messaging.openDirect', 'messaging.send']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('posting anyway');
    expect(warnings[0]?.meta).toMatchObject({ provider: 'slack', idempotencyKey: key, error: expect.stringContaining(reason) });
    // A duplicate is the price of a failed lookup: better than no message.
    expect(await postsWith(dmChannelId(ben.email), key)).toHaveLength(2);
  });
});

describe('the Accept message as Block Kit: data of the provider definitions', () => {
  /** The body a definition sends for `messaging.send`, captured without a network. */
  async function sentBody(definition: typeof slackProvider, input: Omit<OperationInput<'messaging.send'>, 'idempotencyKey'>): Promise<Record<string, unknown>> {
    let body: unknown;
    const fetchStub = (async (_url: unknown, init?: { body?: unknown }) => {
      body = JSON.parse(String(init?.body));
      return new Response(JSON.stringify({ ok: true, ts: '1.000100', channel: 'D1', result: { id: 'm1', channel_id: 'D1' } }), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const provider = new ProviderClient(compileProvider(definition), { connectionId: 'acme/messaging', baseUrl: 'https://api.example', accountId: 'acct', secret: 'token' }, { fetch: fetchStub, now: clock });
    await provider.call('messaging.send', { idempotencyKey: 'notify:blocks', ...input });
    return body as Record<string, unknown>;
  }
  const accept = { value: 'acme|ld_0123456789abcdef01234567|usr_ben', text: 'New lead: *Jane Doe*' };
  const acceptUrl = 'https://leadrelay.example/v1/accept?token=abc.def';
  const withLink = [
    { type: 'section', text: { type: 'mrkdwn', text: accept.text } },
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'accept_lead', style: 'primary', text: { type: 'plain_text', text: 'Accept' }, value: accept.value },
        { type: 'button', action_id: 'open_accept_link', text: { type: 'plain_text', text: 'Accept by link' }, url: acceptUrl },
      ],
    },
  ] satisfies KnownBlock[];

  it.each([
    ['slack', slackProvider],
    ['unified', unifiedProvider],
  ])('%s lays out an accept as a section and an actions row, the link button only with a link', async (_name, definition) => {
    const linked = await sentBody(definition, { text: `${accept.text}\nAccept: ${acceptUrl}`, accept, acceptUrl, channelId: 'C1' });
    expect(linked['blocks']).toEqual(withLink);
    const unlinked = await sentBody(definition, { text: accept.text, accept, channelId: 'C1' });
    expect(unlinked['blocks']).toEqual([withLink[0], { type: 'actions', elements: [withLink[1]!.elements![0]] }]);
  });

  it.each([
    ['slack', slackProvider],
    ['unified', unifiedProvider],
  ])('%s sends a caller’s own blocks as they are, and none when there are none', async (_name, definition) => {
    const own = [{ type: 'divider' }];
    expect((await sentBody(definition, { text: 'hi', blocks: own, channelId: 'C1' }))['blocks']).toEqual(own);
    expect(await sentBody(definition, { text: 'hi', channelId: 'C1' })).not.toHaveProperty('blocks');
  });
});

describe('the official Slack client (@slack/web-api) against the emulator', () => {
  // A workspace of its own: no other test's posts in its conversations.
  const TOKEN = 'xoxb-official-client';
  beforeAll(() => sandbox.addWorkspace({ ...demoWorkspace(new Date(START)), id: 'slack-official-client', token: TOKEN }));

  /** Slack's own Node client: every call a form-encoded POST, object arguments as JSON text. */
  const web = () => new WebClient(TOKEN, { slackApiUrl: `${sandbox.url}/api/`, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: '*New lead:* Jane Doe (Globex)' } },
    { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Accept' }, url: 'https://leadrelay.example/accept/1', action_id: 'accept' }] },
  ] satisfies KnownBlock[];

  it('posts with blocks and metadata, looks a user up by email and reads the conversation back, all as form posts', async () => {
    const client = web();
    const user = await client.users.lookupByEmail({ email: ben.email });
    expect(user).toMatchObject({ ok: true, user: { id: slackUserId(ben.email) } });

    const posted = await client.chat.postMessage({
      channel: slackUserId(ben.email),
      text: 'New lead: Jane Doe (Globex) is yours.',
      blocks,
      unfurl_links: false,
      metadata: { event_type: 'leadrelay_notification', event_payload: { idempotency_key: 'official:1' } },
    });
    expect(posted).toMatchObject({ ok: true, channel: dmChannelId(ben.email), message: { blocks } });

    const read = await client.conversations.history({ channel: dmChannelId(ben.email), include_all_metadata: true, limit: 10 });
    expect(read.ok).toBe(true);
    expect(read.messages).toEqual([
      expect.objectContaining({ ts: posted.ts, blocks, metadata: { event_type: 'leadrelay_notification', event_payload: { idempotency_key: 'official:1' } } }),
    ]);

    // What went over the wire: form bodies, blocks and metadata as JSON text.
    const events = sandbox.events();
    expect(events.map((e) => [e.method, e.path, e.status])).toEqual([
      ['POST', '/api/users.lookupByEmail', 200],
      ['POST', '/api/chat.postMessage', 200],
      ['POST', '/api/conversations.history', 200],
    ]);
    expect(events[1]?.body).toMatchObject({ blocks: JSON.stringify(blocks), unfurl_links: 'false' });
  });

  it('also takes a method as a GET with query arguments, blocks as JSON text', async () => {
    const posted = await slackApi('chat.postMessage', { channel: 'C0GETPOST01', text: 'hi', blocks: JSON.stringify(blocks) });
    expect(posted).toMatchObject({ ok: true, channel: 'C0GETPOST01', message: { blocks } });
    expect(sandbox.events().at(-1)).toMatchObject({ method: 'GET', path: '/api/chat.postMessage', status: 200 });
  });

  it("answers the client's ok:false as Slack does, which the client raises as a platform error", async () => {
    await expect(web().users.lookupByEmail({ email: 'nobody@demo-sales.example' })).rejects.toMatchObject({ code: 'slack_webapi_platform_error', data: { ok: false, error: 'users_not_found' } });
    // Blocks that are not JSON text at all.
    await expect(web().apiCall('chat.postMessage', { channel: 'C0FORMBLOCK', text: 'x', blocks: '[{"type":' })).rejects.toMatchObject({ data: { ok: false, error: 'invalid_blocks_format' } });
  });
});
