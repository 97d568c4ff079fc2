import type { Admission } from './admission';
import type { Client } from '@temporalio/client';
import type { BusinessClock } from '../clock';
import type { Connectors } from '../connectors/registry';
import type { TemporalReachability } from '../temporal/reachability';
import type { TenantRegistry } from '../tenants/registry';
import type { Sessions } from './session';
import type { TenantPayloadCodec } from '../temporal/codec';
import type { LeadMetrics } from '../metrics/leadMetrics';
import type { Tracing } from '../tracing/tracing';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

/** What the routes need, passed in explicitly (tests build it with real parts). */
export interface ApiContext {
  client: Client;
  tenants: TenantRegistry;
  taskQueue: string;
  namespace: string;
  /** Base URL of the Temporal Web UI, to link each lead's run; null when there is none. */
  webUiUrl: string | null;
  bodyLimit: string;
  /** Deadline of every Temporal call a request makes: the client gets an answer, not a hang. */
  temporalTimeoutMs: number;
  /**
   * Whether Temporal answers (shared with the health check): requests are answered 503 within
   * about two seconds while it does not (see temporalGuard). Default: a probe on `client`'s connection.
   */
  temporalReachability?: TemporalReachability;
  /** How long GET /healthz waits for `health` before it answers 503 (default 2000 ms). */
  healthTimeoutMs?: number;
  health: () => Promise<HealthReport>;
  /** The worker's connectors (connection state, metrics); absent in an API-only process. */
  connectors?: Connectors;
  /** The lead metrics the worker of this process records, served on GET /metrics beside the connections'. */
  leadMetrics?: LeadMetrics;
  /** OpenTelemetry tracing: a span per request, the context of the Temporal calls made for it. */
  tracing?: Tracing;
  onError: (err: unknown) => void;
  /** What time it is for routing (default the process's business clock; see src/clock.ts). */
  clock?: BusinessClock;
  /** Environment-level buyer request templates (ID → JSONata), under each tenant's: buyers are validated against the tenant's resolved set. */
  distributionTemplates?: Record<string, string>;
  /** Buyer endpoints may name loopback and private addresses (sandbox and tests only). */
  allowPrivateBuyerUrls?: boolean;
  /** Express's `trust proxy` for the reverse proxies in front of the API (LEADRELAY_TRUST_PROXY); none by default. */
  trustProxy?: number | string;
  /** Console sessions; absent without a session key, and then only API keys are accepted. */
  sessions?: Sessions;
  /** The payload codec, for the codec server (/codec/decode, /codec/encode); absent: those routes answer 404. */
  codec?: TenantPayloadCodec;
  /** Browser origins (Web UIs) allowed to call the codec server, besides `webUiUrl`'s. */
  codecCorsOrigins?: string[];
  /** How long a quarantined source payload is held before it expires (default 30 days; see src/quarantine). */
  quarantineHoldMs?: number;
  /** Pushes back (429) when a tenant has too much queued (see admission.ts); absent: every lead is admitted. */
  admission?: Admission;
  /**
   * A client on the worker's own connection, when this process runs the lead worker: leads start
   * with eager workflow start, their first workflow task handed straight to this worker.
   */
  eagerStartClient?: Client;
}

export function runUrl(ctx: ApiContext, workflowId: string): string | null {
  return ctx.webUiUrl ? `${ctx.webUiUrl}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}` : null;
}
