import { evaluateRep, nextWorkingTime } from '../availability';
import type { NormalizedLead } from '../lead';
import type { PoolSkip } from '../pools';
import type { AccountMatch, CalendarFacts, Eligibility, EnrichmentFacts, HrisFacts, TeamMember } from '../routing';
import { evaluate, routingContext } from './conditions';
import type { EffectivePolicy } from './store';
import { DEFAULT_SLA_SECONDS, type Action, type PoolDefinition, type Rule, type Strategy, type Urgency } from './types';

/** How the owner was reached: the strategy or path, next to the rule that chose it. */
export type Via = 'account_owner' | Strategy | 'named_owner' | 'manager' | 'fallback' | 'manual' | 'escalation';

export interface RuleEvaluation {
  ruleId: string;
  matched: boolean;
  detail: string;
}

export type PolicyPlan =
  | { kind: 'direct'; via: 'account_owner' | 'named_owner' | 'manager'; ownerId: string }
  | { kind: 'pool'; via: Strategy; pool: PoolDefinition; eligible: string[] }
  | { kind: 'defer'; poolId: string; until: string }
  | { kind: 'fallback'; via: 'fallback'; ownerId: string };

/** The answer to "why did this lead go there?". */
export interface PolicyTrace {
  policyVersion: string;
  evaluatedAt: string;
  /** The rule that matched; null when none did (the lead then goes to the fallback, flagged). */
  rule: { id: string; name: string | null } | null;
  /** Each rule tried, in priority order, up to the one that matched. */
  rules: RuleEvaluation[];
  urgency: Urgency;
  /** Extra notification endpoints the rule fans out to. */
  notify: string[];
  reason: string;
  account: AccountMatch;
  /** Every rep considered, with why they were eligible or skipped. */
  candidates: Eligibility[];
  flagged: string | null;
  ownerId: string | null;
  via: Via | null;
  /** Seconds the owner has to accept (the rule's, else the policy's for this urgency). */
  slaSeconds: number;
  /** The pool an escalation draws the next rep from; null when the lead escalates straight to `then`. */
  escalationPool: string | null;
}

export interface PolicyDecisionInput {
  policy: EffectivePolicy;
  team: TeamMember[];
  lead: NormalizedLead;
  enrichment: EnrichmentFacts | null;
  account: AccountMatch;
  hris: HrisFacts;
  calendar: CalendarFacts;
  atMs: number;
}

export interface PolicyDecision {
  plan: PolicyPlan;
  trace: PolicyTrace;
}

function covering<T extends { start: string; end: string }>(items: T[] | undefined, atMs: number): T | undefined {
  return items?.find((i) => Date.parse(i.start) <= atMs && atMs < Date.parse(i.end));
}

/**
 * The earliest moment a member of the pool could be eligible: after their leave or meeting ends,
 * at the next opening of their working hours. Inactive, unknown and paused reps never open.
 */
export function earliestOpening(pool: PoolDefinition, team: TeamMember[], candidates: Eligibility[], hris: HrisFacts, calendar: CalendarFacts, atMs: number): number | null {
  let best: number | null = null;
  for (const member of pool.members) {
    const rep = team.find((m) => m.id === member.repId);
    const eligibility = candidates.find((c) => c.repId === member.repId);
    if (!rep || !eligibility || member.paused) continue;
    const codes = new Set(eligibility.reasons.map((r) => r.code));
    if (codes.has('inactive') || codes.has('not_in_hris') || codes.has('not_on_team')) continue;
    const email = rep.email.toLowerCase();
    let from = atMs;
    let timezone = rep.timezone;
    if (hris.status === 'ok') {
      const employee = hris.employees.find((e) => e.email.toLowerCase() === email);
      if (employee?.timezone) timezone = employee.timezone;
      const leave = covering(employee?.timeOff, atMs);
      if (leave) from = Math.max(from, Date.parse(leave.end));
    }
    if (calendar.status === 'ok') {
      const busy = covering(calendar.calendars.find((c) => c.email.toLowerCase() === email)?.busy, atMs);
      if (busy) from = Math.max(from, Date.parse(busy.end));
    }
    const opening = nextWorkingTime(from, timezone, rep.workingHours);
    if (opening !== null && (best === null || opening < best)) best = opening;
  }
  return best;
}

