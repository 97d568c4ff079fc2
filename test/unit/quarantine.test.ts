import { ApiError } from '../../src/api/errors';
import { allows, ruleFor } from '../../src/api/roles';
import { QUARANTINE_ID_PATTERN, quarantineWorkflowId } from '../../src/protocol/ids';
import {
  applyDiscard,
  applyExpiry,
  applyReplayed,
  DEFAULT_QUARANTINE_HOLD_MS,
  discardRefusal,
  holdMsOf,
  initialState,
  keptIssues,
  MAX_QUARANTINE_HOLD_MS,
  MIN_QUARANTINE_HOLD_MS,
  quarantineIdFor,
  quarantineMemo,
  replayRefusal,
  type QuarantineInput,
  type QuarantineState,
} from '../../src/quarantine';
import { discardQuarantined, replayQuarantined, type ReplaySteps } from '../../src/quarantine/replay';

const T0 = Date.parse('2030-03-04T10:00:00Z');

function input(over: Partial<QuarantineInput> = {}): QuarantineInput {
  return {
    quarantineId: 'qr_0123456789abcdef01234567',
    tenantId: 'acme',
    sourceId: 'src_acme_forms',
    kind: 'typeform',
    eventId: 'evt-1',
    receivedAt: '2030-03-04T09:59:59.000Z',
    event: { form_response: { answers: [] } },
    reason: 'the lead schema refused the mapped lead',
    issues: [{ field: 'email', message: 'Invalid input: expected string, received undefined' }],
    holdMs: DEFAULT_QUARANTINE_HOLD_MS,
    ...over,
  };
}

describe('quarantine IDs', () => {
  it('are the same for a redelivery of the same event and differ by tenant, source and event', () => {
    const a = quarantineIdFor('acme', 'src_acme_forms', 'evt-1', { x: 1 });
    expect(a).toMatch(QUARANTINE_ID_PATTERN);
    // The provider's event ID decides, whatever the body (a redelivery may carry a new timestamp).
    expect(quarantineIdFor('acme', 'src_acme_forms', 'evt-1', { x: 2 })).toBe(a);
    expect(quarantineIdFor('globex', 'src_acme_forms', 'evt-1', { x: 1 })).not.toBe(a);
    expect(quarantineIdFor('acme', 'src_acme_other', 'evt-1', { x: 1 })).not.toBe(a);
    expect(quarantineIdFor('acme', 'src_acme_forms', 'evt-2', { x: 1 })).not.toBe(a);
  });

  it('hash the event when the provider gives no ID, whatever the order of its keys', () => {
    const a = quarantineIdFor('acme', 's', null, { email: 'x', name: 'y' });
    expect(quarantineIdFor('acme', 's', null, { name: 'y', email: 'x' })).toBe(a);
    expect(quarantineIdFor('acme', 's', null, { name: 'y', email: 'z' })).not.toBe(a);
    // An event ID that happens to look like a hash is not confused with one.
    expect(quarantineIdFor('acme', 's', 'x', {})).not.toBe(quarantineIdFor('acme', 's', null, 'x'));
  });

  it('name a workflow of the <type>:<tenantId>: shape', () => {
    expect(quarantineWorkflowId('acme', 'qr_0123456789abcdef01234567')).toBe('quarantine:acme:qr_0123456789abcdef01234567');
  });
});

describe('what is kept', () => {
  it('caps the issues and their texts', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({ field: `f${i}`, message: 'm'.repeat(900) }));
    const kept = keptIssues(many);
    expect(kept).toHaveLength(50);
    expect(kept[0]!.message.length).toBe(500);
    expect(kept[0]!.message.endsWith('…')).toBe(true);
  });

  it('puts the kind, the shortened reason and the failing fields in the memo, never the payload', () => {
    const memo = quarantineMemo(input({ reason: 'r'.repeat(400), issues: [{ field: 'email', message: 'a' }, { field: 'email', message: 'b' }, { field: 'phone', message: 'c' }] }));
    expect(memo).toEqual({ kind: 'typeform', reason: `${'r'.repeat(299)}…`, field: 'email', fields: ['email', 'phone'], receivedAt: '2030-03-04T09:59:59.000Z' });
    expect(quarantineMemo(input({ issues: [] })).field).toBeNull();
  });

  it('holds 30 days unless configured, within a second and a year', () => {
    expect(holdMsOf({})).toBe(30 * 24 * 3600 * 1000);
    expect(holdMsOf({ quarantineHoldMs: 7 * 24 * 3600 * 1000 })).toBe(7 * 24 * 3600 * 1000);
    expect(holdMsOf({ quarantineHoldMs: 1 })).toBe(MIN_QUARANTINE_HOLD_MS);
    expect(holdMsOf({ quarantineHoldMs: 10 * MAX_QUARANTINE_HOLD_MS })).toBe(MAX_QUARANTINE_HOLD_MS);
  });
});

