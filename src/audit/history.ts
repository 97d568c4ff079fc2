import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { UpstreamFailureDetails } from '../connectors/failure';

/** Reading Temporal history events defensively: timestamps, payloads, enum names and failures. */

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type Payload = temporal.api.common.v1.IPayload;
export type Failure = temporal.api.failure.v1.IFailure;
export type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

export function tsMs(ts: Timestamp): number | null {
  if (!ts) return null;
  return Number(String(ts.seconds ?? 0)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export function decode(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

/** Proto enums arrive as numbers from the client (names from hand-made JSON): the few shown here, by name. */
export const RETRY_STATES = ['UNSPECIFIED', 'IN_PROGRESS', 'NON_RETRYABLE_FAILURE', 'TIMEOUT', 'MAXIMUM_ATTEMPTS_REACHED', 'RETRY_POLICY_NOT_SET', 'INTERNAL_SERVER_ERROR', 'CANCEL_REQUESTED'];
export const TIMEOUT_TYPES = ['UNSPECIFIED', 'START_TO_CLOSE', 'SCHEDULE_TO_START', 'SCHEDULE_TO_CLOSE', 'HEARTBEAT'];
/** Workflow task failures that are routine (a signal racing a completion, a sticky cache reset): UNHANDLED_COMMAND, RESET_STICKY_TASK_QUEUE, UNHANDLED_UPDATE. */
export const ROUTINE_TASK_FAILURES = new Set(['1', '13', '31', 'UNHANDLED_COMMAND', 'RESET_STICKY_TASK_QUEUE', 'UNHANDLED_UPDATE']);

export function enumName(value: unknown, names: string[], prefix: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return names[value] ?? String(value);
  return String(value).replace(prefix, '');
}

export const first = (payloads: { payloads?: Payload[] | null } | null | undefined): unknown => decode(payloads?.payloads?.[0]);
export const asObject = (v: unknown): Record<string, any> => (v && typeof v === 'object' ? (v as Record<string, any>) : {});
export const iso = (ms: number) => new Date(ms).toISOString();
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Type, message and upstream details of a failure, looking through wrappers to the application failure. */
export function describeFailure(failure: Failure | null | undefined): { type: string; message: string; details: UpstreamFailureDetails | null; nextRetryDelayMs: number | null; nonRetryable: boolean } {
  let f = failure ?? null;
  for (let depth = 0; f && !f.applicationFailureInfo && f.cause && depth < 5; depth++) f = f.cause;
  const app = f?.applicationFailureInfo;
  const timeout = failure?.timeoutFailureInfo;
  const type = app?.type ?? (timeout ? `Timeout:${enumName(timeout.timeoutType, TIMEOUT_TYPES, 'TIMEOUT_TYPE_') ?? 'UNSPECIFIED'}` : failure?.canceledFailureInfo ? 'Canceled' : 'Failure');
  const details = app ? (first(app.details) as UpstreamFailureDetails | undefined) : undefined;
  return {
    type,
    message: f?.message ?? failure?.message ?? '',
    details: details && typeof details === 'object' ? details : null,
    nextRetryDelayMs: app?.nextRetryDelay ? tsMs(app.nextRetryDelay) : null,
    nonRetryable: Boolean(app?.nonRetryable),
  };
}
