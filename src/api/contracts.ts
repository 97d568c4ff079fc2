import { z } from 'zod';
import { EmailSchema, line, text } from '../domain/input';
import { LeadInputSchema } from '../domain/leadSchema';
import { ID_PATTERN } from '../distribution/model';

/*
 * The API's request contracts: every query and body a route parses, in one place. Routes parse
 * with these (parseRequest: a 400 naming each bad field), GET /v1/openapi.json publishes them as
 * JSON Schema (src/api/openapi.ts), and the console's client types its requests from them
 * (z.input for what it sends, z.infer for what the API reads). Answer shapes the console relies
 * on are described here too, for the document; the routes build those answers themselves.
 */

/**
 * An ISO 8601 instant whose UTC form is an RFC 3339 time (years 0001-9999): an offset can push
 * 9999-12-31T23:59-23:59 into year 10000, which the visibility store refuses.
 */
export const Instant = z.iso
  .datetime({ offset: true })
  .refine((v) => {
    const year = new Date(v).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }, 'must fall between the years 0001 and 9999 in UTC');

/** Where a lead came from (`LeadInput.source`). */
export const LeadSourceSchema = LeadInputSchema.shape.source.unwrap();

/** `POST /v1/leads`: the lead as a client submits it (src/domain/leadSchema.ts). */
export const LeadCreateBody = LeadInputSchema;

/** PUT /v1/sources/:sourceId/mapping: the tenant's JSONata mapping override for one source (null withdraws it). */
export const SourceMappingBody = z
  .object({
    mapping: z.string().trim().min(1).max(20_000).nullable(),
    note: text(500, { trim: true }).min(1).optional(),
    actor: line(200).min(1).optional(),
  })
  .strict();

/** Opaque paging token: base64url, as the previous answer's `nextPageToken` gave it. */
export const PageToken = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be the nextPageToken of a previous answer');

/**
 * `GET /v1/leads`. Every filter is capped and free of control characters: a NUL would make the
 * visibility store fail. `email` is matched through its keyed hash, never sent anywhere in plain.
 */
export const LeadsListQuery = z
  .object({
    email: EmailSchema.optional(),
    company: line(200).min(1).optional(),
    source: LeadSourceSchema.optional(),
    owner: line(100).min(1).optional(),
    status: z.string().trim().max(32).regex(/^[a-z_]+$/, 'must be a routing status').optional(),
    domain: line(253).min(1).toLowerCase().optional(),
    rule: line(100).min(1).optional(),
    from: Instant.optional(),
    to: Instant.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    pageToken: PageToken.optional(),
  })
  .strict();

/** `POST /v1/session`: console sign-in. */
export const SessionSignInBody = z
  .object({
    email: z.string().trim().toLowerCase().max(254).pipe(z.email()),
    password: z.string().min(1).max(1024),
  })
  .strict();

/** `POST /v1/leads/:leadId/reassign`. `actor` is for API keys only; a signed-in user is the actor themselves. */
export const ReassignBody = z
  .object({
    ownerId: line(100).min(1),
    reason: text(1000, { trim: true }).min(1),
    actor: line(200).min(1).optional(),
  })
  .strict();

/** `POST /v1/leads/:leadId/accept`. */
export const AcceptBody = z.object({ actor: line(200).min(1).optional() }).strict();

/** `GET /v1/leads/:leadId/audit`. */
export const AuditQuery = z.object({ format: z.enum(['json', 'csv']).optional() }).strict();

/** `POST /v1/policy/simulate`: a lead, and optionally a draft policy to try instead of the published one. */
export const SimulateBody = z.object({ lead: LeadInputSchema, policy: z.unknown().optional() }).strict();

/** `GET /v1/pools/:pool/stats`. */
export const PoolStatsQuery = z.object({ period: z.enum(['day', 'week', 'month']).optional() }).strict();

/** `PUT /v1/policy` (the body is the policy, JSON or YAML: see GET /v1/policy/schema). */
export const PublishQuery = z.object({ note: text(500, { trim: true }).optional() }).strict();

/** A policy version as a path segment or in a body: `v3` or `3`. */
export const PolicyVersionRef = z
  .string()
  .trim()
  .regex(/^v?[1-9][0-9]{0,8}$/, 'must be a version such as v3 (or 3)')
  .transform((v) => Number(v.replace(/^v/, '')));

/** `POST /v1/policy/rollback`: publish an earlier version's policy again, as a new version. */
export const RollbackBody = z
  .object({
    version: PolicyVersionRef,
    note: text(500, { trim: true }).optional(),
  })
  .strict();

