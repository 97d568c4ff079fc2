/**
 * A marketplace of emulated lead buyers over real loopback HTTP, for the distribution engine's
 * sandbox, tests and benchmark. Each buyer answers POST /buyers/:id/ping and /buyers/:id/post in
 * its own wire format (JSON, XML, or form in / plain text out) with a behaviour that can change
 * while the server runs (./marketplaceBuyers.ts): latency, bid, post answer, failures, rate limit,
 * emails already bought, Idempotency-Key replay.
 *
 * The answer is decided synchronously when the request has been read (so two concurrent requests
 * with one Idempotency-Key cannot both make a sale), recorded, and only then delayed by the
 * buyer's latency. A control API under /_marketplace lets another process (npm start, the
 * benchmark) read the record and change behaviours too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from './http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  DEFAULT_MARKETPLACE_BUYERS,
  applyPatch,
  drawLatency,
  encodeAnswer,
  parseBehaviour,
  readRequest,
  seededRandom,
  type EncodedReply,
  type MarketplaceBehaviourPatch,
  type MarketplaceBuyerBehaviour,
  type MarketplaceBuyerInput,
  type MarketplaceLatency,
} from './marketplaceBuyers';

export * from './marketplaceBuyers';

export type MarketplaceKind = 'ping' | 'post';

/** One request a buyer received, as it arrived. */
export interface MarketplaceRequest {
  /** 1, 2, 3… in arrival order (`since` filters on it). */
  seq: number;
  buyerId: string;
  kind: MarketplaceKind;
  method: string;
  path: string;
  /** Arrival, ISO 8601. */
  at: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body exactly as received. */
  body: string;
  /** The status answered; null when the buyer never answered (hang) or dropped the connection. */
  status: number | null;
  /** The answer was the stored one for the request's Idempotency-Key. */
  replayed: boolean;
  /** The delay before the answer was sent. */
  latencyMs: number;
}

/** An accepted post: a lead the buyer bought. */
export interface MarketplaceSale {
  buyerId: string;
  reference: string;
  price: number | null;
  email: string | null;
  idempotencyKey: string | null;
  at: string;
}

export interface MarketplaceRequestFilter {
  buyerId?: string;
  kind?: MarketplaceKind;
  /** Only requests with a greater seq. */
  since?: number;
}

export interface MarketplaceOptions {
  port?: number;
  host?: string;
  /** The buyers served (default: DEFAULT_MARKETPLACE_BUYERS; spread them to add more). */
  buyers?: readonly MarketplaceBuyerInput[];
  /** Clock for arrival times and rate windows; latency always uses real time. */
  now?: () => number;
}

export interface RunningMarketplace {
  url: string;
  port: number;
  close(): Promise<void>;
  requests(filter?: MarketplaceRequestFilter): MarketplaceRequest[];
  clearRequests(): void;
  /** Changes a buyer's behaviour (an unknown ID adds a buyer with the defaults); gives the new one. */
  setBehaviour(buyerId: string, patch: MarketplaceBehaviourPatch): MarketplaceBuyerBehaviour;
  behaviour(buyerId: string): MarketplaceBuyerBehaviour | undefined;
  buyers(): MarketplaceBuyerBehaviour[];
  sales(filter?: { buyerId?: string }): MarketplaceSale[];
  /** Back to the starting buyers; requests, sales, stored answers and counters cleared. */
  reset(): void;
}

// ---------------------------------------------------------------------------------------- state

interface BuyerState {
  behaviour: MarketplaceBuyerBehaviour;
  emails: Set<string>;
  random: () => number;
  pingRandom: () => number;
  references: number;
  window: { start: number; count: number } | null;
  cycle: number;
  /** Stored answers by `<kind>:<Idempotency-Key>`. */
  answers: Map<string, EncodedReply>;
}

function randomFor(latency: MarketplaceLatency | null): () => number {
  return latency?.seed !== undefined ? seededRandom(latency.seed) : Math.random;
}

export class MarketplaceState {
  private readonly buyerStates = new Map<string, BuyerState>();
  private log: MarketplaceRequest[] = [];
  private saleLog: MarketplaceSale[] = [];
  private seq = 0;

  constructor(
    private readonly initial: readonly MarketplaceBuyerInput[],
    readonly now: () => number,
  ) {
    this.reset();
  }

  reset(): void {
    this.buyerStates.clear();
    for (const input of this.initial) {
      const behaviour = parseBehaviour(input);
      if (this.buyerStates.has(behaviour.id)) throw new Error(`marketplace buyer ${behaviour.id} is listed twice`);
      this.buyerStates.set(behaviour.id, this.freshState(behaviour));
    }
    this.log = [];
    this.saleLog = [];
    this.seq = 0;
  }

