import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

/** The short name of a history event type, e.g. `ACTIVITY_TASK_SCHEDULED`. */
export function eventTypeName(type: number | null | undefined): string {
  return (EventType[type ?? 0] ?? String(type)).replace(/^EVENT_TYPE_/, '');
}

export interface LeadHistoryCount {
  /** Events up to and including the completion of the owner's notification. */
  untilNotified: number;
  total: number;
  byType: Record<string, number>;
  /** Workflow tasks (each one a server round trip for the worker) until notified. */
  workflowTasksUntilNotified: number;
}

/**
 * Counts a lead run's history: all of it, and the part up to its owner's notification (the
 * completion of the notify activity whose summary starts with `notify `).
 */
export async function countLeadHistory(client: Client, workflowId: string): Promise<LeadHistoryCount> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const byType: Record<string, number> = {};
  let notifyScheduled: number | null = null;
  let untilNotified = events.length;
  let workflowTasks = 0;
  let found = false;
  for (const e of events) {
    const name = eventTypeName(e.eventType);
    byType[name] = (byType[name] ?? 0) + 1;
    if (found) continue;
    if (name === 'WORKFLOW_TASK_COMPLETED') workflowTasks++;
    if (name === 'ACTIVITY_TASK_SCHEDULED' && e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify' && notifyScheduled === null) notifyScheduled = Number(e.eventId);
    if (name === 'ACTIVITY_TASK_COMPLETED' && notifyScheduled !== null && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === notifyScheduled) {
      untilNotified = Number(e.eventId);
      found = true;
    }
  }
  return { untilNotified, total: events.length, byType, workflowTasksUntilNotified: workflowTasks };
}
