import type { Context } from '@temporalio/activity';
import { acceptLinkUrl, encodeAcceptButtonValue } from '../src/accept/tokens';
import type { ProviderClient } from '../src/connectors/client';
import type { Connectors } from '../src/connectors/registry';
import type { CallMeta, Upstream } from '../src/domain/upstream';
import type { TenantRegistry } from '../src/tenants/registry';
import { resolveSecret } from '../src/tenants/secrets';
import { activityContext, cancellationSignal, connectorClient } from './context';
import type { NotificationKind } from '../src/protocol/notifications';

export interface MessagingActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  /** Where `{ env: NAME }` secrets are read from (default process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * A retried send looks for its own message this far before its first attempt was scheduled:
 * room for clock skew between this worker and the upstream that stamped the message.
 */
const SENT_LOOKBACK_MS = 120_000;

/** Notifications through the tenant's messaging provider. */
export function createMessagingActivities(deps: MessagingActivityDeps) {
  const { tenants } = deps;
  const client = connectorClient(deps.connectors);
  /** A signed accept link valid for 7 days, or null when the tenant has no link secret or public URL. */
  const acceptLink = (tenantId: string, claims: { leadId: string; ownerId: string }): string | null => {
    const accept = tenants.get(tenantId)?.accept;
    const secret = accept?.linkSecret ? resolveSecret(accept.linkSecret, deps.env ?? process.env) : null;
    if (!secret || !accept?.publicUrl) return null;
    return acceptLinkUrl(accept.publicUrl, secret, { ...claims, tenantId }, Date.now());
  };

  return {
    /**
     * Sends one message. With `accept`, it carries an Accept action whose value names tenant, lead
     * and owner (Slack: a Block Kit button) and, when the tenant has a link secret, a signed accept
     * link. The link is made here so its token never enters workflow history.
     *
     * A retry (attempt 2 and later) first looks for a message the earlier attempt posted with the
     * same idempotency key (providers with `messaging.findSent`: Slack message metadata) and
     * returns it instead of posting twice. The first attempt never looks: nothing can be there yet.
     */
    async notify(input: {
      tenantId: string;
      recipient: { email: string } | { channel: string };
      text: string;
      idempotencyKey: string;
      accept?: { leadId: string; ownerId: string };
      /** What the message is, for the audit (inputs recorded before it carry none). */
      kind?: NotificationKind;
    }): Promise<{ messageId: string } & Upstream> {
      const messaging = client(input.tenantId, 'messaging');
      const calls: CallMeta[] = [];
      let userId: string | undefined;
      if ('email' in input.recipient && messaging.supports('messaging.lookupUser')) {
        // Slack messages people by user ID: look the rep up by email first.
        const user = await messaging.call('messaging.lookupUser', { email: input.recipient.email });
        calls.push(user.meta);
        userId = user.data.userId;
      }
      // The provider's definition lays the message out (Slack: Block Kit with an Accept button,
      // Teams: an adaptive card); this only says what it carries.
      const link = input.accept ? acceptLink(input.tenantId, input.accept) : null;
      const payload = {
        text: link ? `${input.text}\nAccept: ${link}` : input.text,
        idempotencyKey: input.idempotencyKey,
        ...(input.accept ? { accept: { value: encodeAcceptButtonValue({ tenantId: input.tenantId, ...input.accept }), text: input.text } } : {}),
        ...(link ? { acceptUrl: link } : {}),
        ...(userId ? { userId } : {}),
        ...('email' in input.recipient ? { recipientEmail: input.recipient.email } : { channelId: input.recipient.channel }),
      };
      const activity = activityContext();
      if (activity && activity.info.attempt > 1) {
        const to = userId !== undefined ? { userId } : 'channel' in input.recipient ? { channelId: input.recipient.channel } : null;
        const sent = await findSentMessage(messaging, to, input.idempotencyKey, activity, calls);
        if (sent !== null) return { messageId: sent, calls };
      }
      const result = await messaging.call('messaging.send', payload);
      return { messageId: result.data.messageId, calls: [...calls, result.meta] };
    },
  };
}

/**
 * The message an earlier attempt of this send already posted (its answer was lost, so the
 * activity was retried), found by idempotency key in the conversation it went to; null when
 * there is none or the messaging provider cannot look. Each lookup call's meta goes into
 * `calls`. A failed lookup (a missing history scope, a rate limit, anything) is logged and
 * counts as "not found": posting again risks a duplicate, not posting risks no message at all.
 */
async function findSentMessage(
  messaging: ProviderClient,
  to: { userId: string } | { channelId: string } | null,
  idempotencyKey: string,
  activity: Context,
  calls: CallMeta[],
): Promise<string | null> {
  if (!to || !messaging.supports('messaging.findSent')) return null;
  try {
    let channelId: string;
    if ('userId' in to) {
      // A post to a user lands in their DM: its channel is where the message can be read back.
      if (!messaging.supports('messaging.openDirect')) return null;
      const dm = await messaging.call('messaging.openDirect', { userId: to.userId });
      calls.push(dm.meta);
      channelId = dm.data.channelId;
    } else {
      channelId = to.channelId;
    }
    const oldest = new Date(activity.info.scheduledTimestampMs - SENT_LOOKBACK_MS).toISOString();
    const found = await messaging.call('messaging.findSent', { channelId, idempotencyKey, oldest });
    // Finding the message is the upstream's answer for our key: recorded like a replayed write.
    calls.push(found.data.messageId === null ? found.meta : { ...found.meta, replayed: true });
    return found.data.messageId;
  } catch (err) {
    if (cancellationSignal()?.aborted) throw err;
    const failure = err as { message?: string; type?: string };
    activity.log.warn('could not look for an already posted message; posting anyway, which may duplicate it', {
      provider: messaging.providerId,
      idempotencyKey,
      failureType: failure.type ?? null,
      error: failure.message ?? String(err),
    });
    return null;
  }
}
