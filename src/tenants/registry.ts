import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalJson } from '../canonicalJson';
import { PROTOTYPE_KEY_MESSAGE, prototypeKeyPath } from '../domain/input';
import type { RoutingConfig } from '../domain/routing';
import { TenantSchema, TenantsFileSchema, type ConsoleUser, type Tenant, type TenantInput } from './schema';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export class ConfigError extends Error {
  constructor(source: string, path: string, message: string) {
    super(`${source}: ${path || '(root)'}: ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parse with zod; on failure, an error naming the source and the path of the first bad field. A
 * prototype key anywhere (`"__proto__"` in a mapping) is refused first: zod would drop it silently.
 */
export function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, value: unknown, source: string): T {
  const prototypeKey = prototypeKeyPath(value);
  if (prototypeKey !== null) throw new ConfigError(source, prototypeKey, PROTOTYPE_KEY_MESSAGE);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ConfigError(source, issue?.path.map(String).join('.') ?? '', issue?.message ?? 'invalid');
}

/** The tenants this deployment serves, found by ID, by API key or by a console user's email. */
export class TenantRegistry {
  private readonly tenants = new Map<string, Tenant>();

  constructor(tenants: Tenant[] = [], source = 'tenants') {
    for (const t of tenants) {
      this.refuseTakenConsoleEmails(t, source);
      this.tenants.set(t.id, t);
    }
  }

  static fromFile(path: string): TenantRegistry {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(path, '', `cannot read tenants file: ${(err as Error).message}`);
    }
    return new TenantRegistry(parseOrThrow(TenantsFileSchema, raw, path).tenants, path);
  }

  add(input: TenantInput, source = 'tenant'): Tenant {
    const tenant = parseOrThrow(TenantSchema, input, `${source} ${input.id}`);
    this.refuseTakenConsoleEmails(tenant, `${source} ${input.id}`);
    this.tenants.set(tenant.id, tenant);
    return tenant;
  }

  /**
   * A console user's email names one person in one tenant: sign-in finds the tenant by the email,
   * so the same address in two tenants is a configuration error, not a choice made at sign-in.
   */
  private refuseTakenConsoleEmails(tenant: Tenant, source: string): void {
    tenant.console?.users.forEach((user, i) => {
      const taken = this.consoleUser(user.email);
      if (taken && taken.tenant.id !== tenant.id) {
        throw new ConfigError(source, `${tenant.id}.console.users.${i}.email`, `${user.email} is already a console user of tenant ${taken.tenant.id}`);
      }
    });
  }

  /** The console user with this email (case-insensitive) and their tenant, as configured now. */
  consoleUser(email: string): { tenant: Tenant; user: ConsoleUser } | undefined {
    const wanted = email.trim().toLowerCase();
    for (const tenant of this.tenants.values()) {
      const user = tenant.console?.users.find((u) => u.email === wanted);
      if (user) return { tenant, user };
    }
    return undefined;
  }

  /** Whether any tenant has console users (then sign-in needs a session key). */
  hasConsoleUsers(): boolean {
    return this.list().some((t) => (t.console?.users.length ?? 0) > 0);
  }

  get(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }

  list(): Tenant[] {
    return [...this.tenants.values()];
  }

  /** Constant-time comparison of the key's hash against every stored hash. */
  byApiKey(apiKey: string): Tenant | undefined {
    const hash = Buffer.from(sha256Hex(apiKey), 'hex');
    let found: Tenant | undefined;
    for (const tenant of this.tenants.values()) {
      for (const key of tenant.apiKeys) {
        if (timingSafeEqual(hash, Buffer.from(key.sha256, 'hex'))) found = tenant;
      }
    }
    return found;
  }

  routingConfig(tenantId: string): RoutingConfig {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) throw new Error(`unknown tenant ${tenantId}`);
    const { routing } = tenant;
    return {
      tenantId,
      version: sha256Hex(canonicalJson(routing)).slice(0, 12),
      team: routing.team,
      pool: routing.pool,
      fallback: routing.fallback,
      holdOpenSeconds: routing.holdOpenSeconds,
      timezone: routing.timezone,
      enrichmentBudgetSeconds: routing.enrichmentBudgetSeconds,
    };
  }
}
