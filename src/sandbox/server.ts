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
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SYSTEMS, faultSchema, latencySchema, parseBody, workspaceSchema } from './schemas';
import { matchRoute, systemOf } from './routes';
import { SandboxState, type RateStatus, type WorkspaceRuntime } from './state';
import type { SandboxEvent, SandboxFault, SandboxLatency, SandboxSystem, SandboxWorkspace } from './types';
import { HttpError, codeForStatus, errorBody, errorReply, type Reply } from './wire';

export interface SandboxOptions {
  workspaces: SandboxWorkspace[];
  latency?: SandboxLatency;
  /** Clock for arrival times, rate windows and `created_at`; latency always uses real time. */
  now?: () => number;
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
  app.use(emulator(state));
  app.use(notFound);
  app.use(errorHandler);
  return { app, state };
}

export async function startSandbox(opts: SandboxOptions & { port?: number; host?: string }): Promise<RunningSandbox> {
  const { port = 0, host = '127.0.0.1', ...rest } = opts;
  const { app, state } = createSandboxApp(rest);
  const server = await listen(app, port, host);
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${actualPort}`,
    port: actualPort,
    close: () => (closing ??= closeServer(server)),
    events: () => state.events(),
    clearEvents: () => state.clearEvents(),
    addWorkspace: (w) => state.upsertWorkspace(w),
    injectFault: (f) => void state.addFault(f),
    setLatency: (l) => state.setLatency(l),
  };
}

// ------------------------------------------------------------------------------------ HTTP server

function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Keep-alive sockets (fetch pools them) would otherwise hold close() open for seconds.
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// ------------------------------------------------------------------------------- emulated systems

/** Everything the pipeline knows about one emulated request before deciding its reply. */
interface Incoming {
  system: SandboxSystem;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  bodyError: unknown;
  idempotencyKey: string | undefined;
  auth: AuthResult;
  rate: RateStatus;
  now: number;
}

interface AuthResult {
  workspace: WorkspaceRuntime | null;
  /** The workspace the request named (or its token resolved to), for the event log. */
  claimed: string | null;
  error: HttpError | null;
}

function emulator(state: SandboxState) {
  // Parse errors are handed to the pipeline instead of Express' error handler so that a malformed
  // body still gets rate-limit headers, counts against the window and is recorded as an event.
  const parseJson = express.json({ limit: '1mb' });
  return (req: Request, res: Response, next: NextFunction): void => {
    const system = systemOf(normalizePath(req.path));
    if (!system) return next();
    const receivedAt = state.now();
    parseJson(req, res, (bodyError?: unknown) => {
      handleEmulated(state, system, receivedAt, req, res, bodyError).catch(next);
    });
  };
}

async function handleEmulated(
  state: SandboxState,
  system: SandboxSystem,
  receivedAt: number,
  req: Request,
  res: Response,
  bodyError: unknown,
): Promise<void> {
  const query = queryOf(req);
  const auth = authenticate(state, system, query, req.get('authorization'));
  const incoming: Incoming = {
    system,
    method: req.method,
    path: normalizePath(req.path),
    query,
    body: req.body === undefined ? null : req.body,
    bodyError,
    idempotencyKey: req.get('idempotency-key') || undefined,
    auth,
    rate: state.countRequest(auth.workspace, system, receivedAt),
    now: receivedAt,
  };
  const { reply, replayed } = decide(state, incoming);
  const latencyMs = state.latencyFor(system);
  state.record({
    system,
    workspace: auth.claimed,
    method: incoming.method,
    path: incoming.path,
    query,
    headers: incoming.idempotencyKey !== undefined ? { idempotencyKey: incoming.idempotencyKey } : {},
    body: incoming.body,
    status: reply.status,
    replayed,
    receivedAt,
    at: new Date(receivedAt).toISOString(),
    latencyMs,
  });
  if (latencyMs > 0) await sleep(latencyMs);
  send(res, reply, rateHeaders(incoming.rate));
}

/** The reply for one request; synchronous so that check-then-store of idempotency keys is atomic. */
function decide(state: SandboxState, inc: Incoming): { reply: Reply; replayed: boolean } {
  const fault = state.takeFault(inc.system, inc.method, inc.path);
  if (fault) return { reply: faultReply(inc.system, fault, inc.rate), replayed: false };
  const ws = inc.auth.workspace;
  if (inc.auth.error || !ws) {
    return { reply: errorReply(inc.system, inc.auth.error ?? unauthorized()), replayed: false };
  }
  if (inc.rate.exceeded) return { reply: rateLimitedReply(inc.system, inc.rate), replayed: false };
  if (inc.bodyError !== undefined) return { reply: bodyErrorReply(inc.system, inc.bodyError), replayed: false };

  const match = matchRoute(inc.method, inc.path);
  if (!match) return { reply: errorReply(inc.system, noRoute(inc.method, inc.path)), replayed: false };
  const key = match.route.idempotent ? inc.idempotencyKey : undefined;
  const stored = key !== undefined ? ws.idempotency.get(key) : undefined;
  if (stored) {
    return { reply: { ...stored, headers: { ...stored.headers, 'Idempotent-Replayed': 'true' } }, replayed: true };
  }

  const reply = runHandler(inc.system, () =>
    match.route.handle({ ws, params: match.params, query: inc.query, body: inc.body, now: inc.now }),
  );
  // A 5xx means "we did not finish"; storing it would turn a retry into a permanent failure.
  if (key !== undefined && reply.status < 500) ws.idempotency.set(key, reply);
  return { reply, replayed: false };
}

function runHandler(system: SandboxSystem, handle: () => Reply): Reply {
  try {
    return handle();
  } catch (err) {
    if (err instanceof HttpError) return errorReply(system, err);
    const message = err instanceof Error ? err.message : String(err);
    return errorReply(system, new HttpError(500, 'INTERNAL', `sandbox handler failed: ${message}`));
  }
}

/**
 * Unified endpoints name their workspace with `integrated_account_id` and must present its token;
 * enrichment (like Clearbit) only has an API key, so the token alone identifies the workspace.
 */
function authenticate(
  state: SandboxState,
  system: SandboxSystem,
  query: Record<string, string>,
  authorization: string | undefined,
): AuthResult {
  const token = bearerToken(authorization);
  if (system === 'enrichment') {
    const ws = token !== null ? (state.workspaceByToken(token) ?? null) : null;
    return { workspace: ws, claimed: ws?.seed.id ?? null, error: ws ? null : unauthorized() };
  }
  const id = query['integrated_account_id'] || null;
  const fail = (error: HttpError): AuthResult => ({ workspace: null, claimed: id, error });
  if (token === null) return fail(unauthorized());
  if (id === null) return fail(new HttpError(400, 'VALIDATION', 'integrated_account_id: required'));
  const ws = state.workspaceById(id);
  if (!ws) return fail(new HttpError(404, 'NOT_FOUND', `no integrated account has the id ${id}`));
  if (ws.seed.token !== token) return fail(unauthorized());
  return { workspace: ws, claimed: id, error: null };
}

function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

function unauthorized(): HttpError {
  return new HttpError(401, 'UNAUTHORIZED', 'missing or invalid bearer token');
}

function noRoute(method: string, path: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `no route for ${method} ${path}`);
}

function rateHeaders(rate: RateStatus): Record<string, string> {
  return {
    'ratelimit-limit': String(rate.limit),
    'ratelimit-remaining': String(rate.remaining),
    'ratelimit-reset': String(rate.resetSeconds),
  };
}

function rateLimitedReply(system: SandboxSystem, rate: RateStatus): Reply {
  const reply = errorReply(system, new HttpError(429, 'RATE_LIMITED', 'Rate limit exceeded'));
  return { ...reply, headers: { 'Retry-After': String(rate.resetSeconds) } };
}

/** An injected fault; without a body it answers in the system's own error format. */
function faultReply(system: SandboxSystem, fault: SandboxFault, rate: RateStatus): Reply {
  const body =
    fault.body !== undefined
      ? fault.body
      : fault.status >= 400
        ? errorBody(system, new HttpError(fault.status, codeForStatus(fault.status), 'injected fault'))
        : undefined;
  // A 429 without Retry-After would be unlike any real upstream, so one is supplied by default.
  const retryAfter: Record<string, string> = fault.status === 429 ? { 'Retry-After': String(rate.resetSeconds) } : {};
  return { status: fault.status, body, headers: { ...retryAfter, ...fault.headers } };
}

function bodyErrorReply(system: SandboxSystem, err: unknown): Reply {
  const status = statusOf(err) ?? 400;
  return errorReply(system, new HttpError(status, 'VALIDATION', `body: ${messageOf(err) ?? 'malformed JSON'}`));
}

function send(res: Response, reply: Reply, shared: Record<string, string>): void {
  res.status(reply.status).set(shared);
  if (reply.headers) res.set(reply.headers);
  if (reply.body === undefined || reply.body === null) res.end();
  else res.json(reply.body);
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
  router.post('/workspaces', (req, res) => {
    const workspace = parseBody(workspaceSchema, req.body);
    state.upsertWorkspace(workspace);
    res.status(201).json({ id: workspace.id });
  });
  return router;
}

function eventFilter(query: Record<string, string>): { system?: SandboxSystem; since?: number } {
  const filter: { system?: SandboxSystem; since?: number } = {};
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
  res.status(err.status).json(errorBody(null, err));
}

/** Control-route failures and bad JSON outside the emulators, in the unified error format. */
function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const httpError = toHttpError(err);
  res.status(httpError.status).json(errorBody(null, httpError));
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
