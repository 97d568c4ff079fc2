import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests and benchmarks bundle once); otherwise bundled from source. */
  workflowBundle?: { codePath: string } | { code: string };
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

const silent = () => {};
const SILENT_LOGGER = { log: silent, trace: silent, debug: silent, info: silent, warn: silent, error: silent };

/** Bundles the workflow code once (webpack's chatter stays out of the logs). */
export async function bundleWorkflows(): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: SILENT_LOGGER });
  return { code };
}

/** A worker for routeLead and the pool entities, with activities built from their dependencies. */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const options: WorkerOptions = {
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createActivities(setup.deps),
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    // Bound the workflow cache: leads stay open for their hold-open window.
    maxCachedWorkflows: 2000,
    maxConcurrentActivityTaskExecutions: 200,
    maxConcurrentWorkflowTaskExecutions: 100,
  };
  return Worker.create(options);
}
