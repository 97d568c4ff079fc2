import type { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { classifyResponse, type Classification, type ClassifyOptions, type ProviderSignal } from './classify';
import type { AuthDefinition, CompiledOperation, CompiledProvider } from './definition';
import { failureFromClassification, upstreamFailure } from './failure';
import { UpstreamFailure } from '../protocol/failures';
import { outputSchema, type OperationInput, type OperationName, type OperationOutput } from './normalized';
import type { CallMeta } from '../domain/upstream';
import { lowerCaseHeaders } from './ratelimit';
import { webhookSignatureHeader } from './webhookSignature';

export type { CallMeta };

const SignalSchema = z.object({
  outcome: z.enum(['ok', 'rate_limited', 'transient', 'auth', 'not_found', 'permanent']),
  reason: z.string().optional(),
  waitSeconds: z.number().min(0).optional(),
});

/** Where and as whom a connection calls its provider. The secret never leaves the activity. */
export interface ConnectionTarget {
  connectionId: string;
  baseUrl: string;
  accountId: string | null;
  /** The API key or token, or (OAuth) how to get a current access token. */
  secret: string | (() => Promise<string>);
  /**
   * OAuth: the provider answered 401 to `secret`. True when a fresh token may help (the client
   * then fails retryably, so the next attempt uses the new token); false when it cannot.
   */
  onUnauthorized?: (secret: string) => boolean;
  /** OAuth: the API host the token answer named (Salesforce `instance_url`), used instead of baseUrl. */
  apiBaseUrl?: () => string | null;
}

export interface CallResult<T> {
  data: T;
  meta: CallMeta;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  now?: () => number;
  /** Cancels the in-flight request (the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Called with every answer's normalized rate-limit state, so operators can watch a connection. */
  onAnswer?: (connectionId: string, classification: Classification, call: { provider: string; operation: string }) => void;
  /**
   * The longest upstream-requested wait this call's caller accepts (the lead's urgency): a rate
   * limit asking for more fails at once, non-retryably, so the lead takes its fallback path now.
   */
  maxWaitMs?: number;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function fillPath(template: string, input: unknown, accountId: string | null, provider: string, operation: string): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = (input as Record<string, unknown> | null)?.[name] ?? (name === 'accountId' ? accountId : undefined);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw upstreamFailure(UpstreamFailure.Mapping, provider, operation, `path parameter ${name} is missing`, false);
    }
    return encodeURIComponent(String(value));
  });
}

function appendQuery(url: URL, query: unknown): void {
  if (query === undefined || query === null) return;
  for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
    if (v === undefined || v === null || v === '') continue;
    url.searchParams.set(k, String(v));
  }
}

/**
 * Executes provider operations as their definitions say: builds the request with JSONata, sends
 * it once, classifies the answer, maps the body. Never retries: a failure becomes an
 * ApplicationFailure for Temporal to retry (or not) as the classification says.
 */
export class ProviderClient {
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(
    private readonly provider: CompiledProvider,
    private readonly target: ConnectionTarget,
    private readonly options: ClientOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  get providerId(): string {
    return this.provider.definition.id;
  }

  /** Whether the provider defines an (optional) operation. */
  supports(operationName: OperationName): boolean {
    return this.provider.operations.has(operationName);
  }

  /** The most items one call of a batch operation takes, as its definition says (`maxBatch`); null when it names no limit. */
  maxBatch(operationName: OperationName): number | null {
    return this.provider.operations.get(operationName)?.definition.maxBatch ?? null;
  }

  /** Runs an operation; its mapped response must fit the operation's normalized schema (a MappingError otherwise). */
  call<Op extends OperationName>(operationName: Op, input: OperationInput<Op>): Promise<CallResult<OperationOutput<Op>>> {
    return this.callWithSchema(operationName, input, outputSchema(operationName));
  }

  /**
   * Runs an operation and checks its mapped response against the caller's schema instead of the
   * operation's: what a tenant's mapping override produces, as it comes. Activities use `call`.
   */
  async callWithSchema<Op extends OperationName, T>(operationName: Op, input: OperationInput<Op>, schema: z.ZodType<T>): Promise<CallResult<T>> {
    const op = this.provider.operations.get(operationName);
    const providerId = this.providerId;
    if (!op) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, providerId, operationName, 'provider has no such operation', false);
    }
    const started = this.now();
    let cursor: string | null = null;
    let pages = 0;
    let last: { answer: RawAnswer; classification: Classification } | null = null;
    const collected: unknown[] = [];
    let single: unknown;

