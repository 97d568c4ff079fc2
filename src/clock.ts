import { clockOffsetFields, type ClockOffset } from './protocol/clock';

/**
 * Business time: the instant the engine judges working hours, time off, meetings, caps' periods
 * and SLA clocks at. It is the real time, plus an offset that only a simulation sets
 * (`LEADRELAY_SIMULATED_NOW`: the sandbox, the tests' time sweep), so routing can be run and
 * tested as if it were another hour, weekday or date while Temporal keeps real time.
 *
 * Infrastructure time (deadlines, timeouts, token expiry, rate-limit windows, signatures) stays
 * `Date.now()`: those are agreed with servers and clients that keep real time.
 */
export interface BusinessClock {
  /** Milliseconds added to the real time; 0 unless a simulation set it. */
  readonly offsetMs: number;
  now(): number;
}

export const REAL_TIME: BusinessClock = { offsetMs: 0, now: () => Date.now() };

/** A clock that reads `simulatedNow` now and runs on at real speed from there. */
export function simulatedClock(simulatedNow: string | number, realNow = Date.now()): BusinessClock {
  const at = typeof simulatedNow === 'number' ? simulatedNow : Date.parse(simulatedNow);
  if (!Number.isFinite(at)) throw new Error(`LEADRELAY_SIMULATED_NOW: not an ISO 8601 instant: ${String(simulatedNow)}`);
  const offsetMs = at - realNow;
  return { offsetMs, now: () => Date.now() + offsetMs };
}

/**
 * The process's business clock: real time, or the simulation `LEADRELAY_SIMULATED_NOW` asks for
 * (an ISO 8601 instant the clock reads when the process starts). Read once, so every part of one
 * process (API, worker, sandbox, tests) shares it.
 */
export function clockFromEnv(env: Record<string, string | undefined> = process.env): BusinessClock {
  const simulated = env['LEADRELAY_SIMULATED_NOW'];
  return simulated ? simulatedClock(simulated) : REAL_TIME;
}

export const businessClock: BusinessClock = clockFromEnv();

/** The offset for requests to entity workflows that judge time too (pools); nothing in real time. */
export function clockFields(clock: BusinessClock): ClockOffset {
  return clockOffsetFields(clock.offsetMs);
}