  private freshState(behaviour: MarketplaceBuyerBehaviour): BuyerState {
    return {
      behaviour,
      emails: new Set(behaviour.acceptedEmails),
      random: randomFor(behaviour.latency),
      pingRandom: behaviour.pingLatency ? randomFor(behaviour.pingLatency) : randomFor(behaviour.latency),
      references: 0,
      window: null,
      cycle: 0,
      answers: new Map(),
    };
  }

  buyer(id: string): BuyerState | undefined {
    return this.buyerStates.get(id);
  }

  behaviour(id: string): MarketplaceBuyerBehaviour | undefined {
    const state = this.buyerStates.get(id);
    return state && { ...state.behaviour, acceptedEmails: [...state.emails] };
  }

  buyers(): MarketplaceBuyerBehaviour[] {
    return [...this.buyerStates.keys()].map((id) => this.behaviour(id)!);
  }

  setBehaviour(id: string, patch: MarketplaceBehaviourPatch): MarketplaceBuyerBehaviour {
    const state = this.buyerStates.get(id);
    const current = state && this.behaviour(id);
    const next = applyPatch(id, current, patch);
    if (!state) {
      this.buyerStates.set(id, this.freshState(next));
    } else {
      state.behaviour = next;
      if ('acceptedEmails' in patch) state.emails = new Set(next.acceptedEmails);
      if ('latency' in patch) state.random = randomFor(next.latency);
      if ('latency' in patch || 'pingLatency' in patch) state.pingRandom = next.pingLatency ? randomFor(next.pingLatency) : state.random;
      if ('rateLimit' in patch) {
        state.window = null;
        state.cycle = 0;
      }
    }
    return this.behaviour(id)!;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  record(request: MarketplaceRequest): void {
    this.log.push(request);
  }

  requests(filter: MarketplaceRequestFilter = {}): MarketplaceRequest[] {
    return this.log.filter(
      (r) =>
        (filter.buyerId === undefined || r.buyerId === filter.buyerId) &&
        (filter.kind === undefined || r.kind === filter.kind) &&
        (filter.since === undefined || r.seq > filter.since),
    );
  }

  clearRequests(): void {
    this.log = [];
  }

  addSale(sale: MarketplaceSale): void {
    this.saleLog.push(sale);
  }

  sales(filter: { buyerId?: string } = {}): MarketplaceSale[] {
    return this.saleLog.filter((s) => filter.buyerId === undefined || s.buyerId === filter.buyerId);
  }
}

// ------------------------------------------------------------------------------------- deciding

/** What to do with one request: answer this reply, never answer, or drop the connection. */
type Decision = { type: 'reply'; reply: EncodedReply; replayed: boolean } | { type: 'hang' } | { type: 'close' };

interface Incoming {
  kind: MarketplaceKind;
  headers: Record<string, string>;
  body: string;
  now: number;
  requestId: string;
}

/** Synchronous, so that checking and storing an Idempotency-Key cannot interleave with another request. */
export function decide(state: MarketplaceState, buyer: BuyerState, inc: Incoming): Decision {
  const b = buyer.behaviour;
  const ids = { 'x-request-id': inc.requestId };
  if (b.failing) {
    if (b.failure === 'hang') return { type: 'hang' };
    if (b.failure === 'close') return { type: 'close' };
    const reason = b.failure === 503 ? 'service unavailable' : 'internal error';
    return { type: 'reply', reply: encodeAnswer(b.format, b.failure, { status: 'error', reason }, ids), replayed: false };
  }
  const retryAfter = rateLimited(buyer, inc.now);
  if (retryAfter !== undefined) {
    const reply = encodeAnswer(b.format, 429, { status: 'error', reason: 'rate limited' }, { ...ids, 'retry-after': String(retryAfter) });
    return { type: 'reply', reply, replayed: false };
  }
  const key = b.idempotency && inc.headers['idempotency-key'] ? `${inc.kind}:${inc.headers['idempotency-key']}` : undefined;
  const stored = key !== undefined ? buyer.answers.get(key) : undefined;
  if (stored) return { type: 'reply', reply: { ...stored, headers: { ...stored.headers, 'idempotent-replayed': 'true' } }, replayed: true };

  const read = readRequest(b.format, inc.headers['content-type'] ?? '', inc.body);
  if ('error' in read) return { type: 'reply', reply: encodeAnswer(b.format, read.error.status, { status: 'error', reason: read.error.reason }, ids), replayed: false };
  const reply = inc.kind === 'ping' ? answerPing(buyer, ids) : answerPost(state, buyer, read.email, key !== undefined ? inc.headers['idempotency-key']! : null, inc.now, ids);
  if (key !== undefined) buyer.answers.set(key, reply);
  return { type: 'reply', reply, replayed: false };
}

/** Seconds to wait when the request is over the buyer's rate limit, else undefined (and the request counts). */
function rateLimited(buyer: BuyerState, now: number): number | undefined {
  const rule = buyer.behaviour.rateLimit;
  if (!rule) return undefined;
  if (rule.type === 'cycle') {
    const position = buyer.cycle++ % rule.every;
    return position === 0 ? rule.retryAfterSeconds : undefined;
  }
  const windowMs = rule.windowSeconds * 1000;
  if (!buyer.window || now >= buyer.window.start + windowMs) buyer.window = { start: now, count: 0 };
  if (buyer.window.count >= rule.limit) return Math.max(1, Math.ceil((buyer.window.start + windowMs - now) / 1000));
  buyer.window.count++;
  return undefined;
}

function nextReference(buyer: BuyerState, prefix: string): string {
  buyer.references++;
  return `${buyer.behaviour.id}-${prefix}${String(buyer.references).padStart(6, '0')}`;
}

function answerPing(buyer: BuyerState, headers: Record<string, string>): EncodedReply {
  const { format, price } = buyer.behaviour;
  if (price === null) return encodeAnswer(format, 200, { status: 'no_bid' }, headers);
  return encodeAnswer(format, 200, { status: 'bid', price, id: nextReference(buyer, 'bid') }, headers);
}

function answerPost(state: MarketplaceState, buyer: BuyerState, email: string | undefined, idempotencyKey: string | null, now: number, headers: Record<string, string>): EncodedReply {
  const b = buyer.behaviour;
  const normalized = email?.trim().toLowerCase();
  if (b.post === 'duplicate' || (normalized && buyer.emails.has(normalized))) {
    return encodeAnswer(b.format, 200, { status: 'duplicate', reason: 'already purchased' }, headers);
  }
  if (b.post === 'reject') return encodeAnswer(b.format, 200, { status: 'rejected', reason: b.rejectReason }, headers);
  const reference = nextReference(buyer, 'L');
  if (normalized) buyer.emails.add(normalized);
  state.addSale({ buyerId: b.id, reference, price: b.price, email: normalized ?? null, idempotencyKey, at: new Date(now).toISOString() });
  return encodeAnswer(b.format, 200, { status: 'accepted', id: reference, ...(b.price !== null ? { price: b.price } : {}) }, headers);
}

// ------------------------------------------------------------------------------------ HTTP server

export function createMarketplaceApp(opts: { buyers?: readonly MarketplaceBuyerInput[]; now?: () => number } = {}): { app: express.Express; state: MarketplaceState } {
  const state = new MarketplaceState(opts.buyers ?? DEFAULT_MARKETPLACE_BUYERS, opts.now ?? Date.now);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use('/_marketplace', controlRouter(state));
  const readRaw = express.text({ type: () => true, limit: '1mb' });
  app.post('/buyers/:buyerId/:kind', readRaw, (req, res, next) => {
    handleBuyer(state, req, res).catch(next);
  });
  app.use((req: Request, res: Response) => {
    res.status(404).json({ status: 'error', reason: `no route for ${req.method} ${req.path}` });
  });
  app.use(errorHandler);
  return { app, state };
}

async function handleBuyer(state: MarketplaceState, req: Request, res: Response): Promise<void> {
  const receivedAt = state.now();
  const buyerId = String(req.params['buyerId']);
  const kind = req.params['kind'];
  if (kind !== 'ping' && kind !== 'post') {
    res.status(404).json({ status: 'error', reason: `no route for ${req.method} ${req.path}` });
    return;
  }
  const headers = lowerCaseHeaders(req.headers);
  const body = typeof req.body === 'string' ? req.body : '';
  const seq = state.nextSeq();
  const base = { seq, buyerId, kind, method: req.method, path: req.path, at: new Date(receivedAt).toISOString(), headers, body } as const;
  const buyer = state.buyer(buyerId);
  if (!buyer) {
    state.record({ ...base, status: 404, replayed: false, latencyMs: 0 });
    res.status(404).json({ status: 'error', reason: `no buyer ${buyerId}` });
    return;
  }
  const decision = decide(state, buyer, { kind, headers, body, now: receivedAt, requestId: `mkt-${seq}` });
  if (decision.type !== 'reply') {
    state.record({ ...base, status: null, replayed: false, latencyMs: 0 });
    // A hung request is left open until the client gives up or the server closes.
    if (decision.type === 'close') req.socket.destroy();
    return;
  }
  const latency = kind === 'ping' && buyer.behaviour.pingLatency ? buyer.behaviour.pingLatency : buyer.behaviour.latency;
  const latencyMs = drawLatency(latency, kind === 'ping' ? buyer.pingRandom : buyer.random);
  state.record({ ...base, status: decision.reply.status, replayed: decision.replayed, latencyMs });
  if (latencyMs > 0) {
    // The wait ends early when the client goes away (a timed-out ping) or the server closes.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      await sleep(latencyMs, undefined, { signal: gone.signal });
    } catch {
      return;
    }
  }
  res.status(decision.reply.status).set(decision.reply.headers).send(Buffer.from(decision.reply.body, 'utf8'));
}

