import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Classification } from '../../src/connectors/classify';
import { ProviderClient, type ClientOptions } from '../../src/connectors/client';
import type { OperationInput } from '../../src/connectors/normalized';
import { compileProvider } from '../../src/connectors/definition';
import { teamsProvider } from '../../src/connectors/providers/teams';
import { dmChannelId } from '../../sandbox/providers/unified';
import { DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from '../../sandbox/seed';
import { createSandboxApp } from '../../sandbox/server';
import type { SandboxState } from '../../sandbox/state';
import type { SandboxWorkspace } from '../../sandbox/types';
import { failureOf, detailsOf } from '../support/failures';

/**
 * The Teams Workflows definition against the webhook emulator over real HTTP. The sandbox app is
 * served by hand (not startSandbox) so the tests can read the cards the flow "posted".
 */
const NOW = Date.parse('2030-01-07T15:00:00.000Z');
const SEED = demoWorkspace(new Date(NOW));
const TIGHT: SandboxWorkspace = { ...SEED, id: 'teams-tight', token: 'teams-tight-token', rateLimit: { limit: 1, windowSeconds: 30 } };
const BEN = 'ben.ortiz@demo-sales.example';
const ACCEPT_URL = 'https://leadrelay.example/accept/lead-7f3a?sig=abc';

let server: Server;
let state: SandboxState;
let url: string;

beforeAll(async () => {
  const sandbox = createSandboxApp({ workspaces: [SEED, TIGHT], now: () => NOW });
  state = sandbox.state;
  server = createServer(sandbox.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  state.upsertWorkspace(SEED);
  state.upsertWorkspace(TIGHT);
  state.clearFaults();
});

function client(workflow = DEMO_WORKSPACE_ID, sig = DEMO_TOKEN, options: ClientOptions = {}): ProviderClient {
  return new ProviderClient(compileProvider(teamsProvider), { connectionId: 'demo/messaging', baseUrl: url, accountId: workflow, secret: sig }, options);
}

function send(c: ProviderClient, input: OperationInput<'messaging.send'>) {
  return c.call('messaging.send', input);
}

function messages(workspace = DEMO_WORKSPACE_ID) {
  return state.workspaceById(workspace)?.messages ?? [];
}

describe('Teams Workflows messaging.send', () => {
  it('posts an Adaptive Card that mentions the rep and carries the Accept button; the 202 maps to the idempotency key', async () => {
    const result = await send(client(), { text: 'New lead: Jane Doe (Globex) is yours.', recipientEmail: BEN, acceptUrl: ACCEPT_URL, idempotencyKey: 'notify:usr_ben:0' });
    expect(result.data).toEqual({ messageId: 'notify:usr_ben:0', channel: null });
    expect(result.meta).toMatchObject({ provider: 'teams', status: 202, replayed: false });

    expect(messages()).toHaveLength(1);
    const [posted] = messages();
    expect(posted).toMatchObject({
      channel_id: dmChannelId(BEN),
      recipient_email: BEN,
      text: `${BEN}\nNew lead: Jane Doe (Globex) is yours.`,
    });
    expect(posted?.blocks?.[0]).toMatchObject({
      type: 'AdaptiveCard',
      actions: [{ type: 'Action.OpenUrl', title: 'Accept', url: ACCEPT_URL }],
      msteams: { entities: [{ type: 'mention', text: `<at>${BEN}</at>`, mentioned: { id: BEN } }] },
    });
  });

  it('posts to the channel the request names, with the title as a heading, and reports that channel', async () => {
    const result = await send(client(), { title: 'Lead needs an owner', text: 'Jane Doe fell back to the queue.', channelId: 'C_LEAD_TRIAGE', idempotencyKey: 'fallback:1' });
    expect(result.data).toEqual({ messageId: 'fallback:1', channel: 'C_LEAD_TRIAGE' });
    expect(messages()).toEqual([
      expect.objectContaining({ channel_id: 'C_LEAD_TRIAGE', recipient_email: null, text: 'Lead needs an owner\nJane Doe fell back to the queue.' }),
    ]);
  });

  it('posts twice when the same send is repeated: Workflows webhooks have no idempotency', async () => {
    const input = { text: 'New lead for you.', recipientEmail: BEN, idempotencyKey: 'notify:usr_ben:1' };
    const first = await send(client(), input);
    const second = await send(client(), input);
    expect(second.data).toEqual(first.data);
    expect(second.meta.replayed).toBe(false);
    expect(messages()).toHaveLength(2);
  });
});

describe('Teams Workflows limits and failures', () => {
  it('turns 429 TooManyRequests into a retryable UpstreamRateLimited whose nextRetryDelay is the Retry-After sent, and posts nothing', async () => {
    const answers: Classification[] = [];
    const c = client(TIGHT.id, TIGHT.token, { onAnswer: (_id, a) => answers.push(a) });
    await send(c, { text: 'first', channelId: 'C_LEAD_TRIAGE', idempotencyKey: 'k1' });
    const failure = await failureOf(send(c, { text: 'second', channelId: 'C_LEAD_TRIAGE', idempotencyKey: 'k2' }));

    expect(answers[1]?.rateLimit.retryAfterSeconds).toBe(30);
    expect(failure.type).toBe('UpstreamRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(30_000);
    expect(failure.message).toContain('TooManyRequests');
    expect(messages(TIGHT.id).map((m) => m.text)).toEqual(['first']);
  });

  it('refuses a wrong signature with 401 DirectApiAuthorizationRequired: a non-retryable UpstreamAuthFailed', async () => {
    const failure = await failureOf(send(client(DEMO_WORKSPACE_ID, 'not-the-signature'), { text: 'hi', recipientEmail: BEN, idempotencyKey: 'k' }));
    expect(failure.type).toBe('UpstreamAuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).status).toBe(401);
    expect(failure.message).toContain('DirectApiAuthorizationRequired');
    expect(messages()).toHaveLength(0);
  });

  it('refuses the signature of another workflow', async () => {
    const failure = await failureOf(send(client(DEMO_WORKSPACE_ID, TIGHT.token), { text: 'hi', recipientEmail: BEN, idempotencyKey: 'k' }));
    expect(failure.type).toBe('UpstreamAuthFailed');
  });

  it('answers an unknown workflow with 404: UpstreamNotFound', async () => {
    const failure = await failureOf(send(client('no-such-workflow'), { text: 'hi', recipientEmail: BEN, idempotencyKey: 'k' }));
    expect(failure.type).toBe('UpstreamNotFound');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('WorkflowNotFound');
  });

  it('refuses a card over 28 KB with 413 MessageSizeTooBig, non-retryably, and posts nothing', async () => {
    const failure = await failureOf(send(client(), { text: 'x'.repeat(29 * 1024), channelId: 'C_LEAD_TRIAGE', idempotencyKey: 'k' }));
    expect(failure.type).toBe('UpstreamRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure).status).toBe(413);
    expect(failure.message).toContain('MessageSizeTooBig');
    expect(messages()).toHaveLength(0);
  });

  it('accepts a request without an Adaptive Card (the flow fails later, out of sight) and posts nothing', async () => {
    const res = await fetch(`${url}/workflows/${DEMO_WORKSPACE_ID}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${DEMO_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: 'plain text is not a card' }),
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(messages()).toHaveLength(0);
  });

  it('treats a Workflows 502 as a retryable UpstreamUnavailable', async () => {
    state.addFault({ provider: 'teams', status: 502, times: 1 });
    const failure = await failureOf(send(client(), { text: 'hi', channelId: 'C_LEAD_TRIAGE', idempotencyKey: 'k' }));
    expect(failure.type).toBe('UpstreamUnavailable');
    expect(failure.nonRetryable).toBe(false);
  });
});
