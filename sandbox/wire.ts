/** What an emulated endpoint answers, before the shared headers (rate limit, replay) are added. */
export interface Reply {
  status: number;
  /** `undefined` sends no body. */
  body: unknown;
  headers?: Record<string, string>;
}

export type ErrorCode = 'VALIDATION' | 'UNAUTHORIZED' | 'NOT_FOUND' | 'RATE_LIMITED' | 'INTERNAL';

/**
 * Thrown by handlers for an expected failure; each emulator renders it in its provider's error
 * format. `enrichmentType` is the Clearbit-style `error.type`; `providerCode` a provider's own
 * error code (Salesforce `MALFORMED_QUERY`, Slack `channel_not_found`) when the handler knows it.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly enrichmentType?: string,
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The closest unified error code for an arbitrary status (used for injected faults without a body). */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'UNAUTHORIZED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 400 && status < 500) return 'VALIDATION';
  return 'INTERNAL';
}

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 50;

/**
 * Cursor pagination over an in-memory list. The cursor is opaque to clients (base64url JSON of an
 * offset) so that clients which build cursors themselves instead of echoing `next_cursor` break
 * here the way they would against a real upstream.
 */
export function paginate<T>(items: T[], query: Record<string, string>): { result: T[]; next_cursor: string | null } {
  const limit = parseLimit(query['limit']);
  const offset = parseCursor(query['cursor']);
  const page = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? encodeCursor(offset + limit) : null;
  return { result: page, next_cursor: next };
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new HttpError(400, 'VALIDATION', `limit: must be an integer between 1 and ${MAX_LIMIT}`);
  }
  return n;
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function parseCursor(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof decoded === 'object' && decoded !== null && 'o' in decoded) {
      const offset = decoded.o;
      if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
    }
  } catch {
    // Falls through to the validation error: a garbled cursor is the client's mistake, not ours.
  }
  throw new HttpError(400, 'VALIDATION', 'cursor: not a cursor this API issued');
}

/** Comma-separated list parameter, trimmed, empties dropped; `undefined` when the parameter is absent. */
export function listParam(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A required ISO 8601 instant (with zone) query parameter, as epoch ms. */
export function isoParam(query: Record<string, string>, name: string): number {
  const raw = query[name];
  if (raw === undefined || raw === '') throw new HttpError(400, 'VALIDATION', `${name}: required ISO 8601 instant`);
  const ms = ISO_INSTANT.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw new HttpError(400, 'VALIDATION', `${name}: not an ISO 8601 instant with a zone: ${raw}`);
  return ms;
}