function lowerCaseHeaders(headers: Request['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function startMarketplace(opts: MarketplaceOptions = {}): Promise<RunningMarketplace> {
  const { port = 0, host = '127.0.0.1', ...rest } = opts;
  const { app, state } = createMarketplaceApp(rest);
  const served = await serve(app, port, host);
  return {
    ...served,
    requests: (filter) => state.requests(filter),
    clearRequests: () => state.clearRequests(),
    setBehaviour: (buyerId, patch) => state.setBehaviour(buyerId, patch),
    behaviour: (buyerId) => state.behaviour(buyerId),
    buyers: () => state.buyers(),
    sales: (filter) => state.sales(filter),
    reset: () => state.reset(),
  };
}



// -------------------------------------------------------------------------------- control routes

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function controlRouter(state: MarketplaceState): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/requests', (req, res) => {
    res.json({ requests: state.requests(requestFilter(req.query)) });
  });
  router.delete('/requests', (_req, res) => {
    state.clearRequests();
    res.status(204).end();
  });
  router.get('/sales', (req, res) => {
    const buyerId = typeof req.query['buyerId'] === 'string' ? req.query['buyerId'] : undefined;
    res.json({ sales: state.sales(buyerId !== undefined ? { buyerId } : {}) });
  });
  router.get('/buyers', (_req, res) => {
    res.json({ buyers: state.buyers() });
  });
  router.get('/buyers/:buyerId', (req, res) => {
    const behaviour = state.behaviour(req.params.buyerId);
    if (!behaviour) throw new ControlError(404, `no buyer ${req.params.buyerId}`);
    res.json(behaviour);
  });
  router.put('/buyers/:buyerId/behaviour', (req, res) => {
    const patch: unknown = req.body;
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ControlError(400, 'body: must be a JSON object of behaviour fields');
    res.json(state.setBehaviour(req.params.buyerId, patch as MarketplaceBehaviourPatch));
  });
  router.post('/reset', (_req, res) => {
    state.reset();
    res.status(204).end();
  });
  return router;
}

