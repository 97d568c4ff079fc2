import { kneeOf, type CurvePoint } from '../../bench/curve';
import { pushbackWaitMs } from '../../bench/poster';
import { waitsByLead, type LimitAnswer } from '../../bench/rateLimits';

const point = (offered: number, routedPerSecond: number, p99Ms: number, lostOrFailed = 0): CurvePoint => ({ offered, routedPerSecond, p99Ms, lostOrFailed });

describe('the knee of the overload curve', () => {
  it('is the highest rate before the first whose p99 exceeds twice the p99 at the lowest rate', () => {
    const knee = kneeOf([point(10, 9.9, 500), point(20, 19.8, 900), point(30, 29.5, 1100), point(40, 39, 800)]);
    // 30/s fails the 1000 ms bound; 40/s passing again after it does not count.
    expect(knee).toEqual({ offered: 20, boundMs: 1000 });
  });

  it('fails a rate routed under 95% of offered, or with a lost or failed lead', () => {
    expect(kneeOf([point(10, 9.5, 500), point(20, 18.9, 600)]).offered).toBe(10);
    expect(kneeOf([point(10, 10, 500), point(20, 20, 600, 1)]).offered).toBe(10);
  });

  it('orders points by offered rate and takes an explicit bound', () => {
    expect(kneeOf([point(30, 30, 1500), point(10, 10, 400), point(20, 20, 700)], 2000)).toEqual({ offered: 30, boundMs: 2000 });
    expect(kneeOf([point(30, 30, 1500), point(10, 10, 400), point(20, 20, 700)]).offered).toBe(20);
  });

  it('has none when the lowest rate already fails', () => {
    expect(kneeOf([point(10, 8, 400), point(20, 20, 500)]).offered).toBeNull();
    expect(kneeOf([]).offered).toBeNull();
  });
});

describe('waits per lead', () => {
  const answer = (workflowId: string | null, activityType: string | null, waitMs: number | null, waited = true): LimitAnswer => ({ workflowId, activityType, waitMs, waited });

  it('counts the longest of the parallel reads, plus the CRM write and the notification, on the critical path', () => {
    const waits = waitsByLead([
      answer('lead:t:a', 'matchAccount', 30_000),
      answer('lead:t:a', 'matchAccount', 5_000),
      answer('lead:t:a', 'lookupEmployees', 20_000),
      answer('lead:t:a', 'assignOwner', 10_000),
      answer('lead:t:a', 'notify', 1_000),
      answer('lead:t:b', 'lookupCalendars', 2_000),
    ]);
    expect(waits.get('lead:t:a')).toEqual({ count: 5, totalMs: 66_000, criticalMs: 35_000 + 10_000 + 1_000 });
    expect(waits.get('lead:t:b')).toEqual({ count: 1, totalMs: 2_000, criticalMs: 2_000 });
  });

  it('counts a wait not taken (longer than the budget) or not given as an answer with no wait, and leaves out answers outside a lead', () => {
    const waits = waitsByLead([answer('lead:t:a', 'assignOwner', 90_000, false), answer('lead:t:a', 'enrichCompany', null), answer(null, null, 5_000)]);
    expect(waits.get('lead:t:a')).toEqual({ count: 2, totalMs: 0, criticalMs: 0 });
    expect(waits.size).toBe(1);
  });
});

describe('a push-back on POST /v1/leads', () => {
  const now = Date.parse('2030-01-07T15:00:00.000Z');

  it('is waited out for its Retry-After, in seconds or as a date, else a second', () => {
    expect(pushbackWaitMs('3', now)).toBe(3000);
    expect(pushbackWaitMs('Mon, 07 Jan 2030 15:00:05 GMT', now)).toBe(5000);
    expect(pushbackWaitMs(null, now)).toBe(1000);
    expect(pushbackWaitMs('soon', now)).toBe(1000);
  });
});
