import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { z } from 'zod';
import { canonicalJson } from '../canonicalJson';

/**
 * Providers are data: every operation's request and response mapping is a JSONata expression
 * kept in a declarative definition, validated (schema and expression syntax) before use.
 *
 * Request expressions see `{ input, connection: { accountId }, cursor }`.
 * Response expressions see the upstream body as `$`, with `$status`, `$headers` and `$input` bound.
 */
const Expression = z.string().min(1);

export const OperationDefinitionSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
    /** Path with `{name}` placeholders filled from the operation input, or `{accountId}` from the connection (URI-encoded). */
    path: z.string().startsWith('/'),
    query: Expression.optional(),
    body: Expression.optional(),
    headers: Expression.optional(),
    response: Expression,
    /** Statuses other than 2xx that the response mapping handles itself (e.g. 404 = no match). */
    acceptStatuses: z.array(z.number().int().min(200).max(599)).default([]),
    /**
     * The most items one call of a batch operation takes (Salesforce Composite: 5 queries). A
     * caller with more items than that makes single-item calls instead; absent, no limit is known.
     */
    maxBatch: z.number().int().min(1).max(10_000).optional(),
    pagination: z
      .object({
        /** Expression on the page body (with `$headers`) giving the next cursor, or null/empty when done. */
        nextCursor: Expression,
        /** The query parameter that carries the cursor. Without it, request expressions read `cursor` themselves (a body field, say). */
        cursorParam: z.string().min(1).optional(),
        /** The cursor is the next page's URL (absolute, or a path on the base URL): Salesforce's `nextRecordsUrl`, Okta's `Link`. */
        nextUrl: z.boolean().default(false),
        maxPages: z.number().int().min(1).max(1000).default(20),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * How a connection proves who it is. `{secret}` and `{accountId}` in basic-auth fields stand for
 * the connection's secret and account ID.
 */
const AuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer') }).strict(),
  /** A header carrying the secret, optionally prefixed (Okta: `Authorization: SSWS <token>`). */
  z.object({ type: z.literal('header'), name: z.string().min(1), prefix: z.string().default('') }).strict(),
  /** HTTP Basic (BambooHR: the API key as user name; HiBob: service user ID and token). */
  z.object({ type: z.literal('basic'), username: z.string(), password: z.string() }).strict(),
  /** The secret as a query parameter (Teams Workflows webhooks' `sig`). */
  z.object({ type: z.literal('query'), name: z.string().min(1) }).strict(),
  /** Signs every body: `<header>: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
  z.object({ type: z.literal('hmac'), header: z.string().min(1) }).strict(),
  /**
   * OAuth 2.0 refresh-token grant: a bearer access token from `tokenPath` (on the connection's
   * token URL). `invalidGrant` says, from the token endpoint's error body, that the grant is gone
   * for good (re-authorization needed); `lifetimeSeconds` is assumed when the answer has no `expires_in`.
   */
  z
    .object({
      type: z.literal('oauth2'),
      tokenPath: z.string().startsWith('/'),
      lifetimeSeconds: z.number().int().min(60).default(3600),
      invalidGrant: Expression.default('error = "invalid_grant"'),
      /** A field of the token answer naming the host API calls go to (Salesforce `instance_url`); the connection's baseUrl otherwise. */
      instanceUrlField: z.string().min(1).optional(),
    })
    .strict(),
]);
export type AuthDefinition = z.infer<typeof AuthSchema>;

