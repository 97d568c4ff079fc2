import { clockFields, clockFromEnv, REAL_TIME, simulatedClock } from '../../src/clock';

describe('the business clock', () => {
  it('is real time unless a simulation asks for another instant', () => {
    expect(clockFromEnv({})).toBe(REAL_TIME);
    expect(clockFields(REAL_TIME)).toEqual({});
  });

  it('reads the simulated instant at start and runs on at real speed', () => {
    const realStart = Date.parse('2026-11-30T06:00:00Z');
    const clock = simulatedClock('2027-03-14T06:59:00Z', realStart);
    expect(clock.offsetMs).toBe(Date.parse('2027-03-14T06:59:00Z') - realStart);
    const before = Date.now();
    const read = clock.now();
    expect(read - clock.offsetMs).toBeGreaterThanOrEqual(before);
    expect(clockFields(clock)).toEqual({ clockOffsetMs: clock.offsetMs });
  });

  it('takes LEADRELAY_SIMULATED_NOW from the environment and refuses what is not an instant', () => {
    const clock = clockFromEnv({ LEADRELAY_SIMULATED_NOW: '2026-12-31T23:58:00Z' });
    expect(Math.abs(clock.now() - Date.parse('2026-12-31T23:58:00Z'))).toBeLessThan(60_000);
    expect(() => clockFromEnv({ LEADRELAY_SIMULATED_NOW: 'next tuesday' })).toThrow(/LEADRELAY_SIMULATED_NOW/);
  });
});
