/**
 * Local HTTP emulators of the upstream systems a tenant connects (CRM, HRIS, calendar, messaging
 * through a "unified API", plus Clearbit-style enrichment), served over real loopback HTTP so the
 * engine's clients, retries and rate-limit handling are exercised exactly as in production.
 *
 * Every emulated request goes through one pipeline: authenticate → count against the rate window →
 * injected fault? → auth error? → rate limited? → bad body? → idempotent replay? → handler. The
 * reply is computed synchronously (so concurrent retries with one Idempotency-Key cannot both
 * create a lead), recorded as an event, and only then delayed by the configured latency.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from './http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { emulatorFor, matchRoute, type EmulatorAuth, type EmulatorRequest, type ProviderEmulator } from './emulator';
import { EMULATORS } from './providers';
import { applyQuota, quotaFor, type SandboxQuotas } from './quotas';
import { SYSTEMS, faultSchema, latencySchema, parseBody, workspaceSchema } from './schemas';
import { DEFAULT_RATE_RULE, SandboxState, type RateRule, type RateStatus } from './state';
import type { SandboxEvent, SandboxFault, SandboxLatency, SandboxSystem, SandboxWorkspace } from './types';
import { HttpError, codeForStatus, type Reply } from './wire';

export interface SandboxOptions {
  workspaces: SandboxWorkspace[];
  latency?: SandboxLatency;
  /** Clock for arrival times, rate windows and `created_at`; latency always uses real time. */
  now?: () => number;
  /** Emulated quotas in place of the sandbox's own windows (see ./quotas.ts); none by default. */
  quotas?: SandboxQuotas;
}

export interface RunningSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  events(): SandboxEvent[];
  clearEvents(): void;
  addWorkspace(w: SandboxWorkspace): void;
  injectFault(f: SandboxFault): void;
  setLatency(l: SandboxLatency): void;
}

export function createSandboxApp(opts: SandboxOptions): { app: express.Express; state: SandboxState } {
  const state = new SandboxState(opts.workspaces, opts.latency, opts.now ?? Date.now);
  const app = express();
  app.disable('x-powered-by');
  // No ETags: a client that sent If-None-Match would get a 304 no real upstream here would send.
  app.set('etag', false);
  app.use('/_sandbox', controlRouter(state));
  app.use(emulatorMiddleware(state, EMULATORS, opts.quotas));
  app.use(notFound);
  app.use(errorHandler);
  return { app, state };
}

export async function startSandbox(opts: SandboxOptions & { port?: number; host?: string }): Promise<RunningSandbox> {
  const { port = 0, host = '127.0.0.1', ...rest } = opts;
  const { app, state } = createSandboxApp(rest);
  const served = await serve(app, port, host);
  return {
    ...served,
    events: () => state.events(),
    clearEvents: () => state.clearEvents(),
    addWorkspace: (w) => state.upsertWorkspace(w),
    injectFault: (f) => void state.addFault(f),
    setLatency: (l) => state.setLatency(l),
  };
}


// ------------------------------------------------------------------------------- emulated systems

/** Everything the pipeline knows about one emulated request before deciding its reply. */
interface Incoming {
  emulator: ProviderEmulator;
  request: EmulatorRequest;
  bodyError: unknown;
  idempotencyKey: string | undefined;
  auth: EmulatorAuth;
  /** The window that refused the request, else the first one it counted against. */
  rate: RateStatus;
  /** Every window the request counted against. */
  rates: RateStatus[];
}

function emulatorMiddleware(state: SandboxState, emulators: readonly ProviderEmulator[], quotas: SandboxQuotas | undefined) {
  // The raw body is kept (signatures are computed over it); JSON and form bodies are parsed from it.
  const readRaw = express.text({ type: () => true, limit: '1mb' });
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = normalizePath(req.path);
    const emulator = emulatorFor(emulators, path);
    if (!emulator) return next();
    const receivedAt = state.now();
    readRaw(req, res, (readError?: unknown) => {
      handleEmulated(state, emulator, path, receivedAt, req, res, readError, quotas).catch(next);
    });
  };
}

/** Parses the body by its content type; a parse failure is the pipeline's to report, in the provider's format. */
function parseRequestBody(contentType: string, raw: string): { body: unknown; error?: unknown } {
  if (raw === '') return { body: null };
  if (/x-www-form-urlencoded/i.test(contentType)) return { body: Object.fromEntries(new URLSearchParams(raw)) };
  if (/json/i.test(contentType)) {
    try {
      return { body: JSON.parse(raw) as unknown };
    } catch (err) {
      return { body: null, error: err };
    }
  }
  return { body: raw };
}

