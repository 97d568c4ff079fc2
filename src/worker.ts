import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { entityTaskQueue } from './protocol/ids';
import { FAILURE_CONVERTER_PATH } from './temporal/failureConverterPath';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: Omit<ActivityDeps, 'entityTaskQueue'>;
  /** The payload codec and failure converter (see src/temporal/codec.ts `dataConverterOf`): payloads leave the worker encrypted. */
  dataConverter: DataConverter;
  /** A prebuilt workflow bundle (tests and benchmarks bundle once); otherwise bundled from source. */
  workflowBundle?: { codePath: string } | { code: string };
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

const silent = () => {};
const SILENT_LOGGER = { log: silent, trace: silent, debug: silent, info: silent, warn: silent, error: silent };

/**
 * Bundles the workflow code once (webpack's chatter stays out of the logs), with the failure
 * converter that encodes failures' messages and stack traces (workflow code converts its own errors).
 */
export async function bundleWorkflows(): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger: SILENT_LOGGER });
  return { code };
}

/**
 * The workers of one process: lead workflows with their activities on the main task queue, and
 * the pool and policy entities on their own queue (see `entityTaskQueue`).
 */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const base = {
    connection: setup.connection,
    namespace: setup.namespace,
    dataConverter: setup.dataConverter,
    // On shutdown, running activities get a moment to finish, then are cancelled; a worker that
    // still has not drained is stopped anyway (its tasks time out and go to the next worker).
    shutdownGraceTime: '2s' as const,
    shutdownForceTime: '15s' as const,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  };
  const leads: WorkerOptions = {
    ...base,
    taskQueue: setup.taskQueue,
    activities: createActivities({ ...setup.deps, entityTaskQueue: entityTaskQueue(setup.taskQueue) }),
    // Bound the workflow cache: leads stay open for their hold-open window.
    maxCachedWorkflows: 2000,
    maxConcurrentActivityTaskExecutions: 200,
    maxConcurrentWorkflowTaskExecutions: 100,
  };
  const pools: WorkerOptions = { ...base, taskQueue: entityTaskQueue(setup.taskQueue), maxCachedWorkflows: 100 };
  // Lead worker first: on shutdown it stops before the entities its activities wait on.
  return Promise.all([Worker.create(leads), Worker.create(pools)]);
}
