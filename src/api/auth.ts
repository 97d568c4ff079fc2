import type { Request, RequestHandler, Response } from 'express';
import type { ConsoleRole } from '../console/users';
import { line } from '../domain/input';
import type { Tenant } from '../tenants/schema';
import type { TenantRegistry } from '../tenants/registry';
import { ApiError, parseHeader } from './errors';
import { SESSION_COOKIE, type SessionClaims, type Sessions } from './session';

const PRINCIPAL = Symbol('principal');

/** Who is making a request: a tenant's integration (API key) or a signed-in console user. */
export type Principal =
  | { tenant: Tenant; role: 'admin'; actor: null; via: 'api_key' }
  | {
      tenant: Tenant;
      role: ConsoleRole;
      /** The user's email: what their actions are recorded as. */
      actor: string;
      name: string;
      via: 'session';
      session: SessionClaims;
      csrfToken: string;
    };

/** Methods that change nothing: the only ones a session may use without its CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The values of one cookie in a Cookie header (RFC 6265 pairs separated by `;`). Every value of
 * that name is returned: a browser sends several when cookies of the same name have different
 * paths or domains, and only one of them may be ours.
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value) values.push(value);
  }
  return values;
}

/** `Set-Cookie` for a session token (`maxAgeSeconds` 0 clears it). */
export function sessionCookie(req: Request, token: string, maxAgeSeconds: number): string {
  return [`${SESSION_COOKIE}=${token}`, 'HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, ...(req.secure ? ['Secure'] : [])].join('; ');
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.append('Set-Cookie', sessionCookie(req, '', 0));
}

/**
 * The signed-in user a session token stands for, looked up again in the tenant configuration as
 * it is now: a removed user, a user moved to another tenant or a changed password ends the
 * session at once, and a changed role applies to the next request.
 */
export function sessionPrincipal(tenants: TenantRegistry, sessions: Sessions, token: string): Extract<Principal, { via: 'session' }> | null {
  const claims = sessions.verify(token);
  if (!claims) return null;
  const found = tenants.consoleUser(claims.email);
  if (!found || found.tenant.id !== claims.tenantId || sessions.credentialOf(found.user.passwordHash) !== claims.credential) return null;
  return {
    tenant: found.tenant,
    role: found.user.role,
    actor: found.user.email,
    name: found.user.name,
    via: 'session',
    session: claims,
    csrfToken: sessions.csrfToken(claims.sessionId),
  };
}

/**
 * `Authorization: Bearer <api key>` → the key's tenant, as an admin; without that header, the
 * console's session cookie → the signed-in user (writes must carry `X-CSRF-Token`). Sessions is
 * absent when no session key is configured: then only API keys are accepted.
 */
export function authenticate(tenants: TenantRegistry, sessions?: Sessions): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    const cookies = sessions && header === undefined ? cookieValues(req.get('cookie'), SESSION_COOKIE) : [];
    if (cookies.length > 1) {
      // Two session cookies means one was planted (a sibling host's cookie, a narrower path): which
      // session the person works in must not be the planter's choice.
      next(new ApiError(401, 'unauthorized', 'More than one session cookie: sign out (or clear this site\'s cookies) and sign in again'));
      return;
    }
    if (cookies.length > 0 && sessions) {
      let principal: Principal | null = null;
      for (const token of cookies) principal ??= sessionPrincipal(tenants, sessions, token);
      if (!principal) {
        clearSessionCookie(req, res);
        next(new ApiError(401, 'unauthorized', 'Your session has ended (signed out, expired or changed): sign in again'));
        return;
      }
      if (!SAFE_METHODS.has(req.method) && !sessions.checkCsrf(principal.session.sessionId, req.get('x-csrf-token'))) {
        next(new ApiError(403, 'csrf_failed', 'Missing or wrong X-CSRF-Token header: send the csrfToken given at sign-in'));
        return;
      }
      (req as Request & { [PRINCIPAL]?: Principal })[PRINCIPAL] = principal;
      next();
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const tenant = match?.[1] ? tenants.byApiKey(match[1]) : undefined;
    if (!tenant) {
      res.set('WWW-Authenticate', 'Bearer realm="leadrelay"');
      next(new ApiError(401, 'unauthorized', match ? 'Unknown API key' : 'Missing Authorization: Bearer <api key> header'));
      return;
    }
    (req as Request & { [PRINCIPAL]?: Principal })[PRINCIPAL] = { tenant, role: 'admin', actor: null, via: 'api_key' };
    next();
  };
}

export function principalOf(req: Request): Principal {
  const principal = (req as Request & { [PRINCIPAL]?: Principal })[PRINCIPAL];
  if (!principal) throw new ApiError(401, 'unauthorized', 'Not authenticated');
  return principal;
}

export function tenantOf(req: Request): Tenant {
  return principalOf(req).tenant;
}

const ActorHeader = line(200).min(1);

/**
 * Who an action is recorded as: the signed-in user's email for a console session, whatever the
 * request says; for an API key, the actor the body names (`stated`, on routes whose body has an
 * `actor` field), else the `X-Actor` header, else `fallback`.
 */
export function actorOf(req: Request, fallback: string, stated?: string): string {
  const principal = principalOf(req);
  if (principal.via === 'session') return principal.actor;
  return stated ?? parseHeader(ActorHeader, req, 'X-Actor') ?? fallback;
}

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** Requests with a body must say it is JSON (or YAML, which only the policy route reads). */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const length = Number(req.get('content-length') ?? '0');
    const chunked = req.get('transfer-encoding') !== undefined;
    if ((length > 0 || chunked) && !req.is(['application/json', ...YAML_TYPES])) {
      next(new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json'));
      return;
    }
  }
  next();
};
