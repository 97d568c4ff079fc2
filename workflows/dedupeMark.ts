import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export interface DedupeMarkInput {
  /** The lead holding the mark (not the contact details: the workflow ID carries only a keyed hash). */
  leadId: string;
  /** How long the mark holds. */
  windowMs: number;
}

/** Lets the holder give a mark back (the buyer never got the lead after all). */
export const releaseMarkSignal = defineSignal<[{ leadId: string }]>('releaseMark');

/**
 * One person seen by one dedupe scope (a campaign, or one buyer) within its window. The workflow
 * ID is the scope and a keyed hash of the person's fields, so "seen?" is a start that fails while
 * one runs: atomic however many leads arrive at once, durable across restarts, and each mark is
 * a few events of its own, so no workflow grows with the volume (see README, "Dedupe at volume").
 */
export async function dedupeMark(input: DedupeMarkInput): Promise<void> {
  let released = false;
  setHandler(releaseMarkSignal, ({ leadId }) => {
    if (leadId === input.leadId) released = true;
  });
  await condition(() => released, input.windowMs);
}