function requestFilter(query: Request['query']): MarketplaceRequestFilter {
  const filter: MarketplaceRequestFilter = {};
  const { buyerId, kind, since } = query;
  if (typeof buyerId === 'string' && buyerId !== '') filter.buyerId = buyerId;
  if (kind !== undefined) {
    if (kind !== 'ping' && kind !== 'post') throw new ControlError(400, 'kind: must be ping or post');
    filter.kind = kind;
  }
  if (since !== undefined) {
    const n = Number(since);
    if (typeof since !== 'string' || since === '' || !Number.isInteger(n) || n < 0) throw new ControlError(400, 'since: must be a seq (a whole number)');
    filter.since = n;
  }
  return filter;
}

function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err instanceof ControlError) {
    res.status(err.status).json({ status: 'error', reason: err.message });
    return;
  }
  if (err instanceof z.ZodError) {
    res.status(400).json({ status: 'error', reason: err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    return;
  }
  const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  res.status(status).json({ status: 'error', reason: err instanceof Error ? err.message : String(err) });
}

// --------------------------------------------------------------------------------- remote control

/** Drives a marketplace in another process through its control API. */
export function marketplaceClient(baseUrl: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(new URL(path, baseUrl), {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`marketplace ${method} ${path}: ${res.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  return {
    requests: async (filter: MarketplaceRequestFilter = {}): Promise<MarketplaceRequest[]> => {
      const query = new URLSearchParams(Object.entries(filter).map(([k, v]): [string, string] => [k, String(v)]));
      return ((await call('GET', `/_marketplace/requests?${query}`)) as { requests: MarketplaceRequest[] }).requests;
    },
    clearRequests: async (): Promise<void> => void (await call('DELETE', '/_marketplace/requests')),
    setBehaviour: async (buyerId: string, patch: MarketplaceBehaviourPatch): Promise<MarketplaceBuyerBehaviour> =>
      (await call('PUT', `/_marketplace/buyers/${encodeURIComponent(buyerId)}/behaviour`, patch)) as MarketplaceBuyerBehaviour,
    buyers: async (): Promise<MarketplaceBuyerBehaviour[]> => ((await call('GET', '/_marketplace/buyers')) as { buyers: MarketplaceBuyerBehaviour[] }).buyers,
    sales: async (): Promise<MarketplaceSale[]> => ((await call('GET', '/_marketplace/sales')) as { sales: MarketplaceSale[] }).sales,
    reset: async (): Promise<void> => void (await call('POST', '/_marketplace/reset')),
  };
}
