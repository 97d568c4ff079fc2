/**
 * The console's typed client of the public API (/v1): the cookie session from sign-in, the CSRF
 * token on every request that changes something, and one error type carrying the API's envelope.
 * Answers are typed with the domain's own types; nothing here is private to the console.
 */
import type { z } from 'zod';
import type {
  AvailabilityAnswerType,
  LeadRowType,
  LeadsListAnswerType,
  LeadsListQueryInput,
  PublishAnswer as PublishAnswerSchema,
  ReassignBodyInput,
  ReturnDecisionBody,
  RollbackBodyInput,
  SimulateBodyInput,
} from '../../api/contracts';
import type { AuditEntry, AuditTimeline } from '../../audit/types';
import type { LeadState } from '../../domain/leadState';
import type { PolicyTrace } from '../../domain/policy/engine';
import type { PolicyWarning } from '../../domain/policy/shadowing';
import type { EffectivePolicy, PolicyVersionSummary } from '../../domain/policy/store';
import type { Period, Policy, Strategy } from '../../domain/policy/types';
import type { PoolStats } from '../../domain/pools';
import type { AccountMatch, EnrichmentFacts } from '../../domain/routing';
import type { RateLimitState, UpstreamCallRecord } from '../../domain/upstream';
import type { AccountSnapshot } from '../../distribution/account';
import type { DocVersion } from '../../distribution/catalog';
import type { DistributionState } from '../../distribution/lead';
import type { Buyer } from '../../distribution/model';

// ---------------------------------------------------------------------------------------------
// Errors

export interface FieldIssue {
  field: string;
  message: string;
}

/** An answer other than 2xx: the API's `{ error: { code, message, details? } }`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[] = [],
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// ---------------------------------------------------------------------------------------------
// Session

export type Role = 'viewer' | 'ops' | 'admin';

export interface Session {
  user: { email: string; name: string; role: Role };
  tenant: { id: string; name: string; timezone: string };
  csrfToken: string;
}

export interface SignInRequest {
  email: string;
  password: string;
}

// ---------------------------------------------------------------------------------------------
// Leads

/** Filters of GET /v1/leads (all optional; `from`/`to` ISO instants; `email` exact). */
export type LeadListQuery = Omit<LeadsListQueryInput, 'limit'> & { limit?: number };

/** One row of the routing log: visibility's attributes plus what the lead's state says (null when it could not be read in time). */
export type LeadRow = LeadRowType;

export type LeadList = LeadsListAnswerType;

export type LeadDetail = LeadState & { workflowId: string; webUiUrl: string | null };

export interface LeadAudit {
  leadId: string;
  workflowId: string;
  timeline: AuditEntry[];
  durations: AuditTimeline['durations'];
}

/** The signed-in user is the actor: the console never sends one. */
export type ReassignRequest = Omit<ReassignBodyInput, 'actor'>;

export interface ReassignAnswer {
  leadId: string;
  requestId: string;
  ownerId: string;
  run: 'current' | 'follow-up' | 'none';
}

// ---------------------------------------------------------------------------------------------
// Policy

export type PublishedPolicy = EffectivePolicy & { publishedAt: string | null; actor: string | null };

export type PolicyVersionRow = Omit<PolicyVersionSummary, 'version'> & { version: string };

export interface PolicyVersionDetail {
  version: string;
  policy: Policy;
  publishedAt: string;
  actor: string;
  note: string | null;
}

export type PublishAnswer = z.infer<typeof PublishAnswerSchema>;

export type RollbackRequest = RollbackBodyInput;

/** A lead, and optionally a draft to try instead of the published policy (validated by the API as PUT would). */
export type SimulateRequest = SimulateBodyInput;

/** What POST /v1/policy/simulate answers (workflows/simulateLead.ts SimulateLeadResult). */
export interface SimulateAnswer {
  decision: PolicyTrace;
  wouldAssign: { ownerId: string; via: string } | { deferredUntil: string };
  enrichment: EnrichmentFacts;
  account: AccountMatch;
  upstream: UpstreamCallRecord[];
  warnings?: PolicyWarning[];
}

