import type { ProviderDefinitionInput } from '../definition';

/**
 * Microsoft Teams through a Workflows (Power Automate / Logic Apps) flow triggered by "When a
 * Teams webhook request is received". The connection's base URL is the webhook's host
 * (`https://prod-00.westus.logic.azure.com:443`), its account ID the workflow ID, and its
 * secret the URL's `sig` signature, sent as a query parameter.
 *
 * The message is an Adaptive Card (the only content the flow's "post card" step takes): an
 * optional title, a mention of the recipient (`<at>…</at>` with an `msteams.entities` mention, so
 * Teams notifies them), the text, and an "Accept" button when the lead has an accept link.
 * `channelId` travels at the top level for flows that pick the channel from the request; the
 * stock template posts to the channel chosen in the flow. Slack-style `blocks` are not sent.
 *
 * The trigger answers 202 Accepted with no body before the flow runs: no message ID comes back,
 * so the idempotency key stands in for it. Webhooks have no idempotency: a retried send after a
 * lost answer may post twice. The timeout is generous for that reason.
 *
 * Limits: about 4 requests per second per webhook, then 429 `TooManyRequests` with `Retry-After`;
 * cards over 28 KB are refused (413).
 */
export const teamsProvider: ProviderDefinitionInput = {
  id: 'teams',
  auth: { type: 'query', name: 'sig' },
  timeoutMs: 10_000,
  operations: {
    'messaging.send': {
      method: 'POST',
      path: '/workflows/{accountId}/triggers/manual/paths/invoke',
      query: '{ "api-version": "2016-06-01", "sp": "/triggers/manual/run", "sv": "1.0" }',
      body: `(
        $mention := input.recipientEmail ? "<at>" & input.recipientEmail & "</at>";
        {
          "type": "message",
          "channelId": input.channelId,
          "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
              "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
              "type": "AdaptiveCard",
              "version": "1.4",
              "body": [
                input.title ? { "type": "TextBlock", "text": input.title, "weight": "Bolder", "size": "Medium", "wrap": true },
                $mention ? { "type": "TextBlock", "text": $mention, "wrap": true },
                { "type": "TextBlock", "text": input.text, "wrap": true }
              ],
              "actions": input.acceptUrl ? [{ "type": "Action.OpenUrl", "title": "Accept", "url": input.acceptUrl }] : [],
              "msteams": $mention ? {
                "entities": [{
                  "type": "mention",
                  "text": $mention,
                  "mentioned": { "id": input.recipientEmail, "name": input.recipientEmail }
                }]
              }
            }
          }]
        }
      )`,
      response: '{ "messageId": $input.idempotencyKey, "channel": $input.channelId ? $input.channelId : null }',
    },
  },
};
