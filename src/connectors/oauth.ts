import type jsonata from 'jsonata';
import { logger } from '../log';
import { upstreamFailure } from './failure';
import { UpstreamFailure } from '../protocol/failures';

/**
 * OAuth 2.0 access tokens for a worker's connections (refresh-token grant, RFC 6749 §6).
 *
 * Tokens live here, in the worker's memory, and never in workflow inputs, results or failures.
 * - Proactive: a token is refreshed once it is within `marginMs` of expiry; until it actually
 *   expires, callers keep using it while one refresh runs (no caller waits on a token that works).
 * - Single flight: however many activities notice expiry at once, one refresh request per
 *   connection is in flight; the others wait for its answer.
 * - Cool-down: after a failed refresh (network, 5xx, 429) nobody asks the token endpoint again
 *   until the cool-down ends (doubling up to `maxCooldownMs`); callers get a retryable failure
 *   whose `nextRetryDelay` is the rest of the cool-down.
 * - `invalid_grant` (the provider's own form of it) is permanent: the connection needs
 *   re-authorization, every call fails at once, non-retryably, and nothing loops. It clears only
 *   when the configured refresh token changes (a rotated secret file) or an operator asks.
 */
export interface OAuthGrant {
  /** `tenant/connection`. */
  connectionId: string;
  provider: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** The configured refresh token (read at each use: a rotated file is picked up). */
  refreshToken: string;
  scope: string | null;
  /** Lifetime assumed when the token endpoint gives no `expires_in` (Salesforce). */
  lifetimeSeconds: number;
  /** Recognizes a permanent refresh failure in the token endpoint's error body. */
  invalidGrant: jsonata.Expression;
  /** The token answer's field naming the API host (Salesforce `instance_url`), if the provider has one. */
  instanceUrlField?: string | null;
}

export type AuthState = 'unknown' | 'valid' | 'refreshing' | 'cooling_down' | 'needs_reauthorization';

/** What operators see about a connection's authorization (never a token). */
export interface AuthStatus {
  state: AuthState;
  expiresAt: string | null;
  lastRefreshAt: string | null;
  refreshes: number;
  failedRefreshes: number;
  lastError: string | null;
  coolingDownUntil: string | null;
  needsReauthorizationSince: string | null;
  /** The API host the last token answer named (Salesforce `instance_url`), when the provider names one. */
  instanceUrl: string | null;
}

interface Entry {
  accessToken: string | null;
  expiresAtMs: number;
  issuedAtMs: number;
  /** The refresh token to use: the configured one, or the provider's rotated one. */
  refreshToken: string;
  /** The configured value this entry started from: a different configured value resets the entry. */
  configuredRefreshToken: string;
  inflight: Promise<string> | null;
  cooldownUntilMs: number;
  consecutiveFailures: number;
  needsReauthorization: { sinceMs: number; reason: string } | null;
  refreshes: number;
  failedRefreshes: number;
  lastRefreshAtMs: number | null;
  lastError: string | null;
  instanceUrl: string | null;
}

export interface OAuthOptions {
  fetch?: typeof fetch;
  now?: () => number;
  /** Refresh this long before expiry (default 5 minutes, at most a tenth of a short token's life). */
  marginMs?: number;
  /** First cool-down after a failed refresh (default 5 s); doubles per failure up to `maxCooldownMs` (default 5 min). */
  cooldownMs?: number;
  maxCooldownMs?: number;
  /** A token rejected with 401 sooner than this after it was issued is not refreshed again (default 60 s). */
  minTokenAgeForRetryMs?: number;
  timeoutMs?: number;
}

const log = logger('oauth');