export type PoolStatsAnswer = { pool: string; strategy: Strategy; policyVersion: string } & PoolStats;

// ---------------------------------------------------------------------------------------------
// Availability

export type AvailabilityBoard = AvailabilityAnswerType;
export type RepAvailability = AvailabilityBoard['reps'][number];
export type AvailabilityState = RepAvailability['state'];

// ---------------------------------------------------------------------------------------------
// Connections (src/connectors/registry.ts ConnectionView; see test/unit/console-web-types.test.ts)

export type ConnectionCategory = 'crm' | 'hris' | 'calendar' | 'messaging' | 'enrichment';
export type Outcome = 'ok' | 'rate_limited' | 'transient' | 'auth' | 'not_found' | 'permanent';
export type AuthState = 'valid' | 'refreshing' | 'cooling_down' | 'needs_reauthorization' | 'unknown';

export interface ConnectionAuth {
  state: AuthState;
  expiresAt: string | null;
  lastRefreshAt: string | null;
  refreshes: number;
  failedRefreshes: number;
  lastError: string | null;
  coolingDownUntil: string | null;
  needsReauthorizationSince: string | null;
  instanceUrl: string | null;
}

export interface ConnectionHealthView {
  connectionId: string;
  provider: string;
  answers: Record<Outcome, number>;
  lastAnswer: { at: string; status: number; operation: string; outcome: Outcome } | null;
  rateLimit: (RateLimitState & { at: string }) | null;
  lastRateLimited: { at: string; status: number; operation: string; waitMs: number | null; reason: string } | null;
}

export interface ConnectionRow {
  tenantId: string;
  category: ConnectionCategory;
  id: string;
  provider: string;
  mapping: string;
  auth: ConnectionAuth | { state: 'static' };
  health: ConnectionHealthView | null;
}

