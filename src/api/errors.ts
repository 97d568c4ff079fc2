import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, Response, Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { PROTOTYPE_KEY_MESSAGE, prototypeKeyPath } from '../domain/input';

export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'csrf_failed'
  | 'forbidden'
  | 'too_many_requests'
  | 'too_many_queued'
  | 'not_found'
  | 'conflict'
  | 'not_the_owner'
  | 'already_the_owner'
  | 'lead_closed'
  | 'lead_erased'
  | 'idempotency_key_reused'
  | 'mapping_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'internal';

export interface FieldIssue {
  field: string;
  message: string;
}

/** An error the API answers with `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldIssue[] | Record<string, unknown>,
    /** Seconds the client is asked to wait before retrying (`Retry-After`), e.g. for a 429. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Zod issues as one entry per bad field; unknown keys are named individually. */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: base ? `${base}.${k}` : k, message: 'is not a recognized field' }));
    }
    return [{ field: base || '(body)', message: issue.message }];
  });
}

/** Parse a request part with a strict schema or throw a 400 naming every bad field. */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown, part: 'body' | 'query' | 'params'): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const details = fieldIssues(result.error, part === 'body' ? '' : part);
  const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
  throw new ApiError(400, 'invalid_request', `Invalid request ${part}: ${summary}`, details);
}

/** A 400 naming the first prototype key (`__proto__`, `constructor`, `prototype`) in a parsed request part. */
export function refusePrototypeKeys(value: unknown, prefix = ''): void {
  const path = prototypeKeyPath(value);
  if (path === null) return;
  const field = [prefix, path].filter(Boolean).join('.');
  throw new ApiError(400, 'invalid_request', `Invalid request: ${field} ${PROTOTYPE_KEY_MESSAGE}`, [{ field, message: PROTOTYPE_KEY_MESSAGE }]);
}

/** Every parsed body is checked for prototype keys before any route reads it. */
export const noPrototypeKeys: RequestHandler = (req, _res, next) => {
  try {
    refusePrototypeKeys(req.body);
    next();
  } catch (err) {
    next(err);
  }
};

/** An optional request header checked with a schema: its value, undefined when absent, or a 400 naming it. */
export function parseHeader<T>(schema: z.ZodType<T>, req: Request, name: string): T | undefined {
  const raw = req.get(name);
  if (raw === undefined) return undefined;
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? 'is invalid';
  throw new ApiError(400, 'invalid_request', `${name} header is invalid: ${message}`, [{ field: name, message }]);
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `No route for ${req.method} ${req.path}`));
};

/**
 * gRPC codes of a request Temporal will refuse however often it is retried. Not
 * FAILED_PRECONDITION: a query answers it while no worker polls the task queue, which passes.
 */
const PERMANENT_GRPC_CODES = new Set([3 /* INVALID_ARGUMENT */, 7 /* PERMISSION_DENIED */, 11 /* OUT_OF_RANGE */, 12 /* UNIMPLEMENTED */]);

function grpcCode(err: unknown): number | null {
  for (let at: unknown = err, depth = 0; at && depth < 5; at = (at as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(at)) return at.code;
  }
  return null;
}

/**
 * Errors the body parsers and the router raise for a request they cannot read: a client error,
 * answered in the envelope and never logged as ours (anyone can send them).
 */
function unreadableRequest(err: { type?: unknown; status?: unknown; expose?: unknown; message?: unknown; limit?: unknown }, req: Request): ApiError | null {
  if (err instanceof URIError) {
    // The router could not percent-decode a path parameter (`/v1/leads/%zz`).
    const raw = /'(.*)'/.exec(String(err.message))?.[1] ?? '';
    const message = `segment '${raw}' is not valid percent-encoding`;
    return new ApiError(400, 'invalid_request', `Invalid request path: ${message}`, [{ field: 'path', message }]);
  }
  switch (err.type) {
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', `Request body exceeds ${String(err.limit)} bytes`);
    case 'parameters.too.many':
      return new ApiError(413, 'payload_too_large', 'Request body has too many form parameters');
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'Request body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new ApiError(415, 'unsupported_media_type', String(err.message));
  }
  // Anything else a body parser refused with a 4xx: a corrupt compressed body, a body shorter
  // than its Content-Length, a request aborted mid-body.
  if (typeof err.status === 'number' && err.status >= 400 && err.status < 500 && err.expose === true) {
    const encoding = req.get('content-encoding');
    const message = encoding ? `could not be decoded as Content-Encoding ${encoding}` : 'could not be read';
    return new ApiError(400, 'invalid_request', `Request body ${message}`, [{ field: '(body)', message }]);
  }
  return null;
}

/** Seconds a client is asked to wait (`Retry-After`) before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;

/** Writes the one error envelope; a 503 (and a push-back 429) also says when to retry. */
export function sendError(res: Response, apiError: ApiError): void {
  if (apiError.retryAfterSeconds !== undefined) res.set('Retry-After', String(apiError.retryAfterSeconds));
  else if (apiError.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
  res.status(apiError.status).json({
    error: { code: apiError.code, message: apiError.message, ...(apiError.details ? { details: apiError.details } : {}) },
  });
}

/** The one place errors become HTTP answers. */
export function errorHandler(onUnexpected: (err: unknown) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // Answered already (a 503 while Temporal is unreachable, see temporalGuard): nothing left to say.
    if (res.headersSent) return;
    let apiError: ApiError;
    const unreadable = err instanceof ApiError || typeof err !== 'object' || err === null ? null : unreadableRequest(err, req);
    if (err instanceof ApiError) apiError = err;
    else if (unreadable) apiError = unreadable;
    else if ((err instanceof ServiceError || isGrpcServiceError(err)) && !PERMANENT_GRPC_CODES.has(grpcCode(err) ?? -1)) {
      // Temporal did not answer in time: every write here is idempotent, so retrying is safe.
      onUnexpected(err);
      apiError = new ApiError(503, 'unavailable', 'The workflow service did not answer in time; retry the request (with the same Idempotency-Key for a new lead)');
    } else {
      // Including a request Temporal refuses for good: input validation let through what it should not have.
      onUnexpected(err);
      apiError = new ApiError(500, 'internal', 'Internal error');
    }
    sendError(res, apiError);
  };
}