export class OAuthTokens {
  private readonly entries = new Map<string, Entry>();
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: OAuthOptions = {}) {
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** A current access token for the grant: cached, refreshed proactively, or waited for. */
  async accessToken(grant: OAuthGrant): Promise<string> {
    const entry = this.entryFor(grant);
    const now = this.now();
    if (entry.needsReauthorization) {
      throw upstreamFailure(
        UpstreamFailure.NeedsReauthorization,
        grant.provider,
        'oauth.refresh',
        `connection ${grant.connectionId} needs re-authorization: ${entry.needsReauthorization.reason}`,
        false,
      );
    }
    const fresh = entry.accessToken !== null && now < entry.expiresAtMs - this.margin(entry);
    if (fresh && entry.accessToken) return entry.accessToken;
    const usable = entry.accessToken !== null && now < entry.expiresAtMs;

    if (!entry.inflight && now < entry.cooldownUntilMs) {
      if (usable && entry.accessToken) return entry.accessToken;
      throw upstreamFailure(
        UpstreamFailure.AuthRefreshFailed,
        grant.provider,
        'oauth.refresh',
        `token refresh for ${grant.connectionId} failed recently (${entry.lastError ?? 'unknown'}); cooling down`,
        true,
        entry.cooldownUntilMs - now,
      );
    }
    entry.inflight ??= this.refresh(grant, entry).finally(() => {
      entry.inflight = null;
    });
    // Proactive refresh: while the current token still works, use it and let the refresh finish on its own.
    if (usable && entry.accessToken) {
      entry.inflight.catch(() => undefined);
      return entry.accessToken;
    }
    return entry.inflight;
  }

  /**
   * The provider rejected `token` (401). True when a new token may help: the token is dropped so
   * the next call refreshes. False when the token was brand new (the grant itself is not enough:
   * scopes, permissions), so retrying would only loop.
   */
  rejected(connectionId: string, token: string): boolean {
    const entry = this.entries.get(connectionId);
    if (!entry || entry.accessToken !== token) return entry !== undefined; // already replaced: the next call uses the new one
    const age = this.now() - entry.issuedAtMs;
    if (age < (this.options.minTokenAgeForRetryMs ?? 60_000)) return false;
    entry.accessToken = null;
    entry.expiresAtMs = 0;
    return true;
  }

  /** The API host the connection's token answer named, or null (use the configured baseUrl). */
  instanceUrl(connectionId: string): string | null {
    return this.entries.get(connectionId)?.instanceUrl ?? null;
  }

  /** Clears a needs-re-authorization state and cool-down: the next call tries the token endpoint again. */
  reset(connectionId: string): boolean {
    const entry = this.entries.get(connectionId);
    if (!entry) return false;
    entry.needsReauthorization = null;
    entry.cooldownUntilMs = 0;
    entry.consecutiveFailures = 0;
    entry.refreshToken = entry.configuredRefreshToken;
    return true;
  }

  status(connectionId: string): AuthStatus | null {
    const e = this.entries.get(connectionId);
    if (!e) return null;
    const now = this.now();
    const iso = (ms: number | null) => (ms === null || ms <= 0 ? null : new Date(ms).toISOString());
    const state: AuthState = e.needsReauthorization
      ? 'needs_reauthorization'
      : e.inflight
        ? 'refreshing'
        : now < e.cooldownUntilMs
          ? 'cooling_down'
          : e.accessToken !== null && now < e.expiresAtMs
            ? 'valid'
            : 'unknown';
    return {
      state,
      expiresAt: e.accessToken === null ? null : iso(e.expiresAtMs),
      lastRefreshAt: iso(e.lastRefreshAtMs),
      refreshes: e.refreshes,
      failedRefreshes: e.failedRefreshes,
      lastError: e.lastError,
      coolingDownUntil: now < e.cooldownUntilMs ? iso(e.cooldownUntilMs) : null,
      needsReauthorizationSince: e.needsReauthorization ? iso(e.needsReauthorization.sinceMs) : null,
      instanceUrl: e.instanceUrl,
    };
  }

  private margin(entry: Entry): number {
    const lifetime = entry.expiresAtMs - entry.issuedAtMs;
    return Math.min(this.options.marginMs ?? 5 * 60_000, Math.max(0, lifetime / 10));
  }

  private entryFor(grant: OAuthGrant): Entry {
    let entry = this.entries.get(grant.connectionId);
    if (entry && entry.configuredRefreshToken !== grant.refreshToken) {
      // An operator configured a new refresh token: start over with it.
      if (entry.needsReauthorization) log.info('new refresh token configured; re-authorization cleared', { connection: grant.connectionId });
      entry = undefined;
    }
    if (!entry) {
      entry = {
        accessToken: null,
        expiresAtMs: 0,
        issuedAtMs: 0,
        refreshToken: grant.refreshToken,
        configuredRefreshToken: grant.refreshToken,
        inflight: null,
        cooldownUntilMs: 0,
        consecutiveFailures: 0,
        needsReauthorization: null,
        refreshes: 0,
        failedRefreshes: 0,
        lastRefreshAtMs: null,
        lastError: null,
        instanceUrl: null,
      };
      this.entries.set(grant.connectionId, entry);
    }
    return entry;
  }

  private async refresh(grant: OAuthGrant, entry: Entry): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: entry.refreshToken,
      client_id: grant.clientId,
      client_secret: grant.clientSecret,
      ...(grant.scope ? { scope: grant.scope } : {}),
    });
    const startedAt = this.now();
    entry.refreshes++;
    entry.lastRefreshAtMs = startedAt;
    let status: number;
    let body: unknown;
    try {
      const response = await this.fetchImpl(grant.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      status = response.status;
      const text = await response.text();
      try {
        body = text ? (JSON.parse(text) as unknown) : null;
      } catch {
        body = text;
      }
    } catch (err) {
      throw this.failed(grant, entry, `token endpoint unreachable: ${(err as Error).message}`);
    }

    if (status >= 200 && status < 300 && typeof (body as { access_token?: unknown } | null)?.access_token === 'string') {
      const answer = body as { access_token: string; expires_in?: number | string; refresh_token?: string };
      const lifetime = Number(answer.expires_in ?? grant.lifetimeSeconds);
      const now = this.now();
      entry.accessToken = answer.access_token;
      entry.issuedAtMs = now;
      entry.expiresAtMs = now + (Number.isFinite(lifetime) && lifetime > 0 ? lifetime : grant.lifetimeSeconds) * 1000;
      // Providers that rotate refresh tokens (Microsoft) hand back a new one: use it from now on.
      if (typeof answer.refresh_token === 'string' && answer.refresh_token !== '') entry.refreshToken = answer.refresh_token;
      if (grant.instanceUrlField) entry.instanceUrl = apiHost(body, grant.instanceUrlField, grant.connectionId) ?? entry.instanceUrl;
      entry.consecutiveFailures = 0;
      entry.cooldownUntilMs = 0;
      entry.lastError = null;
      log.info('access token refreshed', { connection: grant.connectionId, provider: grant.provider, expiresInSeconds: Math.round((entry.expiresAtMs - now) / 1000) });
      return answer.access_token;
    }

    const detail = describeTokenError(status, body);
    let permanent = false;
    try {
      permanent = status >= 400 && status < 500 && status !== 429 && Boolean(await grant.invalidGrant.evaluate(body ?? {}, { status }));
    } catch {
      permanent = false;
    }
    if (permanent) {
      entry.needsReauthorization = { sinceMs: this.now(), reason: detail };
      entry.accessToken = null;
      entry.failedRefreshes++;
      entry.lastError = detail;
      log.error('connection needs re-authorization: the provider refused the refresh token', {
        connection: grant.connectionId,
        provider: grant.provider,
        reason: detail,
      });
      return Promise.reject(
        upstreamFailure(UpstreamFailure.NeedsReauthorization, grant.provider, 'oauth.refresh', `connection ${grant.connectionId} needs re-authorization: ${detail}`, false),
      );
    }
    throw this.failed(grant, entry, detail);
  }

  /** A failed refresh that may work later: start (or lengthen) the cool-down. */
  private failed(grant: OAuthGrant, entry: Entry, reason: string): Error {
    entry.failedRefreshes++;
    entry.consecutiveFailures++;
    entry.lastError = reason;
    const base = this.options.cooldownMs ?? 5_000;
    const cooldown = Math.min(this.options.maxCooldownMs ?? 5 * 60_000, base * 2 ** (entry.consecutiveFailures - 1));
    entry.cooldownUntilMs = this.now() + cooldown;
    log.warn('token refresh failed; cooling down', { connection: grant.connectionId, provider: grant.provider, reason, cooldownMs: cooldown });
    return upstreamFailure(UpstreamFailure.AuthRefreshFailed, grant.provider, 'oauth.refresh', `token refresh failed: ${reason}`, true, cooldown);
  }
}

/** The token answer's API host, when it is an http(s) URL without credentials; null (and a warning) otherwise. */
function apiHost(body: unknown, field: string, connectionId: string): string | null {
  const value = (body as Record<string, unknown>)[field];
  if (value === undefined) return null;
  try {
    const url = new URL(String(value));
    if ((url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password) return url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    // fall through
  }
  log.warn(`token answer's ${field} is not an http(s) URL; calls keep the configured baseUrl`, { connection: connectionId });
  return null;
}

function describeTokenError(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    const code = o['error'] ?? o['status'] ?? o['errorCode'];
    const text = o['error_description'] ?? o['message'];
    return [`HTTP ${status}`, typeof code === 'string' ? code : null, typeof text === 'string' ? text : null].filter(Boolean).join(' ');
  }
  return `HTTP ${status}${typeof body === 'string' && body ? ` ${body.slice(0, 200)}` : ''}`;
}
