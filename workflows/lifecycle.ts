import { condition, patched } from '@temporalio/workflow';
import { addWorkingTime } from '../src/domain/availability';
import type { NormalizedLead } from '../src/domain/lead';
import type { AcceptRequest, EscalationRecord, LeadStatus, ReassignmentRecord, ReassignRequest, RouteLeadInput, RouteLeadResult, SlaClock } from '../src/domain/leadState';
import { escalationCandidates, type PolicyTrace } from '../src/domain/policy/engine';
import type { EffectivePolicy } from '../src/domain/policy/store';
import type { RoutingConfig } from '../src/domain/routing';
import { checkAvailability, claims, ownerNameOf, summary, writesFor } from './steps';
import type { LeadRun } from './leadRun';
import { describeFailure as failureOf, type LeadTracker } from './tracker';
import { leadKeys, leadSteps, transferReasons, type OwnerMove } from '../src/protocol/keys';
import { notificationTexts } from '../src/protocol/notifications';

type Writes = ReturnType<typeof writesFor>;

export interface LifecycleContext {
  t: LeadTracker;
  input: RouteLeadInput;
  config: RoutingConfig;
  policy: EffectivePolicy;
  decision: PolicyTrace;
  lead: NormalizedLead;
  reassignments: ReassignRequest[];
  accepts: AcceptRequest[];
  writes: Writes;
  setStatus: (status: LeadStatus) => void;
  setOwner: LeadRun['setOwner'];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The lifecycle's view of a run, once its decision is known: the one place it is put together. */
export function lifecycleContext(run: LeadRun, input: RouteLeadInput, loaded: { config: RoutingConfig; policy: EffectivePolicy }, decision: PolicyTrace, lead: NormalizedLead): LifecycleContext {
  const { t, reassignments, accepts, setStatus, setOwner } = run;
  return { t, input, config: loaded.config, policy: loaded.policy, decision, lead, reassignments, accepts, writes: writesFor(decision.urgency, loaded.policy), setStatus, setOwner };
}

/**
 * After routing: the owner must accept within the SLA. At the deadline they are reminded; after
 * the grace period the lead moves to the next eligible rep (never one who let it lapse), up to
 * the policy's limit, then to the manager or the fallback. Manual reassignments are taken at any
 * moment. The run stays open until the lead is accepted (or has reached the end of its
 * escalation chain) and the reassignment window has closed. Durable timers: all of this
 * survives worker and server restarts.
 */
export async function followThrough(ctx: LifecycleContext): Promise<void> {
  const { t, config } = ctx;
  const escalation = ctx.policy.policy.escalation ?? {};
  const maxEscalations = escalation.maxEscalations ?? 2;
  // Kept in the lead's state, so a follow-up run never offers the lead to someone who let it lapse.
  const lapsed = t.state.lapsed;
  const closeAt = Date.parse(t.state.routedAt ?? iso(t.now())) + config.holdOpenSeconds * 1000;

  if (t.state.owner && !t.state.accepted) startClock(ctx, t.state.owner.id);

  for (;;) {
    const sla: SlaClock | null = t.state.sla;
    const next = sla ? Date.parse(sla.reminded ? sla.escalateAt : sla.dueAt) : closeAt;
    const remaining = next - t.now();
    if (ctx.reassignments.length === 0 && ctx.accepts.length === 0 && remaining > 0) {
      await condition(() => ctx.reassignments.length > 0 || ctx.accepts.length > 0, remaining, summary(timerLabel(sla, closeAt)));
    }

    const accept = ctx.accepts.shift();
    if (accept) {
      acceptLead(ctx, accept);
      continue;
    }
    const request = ctx.reassignments.shift();
    if (request) {
      // A successful move restarts the clock for the new owner as the owner changes (moveOwner).
      await reassign(ctx, request);
      continue;
    }
    if (sla && !sla.reminded && t.now() >= Date.parse(sla.dueAt)) {
      sla.reminded = true;
      await remind(ctx, sla);
      continue;
    }
    if (sla && sla.reminded && t.now() >= Date.parse(sla.escalateAt)) {
      lapsed.push(sla.ownerId);
      await escalate(ctx, sla, lapsed, maxEscalations, escalation.then ?? 'fallback');
      continue;
    }
    if (!t.state.sla && t.now() >= closeAt) return;
  }
}

/** What the loop's timer waits for, as the Web UI labels it: the SLA clock, the grace period or the reassignment window. */
function timerLabel(sla: SlaClock | null, closeAt: number): string {
  if (!sla) return `reassignment window: the run stays open until ${iso(closeAt)}`;
  return sla.reminded ? `grace period: the lead moves on from ${sla.ownerId} at ${sla.escalateAt} unless accepted` : `SLA: ${sla.ownerId} must accept by ${sla.dueAt}`;
}

/**
 * Starts the owner's SLA clock. Called in the same workflow step as the owner changes, so a query
 * never sees the new owner with the previous owner's clock.
 */
function startClock(ctx: LifecycleContext, ownerId: string): void {
  const { t, config, policy } = ctx;
  // The fallback queue is worked by whoever is on triage: no SLA clock of its own.
  if (ownerId === policy.policy.fallback.ownerId) {
    t.state.sla = null;
    return;
  }
  const seconds = ctx.decision.slaSeconds;
  const now = t.now();
  const grace = policy.policy.escalation?.graceSeconds ?? Math.ceil(seconds / 2);
  // In business hours, only the owner's working time counts towards the deadline.
  const rep = policy.policy.slaBusinessHours ? config.team.find((m) => m.id === ownerId) : undefined;
  // The zone the decision judged the rep's hours in: the HRIS's when it has one, like eligibility.
  const zone = ctx.decision.candidates.find((c) => c.repId === ownerId)?.timezone ?? rep?.timezone ?? 'UTC';
  const after = (from: number, s: number) => (rep ? addWorkingTime(from, s, zone, rep.workingHours) : from + s * 1000);
  const due = after(now, seconds);
  t.state.sla = { ownerId, seconds, startedAt: iso(now), dueAt: iso(due), escalateAt: iso(after(due, grace)), reminded: false };
}

function acceptLead(ctx: LifecycleContext, req: AcceptRequest): void {
  const { t } = ctx;
  const owner = t.state.owner;
  if (!owner || t.state.accepted) return;
  if (req.ownerId !== null && req.ownerId !== owner.id) {
    // A button or link from an earlier owner's notification: the lead has moved on.
    t.note(leadSteps.acceptIgnored, `accept by ${req.actor} via ${req.via} was for ${req.ownerId}, but the lead is now with ${owner.id}`);
    return;
  }
  t.state.accepted = { at: iso(t.now()), actor: req.actor, via: req.via, ownerId: owner.id };
  t.state.sla = null;
  t.note(leadSteps.accepted, `accepted by ${req.actor} via ${req.via}`);
  ctx.setStatus('accepted');
}

async function remind(ctx: LifecycleContext, sla: SlaClock): Promise<void> {
  const { t, input, lead } = ctx;
  const rep = ctx.config.team.find((m) => m.id === sla.ownerId);
  if (!rep) return;
  await t.notify('reminder', rep.email, leadSteps.reminder(sla.ownerId, Date.parse(sla.startedAt)), () =>
    ctx.writes.notify.executeWithOptions(summary(`remind ${rep.email}: SLA lapsed`), [
      {
        tenantId: input.tenantId,
        recipient: { email: rep.email },
        text: notificationTexts.reminder({ lead, leadId: input.leadId, slaSeconds: sla.seconds, dueAt: sla.dueAt, escalateAt: sla.escalateAt }),
        kind: 'reminder',
        idempotencyKey: leadKeys.reminder(input.leadId, sla.ownerId, sla.startedAt),
        accept: { leadId: input.leadId, ownerId: sla.ownerId },
      },
    ]),
  );
}

/** Moves a lapsed lead on: the next eligible rep of its pool, or (past the limit) the manager or fallback. */
async function escalate(ctx: LifecycleContext, sla: SlaClock, lapsed: string[], max: number, then: 'manager' | 'fallback'): Promise<void> {
  const { t, input, config, policy } = ctx;
  const n = t.state.escalations.length + 1;
  const pool = policy.policy.pools.find((p) => p.id === ctx.decision.escalationPool);
  let to: string | null = null;
  let reason: string;
  if (n <= max && pool) {
    const facts = await checkAvailability(t, input.tenantId, config, 100 + n);
    const { eligible } = escalationCandidates(pool, config.team, facts.hris, facts.calendar, t.now(), lapsed);
    if (eligible.length > 0) {
      const releases = ctx.t.state.poolCredit?.poolId === pool.id && ctx.t.state.poolCredit.repId === sla.ownerId ? sla.ownerId : null;
      const claimed = await t.optionalStep(
        leadSteps.escalationClaim(n),
        () =>
          claims.claimFromPool.executeWithOptions(summary(`escalation ${n}: next in pool ${pool.id}`), [
            { tenantId: input.tenantId, request: { leadId: leadKeys.move(input.leadId, { kind: 'escalation', n }), pool, eligible, timeZone: policy.policy.timezone, releases, ...t.clockFields() } },
          ]),
        (err) => ({ ok: false as const, skipped: [], error: failureOf(err).message }),
      );
      if (claimed.ok) {
        to = claimed.ownerId;
        ctx.t.state.poolCredit = { poolId: pool.id, repId: to };
      }
    }
    reason = to ? `SLA lapsed for ${sla.ownerId}; next eligible in pool ${pool.id}` : `SLA lapsed for ${sla.ownerId}; nobody else in pool ${pool.id} is available`;
  } else {
    reason = n > max ? `SLA lapsed ${n} times; escalations exhausted` : `SLA lapsed for ${sla.ownerId}; no pool to escalate within`;
  }
  if (!to) {
    // At most one hop to a manager, never to one who already let this lead lapse: then the fallback.
    const manager = config.team.find((m) => m.id === sla.ownerId)?.managerId;
    const managerHop = then === 'manager' && manager !== undefined && !lapsed.includes(manager) && !t.state.escalations.some((e) => e.to === manager);
    to = managerHop && manager ? manager : policy.policy.fallback.ownerId;
    reason = `${reason}; to the ${to === manager ? 'manager' : `fallback ${policy.policy.fallback.label}`}`;
    await releaseCredit(ctx, sla.ownerId, transferReasons.escalation(n));
  }
  const record: EscalationRecord = { n, from: sla.ownerId, to, at: iso(t.now()), reason, crmWritten: false };
  t.state.escalations.push(record);
  const claimedFor = ctx.t.state.poolCredit;
  await moveOwner(ctx, {
    move: { kind: 'escalation', n },
    step: leadSteps.moveCrm({ kind: 'escalation', n }, n),
    to,
    key: leadKeys.move(input.leadId, { kind: 'escalation', n }),
    why: `escalation ${n}`,
    messages: {
      to: { kind: 'escalation', text: notificationTexts.escalation({ lead: ctx.lead, leadId: input.leadId, reason }) },
      from: { kind: 'escalated_away', text: notificationTexts.escalatedAway({ lead: ctx.lead, to }) },
    },
    record,
  });
  if (!record.crmWritten) {
    // The CRM still names the lapsed owner: the pool credit goes back to them, and so does the clock.
    if (claimedFor?.repId === to && claimedFor.repId !== sla.ownerId) await releaseCredit(ctx, to, transferReasons.escalationUndone(n), sla.ownerId);
    startClock(ctx, sla.ownerId);
  }
}

/** A manual reassignment (API or operator): CRM write with its own key, both reps told, pool credit moved. */
async function reassign(ctx: LifecycleContext, req: ReassignRequest): Promise<void> {
  const { t, input } = ctx;
  // A retried request is a no-op once it succeeded; after a failed CRM write it may try again.
  if (t.state.reassignments.some((r) => r.requestId === req.requestId && r.crmWritten)) return;
  const previous = t.state.owner?.id ?? null;
  // Already theirs (the API answers 409 before signalling; this covers a request that raced an
  // escalation or another reassignment): no CRM write, no notification, the rule stays.
  if (previous === req.ownerId && patched('reassign-to-owner-ignored')) {
    t.note(leadSteps.reassignIgnored, `reassignment by ${req.actor} to ${req.ownerId}, who already owns the lead`);
    return;
  }
  const record: ReassignmentRecord = { requestId: req.requestId, from: previous, to: req.ownerId, reason: req.reason, actor: req.actor, at: iso(t.now()), crmWritten: false, error: null };
  t.state.reassignments.push(record);
  const n = t.state.reassignments.length;
  await moveOwner(ctx, {
    move: { kind: 'reassignment', requestId: req.requestId },
    step: leadSteps.moveCrm({ kind: 'reassignment', requestId: req.requestId }, n),
    to: req.ownerId,
    key: leadKeys.move(input.leadId, { kind: 'reassignment', requestId: req.requestId }),
    why: `reassigned by ${req.actor}`,
    messages: {
      to: { kind: 'reassignment', text: notificationTexts.reassignment({ lead: ctx.lead, leadId: input.leadId, actor: req.actor, reason: req.reason }) },
      from: { kind: 'reassigned_away', text: notificationTexts.reassignedAway({ lead: ctx.lead, to: req.ownerId, actor: req.actor, reason: req.reason }) },
    },
    manual: true,
    record,
  });
  if (!record.crmWritten) {
    record.error = t.state.failures.at(-1)?.message ?? 'CRM write failed';
    return;
  }
  await releaseCredit(ctx, previous, transferReasons.reassignment(req.requestId), req.ownerId);
}

/**
 * The pool credit follows the lead: `from` gives it back, and `to` takes it when they are a
 * member of the same pool. A lead that leaves the pool counts for nobody in it.
 */
export async function releaseCredit(ctx: LifecycleContext, from: string | null, transferKey: string, to: string | null = null): Promise<void> {
  const credit = ctx.t.state.poolCredit;
  if (!credit || credit.repId !== from) return;
  const pool = ctx.policy.policy.pools.find((p) => p.id === credit.poolId);
  const next = to !== null && (pool?.members.some((m) => m.repId === to) ?? false) ? to : null;
  await ctx.t.optionalStep(
    leadSteps.poolCredit(transferKey),
    () =>
      claims.transferClaim.executeWithOptions(summary(`move pool credit from ${from} to ${next ?? 'nobody'}`), [
        { tenantId: ctx.input.tenantId, poolId: credit.poolId, request: { transferId: leadKeys.transfer(ctx.input.leadId, transferKey), from, to: next, timeZone: ctx.policy.policy.timezone, ...ctx.t.clockFields() } },
      ]),
    () => false,
  );
  ctx.t.state.poolCredit = next ? { poolId: credit.poolId, repId: next } : null;
}

interface Move {
  /** What the change is: recorded on the CRM write's input for the audit. */
  move: OwnerMove;
  step: string;
  to: string;
  key: string;
  why: string;
  messages: { to: { kind: 'reassignment' | 'escalation'; text: string }; from: { kind: 'reassigned_away' | 'escalated_away'; text: string } };
  manual?: boolean;
  /** The escalation or reassignment record: marked written as the owner changes. */
  record: { crmWritten: boolean };
}

/**
 * Writes the new owner in the CRM, then tells the new and the previous owner. The owner, the
 * record's CRM flag and the SLA clock change in one workflow step, so a query never sees half a move.
 */
async function moveOwner(ctx: LifecycleContext, move: Move): Promise<void> {
  const { t, input, config } = ctx;
  const previous = t.state.owner?.id ?? null;
  try {
    const crmLeadId = t.state.crmLeadId ?? '';
    await t.step(move.step, () =>
      ctx.writes.changeOwner.executeWithOptions(summary(`${move.why}: owner ${move.to}`), [{ tenantId: input.tenantId, crmLeadId, ownerId: move.to, idempotencyKey: move.key, move: move.move }]),
    );
  } catch (err) {
    t.fail(move.step, failureOf(err));
    return;
  }
  move.record.crmWritten = true;
  const name = ownerNameOf(config, ctx.policy, move.to);
  const ruleId = move.manual ? null : (t.state.owner?.ruleId ?? null);
  t.state.accepted = null;
  startClock(ctx, move.to);
  ctx.setStatus('routed');
  ctx.setOwner({ id: move.to, name, ruleId, via: move.manual ? 'manual' : 'escalation', assignedAt: iso(t.now()) }, { manualRule: move.manual === true });
  const newRep = config.team.find((m) => m.id === move.to);
  const oldRep = config.team.find((m) => m.id === previous);
  if (newRep) {
    await t.notify(move.messages.to.kind, newRep.email, leadSteps.moveNotice(move.step, 'to'), () =>
      ctx.writes.notify.executeWithOptions(summary(`notify ${newRep.email}`), [
        { tenantId: input.tenantId, recipient: { email: newRep.email }, text: move.messages.to.text, kind: move.messages.to.kind, idempotencyKey: leadKeys.moveNotice(move.key, 'to'), accept: { leadId: input.leadId, ownerId: move.to } },
      ]),
    );
  } else if (move.to === ctx.policy.policy.fallback.ownerId && ctx.policy.policy.fallback.notifyChannel) {
    const channel = ctx.policy.policy.fallback.notifyChannel;
    await t.notify('fallback', channel, leadSteps.moveNotice(move.step, 'fallback'), () =>
      ctx.writes.notify.executeWithOptions(summary(`notify channel ${channel}`), [
        { tenantId: input.tenantId, recipient: { channel }, text: move.messages.to.text, kind: 'fallback', idempotencyKey: leadKeys.moveNotice(move.key, 'fallback') },
      ]),
    );
  }
  if (oldRep && oldRep.id !== move.to) {
    await t.notify(move.messages.from.kind, oldRep.email, leadSteps.moveNotice(move.step, 'from'), () =>
      ctx.writes.notify.executeWithOptions(summary(`tell ${oldRep.email} the lead moved`), [
        { tenantId: input.tenantId, recipient: { email: oldRep.email }, text: move.messages.from.text, kind: move.messages.from.kind, idempotencyKey: leadKeys.moveNotice(move.key, 'from') },
      ]),
    );
  }
}

/**
 * A lead the CRM has not accepted yet, and a person names its owner: the lead is created in the
 * CRM with them (its own idempotency key per request) and they are told. Requests are taken in
 * order until the CRM accepts one; false when none was left or the CRM refused them all. The
 * caller sets the status once the lead is routed.
 */
export async function assignNamedOwner(ctx: LifecycleContext, pending: ReassignRequest[]): Promise<boolean> {
  const { t, input, lead, config, policy, writes } = ctx;
  for (let n = 1; ; n++) {
    const req = pending.shift();
    if (!req) return false;
    const step = leadSteps.assignCrmNamed(n);
    const record = { requestId: req.requestId, from: null, to: req.ownerId, reason: req.reason, actor: req.actor };
    try {
      const written = await t.step(step, () =>
        writes.assignOwner.executeWithOptions(summary(`assign ${req.ownerId} in CRM (by ${req.actor})`), [
          { tenantId: input.tenantId, lead, ownerId: req.ownerId, idempotencyKey: leadKeys.assignNamed(input.leadId, req.requestId) },
        ]),
      );
      t.state.crmLeadId = written.crmLeadId;
    } catch (err) {
      t.fail(step, failureOf(err));
      t.state.reassignments.push({ ...record, at: new Date(t.now()).toISOString(), crmWritten: false, error: failureOf(err).message });
      continue;
    }
    const at = new Date(t.now()).toISOString();
    t.state.reassignments.push({ ...record, at, crmWritten: true, error: null });
    ctx.setOwner({ id: req.ownerId, name: ownerNameOf(config, policy, req.ownerId), ruleId: null, via: 'manual', assignedAt: at }, { manualRule: true });
    const rep = config.team.find((m) => m.id === req.ownerId);
    if (rep) {
      await t.notify('reassignment', rep.email, leadSteps.notifyNamedOwner, () =>
        writes.notify.executeWithOptions(summary(`notify ${rep.email}`), [
          {
            tenantId: input.tenantId,
            recipient: { email: rep.email },
            text: notificationTexts.namedAssignment({ lead, leadId: input.leadId, actor: req.actor, reason: req.reason }),
            kind: 'reassignment',
            idempotencyKey: leadKeys.assignNamedNotice(input.leadId, req.requestId),
            accept: { leadId: input.leadId, ownerId: req.ownerId },
          },
        ]),
      );
    }
    return true;
  }
}

/** Both runs end alike: the lead's lifecycle to its end, then the run closes with the final owner. */
export async function followThroughAndClose(ctx: LifecycleContext): Promise<RouteLeadResult> {
  await followThrough(ctx);
  ctx.setStatus('closed');
  const owner = ctx.t.state.owner;
  return { leadId: ctx.input.leadId, status: 'closed', ownerId: owner?.id ?? null, ruleId: owner?.ruleId ?? null };
}
