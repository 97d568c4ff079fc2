import { IllegalStateError } from '@temporalio/common';
import { Runtime, type RuntimeOptions } from '@temporalio/worker';

let installed = false;

/**
 * Installs the Temporal SDK's runtime once per process, with its own Prometheus metrics
 * (`temporal_workflow_task_schedule_to_start_latency`, `temporal_activity_execution_latency`,
 * pollers, slots, …) served at `http://<sdkMetricsAddress>/metrics` when an address is given
 * (LEADRELAY_SDK_METRICS_ADDRESS, e.g. `127.0.0.1:9464`). It must run before the first
 * connection or worker is created: the runtime cannot change afterwards. A second call, or a
 * call after something else installed the runtime (tests), does nothing and says so.
 */
export function installSdkRuntime(options: Omit<RuntimeOptions, 'telemetryOptions'> & { telemetryOptions?: RuntimeOptions['telemetryOptions']; sdkMetricsAddress?: string | undefined }): boolean {
  if (installed) return false;
  const { sdkMetricsAddress, telemetryOptions, ...rest } = options;
  try {
    Runtime.install({
      ...rest,
      telemetryOptions: { ...telemetryOptions, ...(sdkMetricsAddress ? { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } : {}) },
    });
  } catch (err) {
    // Already installed or instantiated in this process; anything else (a bad address) is an error.
    if (err instanceof IllegalStateError) return false;
    throw err;
  }
  installed = true;
  return true;
}