describe('the quarantine state', () => {
  it('starts held, expiring after the hold', () => {
    const s = initialState(input({ holdMs: 60_000 }), T0);
    expect(s.status).toBe('held');
    expect(s.expiresAt).toBe('2030-03-04T10:01:00.000Z');
  });

  it('takes one replay result; the same again is a no-op, another lead is refused', () => {
    const s = initialState(input(), T0);
    expect(replayRefusal(s, { leadId: 'ld_1', actor: 'ops@acme.com' })).toBeNull();
    applyReplayed(s, { leadId: 'ld_1', actor: 'ops@acme.com' }, T0 + 1000);
    expect(s).toMatchObject({ status: 'replayed', replay: { leadId: 'ld_1', actor: 'ops@acme.com', at: '2030-03-04T10:00:01.000Z' } });
    expect(replayRefusal(s, { leadId: 'ld_1', actor: 'someone@acme.com' })).toBeNull();
    applyReplayed(s, { leadId: 'ld_1', actor: 'someone@acme.com' }, T0 + 2000);
    expect(s.replay?.actor).toBe('ops@acme.com');
    expect(replayRefusal(s, { leadId: 'ld_2', actor: 'x' })).toMatch(/already replayed as lead ld_1/);
    expect(discardRefusal(s, { actor: 'x', reason: 'y' })).toMatch(/already replayed/);
  });

  it('keeps the first discard, and refuses a replay after it', () => {
    const s = initialState(input(), T0);
    applyDiscard(s, { actor: 'ana@acme.com', reason: 'test submission' }, T0);
    applyDiscard(s, { actor: 'bo@acme.com', reason: 'spam' }, T0 + 1);
    expect(s).toMatchObject({ status: 'discarded', discard: { actor: 'ana@acme.com', reason: 'test submission' } });
    expect(discardRefusal(s, { actor: 'bo@acme.com', reason: 'spam' })).toBeNull();
    expect(replayRefusal(s, { leadId: 'ld_1', actor: 'x' })).toBe('discarded by ana@acme.com');
  });

  it('expires only while held, and refuses both afterwards', () => {
    const s = initialState(input(), T0);
    applyExpiry(s, T0 + DEFAULT_QUARANTINE_HOLD_MS);
    expect(s).toMatchObject({ status: 'expired', expiredAt: '2030-04-03T10:00:00.000Z' });
    expect(replayRefusal(s, { leadId: 'ld_1', actor: 'x' })).toMatch(/^expired at/);
    expect(discardRefusal(s, { actor: 'x', reason: 'y' })).toMatch(/^expired at/);
    const replayed = applyReplayed(initialState(input(), T0), { leadId: 'ld_1', actor: 'x' }, T0);
    expect(applyExpiry(replayed, T0 + 1).status).toBe('replayed');
  });

  it('refuses requests without an actor, a reason or a lead', () => {
    const s = initialState(input(), T0);
    expect(replayRefusal(s, { leadId: '', actor: 'x' })).not.toBeNull();
    expect(discardRefusal(s, { actor: 'x', reason: '' })).not.toBeNull();
  });
});

/** A quarantine in memory with the workflow's own rules, and steps that count their calls. */
function fakeSteps(mapping: 'fails' | 'passes', start: () => string = () => 'ld_1') {
  const state: QuarantineState = initialState(input(), T0);
  const calls = { map: 0, start: 0, record: 0 };
  const steps: ReplaySteps<{ email: string }> = {
    read: async () => structuredClone(state),
    map: async () => {
      calls.map++;
      return mapping === 'passes' ? { ok: true, lead: { email: 'a@b.co' } } : { ok: false, reason: 'the lead schema refused the mapped lead', issues: [{ field: 'email', message: 'Invalid email address' }] };
    },
    start: async () => {
      calls.start++;
      return { leadId: start() };
    },
    record: async (req) => {
      calls.record++;
      const refusal = replayRefusal(state, req);
      if (refusal) throw new Error(refusal);
      return structuredClone(applyReplayed(state, req, T0 + 5000));
    },
  };
  return { state, calls, steps };
}

