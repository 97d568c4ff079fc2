import type { EffectivePolicy } from './policy/store';
/**
 * Types shared by the routing configuration, the facts gathered from upstreams, and the pure
 * decision. No runtime dependencies: workflow code imports this.
 */

/** A rep's working week in their own time zone. `days` are ISO weekdays (1 = Monday … 7 = Sunday). */
export interface WorkingHours {
  days: number[];
  /** "HH:MM", inclusive. */
  start: string;
  /** "HH:MM", exclusive; "24:00" means end of day. */
  end: string;
}

export interface TeamMember {
  /** The rep's CRM user ID: what an assignment writes as the owner. */
  id: string;
  name: string;
  /** Work email: the key into the HRIS, the calendar and direct messages. */
  email: string;
  /** IANA time zone used when the HRIS does not give one. */
  timezone: string;
  workingHours: WorkingHours;
  /** The rep's manager (CRM user ID), for policies that escalate to the manager. */
  managerId?: string | undefined;
}

/** The non-secret part of a tenant's routing setup, loaded per lead so its version is in history. */
export interface RoutingConfig {
  tenantId: string;
  /** Content hash of this configuration: which version a lead was routed with. */
  version: string;
  team: TeamMember[];
  pool: { id: string; members: string[] };
  /** Where a lead goes when nobody else can take it: never nowhere. */
  fallback: { ownerId: string; label: string; notifyChannel: string | null };
  /** How long the run stays open after routing for manual reassignment, in seconds. */
  holdOpenSeconds: number;
  /** IANA time zone of the tenant. */
  timezone: string;
  /** Most seconds enrichment may take before routing goes on without it. */
  enrichmentBudgetSeconds: number;
  /**
   * Which provider and effective mapping each connection used (`provider@digest`), with the
   * environment and tenant overrides verbatim: the answer to "which mapping read this lead?".
   */
  connections?: Record<string, ConnectionSummary>;
}

export interface ConnectionSummary {
  provider: string;
  mapping: string;
  layers: string[];
  /** The overrides above the platform default (environment, then tenant), as configured. */
  overrides: Array<{ layer: string; override: Record<string, unknown> }>;
}

export interface Interval {
  /** ISO 8601 instants; `end` exclusive. */
  start: string;
  end: string;
}

export interface TimeOff extends Interval {
  type: string;
}

export interface EmployeeRecord {
  email: string;
  employmentStatus: 'ACTIVE' | 'INACTIVE' | 'TERMINATED';
  timezone: string | null;
  timeOff: TimeOff[];
}

/** What the HRIS said about the team: a lookup that failed is a fact too, not an empty list. */
export type HrisFacts =
  | { status: 'ok'; employees: EmployeeRecord[] }
  | { status: 'unavailable'; reason: string };

/** One rep's calendar: busy blocks, the working hours it states (Graph), or why it could not be read. */
export interface CalendarRecord {
  email: string;
  busy: Interval[];
  workingHours?: (WorkingHours & { timezone: string }) | null | undefined;
  error?: string | undefined;
}

export type CalendarFacts =
  | { status: 'ok'; calendars: CalendarRecord[] }
  | { status: 'unavailable'; reason: string };

export interface Account {
  id: string;
  name: string;
  ownerId: string;
  domains: string[];
  website: string | null;
}

export type AccountMatch =
  | { status: 'matched'; account: Account; matchedDomain: string; otherMatches: string[] }
  | { status: 'none'; domains: string[] }
  | { status: 'unavailable'; reason: string };

export type EnrichmentFacts =
  | {
      status: 'found';
      company: {
        name: string | null;
        domain: string;
        industry: string | null;
        sector: string | null;
        country: string | null;
        countryCode: string | null;
        state: string | null;
        employees: number | null;
        employeesRange: string | null;
        annualRevenue: number | null;
      };
    }
  | { status: 'not_found' | 'skipped' | 'pending'; reason: string }
  | { status: 'unavailable'; reason: string };

export type SkipCode =
  | 'inactive'
  | 'on_leave'
  | 'busy'
  | 'outside_hours'
  | 'not_in_hris'
  | 'not_on_team'
  | 'paused'
  | 'cap_reached'
  | 'sla_lapsed';

export interface SkipReason {
  code: SkipCode;
  detail: string;
}

/** Why one rep could or could not take the lead, as the trace records it. */
export interface Eligibility {
  repId: string;
  name: string;
  eligible: boolean;
  reasons: SkipReason[];
  /** Facts that were assumed because an upstream could not answer. */
  assumptions: string[];
  /** The time zone the rep's hours were judged in (the HRIS's when it has one). */
  timezone?: string | undefined;
}

/** What a lead's run loads first: the tenant's routing settings and the policy version it routes with. */
export interface LoadedRoutingConfig {
  config: RoutingConfig;
  policy: EffectivePolicy;
  /** The worker's business-clock offset (see src/clock.ts), present only while time is simulated. */
  clockOffsetMs?: number;
}
