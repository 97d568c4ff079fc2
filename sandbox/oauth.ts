import { basicCredentials, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator } from './emulator';
import type { SandboxState, WorkspaceRuntime } from './state';
import { HttpError, type Reply } from './wire';

/**
 * An OAuth 2.0 token endpoint (refresh-token grant, RFC 6749 §6) as Salesforce, HubSpot, Google
 * and Microsoft run them: form-encoded `grant_type=refresh_token&client_id&client_secret&refresh_token`
 * (or the client in HTTP Basic). A revoked grant answers `invalid_grant`; every request is an
 * event, so tests can count refreshes. Each provider supplies its success body and error shape.
 */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type';

export interface OAuthEndpointOptions {
  /** The API provider the access tokens are for (its emulator accepts them). */
  provider: string;
  /** Path prefix the endpoint owns, and the token path itself. */
  prefix: string;
  path: string;
  /** The provider's success body. */
  success(token: {
    accessToken: string;
    expiresIn: number;
    refreshToken: string;
    ws: WorkspaceRuntime;
    now: number;
    /** The client's secret (Salesforce signs its answer with it). */
    clientSecret: string;
    /** The origin the client reached (Salesforce names it as `instance_url`). */
    origin: string;
  }): unknown;
  /** The provider's error body for a standard OAuth error code. */
  error(code: OAuthErrorCode, description: string): unknown;
}

function fail(status: number, code: OAuthErrorCode, description: string): HttpError {
  return new HttpError(status, status === 401 ? 'UNAUTHORIZED' : 'VALIDATION', description, undefined, code);
}

function form(req: EmulatorRequest): Record<string, string> {
  const body = req.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    return Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  return {};
}

export function oauthTokenEndpoint(opts: OAuthEndpointOptions): ProviderEmulator {
  const authenticate = (req: EmulatorRequest, state: SandboxState): EmulatorAuth => {
    const params = form(req);
    const basic = basicCredentials(req.headers);
    const clientId = params['client_id'] ?? basic?.user ?? null;
    const clientSecret = params['client_secret'] ?? basic?.password ?? null;
    const ws = clientId === null ? undefined : state.workspaceByClientId(clientId);
    if (!ws || state.oauthClient(ws).clientSecret !== clientSecret) {
      return { workspace: null, claimed: ws?.seed.id ?? null, error: fail(401, 'invalid_client', 'client authentication failed') };
    }
    return { workspace: ws, claimed: ws.seed.id, error: null };
  };
  const errorReply = (err: HttpError): Reply => {
    const code = (err.providerCode as OAuthErrorCode | undefined) ?? (err.status === 401 ? 'invalid_client' : 'invalid_request');
    return { status: err.status, body: opts.error(code, err.message) };
  };
  return {
    provider: `${opts.provider}-oauth`,
    system: 'auth',
    prefixes: [opts.prefix],
    authenticate,
    routes: [
      {
        method: 'POST',
        pattern: opts.path,
        handle: ({ ws, body, headers, now, state }) => {
          const params = (body ?? {}) as Record<string, string>;
          if (params['grant_type'] !== 'refresh_token') throw fail(400, 'unsupported_grant_type', `grant_type ${params['grant_type'] ?? '(none)'} is not supported`);
          const client = state.oauthClient(ws);
          if (!params['refresh_token']) throw fail(400, 'invalid_request', 'refresh_token is required');
          if (params['refresh_token'] !== client.refreshToken || ws.revokedGrants.has(opts.provider)) {
            throw fail(400, 'invalid_grant', 'expired access/refresh token');
          }
          const accessToken = state.issueAccessToken(ws.seed.id, opts.provider, client.accessTokenTtlSeconds, now);
          const origin = `http://${headers['host'] ?? '127.0.0.1'}`;
          return {
            status: 200,
            body: opts.success({ accessToken, expiresIn: client.accessTokenTtlSeconds, refreshToken: client.refreshToken, ws, now, clientSecret: client.clientSecret, origin }),
          };
        },
      },
    ],
    rateHeaders: () => ({}),
    rateLimited: (rate) => ({ status: 429, body: opts.error('invalid_request', 'too many token requests'), headers: { 'Retry-After': String(rate.resetSeconds) } }),
    errorReply,
  };
}
