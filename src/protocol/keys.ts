/**
 * The lead's idempotency keys and step names: every write and message a lead's run makes carries
 * a key built here, so a retried activity, a replayed run or a follow-up run is recognised by the
 * upstream (or by the run itself) and never writes or sends twice. The audit reads the same keys
 * back (`readMessageKey`, `readMoveKey`) for histories recorded before activity inputs said what
 * each call was. Pure, so workflows import it too.
 */

/** How an owner change came about: the key of its CRM write, the messages it sends and its pool moves. */
export type OwnerMove = { kind: 'escalation'; n: number } | { kind: 'reassignment'; requestId: string };

/** Who hears about a move: the new owner, the triage channel when the fallback takes it, the previous owner. */
export type MoveSide = 'to' | 'fallback' | 'from';

export const leadKeys = {
  /** The first CRM write of the lead with its decided owner. */
  assign: (leadId: string) => `${leadId}:assign`,
  /** The CRM write a person asked for on a lead the CRM has not accepted yet (the first write failed). */
  assignNamed: (leadId: string, requestId: string) => `${leadId}:assign:${requestId}`,
  /** The message to that named owner. */
  assignNamedNotice: (leadId: string, requestId: string) => `${leadId}:assign:${requestId}:notify`,
  /** The decided owner's assignment message. */
  ownerNotice: (leadId: string) => `${leadId}:notify:0`,
  /** A channel's message: the triage channel (fallback) or a rule's fan-out. */
  channelNotice: (leadId: string, kind: 'fallback' | 'fan_out', channel: string) => `${leadId}:notify:${kind}:${channel}`,
  /** One reminder per SLA clock: a later clock (new owner, follow-up run) gets its own. */
  reminder: (leadId: string, ownerId: string, clockStartedAt: string) => `${leadId}:remind:${ownerId}:${clockStartedAt}`,
  /** The CRM write of an owner change; also the escalation's claim from its pool (as the claim's lead ID). */
  move: (leadId: string, move: OwnerMove) => (move.kind === 'escalation' ? `${leadId}:escalation:${move.n}` : `${leadId}:reassign:${move.requestId}`),
  /** A message about an owner change, by who hears it. */
  moveNotice: (moveKey: string, side: MoveSide) => `${moveKey}:${side}`,
  /** A pool credit transfer (idempotent at the pool entity). */
  transfer: (leadId: string, reason: string) => `${leadId}:${reason}`,
};

/** Why a pool credit moves, as its transfer key's tail. */
export const transferReasons = {
  crmRefused: 'crm-refused',
  escalation: (n: number) => `escalation:${n}`,
  escalationUndone: (n: number) => `escalation:${n}:undo`,
  reassignment: (requestId: string) => requestId,
};

/** Step names, as the lead's timings and failures list them. */
export const leadSteps = {
  loadPolicy: 'load_policy',
  enrich: 'enrich',
  matchAccount: 'match_account',
  /** Availability is read again after each deferral (round n) and for escalation n (round 100 + n). */
  checkHris: (round: number) => `check_hris${round === 0 ? '' : `_${round}`}`,
  checkCalendar: (round: number) => `check_calendar${round === 0 ? '' : `_${round}`}`,
  deferred: (n: number) => `deferred_${n}`,
  claimFromPool: 'claim_from_pool',
  assignCrm: 'assign_crm',
  assignCrmNamed: (n: number) => (n === 1 ? 'assign_crm_manual' : `assign_crm_manual_${n}`),
  notifyOwner: 'notify_owner',
  notifyNamedOwner: 'notify_manual_owner',
  notifyChannel: (kind: 'fallback' | 'fan_out', channel: string | null) => (channel === null ? `notify_${kind}` : `notify_${kind}:${channel}`),
  reminder: (ownerId: string, clockStartedAtMs: number) => `remind_${ownerId}_${clockStartedAtMs}`,
  escalationClaim: (n: number) => `escalation_claim_${n}`,
  moveCrm: (move: OwnerMove, n: number) => (move.kind === 'escalation' ? `escalation_crm_${move.n}` : `reassign_crm_${n}`),
  moveNotice: (moveStep: string, side: MoveSide) => `${moveStep}_notify_${side}`,
  poolCredit: (reason: string) => `pool_credit_${reason}`,
  followUp: 'follow_up',
  accepted: 'accepted',
  acceptIgnored: 'accept_ignored',
  reassignIgnored: 'reassign_ignored',
};

/**
 * What a message was, from its idempotency key: for histories whose notify inputs do not carry
 * their kind. The summary tells reminders recorded before they had keys of their own.
 */
export function readMessageKey(leadId: string, key: string, summary: string | null): string {
  const rest = key.startsWith(`${leadId}:`) ? key.slice(leadId.length + 1) : key;
  if (rest === 'notify:0') return 'assignment';
  if (rest.startsWith('notify:fallback:')) return 'fallback';
  if (rest.startsWith('notify:fan_out:')) return 'fan_out';
  if (rest.startsWith('remind:')) return 'reminder';
  // The message to an owner a person named for a lead the CRM had refused (leadKeys.assignNamedNotice).
  if (/^assign:.+:notify$/.test(rest)) return 'reassignment';
  const move = /^(escalation|reassign):.+:(to|from|fallback)$/.exec(rest);
  if (move) {
    if (move[2] === 'fallback') return 'fallback';
    if (move[1] === 'escalation') return move[2] === 'to' ? 'escalation' : 'escalated_away';
    return move[2] === 'to' ? 'reassignment' : 'reassigned_away';
  }
  if (summary?.startsWith('remind ')) return 'reminder';
  return 'message';
}

/** The owner change a CRM write's key (or an escalation claim's lead ID) names; null for the first assignment. */
export function readMoveKey(key: string): OwnerMove | null {
  const escalation = /:escalation:(\d+)$/.exec(key);
  if (escalation) return { kind: 'escalation', n: Number(escalation[1]) };
  const reassign = /:reassign:(.+)$/.exec(key);
  if (reassign) return { kind: 'reassignment', requestId: reassign[1]! };
  return null;
}
