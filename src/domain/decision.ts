import { evaluateRep } from './availability';
import type {
  AccountMatch,
  CalendarFacts,
  DecisionTrace,
  Eligibility,
  HrisFacts,
  RoutingConfig,
  RoutingPlan,
} from './routing';

export interface DecisionInput {
  config: RoutingConfig;
  account: AccountMatch;
  hris: HrisFacts;
  calendar: CalendarFacts;
  /** Epoch ms of the decision (workflow time inside a workflow). */
  atMs: number;
}

export interface Decision {
  plan: RoutingPlan;
  trace: DecisionTrace;
}

/**
 * Pure, deterministic routing decision for the foundation policy:
 * the matched account's owner when they are on the team and available; otherwise round robin over
 * the available members of the default pool; otherwise the tenant's fallback owner.
 * Round robin needs the pool's shared pointer, so for that branch the plan names the eligible
 * members and the pool entity picks one.
 */
export function decide(input: DecisionInput): Decision {
  const { config, account, hris, calendar, atMs } = input;
  const candidates: Eligibility[] = config.team.map((m) => evaluateRep(m, hris, calendar, atMs));
  const byId = new Map(candidates.map((c) => [c.repId, c]));
  const base = { policyVersion: config.version, evaluatedAt: new Date(atMs).toISOString(), account };
  const notes: string[] = [];

  if (account.status === 'matched') {
    const ownerId = account.account.ownerId;
    const owner = byId.get(ownerId);
    if (owner?.eligible) {
      const reason = `account ${account.account.name} (${account.matchedDomain}) is owned by ${owner.name}, who is available`;
      return {
        plan: { kind: 'direct', rule: 'account_owner', ownerId, reason },
        trace: { ...base, rule: 'account_owner', reason, candidates, ownerId },
      };
    }
    if (owner) {
      notes.push(`account owner ${owner.name} is unavailable (${owner.reasons.map((r) => r.code).join(', ')})`);
    } else {
      const skip = { code: 'not_on_team' as const, detail: `account owner ${ownerId} is not on the routing team` };
      candidates.push({ repId: ownerId, name: ownerId, eligible: false, reasons: [skip], assumptions: [] });
      notes.push(skip.detail);
    }
  } else if (account.status === 'none') {
    notes.push(account.domains.length ? `no CRM account matches ${account.domains.join(', ')}` : 'no company domain to match');
  } else {
    notes.push(`account match unavailable (${account.reason})`);
  }

  const roster = config.pool.members;
  const eligible = roster.filter((id) => byId.get(id)?.eligible === true);
  if (eligible.length > 0) {
    const reason = `${notes.join('; ')}; round robin over ${eligible.length} of ${roster.length} available in pool ${config.pool.id}`;
    return {
      plan: { kind: 'pool', rule: 'round_robin', poolId: config.pool.id, roster, eligible, reason },
      trace: { ...base, rule: 'round_robin', reason, candidates, ownerId: null },
    };
  }

  const reason = `${notes.join('; ')}; nobody in pool ${config.pool.id} is available, so the lead goes to the fallback ${config.fallback.label}`;
  return {
    plan: { kind: 'fallback', rule: 'fallback', ownerId: config.fallback.ownerId, reason },
    trace: { ...base, rule: 'fallback', reason, candidates, ownerId: config.fallback.ownerId },
  };
}

/**
 * Pure: the next owner in strict round-robin order. Starts after the last assigned member in
 * roster order and takes the first eligible one, so a skipped rep keeps their place in the cycle.
 */
export function nextInRotation(roster: string[], eligible: string[], lastAssigned: string | null): string | null {
  if (roster.length === 0 || eligible.length === 0) return null;
  const allowed = new Set(eligible);
  const start = lastAssigned === null ? 0 : roster.indexOf(lastAssigned) + 1;
  for (let i = 0; i < roster.length; i++) {
    const candidate = roster[(start + i) % roster.length];
    if (candidate !== undefined && allowed.has(candidate)) return candidate;
  }
  return null;
}
