import { ACCEPT_BUTTON_ACTION_ID } from '../../accept/tokens';
import type { ProviderDefinitionInput } from '../definition';

/** Slack error codes that mean the bot token no longer works: retrying cannot help, an admin must act. */
const AUTH_ERRORS = ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope'];
/** Slack's own hiccups, reported as 200 `ok:false` (or 5xx): worth another attempt. */
const TRANSIENT_ERRORS = ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'];
/** The message metadata event type our posts carry, with the send's idempotency key as its payload. */
export const SLACK_METADATA_EVENT_TYPE = 'leadrelay_notification';

/**
 * The message as Slack Block Kit (JSONata on `messaging.send`'s input). A message with `accept`
 * is its text in a section and an actions row: a primary "Accept" button (`accept_lead`, whose
 * value `accept.value` the interactions route decodes) and, when the lead has an accept link
 * (`acceptUrl`), an "Accept by link" button opening it. Without `accept`, the caller's own
 * `blocks` (if any) go as they are. Unified's messaging API delivers to Slack too and sends the same.
 */
export const SLACK_BLOCKS = `(
  input.accept ? [
    { "type": "section", "text": { "type": "mrkdwn", "text": input.accept.text } },
    {
      "type": "actions",
      "elements": [
        {
          "type": "button",
          "action_id": "${ACCEPT_BUTTON_ACTION_ID}",
          "style": "primary",
          "text": { "type": "plain_text", "text": "Accept" },
          "value": input.accept.value
        },
        input.acceptUrl ? {
          "type": "button",
          "action_id": "open_accept_link",
          "text": { "type": "plain_text", "text": "Accept by link" },
          "url": input.acceptUrl
        }
      ]
    }
  ] : input.blocks
)`;

/**
 * Slack Web API with a bot token (`xoxb-...`). Slack answers most errors with HTTP 200 and
 * `{ "ok": false, "error": "<code>" }`, so `signals` turns `ok:false` into outcomes; the reason
 * is Slack's error code (plus the scope it needs, or its block validation messages).
 * A rate limit is HTTP 429 with `Retry-After` (seconds) and no window headers.
 *
 * chat.postMessage has no idempotency key (`client_msg_id` is not honoured for bots), so every
 * post carries our key in Slack message metadata (`leadrelay_notification`). A retried send first
 * reads the conversation back (`conversations.open` for a user's DM, then `conversations.history`
 * with `include_all_metadata`) and reuses a message that already carries the key instead of
 * posting again. That lookup needs `im:write` and `im:history` (DMs) or `channels:history` /
 * `groups:history` (channels); without them it fails and the activity posts anyway (a possible
 * duplicate beats no message).
 */
export const slackProvider: ProviderDefinitionInput = {
  id: 'slack',
  auth: { type: 'bearer' },
  timeoutMs: 5000,
  signals: `ok = false ? (
    $reason := error
      & (needed ? " (needs " & needed & ")" : "")
      & ($exists(response_metadata.messages) ? ": " & $join(response_metadata.messages, "; ") : "");
    error = "ratelimited" ? { "outcome": "rate_limited", "reason": $reason }
    : error in ${JSON.stringify(AUTH_ERRORS)} ? { "outcome": "auth", "reason": $reason }
    : error in ${JSON.stringify(TRANSIENT_ERRORS)} ? { "outcome": "transient", "reason": $reason }
    : error = "users_not_found" ? { "outcome": "not_found", "reason": $reason }
    : { "outcome": "permanent", "reason": $reason }
  ) : null`,
  operations: {
    'messaging.lookupUser': {
      method: 'GET',
      path: '/api/users.lookupByEmail',
      query: '{ "email": input.email }',
      response: '{ "userId": user.id }',
    },
    'messaging.send': {
      method: 'POST',
      path: '/api/chat.postMessage',
      // A user ID opens (or reuses) the DM with that user; Slack answers with the DM's channel ID.
      body: `{
        "channel": input.userId ? input.userId : input.channelId,
        "text": input.text,
        "blocks": ${SLACK_BLOCKS},
        "unfurl_links": false,
        "metadata": {
          "event_type": "${SLACK_METADATA_EVENT_TYPE}",
          "event_payload": { "idempotency_key": input.idempotencyKey }
        }
      }`,
      response: '{ "messageId": ts, "channel": channel ? channel : null }',
    },
    // The DM with a user (the existing one; Slack opens it only if there is none): posts to a user ID land there.
    'messaging.openDirect': {
      method: 'POST',
      path: '/api/conversations.open',
      body: '{ "users": input.userId }',
      response: '{ "channelId": channel.id }',
    },
    // One page of the newest messages since `oldest` (Slack's ts format, exclusive) is enough: the
    // lookup only covers the few minutes since the send was first scheduled, so it does not paginate.
    // (Slack may cap the page below 100: 15 for commercially distributed apps outside its Marketplace.)
    'messaging.findSent': {
      method: 'GET',
      path: '/api/conversations.history',
      query: `{
        "channel": input.channelId,
        "oldest": $formatNumber($toMillis(input.oldest) / 1000, "0.000000"),
        "limit": 100,
        "include_all_metadata": true
      }`,
      response: `(
        $match := messages[metadata.event_type = "${SLACK_METADATA_EVENT_TYPE}" and metadata.event_payload.idempotency_key = $input.idempotencyKey];
        { "messageId": $exists($match) ? $match[0].ts : null }
      )`,
    },
  },
};
