import type { ProviderDefinitionInput } from '../definition';

/** Slack error codes that mean the bot token no longer works: retrying cannot help, an admin must act. */
const AUTH_ERRORS = ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope'];
/** Slack's own hiccups, reported as 200 `ok:false` (or 5xx): worth another attempt. */
const TRANSIENT_ERRORS = ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'];

/**
 * Slack Web API with a bot token (`xoxb-...`). Slack answers most errors with HTTP 200 and
 * `{ "ok": false, "error": "<code>" }`, so `signals` turns `ok:false` into outcomes; the reason
 * is Slack's error code (plus the scope it needs, or its block validation messages).
 * A rate limit is HTTP 429 with `Retry-After` (seconds) and no window headers.
 *
 * chat.postMessage has no idempotency key (`client_msg_id` is not honoured for bots): a retried
 * send after a lost answer can post twice. Nothing on the wire prevents that, so the activity's
 * retry policy is the only guard.
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
        "blocks": input.blocks,
        "unfurl_links": false
      }`,
      response: '{ "messageId": ts, "channel": channel ? channel : null }',
    },
  },
};