/** The pool an action routes through when its first choice is unavailable. */
function poolOf(action: Action): string | null {
  if (action.type === 'pool') return action.pool;
  if (action.type === 'account_owner' && typeof action.otherwise === 'object' && 'pool' in action.otherwise) return action.otherwise.pool;
  return null;
}

/**
 * Who a lapsed lead may move to: the pool's available, unpaused members, never one who already
 * let this lead's SLA lapse.
 */
export function escalationCandidates(
  pool: PoolDefinition,
  team: TeamMember[],
  hris: HrisFacts,
  calendar: CalendarFacts,
  atMs: number,
  lapsed: string[],
): { eligible: string[]; candidates: Eligibility[] } {
  const candidates: Eligibility[] = [];
  for (const member of pool.members) {
    const rep = team.find((m) => m.id === member.repId);
    const name = rep?.name ?? member.repId;
    if (lapsed.includes(member.repId)) {
      candidates.push({ repId: member.repId, name, eligible: false, reasons: [{ code: 'sla_lapsed', detail: 'let this lead’s SLA lapse' }], assumptions: [] });
    } else if (member.paused) {
      candidates.push({ repId: member.repId, name, eligible: false, reasons: [{ code: 'paused', detail: 'paused by an operator' }], assumptions: [] });
    } else if (!rep) {
      candidates.push({ repId: member.repId, name, eligible: false, reasons: [{ code: 'not_on_team', detail: `${member.repId} is not on the routing team` }], assumptions: [] });
    } else {
      candidates.push(evaluateRep(rep, hris, calendar, atMs));
    }
  }
  return { eligible: candidates.filter((c) => c.eligible).map((c) => c.repId), candidates };
}

/**
 * Pure, deterministic routing decision over a versioned policy: the first rule whose condition
 * matches decides; its action names an owner, a pool (whose entity picks the member), a
 * deferral until the earliest opening, or the fallback. Nothing ever resolves to nowhere.
 */