    do {
      const scope = { input, connection: { accountId: this.target.accountId }, cursor };
      const { answer, secret } = await this.send(op, scope, cursor);
      const classification = classifyResponse(answer, this.now(), { ...this.classifyOptions(), signal: await this.signal(op, answer) });
      this.options.onAnswer?.(this.target.connectionId, classification, { provider: providerId, operation: operationName });
      const accepted = op.definition.acceptStatuses.includes(answer.status);
      if (classification.outcome !== 'ok' && !accepted) {
        throw this.failure(operationName, classification, secret);
      }
      last = { answer, classification };
      pages += 1;
      const mapped = await this.evaluate(op, op.response, answer.body, { status: answer.status, input, headers: answer.headers });
      if (op.nextCursor) {
        if (mapped !== undefined) collected.push(...(Array.isArray(mapped) ? mapped : [mapped]));
        const next: unknown = await this.evaluate(op, op.nextCursor, answer.body, { headers: answer.headers });
        cursor = typeof next === 'string' && next !== '' ? next : null;
      } else {
        single = mapped;
      }
    } while (cursor !== null && op.definition.pagination && pages < op.definition.pagination.maxPages);

    const data = op.nextCursor ? collected : single;
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : '(root)';
      throw upstreamFailure(
        UpstreamFailure.Mapping,
        providerId,
        operationName,
        `mapped response does not fit at ${where}: ${issue?.message ?? 'invalid'}`,
        false,
      );
    }
    return {
      data: parsed.data,
      meta: {
        provider: providerId,
        operation: operationName,
        status: last?.answer.status ?? 0,
        pages,
        durationMs: this.now() - started,
        rateLimit: last?.classification.rateLimit ?? { limit: null, remaining: null, resetSeconds: null, retryAfterSeconds: null },
        replayed: last?.answer.headers['idempotent-replayed'] === 'true' || (data as { created?: unknown } | null)?.created === false,
        mapping: `${providerId}@${this.provider.digest}`,
      },
    };
  }

  /** The provider's own reading of an answer (its `signals` expression), if it has one. */
  private async signal(op: CompiledOperation, answer: RawAnswer): Promise<ProviderSignal | null> {
    if (!this.provider.signals) return null;
    const raw = await this.evaluate(op, this.provider.signals, answer.body, { status: answer.status, headers: answer.headers, nowMs: this.now() });
    if (raw === undefined || raw === null) return null;
    const parsed = SignalSchema.safeParse(raw);
    if (!parsed.success) {
      throw upstreamFailure(UpstreamFailure.Mapping, this.providerId, op.name, `signals must give { outcome, reason?, waitSeconds? }, got ${JSON.stringify(raw).slice(0, 200)}`, false);
    }
    const { outcome, reason, waitSeconds } = parsed.data;
    return { outcome, ...(reason === undefined ? {} : { reason }), ...(waitSeconds === undefined ? {} : { waitSeconds }) };
  }

  /** The failure for a classified answer, with the caller's wait cap and OAuth's stale-token case applied. */
  private failure(operation: string, c: Classification, secret: string): ApplicationFailure {
    const providerId = this.providerId;
    if (c.outcome === 'auth' && c.status === 401 && this.target.onUnauthorized?.(secret)) {
      // The access token was rejected before its expiry (revoked, rotated): the next attempt gets a fresh one.
      return upstreamFailure(UpstreamFailure.AuthExpired, providerId, operation, `${c.reason}; the access token was dropped and the next attempt refreshes it`, true, 100);
    }
    const cap = this.options.maxWaitMs;
    if (c.retry && c.waitMs !== null && cap !== undefined && c.waitMs > cap) {
      return failureFromClassification(providerId, operation, {
        ...c,
        retry: false,
        reason: `${c.reason}; that is longer than the ${Math.round(cap / 1000)} s this lead may wait, so it takes its fallback path now`,
      });
    }
    return failureFromClassification(providerId, operation, c);
  }

  private classifyOptions(): ClassifyOptions {
    const names = this.provider.definition.rateLimitHeaders;
    if (!names) return {};
    const { resetUnit, usage, ...rest } = names;
    return { rateLimitHeaders: { ...rest, ...(resetUnit ? { resetUnit } : {}), ...(usage ? { usage } : {}) } };
  }

  private async evaluate(op: CompiledOperation, expr: NonNullable<CompiledOperation['query']>, root: unknown, bindings: Record<string, unknown>): Promise<unknown> {
    try {
      return await expr.evaluate(root, bindings);
    } catch (err) {
      const message = (err as { message?: string }).message ?? String(err);
      throw upstreamFailure(UpstreamFailure.Mapping, this.providerId, op.name, `mapping failed: ${message}`, false);
    }
  }

  private async send(op: CompiledOperation, scope: { input: unknown }, cursor: string | null): Promise<{ answer: RawAnswer; secret: string }> {
    const providerId = this.providerId;
    const def = this.provider.definition;
    const pagination = op.definition.pagination;
    // The secret first: an OAuth token answer may name the host the calls go to.
    const secret = typeof this.target.secret === 'string' ? this.target.secret : await this.target.secret();
    const baseUrl = this.target.apiBaseUrl?.() ?? this.target.baseUrl;
    let url: URL;
    if (cursor !== null && pagination?.nextUrl) {
      // The upstream named the next page's URL: follow it as given (it carries its own query).
      url = new URL(cursor, baseUrl);
    } else {
      url = new URL(joinPath(baseUrl, fillPath(op.definition.path, scope.input, this.target.accountId, providerId, op.name)));
      appendQuery(url, op.query ? await this.evaluate(op, op.query, scope, {}) : undefined);
      if (cursor !== null && pagination?.cursorParam) url.searchParams.set(pagination.cursorParam, cursor);
    }

    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [k, v] of Object.entries(((op.headers ? await this.evaluate(op, op.headers, scope, {}) : {}) ?? {}) as Record<string, unknown>)) {
      if (v !== undefined && v !== null) headers[k] = String(v);
    }
    let body: string | undefined;
    if (op.body) {
      body = JSON.stringify(await this.evaluate(op, op.body, scope, {}));
      headers['content-type'] = 'application/json';
    }
    applyAuth(def.auth, secret, this.target.accountId, { headers, url, body: body ?? '', nowMs: this.now() });

    const cancel = this.options.signal;
    const signals = [AbortSignal.timeout(def.timeoutMs), ...(cancel ? [cancel] : [])];
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, { method: op.definition.method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.any(signals) });
      // The body is part of the answer: a timeout or reset while reading it is the same failure.
      text = await response.text();
    } catch (err) {
      // The activity was cancelled: let Temporal see the cancellation, not a retryable failure.
      if (cancel?.aborted) throw cancel.reason ?? err;
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') {
        throw upstreamFailure(UpstreamFailure.Timeout, providerId, op.name, `no answer within ${def.timeoutMs} ms`, true);
      }
      throw upstreamFailure(UpstreamFailure.Network, providerId, op.name, `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`, true);
    }
    let parsed: unknown = text;
    if (text && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (response.ok) {
          throw upstreamFailure(UpstreamFailure.Mapping, providerId, op.name, 'response is not valid JSON', false);
        }
      }
    }
    return { answer: { status: response.status, headers: lowerCaseHeaders(response.headers.entries()), body: parsed }, secret };
  }
}

/** Appends the operation's path to the base URL's own path (a base URL may carry a prefix such as `/v1.0`). */
function joinPath(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** Puts the connection's credential where the provider expects it. */
function applyAuth(
  auth: AuthDefinition,
  secret: string,
  accountId: string | null,
  request: { headers: Record<string, string>; url: URL; body: string; nowMs: number },
): void {
  const fill = (template: string) => template.replace(/\{secret\}/g, secret).replace(/\{accountId\}/g, accountId ?? '');
  switch (auth.type) {
    case 'bearer':
    case 'oauth2':
      request.headers['authorization'] = `Bearer ${secret}`;
      return;
    case 'header':
      request.headers[auth.name.toLowerCase()] = `${auth.prefix}${secret}`;
      return;
    case 'basic':
      request.headers['authorization'] = `Basic ${Buffer.from(`${fill(auth.username)}:${fill(auth.password)}`).toString('base64')}`;
      return;
    case 'query':
      request.url.searchParams.set(auth.name, secret);
      return;
    case 'hmac':
      request.headers[auth.header.toLowerCase()] = webhookSignatureHeader(secret, request.nowMs, request.body);
      return;
  }
}