export const ProviderDefinitionSchema = z
  .object({
    id: z.string().min(1),
    auth: AuthSchema,
    rateLimitHeaders: z
      .object({
        limit: z.array(z.string()),
        remaining: z.array(z.string()),
        reset: z.array(z.string()),
        resetUnit: z.enum(['delay-seconds', 'epoch-seconds', 'delay-ms']).optional(),
        /** Headers carrying `used/limit` (Salesforce's `Sforce-Limit-Info: api-usage=18/5000`). */
        usage: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    /**
     * How the provider signals what its status code does not say: evaluated on every answer's
     * body with `$status`, `$headers` and `$nowMs` (the client's clock); returns nothing (judge by status) or
     * `{ "outcome": "rate_limited" | "transient" | "auth" | "not_found" | "permanent" | "ok", "reason"?, "waitSeconds"? }`.
     * Salesforce's 403 REQUEST_LIMIT_EXCEEDED, Google's 403 rateLimitExceeded, Slack's 200 `ok:false`.
     */
    signals: Expression.optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    operations: z.record(z.string(), OperationDefinitionSchema),
  })
  .strict();

export type OperationDefinition = z.infer<typeof OperationDefinitionSchema>;
export type ProviderDefinition = z.infer<typeof ProviderDefinitionSchema>;
export type ProviderDefinitionInput = z.input<typeof ProviderDefinitionSchema>;

/** A partial definition layered over another: environment- or tenant-level overrides. */
export type DefinitionOverride = Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else (arrays included) is replaced by the later layer. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

export class DefinitionError extends Error {
  constructor(
    readonly provider: string,
    readonly path: string,
    /** What is wrong at `path`, without the provider and path. */
    readonly detail: string,
  ) {
    super(`provider ${provider}: ${path}: ${detail}`);
    this.name = 'DefinitionError';
  }
}

export interface CompiledOperation {
  name: string;
  definition: OperationDefinition;
  query: jsonata.Expression | null;
  body: jsonata.Expression | null;
  headers: jsonata.Expression | null;
  response: jsonata.Expression;
  nextCursor: jsonata.Expression | null;
}

export interface CompiledProvider {
  definition: ProviderDefinition;
  operations: Map<string, CompiledOperation>;
  signals: jsonata.Expression | null;
  /** OAuth connections: recognizes a permanent refresh failure in the token endpoint's error body. */
  invalidGrant: jsonata.Expression | null;
  /** Short digest of the effective (merged) definition: which mapping a call used, in its history. */
  digest: string;
  /** The layers that contributed, bottom first (platform, environment, tenant). */
  layers: string[];
}

function compileExpression(provider: string, path: string, source: string): jsonata.Expression {
  try {
    return jsonata(source);
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new DefinitionError(provider, path, `invalid JSONata at position ${e.position ?? '?'}: ${e.message ?? String(err)}`);
  }
}

/**
 * Resolve the override stack (platform default → environment → tenant connection), validate the
 * result, and compile every expression. Throws a DefinitionError naming the provider and path.
 */
export function compileProvider(base: ProviderDefinitionInput, ...overrides: Array<DefinitionOverride | undefined>): CompiledProvider {
  const layerNames = ['platform', 'environment', 'tenant'];
  const layers = ['platform', ...overrides.flatMap((o, i) => (o && Object.keys(o).length > 0 ? [layerNames[i + 1] ?? `override ${i + 1}`] : []))];
  const merged = overrides.reduce<unknown>((acc, o) => deepMerge(acc, o), base);
  const providerId = isPlainObject(merged) && typeof merged['id'] === 'string' ? merged['id'] : 'unknown';
  const parsed = ProviderDefinitionSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DefinitionError(providerId, issue?.path.join('.') || '(root)', issue?.message ?? 'invalid definition');
  }
  const definition = parsed.data;
  const operations = new Map<string, CompiledOperation>();
  for (const [name, op] of Object.entries(definition.operations)) {
    const at = (field: string) => `operations.${name}.${field}`;
    const opt = (field: 'query' | 'body' | 'headers') =>
      op[field] === undefined ? null : compileExpression(definition.id, at(field), op[field]);
    operations.set(name, {
      name,
      definition: op,
      query: opt('query'),
      body: opt('body'),
      headers: opt('headers'),
      response: compileExpression(definition.id, at('response'), op.response),
      nextCursor: op.pagination ? compileExpression(definition.id, at('pagination.nextCursor'), op.pagination.nextCursor) : null,
    });
  }
  return {
    definition,
    operations,
    signals: definition.signals === undefined ? null : compileExpression(definition.id, 'signals', definition.signals),
    invalidGrant: definition.auth.type === 'oauth2' ? compileExpression(definition.id, 'auth.invalidGrant', definition.auth.invalidGrant) : null,
    digest: createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 12),
    layers,
  };
}
