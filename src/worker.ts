import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { businessClock } from './clock';
import { activityMetrics } from './metrics/activityMetrics';
import { processLeadMetrics, type LeadMetrics } from './metrics/leadMetrics';
import { entityTaskQueue } from './protocol/ids';
import { FAILURE_CONVERTER_PATH } from './temporal/failureConverterPath';
import type { Tracing } from './tracing/tracing';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: Omit<ActivityDeps, 'entityTaskQueue'>;
  /** The payload codec and failure converter (see src/temporal/codec.ts `dataConverterOf`): payloads leave the worker encrypted. */
  dataConverter: DataConverter;
  /** A prebuilt workflow bundle (tests and benchmarks bundle once); otherwise bundled from source. */
  workflowBundle?: { codePath: string } | { code: string };
  /** Where the lead metrics go (default the process's; see src/metrics/leadMetrics.ts). */
  metrics?: LeadMetrics;
  /**
   * OpenTelemetry tracing (src/tracing/tracing.ts): activity spans and the workflow spans' sink. The
   * workflow bundle must then have been made with `bundleWorkflows({ tracing: true })`.
   */
  tracing?: Tracing;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');
/** The lead metrics' workflow interceptors (headers for the activity interceptor; no commands), in every bundle. */
export const METRICS_WORKFLOW_INTERCEPTORS = require.resolve('./metrics/workflowInterceptors');

const silent = () => {};
const SILENT_LOGGER = { log: silent, trace: silent, debug: silent, info: silent, warn: silent, error: silent };

/**
 * Bundles the workflow code once (webpack's chatter stays out of the logs), with the failure
 * converter that encodes failures' messages and stack traces (workflow code converts its own errors).
 */
export async function bundleWorkflows(options: { tracing?: boolean } = {}): Promise<{ code: string }> {
  // The OpenTelemetry workflow interceptors only when tracing is on: they export through a sink
  // that only a tracing worker provides (and are loaded from src/tracing only then).
  const tracing = options.tracing ? [(await import('./tracing/tracing')).WORKFLOW_TRACING_INTERCEPTORS] : [];
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: [METRICS_WORKFLOW_INTERCEPTORS, ...tracing],
    logger: SILENT_LOGGER,
  });
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
    interceptors: {
      // Bundled from source (no workflowBundle): the same workflow interceptors bundleWorkflows adds.
      ...(setup.workflowBundle ? {} : { workflowModules: [METRICS_WORKFLOW_INTERCEPTORS, ...(setup.tracing ? [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] : [])] }),
      // Tracing outermost, so an activity's span covers the metrics' timing too.
      activity: [...(setup.tracing ? [setup.tracing.activityInterceptor()] : []), activityMetrics(setup.metrics ?? processLeadMetrics(), () => (setup.deps.clock ?? businessClock).now())],
    },
    ...(setup.tracing ? { sinks: setup.tracing.sinks() } : {}),
  };
  const leads: WorkerOptions = {
    ...base,
    taskQueue: setup.taskQueue,
    activities: createActivities({ ...setup.deps, entityTaskQueue: entityTaskQueue(setup.taskQueue) }),
    // Bound the workflow cache: leads stay open for their hold-open window.
    maxCachedWorkflows: 2000,
    maxConcurrentActivityTaskExecutions: 200,
    // A lean lead run's four upstream reads are local activities (workflows/steps.ts).
    maxConcurrentLocalActivityExecutions: 400,
    maxConcurrentWorkflowTaskExecutions: 100,
  };
  const pools: WorkerOptions = { ...base, taskQueue: entityTaskQueue(setup.taskQueue), maxCachedWorkflows: 100 };
  // Lead worker first: on shutdown it stops before the entities its activities wait on.
  return Promise.all([Worker.create(leads), Worker.create(pools)]);
}
