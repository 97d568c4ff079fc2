import express, { type Router } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AcceptRequest } from '../../domain/leadState';
import { resolveSecret } from '../../tenants/secrets';
import type { Tenant } from '../../tenants/schema';
import { LEAD_ID_PATTERN, leadWorkflowId } from '../../protocol/ids';
import { acceptSignal } from '../../protocol/messages';
import { actorOf, tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, parseRequest } from '../errors';
import { AcceptBody } from '../contracts';
import { leadHandle, notFoundAsApiError, stateForCheck } from './get-lead';
import { parseSlackInteraction, verifySlackSignature } from '../signatures';
import { ACCEPT_BUTTON_ACTION_ID, decodeAcceptButtonValue, unverifiedTokenTenant, verifyAcceptToken } from '../../accept/tokens';


/**
 * Signals acceptance to a lead whose run is still open; a closed run has nothing left to accept.
 * A link or button names the owner it was sent to: when the lead has moved on (escalated,
 * reassigned), it accepts nothing, and the answer says so instead of a success.
 */
async function signalAccept(ctx: ApiContext, tenant: Tenant, leadId: string, req: AcceptRequest): Promise<void> {
  const handle = leadHandle(ctx.client, tenant, leadId);
  const described = await handle.describe().catch(notFoundAsApiError(leadId));
  const closed = (status: string) => new ApiError(409, 'lead_closed', `Lead ${leadId} is ${status}`);
  if (described.status.name !== 'RUNNING') throw closed(described.status.name.toLowerCase());
  if (req.ownerId !== null) {
    const state = await stateForCheck(handle, leadId);
    if (state && state.owner?.id !== req.ownerId) {
      throw new ApiError(409, 'not_the_owner', `Lead ${leadId} is not with ${req.ownerId} (any more): this accept is from an earlier notification and accepted nothing`);
    }
  }
  await handle.signal(acceptSignal, req).catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) throw closed('closed');
    throw err;
  });
}

/**
 * Accepting a lead: by API (authenticated), by a signed link from an email/SMS/Teams
 * notification, or by the Slack Accept button (a block_actions callback verified with the
 * tenant's Slack signing secret and Slack's 5-minute replay window).
 */
export function postLeadAccept(v1: Router, ctx: ApiContext): void {
  v1.post('/v1/leads/:leadId/accept', async (req, res) => {
    const tenant = tenantOf(req);
    const body = parseRequest(AcceptBody, req.body ?? {}, 'body');
    const leadId = String(req.params['leadId']);
    await signalAccept(ctx, tenant, leadId, { actor: actorOf(req, `api-key:${tenant.id}`, body.actor), via: 'api', ownerId: null });
    res.status(202).json({ leadId, accepted: true });
  });
}

/** Accept routes authenticated by a signature rather than an API key. */
export function signedAcceptRoutes(app: express.Express, ctx: ApiContext): void {
  // The token is the credential: it names tenant, lead and owner, and expires. Opening the link
  // (GET) only shows a confirmation: mail scanners fetch every link they see, and must not
  // accept leads. The page's button POSTs the token back.
  const verifyLink = (token: string) => {
    const tenantId = unverifiedTokenTenant(token);
    const tenant = tenantId ? ctx.tenants.get(tenantId) : undefined;
    const secret = tenant?.accept.linkSecret ? resolveSecret(tenant.accept.linkSecret, process.env) : null;
    const verified = secret ? verifyAcceptToken(secret, token, Date.now()) : ({ ok: false, reason: 'bad_signature' } as const);
    if (!tenant || !verified.ok) throw new ApiError(401, 'unauthorized', `Accept link is not valid${verified.ok ? '' : ` (${verified.reason})`}`);
    return { tenant, ...verified };
  };

  app.get('/v1/accept', (req, res) => {
    const token = typeof req.query['token'] === 'string' ? req.query['token'] : '';
    const link = verifyLink(token);
    res
      .status(200)
      .type('html')
      .send(
        `<!doctype html><html><head><meta charset="utf-8"><title>Accept lead</title></head><body>` +
          `<p>Accept lead <code>${escapeHtml(link.leadId)}</code>?</p>` +
          `<form method="post" action="/v1/accept"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
          `<button type="submit">Accept</button></form></body></html>`,
      );
  });

  app.post('/v1/accept', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    const fromBody = (req.body as Record<string, unknown> | undefined)?.['token'];
    const token = typeof fromBody === 'string' ? fromBody : typeof req.query['token'] === 'string' ? req.query['token'] : '';
    const link = verifyLink(token);
    await signalAccept(ctx, link.tenant, link.leadId, { actor: link.ownerId, via: 'link', ownerId: link.ownerId });
    res.status(200).json({ leadId: link.leadId, accepted: true });
  });

  // Slack posts form-encoded `payload=`; the signature covers the raw bytes, so read them raw.
  app.post('/v1/integrations/slack/:tenantId/interactions', express.raw({ type: '*/*', limit: '256kb' }), async (req, res) => {
    const tenant = ctx.tenants.get(String(req.params['tenantId']));
    const signingSecret = tenant?.accept.slackSigningSecret ? resolveSecret(tenant.accept.slackSigningSecret, process.env) : null;
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = signingSecret
      ? verifySlackSignature({ signingSecret, timestamp: req.get('x-slack-request-timestamp'), signature: req.get('x-slack-signature'), rawBody: raw, nowMs: Date.now() })
      : ({ ok: false, reason: 'bad_signature' } as const);
    if (!tenant || !check.ok) throw new ApiError(401, 'unauthorized', `Slack request rejected${check.ok ? '' : ` (${check.reason})`}`);
    const interaction = parseSlackInteraction(raw.toString('utf8'));
    if (!interaction.ok) {
      throw new ApiError(400, 'invalid_request', `Unsupported Slack interaction (${interaction.reason})`, [{ field: 'payload', message: interaction.reason }]);
    }
    const action = interaction.actions.find((a) => a.actionId === ACCEPT_BUTTON_ACTION_ID);
    const button = decodeAcceptButtonValue(action?.value ?? null);
    if (!button || button.tenantId !== tenant.id || !LEAD_ID_PATTERN.test(button.leadId)) {
      // Other buttons (e.g. the link button) need no answer beyond the acknowledgement.
      res.status(200).json({ ok: true });
      return;
    }
    // Slack wants an answer within 3 s: a button that accepts nothing (the lead moved on or
    // closed) is answered as such, so Slack shows the click failed instead of a silent success.
    await signalAccept(ctx, tenant, button.leadId, { actor: `slack:${interaction.user.username ?? interaction.user.id}`, via: 'slack', ownerId: button.ownerId });
    res.status(200).json({ ok: true, workflowId: leadWorkflowId(tenant.id, button.leadId) });
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
