/**
 * The business clock's offset as it travels: recorded with a run's config, sent with each
 * request to an entity that judges time (pools), and absent in real time so histories carry
 * nothing extra (see src/clock.ts). Pure, so workflows import it too.
 */
export interface ClockOffset {
  clockOffsetMs?: number;
}

/** The fields that carry `offsetMs`: none in real time. */
export function clockOffsetFields(offsetMs: number): ClockOffset {
  return offsetMs ? { clockOffsetMs: offsetMs } : {};
}

/** Business time for a request that may carry an offset, given the real (or workflow) time. */
export function businessTimeOf(carrier: ClockOffset | undefined, nowMs: number): number {
  return nowMs + (carrier?.clockOffsetMs ?? 0);
}
