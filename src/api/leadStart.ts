import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { businessClock } from '../clock';
import { normalizeLead } from '../domain/lead';
import type { LeadInput } from '../domain/leadSchema';
import type { RouteLeadInput } from '../domain/leadState';
import { leadWorkflowId } from '../protocol/ids';
import { laneOf, PRIORITY_KEYS } from '../domain/lane';
import { LeadDomain, LeadLane, LeadTenant, RoutingStatus } from '../temporal/searchAttributes';
import { DEFAULT_INTAKE } from './admission';
import { routeLead } from '../../workflows';
import type { ApiContext } from './context';
import { runUrl } from './context';
import { refuseErased } from './erasedLead';
import { ApiError } from './errors';
import { leadIdFor, newKey, payloadHash } from './ids';
import { leadSearchAttributes } from './searchAttributes';

export interface LeadStartAnswer {
  leadId: string;
  workflowId: string;
  statusUrl: string;
  webUiUrl: string | null;
}

export interface LeadStartOptions {
  /**
   * The lead's idempotency key (its ID derives from the tenant and this key). Absent, a random
   * key: the lead is new by construction and no duplicate check is made.
   */
  idempotencyKey?: string;
  /**
   * What a key already used for another body means. `reject` (POST /v1/leads): 409, the client
   * reused its key by mistake. `same-lead` (lead sources): the key is the provider's event ID,
   * so any delivery of that event is the same lead, even if a mapping changed in between.
   */
  onKeyReuse: 'reject' | 'same-lead';
}

export interface LeadStartResult {
  answer: LeadStartAnswer;
  /** True when the key's lead already existed: nothing was started. */
  replayed: boolean;
}

/**
 * Starts a lead's routing workflow: the one way a lead enters routing, shared by POST /v1/leads
 * and the lead sources. The same idempotency key finds the same run and starts nothing: the
 * workflow ID is described first, and two submissions racing each other both try to start it
 * with the ID conflict policy FAIL (REJECT_DUPLICATE once closed), so only one starts.
 */
export async function startLead(ctx: ApiContext, tenantId: string, lead: LeadInput, options: LeadStartOptions): Promise<LeadStartResult> {
  const keyed = options.idempotencyKey !== undefined;
  const idempotencyKey = options.idempotencyKey ?? newKey();
  const leadId = leadIdFor(tenantId, idempotencyKey);
  const workflowId = leadWorkflowId(tenantId, leadId);
  const hash = payloadHash(lead);
  const answer: LeadStartAnswer = { leadId, workflowId, statusUrl: `/v1/leads/${leadId}`, webUiUrl: runUrl(ctx, workflowId) };

  const duplicate = async (): Promise<boolean> => {
    try {
      const described = await ctx.client.workflow.getHandle(workflowId).describe();
      if (options.onKeyReuse === 'reject' && described.memo?.['payloadHash'] !== hash) {
        throw new ApiError(409, 'idempotency_key_reused', `Idempotency key was already used for a different lead (${leadId})`, { leadId });
      }
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };

  if (keyed && (await duplicate())) return { answer, replayed: true };
  // Not in Temporal: new, or erased. An erased lead's key never starts it again (a provider's
  // redelivery of its event, a retried POST): its erasure record is the tombstone.
  if (keyed) await refuseErased(ctx, tenantId, leadId);

  const lane = laneOf(lead);
  if (ctx.admission) {
    const intake = ctx.tenants.get(tenantId)?.intake;
    const limits = { maxQueuedLeads: intake?.maxQueuedLeads ?? DEFAULT_INTAKE.maxQueuedLeads, bulkInFlight: intake?.bulkInFlight ?? DEFAULT_INTAKE.bulkInFlight };
    const answer = await ctx.admission.admit(tenantId, lane, limits);
    if (!answer.admitted) {
      const what = answer.limitName === 'bulkInFlight' ? `${answer.queued} bulk leads are queued (the bulk window is ${answer.limit})` : `${answer.queued} leads are queued (the limit is ${answer.limit})`;
      throw new ApiError(
        429,
        'too_many_queued',
        `Tenant ${tenantId} has too much routing waiting: ${what}; retry after ${answer.retryAfterSeconds} s${keyed ? ' with the same Idempotency-Key' : ''}. Nothing was started.`,
        { lane, queued: answer.queued, limit: answer.limit, limitName: answer.limitName },
        answer.retryAfterSeconds,
      );
    }
  }

  const normalized = normalizeLead(lead);
  const input: RouteLeadInput = { leadId, tenantId, lead, receivedAt: new Date((ctx.clock ?? businessClock).now()).toISOString(), idempotencyKey };
  try {
    // With a worker in this process, its connection starts the lead eagerly: the first workflow
    // task comes back in the start's answer, with no trip through the task queue.
    await (ctx.eagerStartClient ?? ctx.client).workflow.start(routeLead, {
      workflowId,
      taskQueue: ctx.taskQueue,
      args: [input],
      ...(ctx.eagerStartClient ? { requestEagerStart: true } : {}),
      // The lane's task priority: its workflow and activity tasks go ahead of (or behind) other leads'.
      priority: { priorityKey: PRIORITY_KEYS[lane] },
      // A concurrent duplicate fails here and gets the duplicate check below; a finished lead is never restarted.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { payloadHash: hash },
      // No contact details: the summary shows in `temporal workflow describe` and the Web UI's list.
      staticSummary: `Lead ${leadId} from ${normalized.source} for ${tenantId}`,
      typedSearchAttributes: [
        { key: LeadTenant, value: tenantId },
        { key: LeadDomain, value: normalized.companyDomain ?? normalized.emailDomain },
        { key: RoutingStatus, value: 'received' },
        { key: LeadLane, value: lane },
        ...leadSearchAttributes(tenantId, normalized),
      ],
    });
    ctx.admission?.started(tenantId, lane);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Lost a race with the same key: the first answer (or, for POST /v1/leads, 409 for another body).
    await duplicate();
    return { answer, replayed: true };
  }
  return { answer, replayed: false };
}
