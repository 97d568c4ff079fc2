import { recordPoolSkips, type PolicyTrace } from '../../src/domain/policy/engine';
import type { Eligibility } from '../../src/domain/routing';

const candidate = (repId: string, eligible = true): Eligibility => ({ repId, name: repId.toUpperCase(), eligible, reasons: [], assumptions: [] });

const traceOf = (candidates: Eligibility[]): PolicyTrace => ({
  policyVersion: 'v1',
  evaluatedAt: '2026-11-18T17:00:00.000Z',
  rule: { id: 'r1', name: null },
  rules: [],
  urgency: 'normal',
  notify: [],
  reason: 'rule r1 matched',
  account: { status: 'none', domains: [] },
  candidates,
  flagged: null,
  ownerId: null,
  via: null,
  slaSeconds: 900,
  escalationPool: null,
});

describe('the pool\'s skips in the decision trace', () => {
  it('marks each rep the pool passed over as not eligible, with the pool\'s reason after their own', () => {
    const busy = { ...candidate('ben', false), reasons: [{ code: 'busy' as const, detail: 'calendar busy' }] };
    const trace = traceOf([candidate('ana'), busy, candidate('cy')]);
    recordPoolSkips(trace, [
      { repId: 'ana', reason: 'cap_reached', detail: 'at the cap of 3 today' },
      { repId: 'ben', reason: 'paused', detail: 'paused by an operator' },
    ]);
    expect(trace.candidates).toEqual([
      { ...candidate('ana', false), reasons: [{ code: 'cap_reached', detail: 'at the cap of 3 today' }] },
      { ...busy, reasons: [{ code: 'busy', detail: 'calendar busy' }, { code: 'paused', detail: 'paused by an operator' }] },
      candidate('cy'),
    ]);
  });

  it('ignores a skip of a rep the trace does not list, and changes nothing without skips', () => {
    const trace = traceOf([candidate('ana')]);
    recordPoolSkips(trace, [{ repId: 'zed', reason: 'paused', detail: 'paused by an operator' }]);
    recordPoolSkips(trace, []);
    expect(trace.candidates).toEqual([candidate('ana')]);
  });
});
