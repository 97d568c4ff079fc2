import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LeadMetrics } from './leadMetrics';

const TYPES = [
  ['workflow', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
  ['activity', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
] as const;

const seconds = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number => (d ? Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9 : 0);

/**
 * Polls each task queue's backlog (DescribeTaskQueue with `reportStats`, the current form of
 * the API; the ENHANCED mode is deprecated in the 1.24 protos) every `intervalMs` and sets the
 * backlog gauges, one series per queue and task type. A failed describe is counted and leaves
 * the last value. The timer does not keep the process alive; `stop()` waits for a poll in flight.
 */
export class BacklogPoller {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly connection: Connection,
    private readonly namespace: string,
    private readonly taskQueues: string[],
    private readonly metrics: LeadMetrics,
    private readonly intervalMs: number,
  ) {}

  start(): this {
    const tick = () => {
      if (this.stopped) return;
      this.inFlight = this.poll();
      this.timer = setTimeout(() => void this.inFlight.then(tick), this.intervalMs);
      this.timer.unref();
    };
    tick();
    return this;
  }

  /** One round over every queue and type. */
  async poll(): Promise<void> {
    await Promise.all(this.taskQueues.flatMap((name) => TYPES.map(([type, taskQueueType]) => this.describe(name, type, taskQueueType))));
  }

  private async describe(name: string, type: string, taskQueueType: temporal.api.enums.v1.TaskQueueType): Promise<void> {
    try {
      const res = await this.connection.workflowService.describeTaskQueue({ namespace: this.namespace, taskQueue: { name }, taskQueueType, reportStats: true });
      this.metrics.backlog.set({ task_queue: name, type }, Number(res.stats?.approximateBacklogCount ?? 0));
      this.metrics.backlogAge.set({ task_queue: name, type }, seconds(res.stats?.approximateBacklogAge));
    } catch {
      this.metrics.backlogPollErrors.inc({ task_queue: name });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }
}
