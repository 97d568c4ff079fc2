/**
 * Seed data for the local emulators. One workspace is one customer's set of upstream systems
 * (their CRM, HRIS, calendar, messaging and enrichment accounts), reached with one bearer token.
 */
export interface SandboxAccount {
  id: string;
  name: string;
  /** Registered domains of the account (e.g. ["acme.com"]). */
  domains: string[];
  website?: string;
  ownerId: string;
  industry?: string;
  country?: string;
  /** Custom CRM fields by their API names (Salesforce `Territory__c`, HubSpot `abm_tier`). */
  custom?: Record<string, string | number | boolean | null>;
}

export interface SandboxUser {
  /** CRM user ID (what a CRM `owner_id` refers to). */
  id: string;
  email: string;
  name: string;
}

export interface SandboxTimeOff {
  /** ISO 8601 instants, end exclusive. */
  start: string;
  end: string;
  type: 'PTO' | 'SICK' | 'HOLIDAY' | 'OTHER';
}

export interface SandboxEmployee {
  id: string;
  email: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE' | 'TERMINATED';
  /** IANA time zone. */
  timezone: string;
  managerId?: string;
  timeOff: SandboxTimeOff[];
  /**
   * The hours the employee keeps in their calendar (Outlook's working hours), in `timezone`:
   * ISO weekdays (1 = Monday) and "HH:MM". None: their calendar states none, and the tenant's
   * configured hours apply. Scenario data, like leave and meetings: emulators assume no hours.
   */
  workingHours?: { days: number[]; start: string; end: string };
  /**
   * Requests under working-type policies (work from home, business travel; ISO instants, end
   * exclusive): the employee works, so this is not time off. Only HRIS emulators that list such
   * requests (HiBob's who's out) show them.
   */
  workingRequests?: Array<{ start: string; end: string; type: 'WORK_FROM_HOME' | 'BUSINESS_TRAVEL' }>;
}

export interface SandboxBusyBlock {
  email: string;
  /** ISO 8601 instants. */
  start: string;
  end: string;
}

export interface SandboxCompany {
  domain: string;
  name: string;
  industry: string;
  sector: string;
  country: string;
  countryCode: string;
  state?: string;
  employees: number;
  employeesRange: string;
  annualRevenue?: number;
}

export interface SandboxWorkspace {
  /** The `integrated_account_id` this workspace answers to. */
  id: string;
  /** Bearer token accepted by every emulated system of this workspace. */
  token: string;
  accounts: SandboxAccount[];
  users: SandboxUser[];
  employees: SandboxEmployee[];
  busy: SandboxBusyBlock[];
  companies: SandboxCompany[];
  /**
   * Requests allowed per rate-limit window (default 1000) and the window's length (default 60 s);
   * `dailyBudget` is a daily allowance for providers that keep one (Pipedrive's API tokens).
   */
  rateLimit?: { limit: number; windowSeconds: number; dailyBudget?: number };
  /**
   * The OAuth client this workspace's OAuth providers (Salesforce, HubSpot, Google, Microsoft)
   * accept at their token endpoints. Default: client ID = workspace ID, client secret and
   * refresh token = the workspace token; access tokens live an hour.
   */
  oauth?: { clientId: string; clientSecret: string; refreshToken: string; accessTokenTtlSeconds?: number };
}

export type SandboxSystem = 'crm' | 'hris' | 'calendar' | 'messaging' | 'enrichment' | 'auth' | 'ads';

/** One request an emulated upstream received, as `GET /_sandbox/events` reports it. */
export interface SandboxEvent {
  seq: number;
  system: SandboxSystem;
  /** The emulated provider (`unified`, `salesforce`, `salesforce-oauth`, ...). */
  provider: string;
  workspace: string | null;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: { idempotencyKey?: string };
  body: unknown;
  status: number;
  /** True when an Idempotency-Key replay returned a stored response and changed nothing. */
  replayed: boolean;
  /** Epoch milliseconds when the request arrived. */
  receivedAt: number;
  at: string;
  latencyMs: number;
  /** Set when the answer was the provider's limit answer: the exhausted window and the seconds until it resets. */
  rateLimited?: { window: string; resetSeconds: number };
}

/** A fault injected with `POST /_sandbox/faults`: the next `times` matching requests get it. */
export interface SandboxFault {
  system?: SandboxSystem;
  provider?: string;
  method?: string;
  pathPrefix?: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  times: number;
}

export interface SandboxLatency {
  /** Added before answering, per system: base + uniform jitter in [0, jitterMs). */
  [system: string]: { baseMs: number; jitterMs: number };
}