async function handleEmulated(
  state: SandboxState,
  emulator: ProviderEmulator,
  path: string,
  receivedAt: number,
  req: Request,
  res: Response,
  readError: unknown,
  quotas: SandboxQuotas | undefined,
): Promise<void> {
  const query = queryOf(req);
  const headers = lowerCaseHeaders(req.headers);
  const rawBody = typeof req.body === 'string' ? req.body : '';
  const parsed = parseRequestBody(headers['content-type'] ?? '', rawBody);
  const request: EmulatorRequest = { method: req.method, path, query, headers, rawBody, body: parsed.body, now: receivedAt };
  const auth = emulator.authenticate(request, state);
  const incoming: Incoming = {
    emulator,
    request,
    bodyError: readError ?? parsed.error,
    idempotencyKey: headers['idempotency-key'] || undefined,
    auth,
    ...countRates(state, emulator, auth, request, quotas),
  };
  const { reply, replayed, limited } = decide(state, incoming);
  const latencyMs = state.latencyFor(emulator.system);
  state.record({
    system: emulator.system,
    provider: emulator.provider,
    workspace: auth.claimed,
    method: request.method,
    path,
    query,
    headers: incoming.idempotencyKey !== undefined ? { idempotencyKey: incoming.idempotencyKey } : {},
    body: request.body,
    status: reply.status,
    replayed,
    receivedAt,
    at: new Date(receivedAt).toISOString(),
    latencyMs,
    ...(limited ? { rateLimited: { window: incoming.rate.window, resetSeconds: incoming.rate.resetSeconds } } : {}),
  });
  if (latencyMs > 0) await sleep(latencyMs);
  send(res, reply, emulator.rateHeaders(incoming.rate, receivedAt, incoming.rates));
}

/**
 * Counts the request against each window the emulator names, stopping at the first it exceeds.
 * A quota that applies resizes or lifts the windows (see ./quotas.ts).
 */
function countRates(
  state: SandboxState,
  emulator: ProviderEmulator,
  auth: EmulatorAuth,
  request: EmulatorRequest,
  quotas: SandboxQuotas | undefined,
): { rate: RateStatus; rates: RateStatus[] } {
  const [first = DEFAULT_RATE_RULE, ...more] = emulator.rateRules?.(request, auth.workspace) ?? [];
  const quota = quotas ? quotaFor(quotas, emulator.provider, emulator.system, request.path) : null;
  const params = { ...request.query, ...(typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {}) };
  const count = (emulatorRule: RateRule) => {
    const { rule, keySuffix } = applyQuota(emulatorRule, quota, params);
    return state.countRequest(auth.workspace, `${emulator.provider}/${emulator.system}${keySuffix}`, request.now, rule);
  };
  let rate = count(first);
  const rates = [rate];
  for (const rule of more) {
    if (rate.exceeded) break;
    const status = count(rule);
    rates.push(status);
    if (status.exceeded) rate = status;
  }
  return { rate, rates };
}

/**
 * The reply for one request; synchronous so that check-then-store of idempotency keys is atomic.
 * `limited`: the reply is the provider's limit answer (a window was exhausted).
 */
function decide(state: SandboxState, inc: Incoming): { reply: Reply; replayed: boolean; limited?: boolean } {
  const { emulator, request } = inc;
  const fault = state.takeFault(emulator.system, emulator.provider, request.method, request.path);
  if (fault) return { reply: faultReply(emulator, fault, inc.rate), replayed: false };
  const ws = inc.auth.workspace;
  if (inc.auth.error || !ws) {
    return { reply: emulator.errorReply(inc.auth.error ?? new HttpError(401, 'UNAUTHORIZED', 'not authenticated')), replayed: false };
  }
  if (inc.rate.exceeded) return { reply: emulator.rateLimited(inc.rate, request.now), replayed: false, limited: true };
  if (inc.bodyError !== undefined) return { reply: emulator.errorReply(bodyError(inc.bodyError)), replayed: false };

  const match = matchRoute(emulator.routes, request.method, request.path);
  if (!match) return { reply: emulator.errorReply(noRoute(request.method, request.path)), replayed: false };
  // Keys are per provider: the same key sent to two providers' emulators are two different requests.
  const key = match.route.idempotent && inc.idempotencyKey !== undefined ? `${emulator.provider}:${inc.idempotencyKey}` : undefined;
  const stored = key !== undefined ? ws.idempotency.get(key) : undefined;
  if (stored) {
    return { reply: { ...stored, headers: { ...stored.headers, 'Idempotent-Replayed': 'true' } }, replayed: true };
  }

  const reply = runHandler(emulator, () =>
    match.route.handle({ ws, params: match.params, query: request.query, headers: request.headers, body: request.body, rawBody: request.rawBody, now: request.now, state }),
  );
  // A 5xx means "we did not finish"; storing it would turn a retry into a permanent failure.
  if (key !== undefined && reply.status < 500) ws.idempotency.set(key, reply);
  return { reply, replayed: false };
}

function runHandler(emulator: ProviderEmulator, handle: () => Reply): Reply {
  try {
    return handle();
  } catch (err) {
    if (err instanceof HttpError) return emulator.errorReply(err);
    const message = err instanceof Error ? err.message : String(err);
    return emulator.errorReply(new HttpError(500, 'INTERNAL', `sandbox handler failed: ${message}`));
  }
}

function noRoute(method: string, path: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `no route for ${method} ${path}`);
}

