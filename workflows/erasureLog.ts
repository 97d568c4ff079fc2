import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { appendErasure, erasuresPage, erasuresQuery, recordErasureUpdate, type ErasureRecord, type RecordErasureRequest } from '../src/protocol/erasures';

export interface ErasureLogInput {
  tenantId: string;
  /** The log so far, carried over by continue-as-new. */
  records?: ErasureRecord[];
}

/**
 * Records kept in the entity (about 200 bytes each with two runs, so the carried-over log stays
 * far below Temporal's 2 MB payload limit); older ones stay readable in earlier runs' histories
 * until the namespace retention removes those runs.
 */
export const KEEP_ERASURES = 5_000;
const MAX_HISTORY_EVENTS = 2_000;

const LEAD_ID = /^(ld|dl)_[a-f0-9]{24}$/;

/**
 * A tenant's erasure log, one durable entity per tenant (`erasures:<tenantId>`): which lead was
 * erased, which runs were deleted, when and by whom. It holds IDs only, never a lead's personal
 * data, so it outlives what it records. Recording is an Update (every record is in this
 * workflow's history as well); reading is a query. Continues as new when its history grows.
 */
export async function erasureLog(input: ErasureLogInput): Promise<void> {
  const records: ErasureRecord[] = input.records ?? [];

  setHandler(recordErasureUpdate, (req: RecordErasureRequest): ErasureRecord => appendErasure(records, req, new Date(Date.now()).toISOString(), KEEP_ERASURES), {
    validator: (req: RecordErasureRequest) => {
      if (!req || !LEAD_ID.test(req.leadId)) throw new Error('a lead ID (ld_… or dl_…) is required');
      if (!Array.isArray(req.erased) || req.erased.length === 0) throw new Error('at least one erased run is required');
      if (req.erased.some((r) => !r || typeof r.workflowId !== 'string' || !r.workflowId.endsWith(`:${input.tenantId}:${req.leadId}`) || typeof r.runId !== 'string' || !r.runId)) {
        throw new Error(`every erased run must be one of lead ${req.leadId}'s in tenant ${input.tenantId}`);
      }
      if (typeof req.actor !== 'string' || !req.actor) throw new Error('an actor is required');
    },
  });
  setHandler(erasuresQuery, (req) => erasuresPage(records, req ?? {}));

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS);
  await condition(allHandlersFinished);
  await continueAsNew<typeof erasureLog>({ tenantId: input.tenantId, records });
}
