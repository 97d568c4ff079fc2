import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../src/worker';
import { HISTORY_FIXTURES } from '../support/fixtures';

/**
 * Histories of representative runs, recorded from the integration tests (RECORD_FIXTURES=1),
 * replayed against the current workflow code. A non-deterministic change fails here; change
 * workflow code behind `patched()` (see README) so leads already in flight replay.
 */
const fixtures = readdirSync(HISTORY_FIXTURES).filter((f) => f.endsWith('.json')).sort();
let bundle: { code: string };

beforeAll(async () => {
  bundle = await bundleWorkflows();
}, 120_000);

it('has recorded histories to replay', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(5);
});

it.each(fixtures)('replays %s deterministically against the current workflow code', async (file) => {
  const { workflowId, history } = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, file), 'utf8')) as { workflowId: string; history: string };
  const decoded = temporal.api.history.v1.History.decode(Buffer.from(history, 'base64'));
  expect(decoded.events.length).toBeGreaterThan(5);
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, decoded, workflowId)).resolves.toBeUndefined();
});
