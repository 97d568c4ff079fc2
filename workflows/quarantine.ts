import { allHandlersFinished, condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import {
  applyDiscard,
  applyExpiry,
  applyReplayed,
  discardRefusal,
  discardUpdate,
  initialState,
  outcomeOf,
  quarantineStateQuery,
  replayedUpdate,
  replayRefusal,
  type QuarantineInput,
  type QuarantineOutcome,
} from '../src/quarantine/model';
import { QuarantineStatus } from '../src/temporal/searchAttributes';

/**
 * One source payload that failed its mapping or the lead schema (see src/quarantine). The payload
 * is this workflow's input, so Temporal keeps it (encrypted by the payload codec) for as long as
 * the workflow runs and then for the namespace's retention. It waits, on one durable timer, for
 * the API to report a replay (the lead it started) or for a person to discard it; neither within
 * `holdMs` and it completes as `expired`. Each outcome is final: the payload then leaves with the
 * closed run when retention (or an erasure) deletes it.
 */
export async function quarantine(input: QuarantineInput): Promise<QuarantineOutcome> {
  const state = initialState(input, Date.now());

  setHandler(quarantineStateQuery, () => state);
  setHandler(replayedUpdate, (req) => applyReplayed(state, req, Date.now()), {
    validator: (req) => {
      const refusal = replayRefusal(state, req);
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(discardUpdate, (req) => applyDiscard(state, req, Date.now()), {
    validator: (req) => {
      const refusal = discardRefusal(state, req);
      if (refusal) throw new Error(refusal);
    },
  });

  const resolved = await condition(() => state.status !== 'held', input.holdMs);
  if (!resolved) applyExpiry(state, Date.now());
  upsertSearchAttributes([{ key: QuarantineStatus, value: state.status }]);
  await condition(allHandlersFinished);
  return outcomeOf(state);
}
