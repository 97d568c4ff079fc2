import type { LeadInput } from './leadSchema';

/**
 * The lane a lead travels in, known when it is posted (its urgency is only known after the
 * decision):
 * - `interactive`: a person is waiting on the other side (a form, a chat, or `priority: high`).
 *   Its workflow and activity tasks go ahead of every other lead's in Temporal's task queues.
 * - `standard`: system-to-system leads (webhooks, product events, the API's default).
 * - `bulk`: list imports (`source: import` or `priority: bulk`): last in the task queues, and
 *   admitted only while the tenant has fewer than its bulk window in flight, so an import of
 *   thousands runs at the engine's pace without holding a demo request behind it.
 */
export type Lane = 'interactive' | 'standard' | 'bulk';

export const LANES: readonly Lane[] = ['interactive', 'standard', 'bulk'];

const INTERACTIVE_SOURCES: ReadonlySet<LeadInput['source']> = new Set(['form', 'chat']);

export function laneOf(lead: Pick<LeadInput, 'source' | 'priority'>): Lane {
  if (lead.priority === 'high') return 'interactive';
  if (lead.priority === 'bulk') return 'bulk';
  if (lead.priority === 'normal') return 'standard';
  if (lead.source === 'import') return 'bulk';
  return INTERACTIVE_SOURCES.has(lead.source) ? 'interactive' : 'standard';
}

/**
 * Temporal's task priority key of each lane (1 goes first, 5 last; 3 is the server's default).
 * Activities inherit their workflow's priority, so the lane holds for every task of the lead.
 */
export const PRIORITY_KEYS: Record<Lane, number> = { interactive: 1, standard: 3, bulk: 5 };
