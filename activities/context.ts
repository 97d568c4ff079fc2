import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Connectors } from '../src/connectors/registry';

/** The running activity's context; null when a function is called outside an activity (its own tests). */
export function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/**
 * What is left of this activity's schedule-to-close budget (retries included), which the
 * workflow sets from the lead's urgency: an upstream asking to wait longer than this cannot be
 * waited out, so the call fails at once and the lead takes its fallback path now.
 */
export function remainingBudgetMs(): number | undefined {
  const info = activityContext()?.info;
  if (!info?.scheduleToCloseTimeoutMs) return undefined;
  return Math.max(0, info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - Date.now());
}

/** One activity may make many calls at once under its signal (screening reads every buyer's account). */
const CALLS_PER_ACTIVITY = 64;

/** Aborted when the running activity is cancelled (worker shutdown, timeout); undefined outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  const signal = activityContext()?.cancellationSignal;
  // Each call under the signal listens for its abort until it ends: many at once are not a leak.
  if (signal) setMaxListeners(CALLS_PER_ACTIVITY, signal);
  return signal;
}

/** Runs a Temporal client call that ends when the activity is cancelled (worker shutdown, timeout). */
export function cancellable<T>(temporal: Client, call: () => Promise<T>): Promise<T> {
  const cancel = cancellationSignal();
  return cancel ? temporal.connection.withAbortSignal(cancel, call) : call();
}

/**
 * The tenant's connector of a category, bound to the running activity: cancelled with it, and
 * never waiting out a rate limit longer than its remaining budget.
 */
export function connectorClient(connectors: Connectors) {
  return (tenantId: string, category: Parameters<Connectors['client']>[1]) =>
    connectors.client(tenantId, category, { signal: cancellationSignal(), maxWaitMs: remainingBudgetMs() });
}
