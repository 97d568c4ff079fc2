/**
 * "Why this owner", pure: a decision trace (src/domain/policy/engine.ts PolicyTrace) as sentences
 * people read: the rule that matched, how the owner was reached, and for every rep considered why
 * they could or could not take the lead, with reasons in plain words and each rep's local time.
 */
import type { PolicyTrace } from '../../domain/policy/engine';
import type { Eligibility } from '../../domain/routing';
import { reasonWords, repLocalTime, viaWords, type ReasonContext } from './format';

export interface CandidateWords {
  repId: string;
  name: string;
  eligible: boolean;
  /** Whether this rep is the one the lead went (or would go) to. */
  chosen: boolean;
  /** "Available" or each reason in plain words. */
  reasons: string[];
  /** What was assumed because an upstream could not answer. */
  assumptions: string[];
  /** The rep's local time when the decision was made ("14:05 in Paris"), when their zone is known. */
  localTime: string | null;
}

export interface WhyWords {
  /** One sentence: who, by which rule, how. */
  headline: string;
  rule: string | null;
  via: string;
  /** The engine's own one-line reason (kept: it names pools and counts). */
  engineReason: string;
  flagged: string | null;
  account: string;
  rulesTried: Array<{ ruleId: string; matched: boolean; detail: string }>;
  candidates: CandidateWords[];
}

export function ruleLabel(rule: PolicyTrace['rule']): string | null {
  if (!rule) return null;
  return rule.name ? `${rule.name} (${rule.id})` : rule.id;
}

function accountWords(account: PolicyTrace['account']): string {
  switch (account.status) {
    case 'matched':
      return `Matched account ${account.account.name} by ${account.matchedDomain}.`;
    case 'none':
      return account.domains.length ? `No account matched ${account.domains.join(', ')}.` : 'No company domain to match an account by (free email address).';
    case 'unavailable':
      return `The CRM could not be asked for a matching account (${account.reason}).`;
  }
}

function candidateWords(c: Eligibility, chosenId: string | null, evaluatedAt: string, ctx: ReasonContext): CandidateWords {
  return {
    repId: c.repId,
    name: c.name,
    eligible: c.eligible,
    chosen: c.repId === chosenId,
    reasons: c.eligible ? ['Available'] : c.reasons.map((r) => reasonWords(r, ctx)),
    assumptions: c.assumptions,
    localTime: c.timezone ? repLocalTime(evaluatedAt, c.timezone) : null,
  };
}

/**
 * The trace in words. `ownerId`/`ownerName` are who the lead is with (or would go to): the trace
 * leaves a pool's pick to the pool, so the caller says who it was.
 */
export function whyWords(trace: PolicyTrace, owner: { id: string | null; name: string | null; via?: string | null }, ctx: ReasonContext & { preview?: boolean } = {}): WhyWords {
  const rule = ruleLabel(trace.rule);
  const via = viaWords(owner.via ?? trace.via);
  const ownerName = owner.name ?? trace.candidates.find((c) => c.repId === owner.id)?.name ?? owner.id;
  // A preview speaks of what would happen; a lead's page of what did.
  const [went, could, got] = ctx.preview ? ['would go', 'can', 'would get'] : ['went', 'could', 'got'];
  let headline: string;
  if (!trace.rule) headline = `No rule matched this lead, so it ${went} to the fallback${ownerName ? ` (${ownerName})` : ''}.`;
  else if (!ownerName) headline = `Rule “${rule}” matched; nobody ${could} take the lead yet.`;
  else if ((owner.via ?? trace.via) === 'fallback') headline = `Rule “${rule}” matched, but nobody it names ${could} take the lead, so it ${went} to the fallback (${ownerName}).`;
  else headline = `${ownerName} ${got} this lead: rule “${rule}” matched, owner reached by ${via.toLowerCase()}.`;
  return {
    headline,
    rule,
    via,
    engineReason: trace.reason,
    flagged: trace.flagged,
    account: accountWords(trace.account),
    rulesTried: trace.rules.map((r) => ({ ruleId: r.ruleId, matched: r.matched, detail: r.detail })),
    candidates: trace.candidates.map((c) => candidateWords(c, owner.id, trace.evaluatedAt, ctx)),
  };
}