export interface ReauthorizeAnswer {
  category: ConnectionCategory;
  provider: string;
  state: string;
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Buyers (distribution)

export interface CatalogView<D> {
  id: string;
  kind: DocVersion['kind'];
  version: number;
  updatedAt: string;
  actor: string;
  note: string | null;
  document: D;
}

export type BuyerView = CatalogView<Buyer>;
export type BuyerDetail = BuyerView & { account: (AccountSnapshot & { usage?: string }) | null };
export type DistributedLead = DistributionState & { workflowId: string; webUiUrl: string | null };
export type Sale = DistributionState['sales'][number];

export type ReturnDecisionRequest = z.input<typeof ReturnDecisionBody>;

// ---------------------------------------------------------------------------------------------
// Transport

type QueryValue = string | number | undefined | null;

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** Called when any request answers 401 (the session expired or was signed out elsewhere). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

function url(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A JSON body, or raw text with its content type. */
  json?: unknown;
  text?: { body: string; type: string };
  /** Don't hand a 401 to the sign-in handler (the sign-in and session probes themselves). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.text) {
    headers['Content-Type'] = options.text.type;
    body = options.text.body;
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The Leadrelay API did not answer. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    const envelope = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    const details = Array.isArray(envelope?.details) ? (envelope.details as FieldIssue[]).filter((d) => typeof d?.field === 'string') : [];
    const retryAfter = Number(res.headers.get('Retry-After'));
    const error = new ApiError(res.status, envelope?.code ?? `http_${res.status}`, envelope?.message ?? `${res.status} ${res.statusText}`, details, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
    if (res.status === 401 && !options.quiet401) {
      csrfToken = null;
      onUnauthorized?.();
    }
    throw error;
  }
  return parsed as T;
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// Endpoints

export const api = {
  async signIn(body: SignInRequest): Promise<Session> {
    const session = await request<Session>('POST', '/v1/session', { json: body, quiet401: true });
    csrfToken = session.csrfToken;
    return session;
  },
  /** The current session, or null when not signed in. */
  async session(): Promise<Session | null> {
    try {
      const session = await request<Session>('GET', '/v1/session', { quiet401: true });
      csrfToken = session.csrfToken;
      return session;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },
  async signOut(): Promise<void> {
    try {
      await request<void>('DELETE', '/v1/session', { quiet401: true });
    } finally {
      csrfToken = null;
    }
  },

  leads: (query: LeadListQuery, signal?: AbortSignal) => request<LeadList>('GET', '/v1/leads', { query: { ...query }, ...(signal ? { signal } : {}) }),
  lead: (leadId: string) => request<LeadDetail>('GET', `/v1/leads/${enc(leadId)}`),
  leadAudit: (leadId: string) => request<LeadAudit>('GET', `/v1/leads/${enc(leadId)}/audit`),
  reassign: (leadId: string, body: ReassignRequest) => request<ReassignAnswer>('POST', `/v1/leads/${enc(leadId)}/reassign`, { json: body }),
  accept: (leadId: string) => request<{ leadId: string; accepted: boolean }>('POST', `/v1/leads/${enc(leadId)}/accept`, { json: {} }),

  policy: () => request<PublishedPolicy>('GET', '/v1/policy'),
  policyVersions: () => request<{ versions: PolicyVersionRow[] }>('GET', '/v1/policy/versions'),
  policyVersion: (version: string) => request<PolicyVersionDetail>('GET', `/v1/policy/versions/${enc(version)}`),
  publishPolicy: (text: string, format: 'yaml' | 'json', note: string) =>
    request<PublishAnswer>('PUT', '/v1/policy', { text: { body: text, type: format === 'yaml' ? 'application/yaml' : 'application/json' }, query: { note: note.trim() || undefined } }),
  rollbackPolicy: (body: RollbackRequest) => request<PublishAnswer>('POST', '/v1/policy/rollback', { json: body }),
  simulate: (body: SimulateRequest) => request<SimulateAnswer>('POST', '/v1/policy/simulate', { json: body }),
  poolStats: (pool: string, period: Period) => request<PoolStatsAnswer>('GET', `/v1/pools/${enc(pool)}/stats`, { query: { period } }),

  availability: () => request<AvailabilityBoard>('GET', '/v1/availability'),

  connections: () => request<{ connections: ConnectionRow[] }>('GET', '/v1/connections'),
  reauthorize: (category: ConnectionCategory) => request<ReauthorizeAnswer>('POST', `/v1/connections/${enc(category)}/reauthorize`, { json: {} }),

  buyers: () => request<{ buyers: BuyerView[] }>('GET', '/v1/buyers'),
  buyer: (id: string) => request<BuyerDetail>('GET', `/v1/buyers/${enc(id)}`),
  pauseBuyer: (id: string, reason: string) => request<BuyerView>('POST', `/v1/buyers/${enc(id)}/pause`, { json: reason.trim() ? { reason: reason.trim() } : {} }),
  resumeBuyer: (id: string, reason: string) => request<BuyerView>('POST', `/v1/buyers/${enc(id)}/resume`, { json: reason.trim() ? { reason: reason.trim() } : {} }),
  distributedLead: (leadId: string) => request<DistributedLead>('GET', `/v1/leads/${enc(leadId)}`),
  decideReturn: (leadId: string, buyerId: string, body: ReturnDecisionRequest) => request<Sale>('POST', `/v1/leads/${enc(leadId)}/returns/${enc(buyerId)}/decision`, { json: body }),
};

/** For a 403: the API's own sentence ("Your role (viewer) cannot …"), else a generic one. */
export function forbiddenMessage(err: ApiError): string {
  return /^your role/i.test(err.message) ? err.message : `Your role cannot do this: ${err.message}`;
}

/** An error as one sentence for people. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return forbiddenMessage(err);
    if (err.status === 429) return `Too many attempts. ${err.retryAfterSeconds ? `Try again in ${Math.ceil(err.retryAfterSeconds / 60)} min.` : 'Try again later.'}`;
    if (err.status === 503) return `The routing engine is not answering right now (${err.message}). Try again in a moment.`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
