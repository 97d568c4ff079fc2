import type { Via } from '../domain/policy/engine';
import type { Urgency } from '../domain/policy/types';

/**
 * What the worker's lead metrics need to know about a routed lead, sent by the workflow
 * interceptor (src/metrics/workflowInterceptors.ts) in a header of the activities that mark the
 * lead's milestones: its CRM assignment (the decision) and its owner's notification (the end of
 * its routing). The activity interceptor (src/metrics/activityMetrics.ts) reads it. A header is
 * not a command and not an input, so histories replay the same with or without it; headers do
 * not pass through the payload codec, so it holds no lead data: times, the policy's rule ID,
 * labels and a count.
 */
export interface LeadObservation {
  /** When the API received the lead (the run's input; business time). */
  receivedAt: string;
  urgency: Urgency | 'unknown';
  /** The rule that decided; null when no rule did (the fallback of an unmatched lead). */
  ruleId: string | null;
  /** How the owner was reached. */
  via: Via | 'unknown';
  /** Times the lead waited for an opening before its decision. */
  deferrals: number;
}

export const OBSERVATION_HEADER = 'leadrelay-observation';

const URGENCIES: ReadonlySet<string> = new Set(['hot', 'normal', 'low']);

/**
 * The observation of a lead from the decision its run wrote to the memo (`decision`: rule, via,
 * urgency); unknown labels when the memo has none (runs recorded before the decision memo).
 */
export function observationOf(receivedAt: string, decisionMemo: unknown, deferrals: number): LeadObservation {
  const d = decisionMemo && typeof decisionMemo === 'object' ? (decisionMemo as Record<string, unknown>) : {};
  return {
    receivedAt,
    urgency: typeof d['urgency'] === 'string' && URGENCIES.has(d['urgency']) ? (d['urgency'] as Urgency) : 'unknown',
    ruleId: typeof d['rule'] === 'string' ? d['rule'] : null,
    via: typeof d['via'] === 'string' ? (d['via'] as Via) : 'unknown',
    deferrals,
  };
}
