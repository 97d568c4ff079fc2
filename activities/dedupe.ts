import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { dedupeKeys, dedupeSecret } from '../src/distribution/dedupe';
import type { FieldSpec } from '../src/distribution/model';
import type { LeadFields } from '../src/distribution/plan';
import { dedupeWorkflowId } from '../src/protocol/ids';
import { dedupeMark } from '../workflows';
import { releaseMarkSignal } from '../workflows/dedupeMark';
import { cancellable } from './context';

export interface DedupeScope {
  /** `campaign:<id>` or `buyer:<id>`. */
  scope: string;
  fields: string[];
  match: 'all' | 'any';
  days: number;
}

export interface DedupeRequest {
  tenantId: string;
  leadId: string;
  scope: DedupeScope;
  fieldSpecs: Record<string, FieldSpec>;
  lead: LeadFields;
}

/** A claim's answer: the marks this lead now holds, or the lead that already holds one. */
export type DedupeClaim = { duplicate: false; keys: string[] } | { duplicate: true; heldBy: string | null; keys: string[] };

export interface DedupeActivityDeps {
  temporal: Client;
  entityTaskQueue: string;
  env?: Record<string, string | undefined>;
}

const DAY_MS = 86_400_000;

/**
 * Dedupe windows held as marks (workflows/dedupeMark.ts): claiming a person is starting the mark's
 * workflow, which fails while another lead holds it. Checking is a describe (no side effect).
 */
export function createDedupeActivities(deps: DedupeActivityDeps) {
  const { temporal } = deps;
  const secret = () => dedupeSecret(deps.env ?? process.env);
  const keysOf = (req: DedupeRequest) => dedupeKeys(secret(), req.scope.scope, req.scope, req.fieldSpecs, req.lead);
  const holder = async (tenantId: string, scope: string, key: string): Promise<string | null | undefined> => {
    try {
      const description = await cancellable(temporal, () => temporal.workflow.getHandle(dedupeWorkflowId(tenantId, scope, key)).describe());
      if (description.status.name !== 'RUNNING') return undefined;
      const leadId = description.memo?.['leadId'];
      return typeof leadId === 'string' ? leadId : null;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };

  const release = async (tenantId: string, scope: string, keys: string[], leadId: string) => {
    await Promise.all(
      keys.map((key) =>
        cancellable(temporal, () => temporal.workflow.getHandle(dedupeWorkflowId(tenantId, scope, key)).signal(releaseMarkSignal, { leadId })).catch((err) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }),
      ),
    );
  };

  /** Claims the person for this lead in the scope's window; a person another lead holds is a duplicate. Idempotent by lead. */
  const claim = async (req: DedupeRequest, attempt = 0): Promise<DedupeClaim> => {
    const keys = keysOf(req);
    const claimed: string[] = [];
    for (const key of keys) {
      try {
        await cancellable(temporal, () =>
          temporal.workflow.start(dedupeMark, {
            workflowId: dedupeWorkflowId(req.tenantId, req.scope.scope, key),
            taskQueue: deps.entityTaskQueue,
            args: [{ leadId: req.leadId, windowMs: req.scope.days * DAY_MS }],
            memo: { leadId: req.leadId },
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          }),
        );
        claimed.push(key);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const heldBy = await holder(req.tenantId, req.scope.scope, key);
        // A retried claim of this lead's own mark, or a mark that ended in between.
        if (heldBy === req.leadId) {
          claimed.push(key);
          continue;
        }
        if (heldBy === undefined && attempt < 3) {
          await release(req.tenantId, req.scope.scope, claimed, req.leadId);
          return claim(req, attempt + 1);
        }
        await release(req.tenantId, req.scope.scope, claimed, req.leadId);
        return { duplicate: true, heldBy: heldBy ?? null, keys };
      }
    }
    return { duplicate: false, keys: claimed };
  };

  return {
    claimDedupe: (req: DedupeRequest) => claim(req),

    /** Whether another lead holds the person in each scope, without claiming (for screening). */
    async checkDedupe(input: { tenantId: string; leadId: string; scopes: DedupeScope[]; fieldSpecs: Record<string, FieldSpec>; lead: LeadFields }): Promise<Record<string, string | null | false>> {
      const out: Record<string, string | null | false> = {};
      await Promise.all(
        input.scopes.map(async (scope) => {
          const keys = dedupeKeys(secret(), scope.scope, scope, input.fieldSpecs, input.lead);
          const holders = await Promise.all(keys.map((key) => holder(input.tenantId, scope.scope, key)));
          const other = holders.find((h) => h !== undefined && h !== input.leadId);
          out[scope.scope] = other === undefined ? false : other;
        }),
      );
      return out;
    },

    /** Gives back marks this lead holds (a buyer that did not take the lead). */
    async releaseDedupe(input: { tenantId: string; leadId: string; scope: string; keys: string[] }): Promise<void> {
      await release(input.tenantId, input.scope, input.keys, input.leadId);
    },
  };
}
