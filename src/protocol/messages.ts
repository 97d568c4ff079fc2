import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AcceptRequest, ClaimRequest, ClaimResult, LeadState, PoolPreview, PoolStatsRequest, ReassignRequest, TransferRequest } from '../domain/leadState';
import type { PoolCounts, PoolStats } from '../domain/pools';
import type { PolicyVersion, PolicyVersionSummary, PublishPolicyRequest } from '../domain/policy/store';

/** Manual reassignment of a lead: new owner, reason and actor, recorded in history. */
export const reassignSignal = defineSignal<[ReassignRequest]>('reassign');
/** The owner (or someone for them) accepts the lead: stops its SLA clock. */
export const acceptSignal = defineSignal<[AcceptRequest]>('accept');
/** The lead's current state, decision and timings. */
export const leadStateQuery = defineQuery<LeadState>('leadState');

/** Serialized claim of the next owner from a pool; idempotent by lead ID. */
export const claimUpdate = defineUpdate<ClaimResult, [ClaimRequest]>('claim');
/** Moves a lead's credit between members (manual reassignment); answers with whether it applied now. */
export const transferClaimUpdate = defineUpdate<boolean, [TransferRequest]>('transferClaim');
/** Assignments per member in a period against their target share. */
export const poolStatsQuery = defineQuery<PoolStats, [PoolStatsRequest]>('poolStats');
/** Who the pool would pick now, without claiming (policy simulation). */
export const poolPreviewQuery = defineQuery<PoolPreview, [Omit<ClaimRequest, 'leadId'>]>('poolPreview');
/**
 * The same two queries as the pool entity answers them. The Web UI's Queries tab and `temporal
 * workflow query` send no argument: then each answers with the pool's current counts instead of
 * failing. Callers with a request use the definitions above.
 */
export const poolQueriesAsAnswered = {
  stats: defineQuery<PoolStats | PoolCounts, [PoolStatsRequest?]>(poolStatsQuery.name),
  preview: defineQuery<PoolPreview | PoolCounts, [Omit<ClaimRequest, 'leadId'>?]>(poolPreviewQuery.name),
};

/** Publish a validated policy; answers with the version it became. */
export const publishPolicyUpdate = defineUpdate<PolicyVersion, [PublishPolicyRequest]>('publishPolicy');
/** The current version (no argument) or a given one; null when there is none. */
export const policyVersionQuery = defineQuery<PolicyVersion | null, [number?]>('policyVersion');
export const policyVersionsQuery = defineQuery<PolicyVersionSummary[]>('policyVersions');
