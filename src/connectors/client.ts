import type { z } from 'zod';
import { classifyResponse, type Classification, type ClassifyOptions } from './classify';
import type { CompiledOperation, CompiledProvider } from './definition';
import { failureFromClassification, UpstreamFailure, upstreamFailure } from './failure';
import type { CallMeta } from '../domain/upstream';
import { lowerCaseHeaders } from './ratelimit';

export type { CallMeta };

/** Where and as whom a connection calls its provider. The secret never leaves the activity. */
export interface ConnectionTarget {
  connectionId: string;
  baseUrl: string;
  accountId: string | null;
  secret: string;
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
  onAnswer?: (connectionId: string, classification: Classification) => void;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function fillPath(template: string, input: unknown, provider: string, operation: string): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = (input as Record<string, unknown> | null)?.[name];
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

  async call<T>(operationName: string, input: unknown, schema: z.ZodType<T>): Promise<CallResult<T>> {
    const op = this.provider.operations.get(operationName);
    const providerId = this.providerId;
    if (!op) {
      throw upstreamFailure(UpstreamFailure.Misconfigured, providerId, operationName, 'provider has no such operation', false);
    }
    const started = this.now();
    const scope = { input, connection: { accountId: this.target.accountId } };
    let cursor: string | null = null;
    let pages = 0;
    let last: { answer: RawAnswer; classification: Classification } | null = null;
    const collected: unknown[] = [];
    let single: unknown;

    do {
      const answer = await this.send(op, scope, cursor);
      const classification = classifyResponse(answer, this.now(), this.classifyOptions());
      this.options.onAnswer?.(this.target.connectionId, classification);
      const accepted = op.definition.acceptStatuses.includes(answer.status);
      if (classification.outcome !== 'ok' && !accepted) {
        throw failureFromClassification(providerId, operationName, classification);
      }
      last = { answer, classification };
      pages += 1;
      const mapped = await this.evaluate(op, op.response, answer.body, { status: answer.status, input });
      if (op.nextCursor) {
        if (mapped !== undefined) collected.push(...(Array.isArray(mapped) ? mapped : [mapped]));
        const next: unknown = await this.evaluate(op, op.nextCursor, answer.body, {});
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
        replayed: last?.answer.headers['idempotent-replayed'] === 'true',
      },
    };
  }

  private classifyOptions(): ClassifyOptions {
    const names = this.provider.definition.rateLimitHeaders;
    if (!names) return {};
    const { resetUnit, ...rest } = names;
    return { rateLimitHeaders: resetUnit ? { ...rest, resetUnit } : rest };
  }

  private async evaluate(op: CompiledOperation, expr: NonNullable<CompiledOperation['query']>, root: unknown, bindings: Record<string, unknown>): Promise<unknown> {
    try {
      return await expr.evaluate(root, bindings);
    } catch (err) {
      const message = (err as { message?: string }).message ?? String(err);
      throw upstreamFailure(UpstreamFailure.Mapping, this.providerId, op.name, `mapping failed: ${message}`, false);
    }
  }

  private async send(op: CompiledOperation, scope: unknown, cursor: string | null): Promise<RawAnswer> {
    const providerId = this.providerId;
    const def = this.provider.definition;
    const url = new URL(fillPath(op.definition.path, (scope as { input: unknown }).input, providerId, op.name), this.target.baseUrl);
    appendQuery(url, op.query ? await this.evaluate(op, op.query, scope, {}) : undefined);
    if (cursor !== null && op.definition.pagination) url.searchParams.set(op.definition.pagination.cursorParam, cursor);

    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [k, v] of Object.entries(((op.headers ? await this.evaluate(op, op.headers, scope, {}) : {}) ?? {}) as Record<string, unknown>)) {
      if (v !== undefined && v !== null) headers[k] = String(v);
    }
    if (def.auth.type === 'bearer') headers['authorization'] = `Bearer ${this.target.secret}`;
    else headers[def.auth.name] = this.target.secret;
    let body: string | undefined;
    if (op.body) {
      body = JSON.stringify(await this.evaluate(op, op.body, scope, {}));
      headers['content-type'] = 'application/json';
    }

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
    return { status: response.status, headers: lowerCaseHeaders(response.headers.entries()), body: parsed };
  }
}
