import { Admission, DEFAULT_INTAKE, type QueueCounter } from '../../src/api/admission';
import { laneOf, PRIORITY_KEYS } from '../../src/domain/lane';

/** A counter whose answers the test sets, counting how often it is asked. */
function counter(initial: { queued: number; bulk: number }) {
  const state = { ...initial, calls: 0 };
  const count: QueueCounter = async () => {
    state.calls++;
    return { queued: state.queued, bulk: state.bulk };
  };
  return { state, count };
}

describe('lanes', () => {
  it('puts people waiting in the interactive lane, imports in the bulk lane, and lets a request say otherwise', () => {
    expect(laneOf({ source: 'form' })).toBe('interactive');
    expect(laneOf({ source: 'chat' })).toBe('interactive');
    expect(laneOf({ source: 'webhook' })).toBe('standard');
    expect(laneOf({ source: 'api' })).toBe('standard');
    expect(laneOf({ source: 'import' })).toBe('bulk');
    expect(laneOf({ source: 'import', priority: 'high' })).toBe('interactive');
    expect(laneOf({ source: 'form', priority: 'bulk' })).toBe('bulk');
    expect(laneOf({ source: 'form', priority: 'normal' })).toBe('standard');
    expect(PRIORITY_KEYS.interactive).toBeLessThan(PRIORITY_KEYS.standard);
    expect(PRIORITY_KEYS.standard).toBeLessThan(PRIORITY_KEYS.bulk);
  });
});

describe('admission', () => {
  const limits = { maxQueuedLeads: 10, bulkInFlight: 3 };

  it('admits until the bulk window is full, counting what it started since the last count, then asks the importer to wait', async () => {
    let now = 0;
    const c = counter({ queued: 0, bulk: 0 });
    const admission = new Admission(c.count, { refreshMs: 250, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(await admission.admit('t1', 'bulk', limits)).toEqual({ admitted: true });
      admission.started('t1', 'bulk');
    }
    const refused = await admission.admit('t1', 'bulk', limits);
    expect(refused).toMatchObject({ admitted: false, lane: 'bulk', queued: 3, limit: 3, limitName: 'bulkInFlight' });
    expect(refused.admitted === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Interactive leads are not held by the bulk window.
    expect(await admission.admit('t1', 'interactive', limits)).toEqual({ admitted: true });
    // One count served all of those requests.
    expect(c.state.calls).toBe(1);

    // The leads were decided: the next count (after refreshMs) frees the window.
    now = 300;
    c.state.queued = 0;
    c.state.bulk = 0;
    expect(await admission.admit('t1', 'bulk', limits)).toEqual({ admitted: true });
    expect(c.state.calls).toBe(2);
  });

  it('refuses every lane past the tenant queue limit, with a wait sized by how fast leads have been decided', async () => {
    let now = 0;
    const c = counter({ queued: 100, bulk: 0 });
    const admission = new Admission(c.count, { refreshMs: 250, now: () => now });
    expect(await admission.admit('t1', 'interactive', { maxQueuedLeads: 200, bulkInFlight: 5 })).toEqual({ admitted: true });
    // A second later 90 are queued: 10 were decided (this process started none meanwhile).
    now = 1000;
    c.state.queued = 90;
    const slow = await admission.admit('t1', 'interactive', { maxQueuedLeads: 60, bulkInFlight: 5 });
    expect(slow).toMatchObject({ admitted: false, limitName: 'maxQueuedLeads', queued: 90, limit: 60 });
    // 31 too many (90 − 60 + 1) at a smoothed drain rate of 0.7·1 + 0.3·10 = 3.7 leads/s → 9 s.
    expect(slow.admitted === false && slow.retryAfterSeconds).toBe(9);
  });

  it('keeps tenants apart and admits when the count itself fails', async () => {
    const admission = new Admission(async (tenantId) => {
      if (tenantId === 'down') throw new Error('unreachable');
      return { queued: tenantId === 'busy' ? 5000 : 0, bulk: 0 };
    });
    expect((await admission.admit('busy', 'standard', DEFAULT_INTAKE)).admitted).toBe(false);
    expect((await admission.admit('quiet', 'standard', DEFAULT_INTAKE)).admitted).toBe(true);
    expect((await admission.admit('down', 'standard', DEFAULT_INTAKE)).admitted).toBe(true);
  });
});