/** An injected fault; without a body it answers in the provider's own error format. */
function faultReply(emulator: ProviderEmulator, fault: SandboxFault, rate: RateStatus): Reply {
  const body =
    fault.body !== undefined
      ? fault.body
      : fault.status >= 400
        ? emulator.errorReply(new HttpError(fault.status, codeForStatus(fault.status), 'injected fault')).body
        : undefined;
  // A 429 without Retry-After would be unlike any real upstream, so one is supplied by default.
  const retryAfter: Record<string, string> = fault.status === 429 ? { 'Retry-After': String(rate.resetSeconds) } : {};
  return { status: fault.status, body, headers: { ...retryAfter, ...fault.headers } };
}

function bodyError(err: unknown): HttpError {
  const status = statusOf(err) ?? 400;
  return new HttpError(status, 'VALIDATION', `body: ${messageOf(err) ?? 'malformed JSON'}`);
}

function send(res: Response, reply: Reply, shared: Record<string, string>): void {
  res.status(reply.status).set(shared);
  if (reply.headers) res.set(reply.headers);
  if (reply.body === undefined || reply.body === null) res.end();
  else if (typeof reply.body === 'string') res.type(reply.headers?.['Content-Type'] ?? 'text/plain').send(reply.body);
  else res.json(reply.body);
}

function lowerCaseHeaders(headers: Request['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

// --------------------------------------------------------------------------------- request helpers

function normalizePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

/** First value of each query parameter (Express' parser would hand back arrays for repeats). */
function queryOf(req: Request): Record<string, string> {
  const at = req.originalUrl.indexOf('?');
  if (at < 0) return {};
  const first = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(req.originalUrl.slice(at + 1))) if (!first.has(k)) first.set(k, v);
  // fromEntries defines own properties, so a "__proto__" parameter cannot reach the prototype.
  return Object.fromEntries(first);
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return undefined;
}

function messageOf(err: unknown): string | undefined {
  return err instanceof Error ? err.message : undefined;
}

// -------------------------------------------------------------------------------- control routes

function controlRouter(state: SandboxState): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: '10mb' }));
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/events', (req, res) => {
    res.json({ events: state.events(eventFilter(queryOf(req))) });
  });
  router.delete('/events', (_req, res) => {
    state.clearEvents();
    res.status(204).end();
  });
  router.post('/faults', (req, res) => {
    res.status(201).json({ id: state.addFault(parseBody(faultSchema, req.body)) });
  });
  router.delete('/faults', (_req, res) => {
    state.clearFaults();
    res.status(204).end();
  });
  router.put('/latency', (req, res) => {
    state.setLatency(parseBody(latencySchema, req.body));
    res.status(204).end();
  });
  // OAuth: revoke a workspace's grant (refreshes then answer invalid_grant) or restore it, and
  // expire access tokens early (the next API call gets the provider's 401).
  router.post('/oauth/revoke', (req, res) => {
    const { workspace, provider, revoked } = parseBody(grantSchema, req.body);
    state.setGrantRevoked(workspace, provider, revoked, state.now());
    res.status(204).end();
  });
  router.post('/oauth/expire', (req, res) => {
    const filter = parseBody(expireSchema, req.body ?? {});
    res.json({ expired: state.expireAccessTokens(filter, state.now()) });
  });
  router.post('/workspaces', (req, res) => {
    const workspace = parseBody(workspaceSchema, req.body);
    state.upsertWorkspace(workspace);
    res.status(201).json({ id: workspace.id });
  });
  return router;
}

const grantSchema = z.object({ workspace: z.string().min(1), provider: z.string().min(1), revoked: z.boolean().default(true) });
const expireSchema = z.object({ workspace: z.string().min(1).exactOptional(), provider: z.string().min(1).exactOptional() });

function eventFilter(query: Record<string, string>): { system?: SandboxSystem; provider?: string; since?: number } {
  const filter: { system?: SandboxSystem; provider?: string; since?: number } = {};
  if (query['provider']) filter.provider = query['provider'];
  const system = query['system'];
  if (system !== undefined) {
    const known = SYSTEMS.find((s) => s === system);
    if (!known) throw new HttpError(400, 'VALIDATION', `system: must be one of ${SYSTEMS.join(', ')}`);
    filter.system = known;
  }
  const since = query['since'];
  if (since !== undefined) {
    const n = Number(since);
    if (since === '' || !Number.isInteger(n) || n < 0) throw new HttpError(400, 'VALIDATION', 'since: must be a seq');
    filter.since = n;
  }
  return filter;
}

function notFound(req: Request, res: Response): void {
  const err = noRoute(req.method, req.path);
  res.status(err.status).json(controlError(err));
}

function controlError(err: HttpError): unknown {
  return { status: err.status, error_code: err.code, message: err.message };
}

/** Control-route failures and bad JSON outside the emulators, in the unified error format. */
function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const httpError = toHttpError(err);
  res.status(httpError.status).json(controlError(httpError));
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  // body-parser errors carry a 4xx status (400 malformed, 413 too large, 415 bad charset).
  const status = statusOf(err);
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpError(status, 'VALIDATION', `body: ${messageOf(err) ?? 'malformed JSON'}`);
  }
  return new HttpError(500, 'INTERNAL', messageOf(err) ?? 'internal error');
}
