import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * The erasure log's messages and records: what was erased, when and by whom. Lead IDs, workflow
 * IDs and run IDs only, never a lead's personal data. Pure, so the workflow imports it too.
 */

/** One entity workflow per tenant keeps its erasure log (the `<type>:<tenantId>` shape of every Leadrelay workflow ID). */
export function erasureLogWorkflowId(tenantId: string): string {
  return `erasures:${tenantId}`;
}

/** One run of a lead that was deleted from Temporal (history and visibility). */
export interface ErasedRun {
  workflowId: string;
  runId: string;
}

export interface ErasureRecord {
  /** Increasing per tenant: the log's order and its paging cursor. */
  seq: number;
  leadId: string;
  erased: ErasedRun[];
  /** When the erasure was recorded (the log's clock, ISO 8601). */
  at: string;
  /** Who asked: the console user's email, or what an API key's caller named (X-Actor), else `api-key:<tenant>`. */
  actor: string;
}

export interface RecordErasureRequest {
  leadId: string;
  erased: ErasedRun[];
  actor: string;
}

export interface ErasuresRequest {
  /** Only this lead's erasures. */
  leadId?: string;
  /** Only records older than this `seq` (the previous page's `nextBefore`). */
  before?: number;
  /** At most this many, newest first (default 100, at most 1,000). */
  limit?: number;
}

export interface ErasuresPage {
  erasures: ErasureRecord[];
  /** Pass as `before` for the next (older) page; null on the last one. */
  nextBefore: number | null;
}

/**
 * Records an erasure before its runs are deleted. A retry of the same erasure (a run already in
 * the lead's latest record) answers that record, with any runs it lacked added, so a request
 * that failed half way and is sent again keeps one record.
 */
export const recordErasureUpdate = defineUpdate<ErasureRecord, [RecordErasureRequest]>('recordErasure');

export const erasuresQuery = defineQuery<ErasuresPage, [ErasuresRequest?]>('erasures');

export const ERASURES_PAGE_DEFAULT = 100;
export const ERASURES_PAGE_MAX = 1_000;

/**
 * Adds an erasure to the log (pure; the workflow's handler). A request naming a run already in
 * the lead's latest record is that erasure again (a retry after a failed delete): the record is
 * answered, with the runs it lacked added. Otherwise it is a new record: a lead ID can come back
 * after an erasure (the same Idempotency-Key sent again starts a new lead with the same ID), and
 * erasing that one is a new event. At most `keep` records are kept, the oldest out.
 */
export function appendErasure(log: ErasureRecord[], req: RecordErasureRequest, at: string, keep: number): ErasureRecord {
  let latest: ErasureRecord | undefined;
  for (let i = log.length - 1; i >= 0 && !latest; i--) if (log[i]!.leadId === req.leadId) latest = log[i];
  if (latest && req.erased.some((run) => latest.erased.some((r) => r.runId === run.runId))) {
    for (const run of req.erased) if (!latest.erased.some((r) => r.runId === run.runId)) latest.erased.push({ workflowId: run.workflowId, runId: run.runId });
    return latest;
  }
  const record: ErasureRecord = {
    seq: (log[log.length - 1]?.seq ?? 0) + 1,
    leadId: req.leadId,
    erased: req.erased.map((r) => ({ workflowId: r.workflowId, runId: r.runId })),
    at,
    actor: req.actor,
  };
  log.push(record);
  if (log.length > keep) log.splice(0, log.length - keep);
  return record;
}

/** One page of the log, newest first (pure; the workflow's query). */
export function erasuresPage(log: readonly ErasureRecord[], req: ErasuresRequest = {}): ErasuresPage {
  const limit = Math.min(Math.max(1, Math.floor(req.limit ?? ERASURES_PAGE_DEFAULT)), ERASURES_PAGE_MAX);
  const out: ErasureRecord[] = [];
  let more = false;
  for (let i = log.length - 1; i >= 0; i--) {
    const record = log[i]!;
    if (req.before !== undefined && record.seq >= req.before) continue;
    if (req.leadId !== undefined && record.leadId !== req.leadId) continue;
    if (out.length === limit) {
      more = true;
      break;
    }
    out.push(record);
  }
  return { erasures: out, nextBefore: more ? out[out.length - 1]!.seq : null };
}
