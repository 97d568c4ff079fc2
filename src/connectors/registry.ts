import type { TenantRegistry } from '../tenants/registry';
import { canonicalJson } from '../canonicalJson';
import type { Connection, ConnectionCategory, SecretRef, Tenant } from '../tenants/schema';
import type { ConnectionSummary } from '../domain/routing';
import { describeSecret, resolveSecret } from '../tenants/secrets';
import { ProviderClient, type ClientOptions } from './client';
import { compileProvider, DefinitionError, type CompiledProvider, type DefinitionOverride } from './definition';
import { upstreamFailure } from './failure';
import { UpstreamFailure } from '../protocol/failures';
import { ConnectionMonitor, type ConnectionHealth } from './monitor';
import { REQUIRED_OPERATIONS } from './normalized';
import { OAuthTokens, type AuthStatus, type OAuthGrant, type OAuthOptions } from './oauth';
import { PLATFORM_PROVIDERS } from './providers';
import { BreakerBoard } from '../distribution/breakerBoard';

export { PLATFORM_PROVIDERS };

export interface ConnectorsOptions {
  /** Environment-level overrides per provider ID: the middle of the override stack. */
  environmentOverrides?: Record<string, DefinitionOverride>;
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  now?: () => number;
  /** OAuth settings (margins, cool-downs); the token store itself is per Connectors instance. */
  oauth?: OAuthOptions;
}

/** One connection as operators see it: provider, mapping, authorization and upstream health. */
export interface ConnectionView {
  tenantId: string;
  category: ConnectionCategory;
  id: string;
  provider: string;
  mapping: string;
  auth: AuthStatus | { state: 'static' };
  health: ConnectionHealth | null;
}

/**
 * Builds provider clients for a tenant's connections: resolves the override stack once per
 * distinct configuration, and resolves secrets at call time (so they never travel in workflow
 * inputs).
 */
export class Connectors {
  private readonly compiled = new Map<string, CompiledProvider>();
  private readonly byConnection = new WeakMap<Connection, CompiledProvider>();
  private readonly summariesByTenant = new WeakMap<Tenant, Record<string, ConnectionSummary>>();
  readonly monitor: ConnectionMonitor;
  readonly tokens: OAuthTokens;
  /** Buyer endpoint breakers as the account activities learn them (for /metrics). */
  readonly breakers = new BreakerBoard();

