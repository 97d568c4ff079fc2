import { z } from 'zod';
import { parseOrThrow } from './tenants/registry';

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((v) => v === 'on' || v === 'true' || v === '1');

/** Every setting the product reads from the environment, parsed once at start-up. */
export const EnvSchema = z.object({
  /** `embedded` spawns the Temporal CLI dev server; `external` connects to TEMPORAL_ADDRESS. */
  LEADRELAY_TEMPORAL: z.enum(['embedded', 'external']).default('embedded'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  LEADRELAY_TASK_QUEUE: z.string().default('leadrelay'),
  LEADRELAY_DATA_DIR: z.string().default('.data'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Largest accepted request body. */
  API_BODY_LIMIT: z.string().default('64kb'),
  LEADRELAY_SANDBOX: flag.default(true),
  /** Buyer endpoints may name loopback and private addresses (always on with the sandbox). */
  LEADRELAY_ALLOW_PRIVATE_BUYER_URLS: flag.default(false),
  /**
   * The reverse proxies in front of the API, as Express's `trust proxy` takes them: a number of
   * hops, or addresses and subnets (`loopback`, `10.0.0.0/8`, comma-separated). Then the client's
   * address (sign-in limits) and https (the session cookie's Secure flag) come from X-Forwarded-*
   * headers those proxies set. Unset: no proxy is trusted and the headers are ignored.
   */
  LEADRELAY_TRUST_PROXY: z
    .string()
    .trim()
    .regex(/^(\d{1,2}|[0-9A-Za-z.:/]+(\s*,\s*[0-9A-Za-z.:/]+)*)$/, 'must be a hop count or comma-separated addresses, subnets or loopback/linklocal/uniquelocal')
    .refine((v) => !/^(true|false)$/i.test(v), 'name the proxies (a hop count or addresses): true would trust any client to say where it is')
    .optional(),
  SANDBOX_PORT: port.default(4010),
  /** The sandbox marketplace: emulated lead buyers of the demo tenant's distribution catalog. */
  SANDBOX_MARKETPLACE_PORT: port.default(4011),
  /**
   * Which sandbox tenant the start-up banner's examples use: `unified` (the unified API),
   * `salesforce` (Salesforce + BambooHR + Google Calendar + Slack), `hubspot` (HubSpot + Okta +
   * Microsoft Graph + Teams) or `pipedrive` (Pipedrive + HiBob + Google + signed webhook). All
   * four run side by side; each answers to its own API key.
   */
  SANDBOX_TENANT: z.enum(['unified', 'salesforce', 'hubspot', 'pipedrive']).default('unified'),
  /** Emulated upstream latency (ms) per request, with as much jitter again at most. */
  SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(40),
  /** JSON file of tenants (see README); served beside the sandbox tenants when both are on. */
  LEADRELAY_TENANTS_FILE: z.string().optional(),
  /** JSON file of environment-level mapping overrides per provider ID. */
  LEADRELAY_MAPPING_OVERRIDES: z.string().optional(),
  /** JSON file of environment-level buyer request templates, template ID → JSONata. */
  LEADRELAY_DISTRIBUTION_TEMPLATES: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Browser origins besides the dev server's Web UI allowed to call the codec server (comma-separated), e.g. an external Temporal UI. */
  LEADRELAY_CODEC_CORS_ORIGINS: z.string().optional(),
  /**
   * Days Temporal keeps a closed run (its history, with the lead's data, and its visibility
   * record) before deleting it: set on the namespace at every start (src/temporal/retention.ts).
   */
  LEADRELAY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Days a quarantined source payload is held for a replay or a discard before it expires. */
  LEADRELAY_QUARANTINE_HOLD_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /**
   * A worker process's own GET /metrics (`serveMetrics`, src/metrics/server.ts) on this port, for a
   * worker that runs without the API; unset: off (the API's /metrics serves them in `npm start`).
   */
  LEADRELAY_METRICS_PORT: port.optional(),
  /** host:port of the Temporal SDK's own Prometheus metrics (the worker's Runtime); unset: off. */
  LEADRELAY_SDK_METRICS_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[0-9A-Za-z.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464')
    .optional(),
  /** Seconds between reads of the task queues' backlog for the metrics; 0: off. */
  LEADRELAY_BACKLOG_POLL_SECONDS: z.coerce.number().int().min(0).max(3600).default(15),
  /**
   * An OTLP/HTTP collector's base URL (`/v1/traces` is appended); OTEL_EXPORTER_OTLP_ENDPOINT
   * works too. Unset (both): no tracing at all (src/tracing/tracing.ts).
   */
  LEADRELAY_OTEL_ENDPOINT: z.url().optional(),
  /**
   * Simulation only (the sandbox, the tests' time sweep): the ISO 8601 instant business time
   * reads at start-up; routing then judges hours, leave, caps and SLAs as if it were then, while
   * Temporal keeps real time. Read by src/clock.ts; never set it in production.
   */
  LEADRELAY_SIMULATED_NOW: z.iso.datetime({ offset: true }).optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  return parseOrThrow(EnvSchema, source, 'environment');
}