/** `GET /v1/availability` takes no parameters: the board is always now (business time). */
export const AvailabilityQuery = z.object({}).strict();

/** `POST /v1/leads/:leadId/returns` (a distributed lead). */
export const ReturnBody = z.object({ buyerId: z.string().regex(ID_PATTERN, 'must be a buyer id'), reason: line(200).min(1) }).strict();
/** `POST /v1/leads/:leadId/returns/:buyerId/decision`. */
export const ReturnDecisionBody = z.object({ decision: z.enum(['approve', 'deny']), note: text(500, { trim: true }).optional() }).strict();

/** `PUT /v1/campaigns|suppliers|buyers/:id` (the body is the document). */
export const CatalogPutQuery = z.object({ note: text(500, { trim: true }).optional() }).strict();
/** `POST /v1/buyers/:id/pause|resume`. */
export const PauseBody = z.object({ reason: line(500).optional() }).strict();
/** `GET /v1/buyers|suppliers/:id/stats`: a period, or a date range. */
export const AccountStatsQuery = z
  .object({
    period: z.enum(['day', 'week', 'month', 'all']).optional(),
    from: z.iso.date({ message: 'must be a date YYYY-MM-DD' }).optional(),
    to: z.iso.date({ message: 'must be a date YYYY-MM-DD' }).optional(),
  })
  .strict()
  .refine((q) => !(q.period && (q.from || q.to)), { message: 'give either period or from/to', path: ['period'] })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after to', path: ['from'] });

/** `GET /v1/quarantine`: quarantined source payloads by status and source, a page at a time. */
export const QuarantineListQuery = z
  .object({
    status: z.enum(['held', 'replayed', 'discarded', 'expired']).optional(),
    source: line(100).min(1).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: PageToken.optional(),
  })
  .strict();
/** `POST /v1/quarantine/:id/replay`. `actor` is for API keys only; a signed-in user is the actor themselves. */
export const QuarantineReplayBody = z.object({ actor: line(200).min(1).optional() }).strict();
/** `POST /v1/quarantine/:id/discard`. */
export const QuarantineDiscardBody = z.object({ reason: text(1000, { trim: true }).min(1), actor: line(200).min(1).optional() }).strict();

// ---------------------------------------------------------------------------------------------
// Answers (documentation and the console's types; the routes build them).

/** Every error: `{ error: { code, message, details? } }`. */
export const ErrorAnswer = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.union([z.array(z.object({ field: z.string(), message: z.string() })), z.record(z.string(), z.unknown())]).optional(),
  }),
});

const Iso = z.string().describe('ISO 8601 instant');

/** One row of `GET /v1/leads`: the run's visibility fields, then what the lead's state says (null when it could not be read in time). */
export const LeadRow = z.object({
  leadId: z.string(),
  workflowId: z.string(),
  runStatus: z.string(),
  status: z.string().nullable(),
  owner: z.string().nullable(),
  rule: z.string().nullable(),
  domain: z.string().nullable(),
  startedAt: Iso,
  closedAt: Iso.nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  company: z.string().nullable(),
  source: z.string().nullable(),
  ownerName: z.string().nullable(),
  via: z.string().nullable(),
  ruleId: z.string().nullable(),
  receivedAt: Iso.nullable(),
  routedAt: Iso.nullable(),
  acceptedAt: Iso.nullable(),
  timeToRouteMs: z.number().nullable(),
  timeToAcceptMs: z.number().nullable(),
  sla: z.object({ ownerId: z.string(), dueAt: Iso, escalateAt: Iso, reminded: z.boolean() }).nullable(),
  escalations: z.number().int().nullable(),
});

export const LeadsListAnswer = z.object({
  query: z.string().describe('the visibility query the filters became (the email as its keyed hash)'),
  consistency: z.literal('eventual'),
  leads: z.array(LeadRow),
  nextPageToken: z.string().nullable(),
});

export const AvailabilityAnswer = z.object({
  at: Iso,
  timezone: z.string(),
  policyVersion: z.string(),
  reps: z.array(
    z.object({
      repId: z.string(),
      name: z.string(),
      email: z.string(),
      timezone: z.string(),
      localTime: z.string().describe('YYYY-MM-DDTHH:MM in the rep’s zone'),
      state: z.enum(['available', 'on_leave', 'busy', 'outside_hours', 'capped', 'paused', 'inactive', 'unknown']),
      reasons: z.array(z.object({ code: z.string(), detail: z.string(), until: Iso.nullable() })),
      changesAt: Iso.nullable(),
      pools: z.array(
        z.object({
          poolId: z.string(),
          assigned: z.number().int(),
          cap: z.number().int().nullable(),
          period: z.enum(['day', 'week', 'month']),
          paused: z.boolean(),
          capped: z.boolean(),
          capDetail: z.string(),
        }),
      ),
    }),
  ),
  failures: z.array(z.object({ step: z.string(), type: z.string(), message: z.string() })),
});