  constructor(
    private readonly tenants: TenantRegistry,
    private readonly options: ConnectorsOptions = {},
  ) {
    this.monitor = new ConnectionMonitor(options.now);
    this.tokens = new OAuthTokens({ ...options.oauth, ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.now ? { now: options.now } : {}) });
  }

  /**
   * Compile every definition every tenant uses and check each connection can work: the
   * operations its category needs exist, and its credentials are configured the way its
   * provider authenticates. Throws naming the tenant, connection, provider, operation and path.
   */
  validateAll(): void {
    for (const tenant of this.tenants.list()) {
      for (const [category, connection] of Object.entries(tenant.connections) as Array<[ConnectionCategory, Connection | undefined]>) {
        if (!connection) continue;
        const where = `tenant ${tenant.id}: connections.${category}`;
        let compiled: CompiledProvider;
        try {
          compiled = this.compiledFor(connection);
        } catch (err) {
          if (err instanceof DefinitionError) throw new DefinitionError(err.provider, `${where}: ${err.path}`, err.detail);
          throw err;
        }
        for (const op of REQUIRED_OPERATIONS[category]) {
          if (!compiled.operations.has(op)) throw new DefinitionError(connection.provider, `${where}: operations.${op}`, `a ${category} connection needs ${op}`);
        }
        const oauth = compiled.definition.auth.type === 'oauth2';
        if (oauth && !connection.oauth) throw new DefinitionError(connection.provider, `${where}.oauth`, 'this provider authenticates with OAuth 2.0: configure oauth { clientId, clientSecret, refreshToken }');
        if (!oauth && !connection.secret) throw new DefinitionError(connection.provider, `${where}.secret`, 'this provider needs a secret (API key, token or signing secret)');
      }
    }
  }

  /** Every connection of a tenant with its provider, effective mapping, authorization and health. */
  describe(tenantId: string): ConnectionView[] {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return [];
    return (Object.entries(tenant.connections) as Array<[ConnectionCategory, Connection | undefined]>).flatMap(([category, connection]) => {
      if (!connection) return [];
      const connectionId = `${tenantId}/${connection.id}`;
      const compiled = this.compiledFor(connection);
      const auth = compiled.definition.auth.type === 'oauth2' ? (this.tokens.status(connectionId) ?? { ...NEVER_USED }) : { state: 'static' as const };
      return [{ tenantId, category, id: connection.id, provider: connection.provider, mapping: `${connection.provider}@${compiled.digest}`, auth, health: this.monitor.get(connectionId) }];
    });
  }

  /** Which mapping each connection uses, with its overrides verbatim: recorded in every lead's history. */
  summaries(tenantId: string): Record<string, ConnectionSummary> {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return {};
    // Every lead loads these: build them once per tenant configuration.
    const known = this.summariesByTenant.get(tenant);
    if (known) return known;
    const out: Record<string, ConnectionSummary> = {};
    for (const [category, connection] of Object.entries(tenant.connections) as Array<[ConnectionCategory, Connection | undefined]>) {
      if (!connection) continue;
      const compiled = this.compiledFor(connection);
      const env = this.options.environmentOverrides?.[connection.provider];
      const overrides = [
        ...(env && Object.keys(env).length ? [{ layer: 'environment', override: env }] : []),
        ...(connection.mappings && Object.keys(connection.mappings).length ? [{ layer: 'tenant', override: connection.mappings }] : []),
      ];
      out[category] = { provider: connection.provider, mapping: `${connection.provider}@${compiled.digest}`, layers: compiled.layers, overrides };
    }
    this.summariesByTenant.set(tenant, out);
    return out;
  }

  /** The effective (merged) definition a connection uses. */
  effectiveDefinition(tenantId: string, category: ConnectionCategory): CompiledProvider['definition'] | null {
    const connection = this.tenants.get(tenantId)?.connections[category];
    return connection ? this.compiledFor(connection).definition : null;
  }

  /** Clears a connection's needs-re-authorization state so its next call asks the token endpoint again. */
  reauthorize(tenantId: string, category: ConnectionCategory): boolean {
    const connection = this.tenants.get(tenantId)?.connections[category];
    return connection ? this.tokens.reset(`${tenantId}/${connection.id}`) : false;
  }

  /**
   * The compiled definition of a connection. Every upstream call asks, so the answer is kept per
   * connection object (tenants are immutable once loaded); connections with the same provider and
   * mappings share one compilation.
   */
  compiledFor(connection: Connection): CompiledProvider {
    const known = this.byConnection.get(connection);
    if (known) return known;
    const key = `${connection.provider}:${canonicalJson(connection.mappings ?? {})}`;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      compiled = compileProvider(
        PLATFORM_PROVIDERS[connection.provider],
        this.options.environmentOverrides?.[connection.provider],
        connection.mappings,
      );
      this.compiled.set(key, compiled);
    }
    this.byConnection.set(connection, compiled);
    return compiled;
  }

  connection(tenantId: string, category: ConnectionCategory): Connection | undefined {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) throw upstreamFailure(UpstreamFailure.Misconfigured, 'leadrelay', category, `unknown tenant ${tenantId}`, false);
    return tenant.connections[category];
  }

  client(tenantId: string, category: ConnectionCategory, call: { signal?: AbortSignal | undefined; maxWaitMs?: number | undefined } = {}): ProviderClient {
    const connection = this.connection(tenantId, category);
    if (!connection) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, 'leadrelay', category, `tenant ${tenantId} has no ${category} connection`, false);
    }
    const options: ClientOptions = {
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.maxWaitMs !== undefined ? { maxWaitMs: call.maxWaitMs } : {}),
      onAnswer: (id, classification, op) => this.monitor.record(id, classification, op),
    };
    const compiled = this.compiledFor(connection);
    const connectionId = `${tenantId}/${connection.id}`;
    const target = { connectionId, baseUrl: connection.baseUrl, accountId: connection.accountId ?? null };
    if (compiled.definition.auth.type === 'oauth2') {
      const grant = this.grantFor(connectionId, connection, compiled, category);
      return new ProviderClient(
        compiled,
        {
          ...target,
          secret: () => this.tokens.accessToken(grant),
          onUnauthorized: (token) => this.tokens.rejected(connectionId, token),
          apiBaseUrl: () => this.tokens.instanceUrl(connectionId),
        },
        options,
      );
    }
    return new ProviderClient(compiled, { ...target, secret: this.secret(connection.provider, category, connection.secret, 'secret') }, options);
  }

  private grantFor(connectionId: string, connection: Connection, compiled: CompiledProvider, category: string): OAuthGrant {
    const auth = compiled.definition.auth;
    const oauth = connection.oauth;
    if (auth.type !== 'oauth2' || !oauth || !compiled.invalidGrant) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, connection.provider, category, `connection ${connectionId} has no oauth settings`, false);
    }
    return {
      connectionId,
      provider: connection.provider,
      tokenUrl: oauth.tokenUrl ?? `${connection.baseUrl.replace(/\/+$/, '')}${auth.tokenPath}`,
      clientId: this.secret(connection.provider, category, oauth.clientId, 'oauth.clientId'),
      clientSecret: this.secret(connection.provider, category, oauth.clientSecret, 'oauth.clientSecret'),
      refreshToken: this.secret(connection.provider, category, oauth.refreshToken, 'oauth.refreshToken'),
      scope: oauth.scope ?? null,
      lifetimeSeconds: auth.lifetimeSeconds,
      invalidGrant: compiled.invalidGrant,
      instanceUrlField: auth.instanceUrlField ?? null,
    };
  }

  private secret(provider: string, category: string, ref: SecretRef | undefined, field: string): string {
    const value = ref ? resolveSecret(ref, this.options.env ?? process.env) : null;
    if (!value) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, provider, category, `${field}: ${ref ? `${describeSecret(ref)} is not set` : 'not configured'}`, false);
    }
    return value;
  }
}

const NEVER_USED: AuthStatus = {
  state: 'unknown',
  expiresAt: null,
  lastRefreshAt: null,
  refreshes: 0,
  failedRefreshes: 0,
  lastError: null,
  coolingDownUntil: null,
  needsReauthorizationSince: null,
  instanceUrl: null,
};
