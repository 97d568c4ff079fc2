import type { Client } from '@temporalio/client';
import type { BusinessClock } from '../clock';
import type { Connectors } from '../connectors/registry';
import type { TenantRegistry } from '../tenants/registry';

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
  health: () => Promise<HealthReport>;
  /** The worker's connectors (connection state, metrics); absent in an API-only process. */
  connectors?: Connectors;
  onError: (err: unknown) => void;
  /** What time it is for routing (default the process's business clock; see src/clock.ts). */
  clock?: BusinessClock;
}

export function runUrl(ctx: ApiContext, workflowId: string): string | null {
  return ctx.webUiUrl ? `${ctx.webUiUrl}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}` : null;
}