export const PublishAnswer = z.object({
  version: z.string(),
  publishedAt: Iso,
  actor: z.string(),
  note: z.string().nullable(),
  warnings: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const PolicyVersionAnswer = z.object({
  version: z.string(),
  policy: z.record(z.string(), z.unknown()).describe('the policy document (GET /v1/policy/schema)'),
  publishedAt: Iso,
  actor: z.string(),
  note: z.string().nullable(),
});

const QuarantineStatusField = z.enum(['held', 'replayed', 'discarded', 'expired']);

/** One row of `GET /v1/quarantine`: visibility fields and the run's memo (null when it could not be read). */
export const QuarantineRow = z.object({
  quarantineId: z.string(),
  workflowId: z.string(),
  sourceId: z.string().nullable(),
  kind: z.string().nullable(),
  status: QuarantineStatusField.nullable(),
  reason: z.string().nullable().describe('why the mapping or the lead schema refused it (shortened)'),
  field: z.string().nullable().describe('the first failing field'),
  fields: z.array(z.string()),
  receivedAt: Iso.nullable(),
  closedAt: Iso.nullable().describe('when it was replayed, discarded or expired'),
});

export const QuarantineListAnswer = z.object({
  query: z.string(),
  consistency: z.literal('eventual'),
  items: z.array(QuarantineRow),
  nextPageToken: z.string().nullable(),
});

/** `GET /v1/quarantine/:id`, and the answer to a discard. */
export const QuarantineAnswer = z.object({
  quarantineId: z.string(),
  workflowId: z.string(),
  webUiUrl: z.string().nullable(),
  sourceId: z.string(),
  kind: z.string(),
  eventId: z.string().nullable(),
  receivedAt: Iso,
  status: QuarantineStatusField,
  reason: z.string(),
  issues: z.array(z.object({ field: z.string(), message: z.string() })),
  expiresAt: Iso,
  replay: z.object({ leadId: z.string(), actor: z.string(), at: Iso }).nullable(),
  discard: z.object({ actor: z.string(), reason: z.string(), at: Iso }).nullable(),
  expiredAt: Iso.nullable(),
  event: z.unknown().describe('the event as the source received it'),
});

export const QuarantineReplayAnswer = z.object({
  quarantineId: z.string(),
  leadId: z.string(),
  statusUrl: z.string(),
  replayed: z.object({ actor: z.string(), at: Iso }),
});

export type LeadsListQueryInput = z.input<typeof LeadsListQuery>;
export type QuarantineRowType = z.infer<typeof QuarantineRow>;
export type LeadsListAnswerType = z.infer<typeof LeadsListAnswer>;
export type LeadRowType = z.infer<typeof LeadRow>;
export type AvailabilityAnswerType = z.infer<typeof AvailabilityAnswer>;
export type RollbackBodyInput = z.input<typeof RollbackBody>;
export type ReassignBodyInput = z.input<typeof ReassignBody>;
export type SimulateBodyInput = z.input<typeof SimulateBody>;

// ---------------------------------------------------------------------------------------------
// Erasure (src/api/routes/erase-lead.ts).

/** `GET /v1/erasures`: the tenant's erasure log, newest first, a page at a time. */
export const ErasuresQuery = z
  .object({
    leadId: z.string().regex(/^(ld|dl)_[a-f0-9]{24}$/, 'must be a lead ID (ld_… or dl_…)').optional(),
    before: z.coerce.number().int().min(1).optional().describe('the previous page’s nextBefore'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** What an erasure deleted, when and by whom: IDs only, never the lead’s personal data. */
export const ErasureAnswer = z.object({
  leadId: z.string(),
  erased: z.array(z.object({ workflowId: z.string(), runId: z.string() })).describe('every run deleted from Temporal (history and visibility)'),
  at: z.string().describe('ISO 8601 instant the erasure was recorded'),
  actor: z.string().describe('who asked: the console user’s email, X-Actor for an API key, else api-key:<tenant>'),
});

export const ErasuresAnswer = z.object({
  erasures: z.array(ErasureAnswer.extend({ seq: z.number().int() })),
  nextBefore: z.number().int().nullable().describe('pass as before for the next, older page; null on the last'),
});