describe('replaying', () => {
  it('answers the failing fields and starts nothing while the mapping still fails', async () => {
    const { steps, calls, state } = fakeSteps('fails');
    await expect(replayQuarantined(steps, 'ops@acme.com')).resolves.toEqual({ ok: false, reason: 'the lead schema refused the mapped lead', issues: [{ field: 'email', message: 'Invalid email address' }] });
    expect(calls).toEqual({ map: 1, start: 0, record: 0 });
    expect(state.status).toBe('held');
  });

  it('starts the lead, records it, and answers the same lead to a second replay without mapping again', async () => {
    const { steps, calls } = fakeSteps('passes');
    await expect(replayQuarantined(steps, 'ops@acme.com')).resolves.toEqual({ ok: true, leadId: 'ld_1', actor: 'ops@acme.com', at: '2030-03-04T10:00:05.000Z', alreadyReplayed: false });
    await expect(replayQuarantined(steps, 'other@acme.com')).resolves.toMatchObject({ ok: true, leadId: 'ld_1', actor: 'ops@acme.com', alreadyReplayed: true });
    expect(calls).toEqual({ map: 1, start: 1, record: 1 });
  });

  it('answers the recorded lead when a concurrent replay recorded it first', async () => {
    const { steps, state } = fakeSteps('passes');
    const racing: typeof steps = {
      ...steps,
      // The other replay records between this one's start and its record.
      start: async (s, lead) => {
        const started = await steps.start(s, lead);
        applyReplayed(state, { leadId: started.leadId, actor: 'first@acme.com' }, T0 + 1000);
        return started;
      },
      record: async () => {
        throw new Error('Update rejected: workflow execution already completed');
      },
    };
    await expect(replayQuarantined(racing, 'second@acme.com')).resolves.toMatchObject({ ok: true, leadId: 'ld_1', actor: 'first@acme.com', alreadyReplayed: true });
  });

  it('refuses a discarded or expired payload with 409, and rethrows what it cannot explain', async () => {
    const discarded = fakeSteps('passes');
    applyDiscard(discarded.state, { actor: 'ana@acme.com', reason: 'spam' }, T0);
    await expect(replayQuarantined(discarded.steps, 'x')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('discarded by ana@acme.com') });
    expect(discarded.calls.map).toBe(0);

    const broken = fakeSteps('passes');
    const failing = { ...broken.steps, record: async () => Promise.reject(new Error('Temporal unavailable')) };
    await expect(replayQuarantined(failing, 'x')).rejects.toThrow('Temporal unavailable');
  });
});

describe('discarding', () => {
  it('records the actor and reason once; a second discard answers the first; a replayed payload is 409', async () => {
    const state = initialState(input(), T0);
    const steps = {
      read: async () => structuredClone(state),
      record: async (req: { actor: string; reason: string }) => structuredClone(applyDiscard(state, req, T0)),
    };
    await expect(discardQuarantined(steps, { actor: 'ana@acme.com', reason: 'test submission' })).resolves.toMatchObject({ status: 'discarded', discard: { actor: 'ana@acme.com' } });
    await expect(discardQuarantined(steps, { actor: 'bo@acme.com', reason: 'spam' })).resolves.toMatchObject({ discard: { actor: 'ana@acme.com', reason: 'test submission' } });

    const replayed = applyReplayed(initialState(input(), T0), { leadId: 'ld_9', actor: 'x' }, T0);
    const err = await discardQuarantined({ read: async () => replayed, record: async () => replayed }, { actor: 'a', reason: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, message: expect.stringContaining('ld_9') });
  });
});

describe('roles', () => {
  it('let viewers list and read, and ops replay and discard', () => {
    expect(allows('viewer', 'GET', '/v1/quarantine')).toBe(true);
    expect(allows('viewer', 'GET', '/v1/quarantine/qr_0123456789abcdef01234567')).toBe(true);
    expect(allows('viewer', 'POST', '/v1/quarantine/qr_0123456789abcdef01234567/replay')).toBe(false);
    expect(allows('ops', 'POST', '/v1/quarantine/qr_0123456789abcdef01234567/replay')).toBe(true);
    expect(allows('ops', 'POST', '/v1/quarantine/qr_0123456789abcdef01234567/discard')).toBe(true);
    expect(ruleFor('POST', '/v1/quarantine/qr_1/discard').action).toBe('discard quarantined events');
  });
});
