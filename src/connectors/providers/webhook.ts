import type { ProviderDefinitionInput } from '../definition';

/**
 * A generic signed webhook (SMS gateways, buyers' own endpoints): the notification is POSTed to
 * `/hooks/{accountId}` on the receiver's base URL, signed with the shared secret
 * (`X-Leadrelay-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`), and carries
 * the idempotency key both as `Idempotency-Key` and as the event `id`, so a receiver can drop a
 * retried delivery either way. Receivers may answer 200/202 with `{ id, status }` or an empty
 * 202/204: without an `id` the idempotency key names the message. Status codes say everything
 * else (401 bad signature, 429 + `Retry-After`, IETF `ratelimit-*` headers).
 */
export const webhookProvider: ProviderDefinitionInput = {
  id: 'webhook',
  auth: { type: 'hmac', header: 'x-leadrelay-signature' },
  // Receivers are customers' own services, often slower than a SaaS API.
  timeoutMs: 10_000,
  operations: {
    'messaging.send': {
      method: 'POST',
      path: '/hooks/{accountId}',
      headers: '{ "Idempotency-Key": input.idempotencyKey }',
      body: `{
        "type": "lead.notification",
        "id": input.idempotencyKey,
        "title": input.title,
        "text": input.text,
        "recipient": { "email": input.recipientEmail, "channel": input.channelId },
        "acceptUrl": input.acceptUrl
      }`,
      response: `{
        "messageId": $exists(id) and id != null and id != "" ? $string(id) : $input.idempotencyKey,
        "channel": $input.channelId ? $input.channelId : null
      }`,
    },
  },
};
