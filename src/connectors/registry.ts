import type { TenantRegistry } from '../tenants/registry';
import { canonicalJson } from '../tenants/registry';
import type { Connection, ConnectionCategory, SecretRef } from '../tenants/schema';
import { resolveSecret } from '../tenants/secrets';
import { ProviderClient, type ClientOptions } from './client';
import { compileProvider, type CompiledProvider, type DefinitionOverride } from './definition';
import { UpstreamFailure, upstreamFailure } from './failure';
import { PLATFORM_PROVIDERS } from './providers';

export { PLATFORM_PROVIDERS };

export interface ConnectorsOptions {
  /** Environment-level overrides per provider ID: the middle of the override stack. */
  environmentOverrides?: Record<string, DefinitionOverride>;
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * Builds provider clients for a tenant's connections: resolves the override stack once per
 * distinct configuration, and resolves secrets at call time (so they never travel in workflow
 * inputs).
 */
export class Connectors {
  private readonly compiled = new Map<string, CompiledProvider>();

  constructor(
    private readonly tenants: TenantRegistry,
    private readonly options: ConnectorsOptions = {},
  ) {}

  /** Compile every definition every tenant uses; throws naming the provider, operation and path. */
  validateAll(): void {
    for (const tenant of this.tenants.list()) {
      for (const connection of Object.values(tenant.connections)) {
        if (connection) this.compiledFor(connection);
      }
    }
  }

  compiledFor(connection: Connection): CompiledProvider {
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
    return compiled;
  }

  connection(tenantId: string, category: ConnectionCategory): Connection | undefined {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) throw upstreamFailure(UpstreamFailure.Misconfigured, 'leadrelay', category, `unknown tenant ${tenantId}`, false);
    return tenant.connections[category];
  }

  client(tenantId: string, category: ConnectionCategory, signal?: AbortSignal): ProviderClient {
    const connection = this.connection(tenantId, category);
    if (!connection) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, 'leadrelay', category, `tenant ${tenantId} has no ${category} connection`, false);
    }
    const options: ClientOptions = {
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
      ...(signal ? { signal } : {}),
    };
    return new ProviderClient(
      this.compiledFor(connection),
      {
        connectionId: `${tenantId}/${connection.id}`,
        baseUrl: connection.baseUrl,
        accountId: connection.accountId ?? null,
        secret: this.resolveSecret(connection, category),
      },
      options,
    );
  }

  private resolveSecret(connection: Connection, category: string): string {
    const ref: SecretRef = connection.secret;
    const value = resolveSecret(ref, this.options.env ?? process.env);
    if (!value) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, connection.provider, category, `secret ${'env' in ref ? ref.env : ''} is not set`, false);
    }
    return value;
  }
}
