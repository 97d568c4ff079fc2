import { defineQuery, defineUpdate } from '@temporalio/workflow';

/*
 * Quarantine: a source payload that failed its mapping or the lead schema, kept durably by a
 * workflow of its own (workflows/quarantine.ts) until a person replays it after the mapping is
 * fixed, discards it, or its hold ends. Pure: the workflow imports it, and so does the API.
 */

/** Where a quarantined payload stands; also its `QuarantineStatus` search attribute. */
export const QUARANTINE_STATUSES = ['held', 'replayed', 'discarded', 'expired'] as const;
export type QuarantineStatusName = (typeof QUARANTINE_STATUSES)[number];

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a payload is held when nothing else is configured (LEADRELAY_QUARANTINE_HOLD_DAYS). */
export const DEFAULT_QUARANTINE_HOLD_MS = 30 * DAY_MS;
/** Bounds of the hold: at most a year; seconds only in tests (the environment setting counts in days). */
export const MIN_QUARANTINE_HOLD_MS = 1000;
export const MAX_QUARANTINE_HOLD_MS = 365 * DAY_MS;

export interface QuarantineIssue {
  /** A field path of the mapped lead (`email`) or of the payload; never a value. */
  field: string;
  message: string;
}

/** The workflow's input: the payload as received and why it failed. */
export interface QuarantineInput {
  quarantineId: string;
  tenantId: string;
  sourceId: string;
  kind: string;
  /** The provider's own event ID, null when it has none (the quarantine ID then hashes the event). */
  eventId: string | null;
  receivedAt: string;
  /** The event as the source received it (one event of a delivery, after any pass-through read). */
  event: unknown;
  reason: string;
  issues: QuarantineIssue[];
  /** How long the payload is held before it expires, in ms. */
  holdMs: number;
}

export interface ReplayedRequest {
  /** The lead the replay started (or found: a replay is idempotent by the source's event ID). */
  leadId: string;
  actor: string;
}

export interface DiscardRequest {
  actor: string;
  reason: string;
}

export interface QuarantineState {
  quarantineId: string;
  tenantId: string;
  sourceId: string;
  kind: string;
  eventId: string | null;
  receivedAt: string;
  reason: string;
  issues: QuarantineIssue[];
  status: QuarantineStatusName;
  /** When the hold ends if nobody acts: the workflow then completes as `expired`. */
  expiresAt: string;
  replay: { leadId: string; actor: string; at: string } | null;
  discard: { actor: string; reason: string; at: string } | null;
  expiredAt: string | null;
  event: unknown;
}

/** What the workflow returns when it completes: the outcome, without the payload. */
export type QuarantineOutcome = Pick<QuarantineState, 'quarantineId' | 'status' | 'replay' | 'discard' | 'expiredAt'>;

/** The payload, why it failed and what has been done with it (closed runs answer it too). */
export const quarantineStateQuery = defineQuery<QuarantineState>('quarantineState');
/** The API replayed the payload and started (or found) the lead: recorded, and the workflow completes. */
export const replayedUpdate = defineUpdate<QuarantineState, [ReplayedRequest]>('replayed');
/** A person discards the payload: who and why are recorded, and the workflow completes. */
export const discardUpdate = defineUpdate<QuarantineState, [DiscardRequest]>('discard');

export function initialState(input: QuarantineInput, nowMs: number): QuarantineState {
  return {
    quarantineId: input.quarantineId,
    tenantId: input.tenantId,
    sourceId: input.sourceId,
    kind: input.kind,
    eventId: input.eventId,
    receivedAt: input.receivedAt,
    reason: input.reason,
    issues: input.issues,
    status: 'held',
    expiresAt: new Date(nowMs + input.holdMs).toISOString(),
    replay: null,
    discard: null,
    expiredAt: null,
    event: input.event,
  };
}

/** Why the state cannot take a replay result, or null when it can (or already has this one). */
export function replayRefusal(state: QuarantineState, req: ReplayedRequest): string | null {
  if (!req.leadId || !req.actor) return 'a replay needs the lead ID and the actor';
  switch (state.status) {
    case 'held':
      return null;
    case 'replayed':
      return state.replay?.leadId === req.leadId ? null : `already replayed as lead ${state.replay?.leadId ?? '?'}`;
    case 'discarded':
      return `discarded by ${state.discard?.actor ?? '?'}`;
    case 'expired':
      return `expired at ${state.expiredAt ?? state.expiresAt}`;
  }
}

/** Why the state cannot be discarded, or null when it can (a second discard keeps the first). */
export function discardRefusal(state: QuarantineState, req: DiscardRequest): string | null {
  if (!req.actor || !req.reason) return 'a discard needs the actor and a reason';
  switch (state.status) {
    case 'held':
    case 'discarded':
      return null;
    case 'replayed':
      return `already replayed as lead ${state.replay?.leadId ?? '?'}`;
    case 'expired':
      return `expired at ${state.expiredAt ?? state.expiresAt}`;
  }
}

/** Records a replay result (after replayRefusal said null); the same result again changes nothing. */
export function applyReplayed(state: QuarantineState, req: ReplayedRequest, nowMs: number): QuarantineState {
  if (state.status === 'held') {
    state.status = 'replayed';
    state.replay = { leadId: req.leadId, actor: req.actor, at: new Date(nowMs).toISOString() };
  }
  return state;
}

/** Records a discard (after discardRefusal said null); a second discard keeps the first's actor and reason. */
export function applyDiscard(state: QuarantineState, req: DiscardRequest, nowMs: number): QuarantineState {
  if (state.status === 'held') {
    state.status = 'discarded';
    state.discard = { actor: req.actor, reason: req.reason, at: new Date(nowMs).toISOString() };
  }
  return state;
}

export function applyExpiry(state: QuarantineState, nowMs: number): QuarantineState {
  if (state.status === 'held') {
    state.status = 'expired';
    state.expiredAt = new Date(nowMs).toISOString();
  }
  return state;
}

export function outcomeOf(state: QuarantineState): QuarantineOutcome {
  return { quarantineId: state.quarantineId, status: state.status, replay: state.replay, discard: state.discard, expiredAt: state.expiredAt };
}
