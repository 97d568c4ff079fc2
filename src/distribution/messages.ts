/**
 * Messages of the account entity (workflows/distributionAccount.ts): one per buyer and per
 * supplier. Every change is an Update (or a Signal) whose handler does not await, so changes apply
 * one at a time in history order and caps stay exact however many leads ask at once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AccountLimits,
  AccountSnapshot,
  AccountStats,
  BreakerTransition,
  EndpointBreaker,
  EndpointName,
  EndpointResult,
  ProbeRequest,
  ProbeResult,
  RefundRequest,
  RefundResult,
  ReserveRequest,
  ReserveResult,
  SettleRequest,
  SettleResult,
  StatsRequest,
  TallyRequest,
} from './account';
import type { BreakerSettings } from './model';

/** Hold a lead against caps and budget before posting; idempotent by lead. */
export const accountReserveUpdate = defineUpdate<ReserveResult, [ReserveRequest]>('accountReserve');
/** The buyer accepted: the reservation becomes a sale (final amount); counted once per lead. */
export const accountSettleUpdate = defineUpdate<SettleResult, [SettleRequest]>('accountSettle');
/** The post failed or was rejected: drop the reservation; answers whether one was held. */
export const accountReleaseUpdate = defineUpdate<boolean, [{ leadId: string }]>('accountRelease');
/** An approved return: cap and budget back if the sale's periods are current; revenue reversed. */
export const accountRefundUpdate = defineUpdate<RefundResult, [RefundRequest]>('accountRefund');
/** Ask to call an endpoint whose breaker is open or half-open (the probe goes to one lead at a time). */
export const accountProbeUpdate = defineUpdate<ProbeResult, [ProbeRequest]>('accountProbe');

/** What the entity answers to a batch of endpoint results: transitions they caused and the breakers now. */
export interface AccountResultsAnswer {
  transitions: BreakerTransition[];
  breakers: EndpointBreaker[];
}
/** Endpoint call results, when the caller wants the transitions back (the activities use this one). */
export const accountResultsUpdate = defineUpdate<AccountResultsAnswer, [EndpointResult[]]>('accountResults');
/** The same results, fire and forget. */
export const accountReportSignal = defineSignal<[EndpointResult[]]>('accountReport');
/** Statistics, fire and forget; each lead and key counts once. */
export const accountTallySignal = defineSignal<[TallyRequest[]]>('accountTally');

export interface AccountSnapshotRequest {
  atMs: number;
  limits: AccountLimits;
  breakers?: Partial<Record<EndpointName, BreakerSettings>>;
}
/** Without a request (Web UI, CLI): the snapshot at the latest request's instant and limits, with how to ask. */
export type AccountSnapshotAnswer = AccountSnapshot & { usage?: string };
export const accountSnapshotQuery = defineQuery<AccountSnapshotAnswer, [AccountSnapshotRequest?]>('accountSnapshot');
/** Statistics between two local dates (inclusive); without a request, every day kept. */
export const accountStatsQuery = defineQuery<AccountStats, [StatsRequest?]>('accountStats');
