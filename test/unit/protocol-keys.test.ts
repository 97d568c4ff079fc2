import { leadKeys, leadSteps, readMessageKey, readMoveKey, transferReasons } from '../../src/protocol/keys';

/**
 * The lead's keys are part of every recorded history and of what upstreams stored: the builders
 * must give the strings runs have always used, and reading them back must name what they were.
 */
const LEAD = 'ld_0123456789abcdef01234567';

describe('the lead\'s idempotency keys', () => {
  it('are the strings recorded histories carry', () => {
    expect(leadKeys.assign(LEAD)).toBe(`${LEAD}:assign`);
    expect(leadKeys.assignNamed(LEAD, 'req-1')).toBe(`${LEAD}:assign:req-1`);
    expect(leadKeys.assignNamedNotice(LEAD, 'req-1')).toBe(`${LEAD}:assign:req-1:notify`);
    expect(leadKeys.ownerNotice(LEAD)).toBe(`${LEAD}:notify:0`);
    expect(leadKeys.channelNotice(LEAD, 'fallback', 'C0LEADTRIAGE')).toBe(`${LEAD}:notify:fallback:C0LEADTRIAGE`);
    expect(leadKeys.reminder(LEAD, 'usr_ava', '2026-11-30T07:00:00.000Z')).toBe(`${LEAD}:remind:usr_ava:2026-11-30T07:00:00.000Z`);
    expect(leadKeys.move(LEAD, { kind: 'escalation', n: 2 })).toBe(`${LEAD}:escalation:2`);
    expect(leadKeys.move(LEAD, { kind: 'reassignment', requestId: 'req-9' })).toBe(`${LEAD}:reassign:req-9`);
    expect(leadKeys.moveNotice(`${LEAD}:escalation:2`, 'from')).toBe(`${LEAD}:escalation:2:from`);
    expect(leadKeys.transfer(LEAD, transferReasons.escalationUndone(1))).toBe(`${LEAD}:escalation:1:undo`);
    expect(leadSteps.checkHris(0)).toBe('check_hris');
    expect(leadSteps.checkCalendar(101)).toBe('check_calendar_101');
    expect(leadSteps.assignCrmNamed(1)).toBe('assign_crm_manual');
    expect(leadSteps.assignCrmNamed(2)).toBe('assign_crm_manual_2');
    expect(leadSteps.moveCrm({ kind: 'reassignment', requestId: 'x' }, 3)).toBe('reassign_crm_3');
  });

  it('read back as what each message and move was', () => {
    const move = (m: Parameters<typeof leadKeys.move>[1]) => leadKeys.move(LEAD, m);
    expect(readMessageKey(LEAD, leadKeys.ownerNotice(LEAD), null)).toBe('assignment');
    expect(readMessageKey(LEAD, leadKeys.channelNotice(LEAD, 'fan_out', 'C1'), null)).toBe('fan_out');
    expect(readMessageKey(LEAD, leadKeys.reminder(LEAD, 'usr_ava', 'x'), null)).toBe('reminder');
    expect(readMessageKey(LEAD, leadKeys.assignNamedNotice(LEAD, 'req-1'), null)).toBe('reassignment');
    expect(readMessageKey(LEAD, leadKeys.moveNotice(move({ kind: 'escalation', n: 1 }), 'to'), null)).toBe('escalation');
    expect(readMessageKey(LEAD, leadKeys.moveNotice(move({ kind: 'escalation', n: 1 }), 'from'), null)).toBe('escalated_away');
    expect(readMessageKey(LEAD, leadKeys.moveNotice(move({ kind: 'reassignment', requestId: 'r' }), 'fallback'), null)).toBe('fallback');
    expect(readMessageKey(LEAD, leadKeys.moveNotice(move({ kind: 'reassignment', requestId: 'r' }), 'from'), null)).toBe('reassigned_away');
    expect(readMessageKey(LEAD, 'something-else', 'remind ava')).toBe('reminder');
    expect(readMoveKey(move({ kind: 'escalation', n: 3 }))).toEqual({ kind: 'escalation', n: 3 });
    expect(readMoveKey(move({ kind: 'reassignment', requestId: 'req-7' }))).toEqual({ kind: 'reassignment', requestId: 'req-7' });
    expect(readMoveKey(leadKeys.assign(LEAD))).toBeNull();
  });
});
