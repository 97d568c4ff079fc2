/**
 * Routing policies as data. Types only (no runtime dependencies): workflow code imports these.
 * The zod schema in ./schema.ts validates the same shapes and publishes them as JSON Schema.
 */

/** A value a condition compares against. */
export type Scalar = string | number | boolean | null;

/**
 * A condition over the routing context (see `RoutingContext`), addressed by dotted field paths
 * such as `lead.country`, `enrichment.employees`, `account.tier` or `lead.attributes.plan`.
 */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  /** A named, reusable segment (territory) of the policy. */
  | { segment: string }
  | { field: string; equals: Scalar }
  | { field: string; in: Scalar[] }
  /** Substring for strings, membership for arrays. Case-insensitive for strings. */
  | { field: string; contains: string }
  | { field: string; regex: string; flags?: string }
  /** Numeric range; bounds are inclusive unless named `gt` / `lt`. */
  | { field: string; gt?: number; gte?: number; lt?: number; lte?: number }
  /** `exists: true` is "present and not null"; `exists: false` the opposite. */
  | { field: string; exists: boolean };

export type Urgency = 'hot' | 'normal' | 'low';

export type Action =
  /** The matched account's owner; when they are unavailable (or there is no match), `otherwise`. */
  | { type: 'account_owner'; otherwise: { pool: string } | { owner: string } | 'manager' | 'fallback' }
  | { type: 'pool'; pool: string }
  /** A named owner or queue (a CRM user ID), taken as is: no availability check. */
  | { type: 'owner'; ownerId: string };

export interface Rule {
  id: string;
  /** Human description, shown in traces. */
  name?: string;
  when: Condition;
  action: Action;
  urgency?: Urgency;
  /** When nobody is eligible now: wait for the earliest opening (true) or take the fallback (false, default). */
  defer?: boolean;
  /** Extra notification endpoints (messaging channel IDs) told about every lead this rule routes. */
  notify?: string[];
  /** Seconds the owner has to accept a lead this rule routes (default: the policy's SLA for its urgency). */
  slaSeconds?: number;
}

/** What happens when an owner lets a lead's SLA lapse. */
export interface EscalationPolicy {
  /** Seconds after the SLA lapses (and the owner is reminded) before the lead moves on (default: half the SLA). */
  graceSeconds?: number;
  /** How many times a lead moves to the next eligible rep before `then` (default 2). */
  maxEscalations?: number;
  /** After the last escalation: the lapsing owner's manager, or the fallback (default). */
  then?: 'manager' | 'fallback';
}

export type Strategy = 'round_robin' | 'weighted' | 'load_balanced';
export type Period = 'day' | 'week' | 'month';

export interface PoolMember {
  repId: string;
  /** Relative share for `weighted` (default 1). */
  weight?: number;
  /** Most leads per calendar period (in the policy's time zone). */
  caps?: Partial<Record<Period, number>>;
  /** Paused by an operator: never eligible. */
  paused?: boolean;
}

export interface PoolDefinition {
  id: string;
  strategy: Strategy;
  members: PoolMember[];
  /** The period `load_balanced` balances over and stats report on (default day). */
  period?: Period;
}

export interface Policy {
  /** The JSON Schema the document follows, for editors; the engine ignores it. */
  $schema?: string;
  /** IANA time zone for calendar periods (cap resets, stats). */
  timezone: string;
  segments?: Record<string, Condition>;
  pools: PoolDefinition[];
  /** Priority order: the first rule whose `when` matches decides. */
  rules: Rule[];
  /** Where a lead goes when no rule matches, or a rule can place it nowhere. Never nowhere. */
  fallback: { ownerId: string; label: string; notifyChannel?: string | null };
  /** Seconds to accept a lead, by urgency (defaults: hot 300, normal 3600, low 86400). */
  sla?: Partial<Record<Urgency, number>>;
  /** Count SLA time only inside the owner's working hours (default false: wall-clock time). */
  slaBusinessHours?: boolean;
  escalation?: EscalationPolicy;
  /**
   * Longest a lead of this urgency waits on a rate-limited or failing CRM or messaging upstream
   * before it takes its fallback path (defaults: hot 120, normal 600, low 3600).
   */
  maxWaitSeconds?: Partial<Record<Urgency, number>>;
}

export const DEFAULT_SLA_SECONDS: Record<Urgency, number> = { hot: 300, normal: 3600, low: 86_400 };
export const DEFAULT_MAX_WAIT_SECONDS: Record<Urgency, number> = { hot: 120, normal: 600, low: 3600 };

/** What conditions see. */
export interface RoutingContext {
  lead: Record<string, unknown>;
  enrichment: Record<string, unknown> | null;
  account: Record<string, unknown> | null;
}
