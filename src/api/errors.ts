import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';

export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'lead_closed'
  | 'idempotency_key_reused'
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

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `No route for ${req.method} ${req.path}`));
};

/** The one place errors become HTTP answers. */
export function errorHandler(onUnexpected: (err: unknown) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (err?.type === 'entity.too.large') apiError = new ApiError(413, 'payload_too_large', `Request body exceeds ${err.limit} bytes`);
    else if (err?.type === 'entity.parse.failed') apiError = new ApiError(400, 'invalid_json', 'Request body is not valid JSON');
    else if (err?.type === 'charset.unsupported' || err?.type === 'encoding.unsupported') {
      apiError = new ApiError(415, 'unsupported_media_type', err.message);
    } else if (err instanceof ServiceError || isGrpcServiceError(err)) {
      // Temporal did not answer in time: every write here is idempotent, so retrying is safe.
      onUnexpected(err);
      apiError = new ApiError(503, 'unavailable', 'The workflow service did not answer in time; retry the request (with the same Idempotency-Key for a new lead)');
    } else {
      onUnexpected(err);
      apiError = new ApiError(500, 'internal', 'Internal error');
    }
    res.status(apiError.status).json({
      error: { code: apiError.code, message: apiError.message, ...(apiError.details ? { details: apiError.details } : {}) },
    });
  };
}
