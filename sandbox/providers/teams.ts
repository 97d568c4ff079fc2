import { randomUUID } from 'node:crypto';
import type { EmulatorAuth, EmulatorRequest, ProviderEmulator, RouteContext } from '../emulator';
import type { SandboxState } from '../state';
import { HttpError, type ErrorCode, type Reply } from '../wire';
import { dmChannelId } from './unified';

/**
 * A Teams Workflows webhook ("When a Teams webhook request is received"), as Logic Apps serves it:
 * `POST /workflows/{workflowId}/triggers/manual/paths/invoke?api-version&sp&sv&sig`. The workflow
 * ID is the workspace ID, the `sig` signature its token. The trigger answers 202 with no body and
 * then runs the flow, which posts the request's Adaptive Card; posted cards land in `ws.messages`.
 * No idempotency: every accepted request posts. Errors are `{ error: { code, message } }`.
 */
const CODES: Record<ErrorCode, string> = {
  VALIDATION: 'InvalidRequestContent',
  UNAUTHORIZED: 'DirectApiAuthorizationRequired',
  NOT_FOUND: 'WorkflowNotFound',
  RATE_LIMITED: 'TooManyRequests',
  INTERNAL: 'InternalServerError',
};

/** Teams refuses messages over about 28 KB. */
const MAX_CARD_BYTES = 28 * 1024;
const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
/** Where the stock template posts when the request names no channel and mentions nobody. */
const FLOW_CHANNEL = '19:workflow-channel@thread.tacv2';

function teamsErrorReply(err: HttpError): Reply {
  return { status: err.status, body: { error: { code: err.providerCode ?? CODES[err.code], message: err.message } } };
}

const TRIGGER_PATH = /^\/workflows\/([^/]+)\/triggers\/manual\/paths\/invoke$/;

function workflowId(path: string): string | null {
  const raw = TRIGGER_PATH.exec(path)?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The workflow in the path names the workspace; the shared-access signature must be its token. */
function authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth {
  const id = workflowId(req.path);
  const ws = id === null ? undefined : state.workspaceById(id);
  const fail = (error: HttpError): EmulatorAuth => ({ workspace: null, claimed: ws?.seed.id ?? null, error });
  if (!ws) return fail(new HttpError(404, 'NOT_FOUND', `The workflow '${id ?? req.path}' could not be found.`));
  const { sig, sp, sv } = req.query;
  if (!sig) return fail(new HttpError(401, 'UNAUTHORIZED', 'The request must be authenticated only by Shared Access scheme.'));
  if (!sp || !sv) {
    return fail(new HttpError(401, 'UNAUTHORIZED', "Required parameters for shared access URL are permissions ('sp'), version ('sv'), and signature ('sig').", undefined, 'AuthorizationFailed'));
  }
  if (sig !== ws.seed.token) return fail(new HttpError(401, 'UNAUTHORIZED', 'The request must be authenticated only by Shared Access scheme.'));
  return { workspace: ws, claimed: ws.seed.id, error: null };
}

interface CardElement {
  type?: unknown;
  text?: unknown;
}

interface AdaptiveCard {
  body?: CardElement[];
  msteams?: { entities?: Array<{ type?: unknown; mentioned?: { id?: unknown } }> };
}

/** The card's text as Teams shows it: its TextBlocks, line by line, mentions as the name. */
function cardText(card: AdaptiveCard): string {
  return (card.body ?? [])
    .filter((e) => e.type === 'TextBlock' && typeof e.text === 'string')
    .map((e) => (e.text as string).replace(/<at>(.*?)<\/at>/g, '$1'))
    .join('\n');
}

function mentionedEmail(card: AdaptiveCard): string | null {
  const id = card.msteams?.entities?.find((e) => e.type === 'mention')?.mentioned?.id;
  return typeof id === 'string' ? id : null;
}

function invoke({ ws, query, body, rawBody, now }: RouteContext): Reply {
  if (!query['api-version']) {
    throw new HttpError(400, 'VALIDATION', 'The api-version query parameter (?api-version=) is required for all requests.', undefined, 'MissingApiVersionParameter');
  }
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_CARD_BYTES) {
    throw new HttpError(413, 'VALIDATION', `The message is larger than the ${MAX_CARD_BYTES} bytes Teams accepts.`, undefined, 'MessageSizeTooBig');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'VALIDATION', 'The request content must be a JSON object.');
  }
  const request = body as { channelId?: unknown; attachments?: Array<{ contentType?: unknown; content?: AdaptiveCard }> };
  const card = request.attachments?.find((a) => a.contentType === ADAPTIVE_CARD)?.content;
  // The trigger accepts before the flow runs: a request without a card is still 202, and the
  // flow's post step fails where the caller cannot see it. So nothing is posted here either.
  if (card) {
    const recipient = mentionedEmail(card);
    const channel = typeof request.channelId === 'string' && request.channelId !== '' ? request.channelId : recipient ? dmChannelId(recipient) : FLOW_CHANNEL;
    ws.messages.push({
      id: `msg_${ws.nextMessageNo++}`,
      channel_id: channel,
      recipient_email: recipient,
      text: cardText(card),
      blocks: [card],
      created_at: new Date(now).toISOString(),
    });
  }
  return { status: 202, body: undefined, headers: { 'x-ms-workflow-run-id': `08584${now}${ws.nextMessageNo}`, 'x-ms-correlation-id': randomUUID() } };
}

const TEAMS_WORKFLOW: ProviderEmulator = {
  provider: 'teams',
  system: 'messaging',
  prefixes: ['/workflows'],
  authenticate,
  routes: [{ method: 'POST', pattern: '/workflows/:workflow/triggers/manual/paths/invoke', handle: invoke }],
  rateHeaders: () => ({}),
  rateLimited: (rate) => ({
    ...teamsErrorReply(new HttpError(429, 'RATE_LIMITED', `Rate limit is exceeded. Try again in ${rate.resetSeconds} seconds.`)),
    headers: { 'Retry-After': String(rate.resetSeconds) },
  }),
  errorReply: teamsErrorReply,
};

export const TEAMS_EMULATORS: ProviderEmulator[] = [TEAMS_WORKFLOW];
