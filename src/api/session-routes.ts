import express, { type Request, type Router } from 'express';
import { dummyPasswordHash, verifyPassword } from '../console/users';
import type { Tenant } from '../tenants/schema';
import { clearSessionCookie, principalOf, requireJson, sessionCookie, type Principal } from './auth';
import type { ApiContext } from './context';
import { SessionSignInBody } from './contracts';
import { ApiError, noPrototypeKeys, parseRequest } from './errors';
import type { Sessions } from './session';

/**
 * The console's sessions:
 * POST   /v1/session  { email, password } → the user, their tenant and the CSRF token; sets the cookie
 * GET    /v1/session  → the same, for the signed-in user
 * DELETE /v1/session  → signs out (the token is refused from then on; see Sessions.revoke)
 */

type SessionView = {
  user: { email: string; name: string; role: string };
  tenant: { id: string; name: string; timezone: string };
  csrfToken: string;
};

function view(tenant: Tenant, user: { email: string; name: string; role: string }, csrfToken: string): SessionView {
  return { user: { email: user.email, name: user.name, role: user.role }, tenant: { id: tenant.id, name: tenant.name, timezone: tenant.routing.timezone }, csrfToken };
}

function sessionsOf(ctx: ApiContext): Sessions {
  if (!ctx.sessions) throw new ApiError(404, 'not_found', 'Console sign-in is not enabled on this server (no session key: set LEADRELAY_SESSION_KEY)');
  return ctx.sessions;
}

/** The address failed sign-ins are counted against: the peer (the API trusts no proxy headers). */
function clientAddress(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

function signedIn(req: Request): Extract<Principal, { via: 'session' }> {
  const principal = principalOf(req);
  if (principal.via !== 'session') throw new ApiError(401, 'unauthorized', 'Not signed in: this request carries an API key, not a console session');
  return principal;
}

/**
 * POST /v1/session, mounted before API-key authentication. Wrong email and wrong password get the
 * same answer after the same work (an unknown email is verified against a dummy hash); failures
 * are limited per email and per client address.
 */
export function signInRoute(ctx: ApiContext): Router {
  const router = express.Router();
  router.post('/v1/session', requireJson, express.json({ limit: '4kb', strict: true }), noPrototypeKeys, async (req, res) => {
    const sessions = sessionsOf(ctx);
    const body = parseRequest(SessionSignInBody, req.body, 'body');
    const attempt = sessions.limiter.attempt(body.email, clientAddress(req));
    if (!attempt.ok) {
      res.set('Retry-After', String(attempt.retryAfterSeconds));
      throw new ApiError(429, 'too_many_requests', `Too many failed sign-ins ${attempt.limitedBy === 'email' ? 'for this email' : 'from this address'}: try again in ${attempt.retryAfterSeconds} seconds`);
    }
    const found = ctx.tenants.consoleUser(body.email);
    const matches = await verifyPassword(body.password, found?.user.passwordHash ?? dummyPasswordHash());
    if (!found || !matches) throw new ApiError(401, 'invalid_credentials', 'Email or password is incorrect');
    attempt.succeeded();
    const { token, claims } = sessions.issue(found.tenant.id, found.user.email, found.user.passwordHash);
    res.append('Set-Cookie', sessionCookie(req, token, (claims.expiresAt - claims.issuedAt) / 1000));
    res.set('Cache-Control', 'no-store');
    res.status(200).json(view(found.tenant, found.user, sessions.csrfToken(claims.sessionId)));
  });
  return router;
}

/** GET and DELETE /v1/session, after authentication (DELETE carries the CSRF token like every write). */
export function sessionRoutes(router: Router, ctx: ApiContext): void {
  router.get('/v1/session', (req, res) => {
    const principal = signedIn(req);
    res.set('Cache-Control', 'no-store');
    res.json(view(principal.tenant, { email: principal.actor, name: principal.name, role: principal.role }, principal.csrfToken));
  });

  router.delete('/v1/session', (req, res) => {
    const principal = signedIn(req);
    sessionsOf(ctx).revoke(principal.session);
    clearSessionCookie(req, res);
    res.status(204).end();
  });
}
