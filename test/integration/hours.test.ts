import { businessClock } from '../../src/clock';
import { localTime } from '../../src/domain/calendar';
import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario } from '../support/scenario';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Hours judged in each rep's own zone at business time. The expectations are built from the
 * instant the test runs at, so they hold at any hour and weekday: the time sweep runs this file
 * at other hours, on a weekend and across changes to and from summer time.
 */
const [ava, ben, , , mei] = DEMO_REPS;
const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7];
const now = businessClock.now();
/** Today's ISO weekday in the zone, and the next one if midnight is less than 15 minutes away: the lead is judged a little later. */
const todayIn = (timeZone: string) => [...new Set([now, now + 15 * 60_000].map((at) => localTime(at, timeZone).weekday))];

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack(
    demoScenario({
      allAvailable: true,
      members: [ava.id, ben.id, mei.id],
      teamHours: {
        // Ava works only on today's weekday in New York, Ben on every day but today's in Los Angeles.
        [ava.id]: { days: todayIn(ava.timezone), start: '00:00', end: '24:00' },
        [ben.id]: { days: ALL_DAYS.filter((d) => !todayIn(ben.timezone).includes(d)), start: '00:00', end: '24:00' },
      },
    }),
  );
});

afterAll(async () => {
  await t?.close();
});

describe('working days in the rep\'s own zone', () => {
  it('a rep whose days include today (in their zone) is eligible; one whose days leave it out is outside hours', async () => {
    const res = await t.request('POST', '/v1/leads', { email: 'robin@wayne-enterprises.example', firstName: 'Robin', source: 'form' });
    expect(res.status).toBe(202);
    const state = await t.routed((res.body as { leadId: string }).leadId);
    const candidate = (repId: string) => state.decision?.candidates.find((c) => c.repId === repId);
    expect(candidate(ava.id)).toMatchObject({ eligible: true, reasons: [], timezone: ava.timezone });
    expect(candidate(ben.id)).toMatchObject({ eligible: false, timezone: ben.timezone });
    expect(candidate(ben.id)?.reasons).toEqual([expect.objectContaining({ code: 'outside_hours', detail: expect.stringContaining(`in ${ben.timezone} is outside 00:00-24:00`) })]);
    expect(candidate(mei.id)).toMatchObject({ eligible: true });
    expect([ava.id, mei.id]).toContain(state.owner?.id);
  });
});
