import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { fetchDecodedHistory } from '../../src/temporal/codec';

export const HISTORY_FIXTURES = path.join(__dirname, '..', 'fixtures', 'histories');

/**
 * With RECORD_FIXTURES=1, saves a run's history as a replay fixture. The replay test then runs
 * every fixture against the current workflow code, so a change that breaks determinism for
 * leads already in flight fails `npm test`.
 */
export async function recordHistory(name: string, handle: WorkflowHandle, runId?: string): Promise<void> {
  if (process.env['RECORD_FIXTURES'] !== '1') return;
  const run = runId ? handle.client.getHandle(handle.workflowId, runId) : handle;
  // Decoded: fixtures hold plain payloads, so the replay test needs no key (replay passes them through the codec).
  const history = await fetchDecodedHistory(run);
  const file = path.join(HISTORY_FIXTURES, `${name}.json`);
  // The protobuf encoding, base64: exact, compact, and independent of JSON-mapping quirks.
  const encoded = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('base64');
  writeFileSync(file, `${JSON.stringify({ workflowId: handle.workflowId, recordedAt: new Date().toISOString(), events: history.events?.length ?? 0, history: encoded }, null, 1)}\n`);
}

/**
 * The one-line summaries (`userMetadata.summary`) the Web UI shows for a run's timers or its local
 * activities (markers), in history order; `(none)` where one has none.
 */
export async function historySummaries(handle: WorkflowHandle, kind: 'timer' | 'local activity'): Promise<string[]> {
  const events = (await fetchDecodedHistory(handle)).events ?? [];
  return events
    .filter((e) => (kind === 'timer' ? e.timerStartedEventAttributes : e.markerRecordedEventAttributes?.markerName === 'core_local_activity'))
    .map((e) => (e.userMetadata?.summary ? String(defaultPayloadConverter.fromPayload(e.userMetadata.summary)) : '(none)'));
}