export function decidePolicy(input: PolicyDecisionInput): PolicyDecision {
  const { policy: effective, team, account, hris, calendar, atMs } = input;
  const policy = effective.policy;
  const context = routingContext(input.lead, input.enrichment, account);
  const segments = policy.segments ?? {};
  const rules: RuleEvaluation[] = [];
  const candidates: Eligibility[] = [];
  const consider = (e: Eligibility) => {
    if (!candidates.some((c) => c.repId === e.repId)) candidates.push(e);
    return e;
  };
  const eligibilityOf = (repId: string): Eligibility => {
    const member = team.find((m) => m.id === repId);
    return consider(
      member
        ? evaluateRep(member, hris, calendar, atMs)
        : { repId, name: repId, eligible: false, reasons: [{ code: 'not_on_team', detail: `${repId} is not on the routing team` }], assumptions: [] },
    );
  };

  let matched: Rule | null = null;
  for (const rule of policy.rules) {
    const result = evaluate(rule.when, context, segments);
    rules.push({ ruleId: rule.id, matched: result.matched, detail: result.detail });
    if (result.matched) {
      matched = rule;
      break;
    }
  }

  const trace = (plan: PolicyPlan, reason: string, flagged: string | null = null): PolicyDecision => ({
    plan,
    trace: {
      policyVersion: effective.version,
      evaluatedAt: new Date(atMs).toISOString(),
      rule: matched ? { id: matched.id, name: matched.name ?? null } : null,
      rules,
      urgency: matched?.urgency ?? 'normal',
      notify: matched?.notify ?? [],
      reason,
      account,
      candidates,
      flagged,
      ownerId: plan.kind === 'direct' || plan.kind === 'fallback' ? plan.ownerId : null,
      via: plan.kind === 'defer' ? null : plan.via,
      slaSeconds: matched?.slaSeconds ?? policy.sla?.[matched?.urgency ?? 'normal'] ?? DEFAULT_SLA_SECONDS[matched?.urgency ?? 'normal'],
      escalationPool: plan.kind === 'pool' ? plan.pool.id : matched ? poolOf(matched.action) : null,
    },
  });
  const fallback = (why: string, flagged: string | null = null) =>
    trace({ kind: 'fallback', via: 'fallback', ownerId: policy.fallback.ownerId }, `${why}; the lead goes to the fallback ${policy.fallback.label}`, flagged);

  if (!matched) return fallback('no rule matched', 'no rule matched this lead');
  const rule = matched;
  const ruleName = `rule ${rule.id}`;

  const toPool = (poolId: string, prefix: string): PolicyDecision => {
    const pool = policy.pools.find((p) => p.id === poolId);
    if (!pool) return fallback(`${prefix}pool ${poolId} is not defined`, `pool ${poolId} missing from policy ${effective.version}`);
    const eligible: string[] = [];
    for (const member of pool.members) {
      if (member.paused) {
        consider({ repId: member.repId, name: team.find((m) => m.id === member.repId)?.name ?? member.repId, eligible: false, reasons: [{ code: 'paused', detail: 'paused by an operator' }], assumptions: [] });
        continue;
      }
      if (eligibilityOf(member.repId).eligible) eligible.push(member.repId);
    }
    if (eligible.length > 0) {
      return trace({ kind: 'pool', via: pool.strategy, pool, eligible }, `${prefix}${ruleName}: ${pool.strategy.replace('_', ' ')} over ${eligible.length} of ${pool.members.length} available in pool ${pool.id}`);
    }
    if (rule.defer) {
      const opening = earliestOpening(pool, team, candidates, hris, calendar, atMs);
      if (opening !== null) {
        const until = new Date(opening).toISOString();
        return trace({ kind: 'defer', poolId: pool.id, until }, `${prefix}${ruleName}: nobody in pool ${pool.id} is available now; deferred until ${until}, the earliest opening`);
      }
    }
    return fallback(`${prefix}${ruleName}: nobody in pool ${pool.id} is available`);
  };

  const resolve = (action: Action): PolicyDecision => {
    switch (action.type) {
      case 'owner':
        return trace({ kind: 'direct', via: 'named_owner', ownerId: action.ownerId }, `${ruleName}: routes to ${action.ownerId}`);
      case 'pool':
        return toPool(action.pool, '');
      case 'account_owner': {
        let why: string;
        let ownerRep: TeamMember | undefined;
        if (account.status === 'matched') {
          const ownerId = account.account.ownerId;
          ownerRep = team.find((m) => m.id === ownerId);
          const owner = eligibilityOf(ownerId);
          if (owner.eligible) {
            return trace(
              { kind: 'direct', via: 'account_owner', ownerId },
              `${ruleName}: account ${account.account.name} (${account.matchedDomain}) is owned by ${owner.name}, who is available`,
            );
          }
          why = `account owner ${owner.name} is unavailable (${owner.reasons.map((r) => r.code).join(', ')})`;
        } else {
          why = account.status === 'none' ? 'no matching account' : `account match unavailable (${account.reason})`;
        }
        const otherwise = action.otherwise;
        if (otherwise === 'fallback') return fallback(`${ruleName}: ${why}`);
        if (otherwise === 'manager') {
          const managerId = ownerRep?.managerId;
          if (managerId && eligibilityOf(managerId).eligible) {
            return trace({ kind: 'direct', via: 'manager', ownerId: managerId }, `${ruleName}: ${why}; routed to their manager ${managerId}`);
          }
          return fallback(`${ruleName}: ${why}; ${managerId ? `their manager ${managerId} is unavailable` : 'no manager known'}`);
        }
        if ('owner' in otherwise) {
          return trace({ kind: 'direct', via: 'named_owner', ownerId: otherwise.owner }, `${ruleName}: ${why}; routed to ${otherwise.owner}`);
        }
        return toPool(otherwise.pool, `${why}; `);
      }
    }
  };

  return resolve(rule.action);
}

/**
 * Marks the candidates a pool passed over at a claim or a preview (paused, at a cap) as not
 * eligible, with the pool's reason, so the trace answers "why not Ana?" for them too. Changes the
 * trace in place; reps the trace does not list are ignored.
 */
export function recordPoolSkips(trace: PolicyTrace, skipped: readonly PoolSkip[]): void {
  for (const skip of skipped) {
    const candidate = trace.candidates.find((c) => c.repId === skip.repId);
    if (candidate) {
      candidate.eligible = false;
      candidate.reasons.push({ code: skip.reason, detail: skip.detail });
    }
  }
}
