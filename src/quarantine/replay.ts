import { ApiError } from '../api/errors';
import type { DiscardRequest, QuarantineIssue, QuarantineState, ReplayedRequest } from './model';

/** What a mapping of the kept event gives (mapSourceEvent's answer). */
export type MappingResult<Lead> = { ok: true; lead: Lead } | { ok: false; reason: string; issues: QuarantineIssue[] };

/** The steps of a replay, each a call to Temporal or the sources module (injected, so tests can give their own). */
export interface ReplaySteps<Lead> {
  /** The quarantine's state now (404 when the tenant has no such quarantine). */
  read(): Promise<QuarantineState>;
  /** Maps the kept event again with the source's current mapping stack. */
  map(state: QuarantineState): Promise<MappingResult<Lead>>;
  /** Starts the lead, or finds it: idempotent by the source's event ID. */
  start(state: QuarantineState, lead: Lead): Promise<{ leadId: string }>;
  /** Tells the quarantine workflow which lead the replay started (the Update `replayed`). */
  record(request: ReplayedRequest): Promise<QuarantineState>;
}

export type ReplayOutcome =
  | { ok: true; leadId: string; actor: string; at: string; alreadyReplayed: boolean }
  | { ok: false; reason: string; issues: QuarantineIssue[] };

export function notReplayable(state: QuarantineState): ApiError {
  const what =
    state.status === 'discarded'
      ? `was discarded by ${state.discard?.actor ?? 'someone'} at ${state.discard?.at ?? '?'}`
      : `expired at ${state.expiredAt ?? state.expiresAt} without a replay`;
  return new ApiError(409, 'conflict', `Quarantined event ${state.quarantineId} ${what}: it cannot be replayed`, { status: state.status });
}

function replayedAnswer(state: QuarantineState, alreadyReplayed: boolean): ReplayOutcome {
  const replay = state.replay!;
  return { ok: true, leadId: replay.leadId, actor: replay.actor, at: replay.at, alreadyReplayed };
}

/**
 * Replays a quarantined event: maps it with the current mapping stack and, when it now passes,
 * starts the lead and records it in the quarantine, which then completes. Idempotent: a payload
 * already replayed answers its lead; two replays racing both start (or find) the same lead,
 * since its idempotency key is the source's event ID, and both record that same lead. A crash
 * between the start and the record leaves the quarantine held, and the next replay finds the lead.
 */
export async function replayQuarantined<Lead>(steps: ReplaySteps<Lead>, actor: string): Promise<ReplayOutcome> {
  const state = await steps.read();
  if (state.status === 'replayed') return replayedAnswer(state, true);
  if (state.status !== 'held') throw notReplayable(state);

  const mapped = await steps.map(state);
  if (!mapped.ok) return { ok: false, reason: mapped.reason, issues: mapped.issues };

  const { leadId } = await steps.start(state, mapped.lead);
  let recorded: QuarantineState;
  try {
    recorded = await steps.record({ leadId, actor });
  } catch (err) {
    // Refused (another replay or a discard got there first) or the run closed in between: as it stands now.
    const now = await steps.read();
    if (now.status === 'replayed' && now.replay?.leadId === leadId) return replayedAnswer(now, true);
    if (now.status !== 'held' && now.status !== 'replayed') throw notReplayable(now);
    throw err;
  }
  return replayedAnswer(recorded, false);
}

/** The steps of a discard. */
export interface DiscardSteps {
  read(): Promise<QuarantineState>;
  record(request: DiscardRequest): Promise<QuarantineState>;
}

/**
 * Discards a held payload, recording who and why; the quarantine then completes and the payload
 * leaves with retention. A payload already discarded answers as it is (the first discard stands);
 * one replayed or expired cannot be discarded (409).
 */
export async function discardQuarantined(steps: DiscardSteps, request: DiscardRequest): Promise<QuarantineState> {
  const refuse = (state: QuarantineState) =>
    new ApiError(
      409,
      'conflict',
      state.status === 'replayed'
        ? `Quarantined event ${state.quarantineId} was already replayed as lead ${state.replay?.leadId ?? '?'}: there is nothing to discard`
        : `Quarantined event ${state.quarantineId} expired at ${state.expiredAt ?? state.expiresAt}: there is nothing to discard`,
      { status: state.status },
    );
  const state = await steps.read();
  if (state.status === 'discarded') return state;
  if (state.status !== 'held') throw refuse(state);
  try {
    return await steps.record(request);
  } catch (err) {
    const now = await steps.read();
    if (now.status === 'discarded') return now;
    if (now.status !== 'held') throw refuse(now);
    throw err;
  }
}
