import type { DeliveryRecord } from '../../src/distribution/delivery';
import { postMayHaveSold } from '../../src/distribution/workflowSupport';

/** A post's record with the parts that decide whether the buyer may have taken the lead. */
function post(over: Partial<DeliveryRecord>): DeliveryRecord {
  return {
    kind: 'post',
    buyerId: 'b',
    startedAt: '2026-11-30T12:00:00.000Z',
    latencyMs: 10,
    request: { method: 'POST', url: 'http://buyer.test/post', headers: {}, body: '{}' },
    response: null,
    error: null,
    answer: { outcome: 'error', reason: 'x' },
    retryAfterMs: null,
    notSent: false,
    ...over,
  };
}
const answered = (status: number) => ({ status, headers: {}, bodyExcerpt: '' });

describe('postMayHaveSold', () => {
  it('is true when the request left and no definite answer came back', () => {
    expect(postMayHaveSold(post({ error: { type: 'timeout', message: 'no answer within 3000 ms' }, answer: { outcome: 'error', reason: 'timeout' } }))).toBe(true);
    expect(postMayHaveSold(post({ error: { type: 'connection', message: 'socket hang up' }, answer: { outcome: 'error', reason: 'connection' } }))).toBe(true);
    expect(postMayHaveSold(post({ response: answered(502), answer: { outcome: 'error', reason: 'http_502' } }))).toBe(true);
    expect(postMayHaveSold(post({ response: answered(504), answer: { outcome: 'error', reason: 'http_504' } }))).toBe(true);
    // A 200 the response mapping could not read may have been an acceptance.
    expect(postMayHaveSold(post({ response: answered(200), error: { type: 'mapping', message: 'bad' } }))).toBe(true);
  });

  it('is false for a definite answer or a request that never left', () => {
    expect(postMayHaveSold(post({ response: answered(200), answer: { outcome: 'accepted' } }))).toBe(false);
    expect(postMayHaveSold(post({ response: answered(200), answer: { outcome: 'rejected' } }))).toBe(false);
    expect(postMayHaveSold(post({ response: answered(409), answer: { outcome: 'duplicate' } }))).toBe(false);
    expect(postMayHaveSold(post({ response: answered(429), answer: { outcome: 'error', reason: 'rate_limited' } }))).toBe(false);
    // The buyer's own failure: a buyer that is down does not use up its budget one lead at a time.
    expect(postMayHaveSold(post({ response: answered(500), answer: { outcome: 'error', reason: 'http_500' } }))).toBe(false);
    expect(postMayHaveSold(post({ response: answered(503), answer: { outcome: 'error', reason: 'http_503' } }))).toBe(false);
    expect(postMayHaveSold(post({ response: answered(400), error: { type: 'mapping', message: 'bad' } }))).toBe(false);
    expect(postMayHaveSold(post({ notSent: true, error: { type: 'config', message: 'secret not set' }, answer: { outcome: 'error', reason: 'config' } }))).toBe(false);
    expect(postMayHaveSold(post({ notSent: true, error: { type: 'connection', message: 'ECONNREFUSED' } }))).toBe(false);
  });
});
