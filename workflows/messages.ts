import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ClaimRequest, ClaimResult, LeadState, PoolStats, ReassignRequest } from '../src/domain/leadState';

/** Manual reassignment of a lead: new owner, reason and actor, recorded in history. */
export const reassignSignal = defineSignal<[ReassignRequest]>('reassign');
/** The lead's current state, decision and timings. */
export const leadStateQuery = defineQuery<LeadState>('leadState');

/** Serialized claim of the next owner from a pool; idempotent by lead ID. */
export const claimUpdate = defineUpdate<ClaimResult, [ClaimRequest]>('claim');
export const poolStatsQuery = defineQuery<PoolStats>('poolStats');
