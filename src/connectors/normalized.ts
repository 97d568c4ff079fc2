import { z } from 'zod';
import type { NormalizedLead } from '../domain/lead';
import type { EnrichmentFacts } from '../domain/routing';

/**
 * The normalized shape each operation's mapping must produce, whatever the provider: a
 * mapping that drifts fails loudly as a MappingError naming the path, not deep in a workflow.
 */
// Accounts keep extra keys: that is where tenant-mapped custom fields (territory, tier) arrive.
export const AccountSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  ownerId: z.string(),
  domains: z.array(z.string()),
  website: z.string().nullable(),
});
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/**
 * Time off as instants, or as whole days (`allDay`: `YYYY-MM-DD`, end inclusive, in the
 * employee's time zone) when the HRIS only knows dates (BambooHR, HiBob): the activity turns
 * those into instants with the rep's zone.
 */
const TimeOffSchema = z
  .object({ start: z.string(), end: z.string(), type: z.string(), allDay: z.boolean().optional() })
  .refine((t) => !t.allDay || (DATE.test(t.start) && DATE.test(t.end)), 'all-day time off needs YYYY-MM-DD dates');
export const EmployeeSchema = z.object({
  /** The HRIS's own ID, when a separate time-off operation refers to employees by it. */
  id: z.string().optional(),
  email: z.string(),
  employmentStatus: z.enum(['ACTIVE', 'INACTIVE', 'TERMINATED']),
  timezone: z.string().nullable(),
  timeOff: z.array(TimeOffSchema),
});
/** A separate who's-out answer (BambooHR, HiBob): merged into employees by ID or email. */
export const TimeOffEntrySchema = z
  .object({ employeeId: z.string().optional(), email: z.string().optional() })
  .and(TimeOffSchema);
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
export const CalendarSchema = z.object({
  email: z.string(),
  busy: z.array(z.object({ start: z.string(), end: z.string() })),
  /** Working hours the calendar itself states (Microsoft Graph): they win over configured hours. */
  workingHours: z
    .object({ days: z.array(z.number().int().min(1).max(7)), start: z.string().regex(HHMM), end: z.string().regex(HHMM), timezone: z.string() })
    .nullable()
    .optional(),
  /** The calendar could not be read (Google's per-calendar `notFound`): availability unknown, not free. */
  error: z.string().optional(),
});
export const WriteSchema = z.object({
  crmLeadId: z.string(),
  ownerId: z.string(),
  /** False when an upsert found the record already there (a retried write): no second record. */
  created: z.boolean().optional(),
});
/** An existing CRM record for the lead's email (CRMs without upsert: find, then create or update). */
export const FoundLeadSchema = z.object({ crmLeadId: z.string(), ownerId: z.string().nullable() });
/** Several domains in one call (Salesforce composite): accounts per domain. */
export const AccountsByDomainSchema = z.object({ domain: z.string(), accounts: z.array(AccountSchema) });
export const MessageSchema = z.object({ messageId: z.string(), channel: z.string().nullable() });
/** A messaging user looked up by email (Slack `users.lookupByEmail`), to message them directly. */
export const MessagingUserSchema = z.object({ userId: z.string() });
/** The direct-message conversation with a user (Slack `conversations.open`): where their DMs can be read back. */
export const DirectChannelSchema = z.object({ channelId: z.string().min(1) });
/** A message this connection already posted with an idempotency key (Slack message metadata), or null. */
export const SentMessageSchema = z.object({ messageId: z.string().min(1).nullable() });
export const EnrichmentSchema = z.custom<EnrichmentFacts>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'string',
  'must be an enrichment result with a status',
);

/**
 * One operation's entry in the table: the schema its mapped response must fit, and (a type
 * only, nothing at run time) the input its request expressions read.
 */
export interface OperationSpec<Input, Output extends z.ZodType> {
  readonly output: Output;
  /** Never set: carries the input type. */
  readonly input?: Input;
}

function operation<Input>(): <Output extends z.ZodType>(output: Output) => OperationSpec<Input, Output> {
  return (output) => ({ output });
}

/** A CRM write: the owner, and the key that makes a retried write a replay. */
interface LeadWrite {
  ownerId: string;
  idempotencyKey: string;
}
/**
 * The lead a CRM write carries: its email and whichever normalized fields it has (activities
 * send the whole lead; definitions and tenant mappings read the fields they need).
 */
type CrmLead = Pick<NormalizedLead, 'email'> & Partial<NormalizedLead>;

/**
 * A message to send. `accept` `{ value, text }`: an Accept action with the value the accept
 * route decodes, and the text without the link line. The definition lays it out (Slack Block
 * Kit, a Teams card); `blocks`, when given, go as they are.
 */
interface MessageInput {
  text: string;
  idempotencyKey: string;
  accept?: { value: string; text: string };
  blocks?: unknown;
  recipientEmail?: string;
  channelId?: string;
  userId?: string;
  acceptUrl?: string;
  title?: string;
}

/**
 * The operations a provider definition can implement: each one's input and the schema of its
 * normalized result. The optional ones are used when the provider defines them.
 */
export const OPERATIONS = {
  'crm.findAccounts': operation<{ domain: string }>()(z.array(AccountSchema)),
  /** Optional: one call for several domains. */
  'crm.findAccountsByDomains': operation<{ domains: string[] }>()(z.array(AccountsByDomainSchema)),
  /** Optional: CRMs without upsert are searched first. */
  'crm.findLead': operation<{ email: string }>()(z.array(FoundLeadSchema)),
  'hris.findEmployees': operation<{ emails: string[] }>()(z.array(EmployeeSchema)),
  /** Optional; dates as YYYY-MM-DD. */
  'hris.timeOff': operation<{ emails: string[]; startDate: string; endDate: string }>()(z.array(TimeOffEntrySchema)),
  /** `start` and `end` are ISO instants. */
  'calendar.availability': operation<{ emails: string[]; start: string; end: string }>()(z.array(CalendarSchema)),
  'crm.createLead': operation<LeadWrite & { lead: CrmLead }>()(WriteSchema),
  'crm.updateLeadOwner': operation<LeadWrite & { crmLeadId: string; lead?: CrmLead }>()(WriteSchema),
  /** Optional. */
  'messaging.lookupUser': operation<{ email: string }>()(MessagingUserSchema),
  'messaging.send': operation<MessageInput>()(MessageSchema),
  /** Optional: the DM channel with a user, to read it back. */
  'messaging.openDirect': operation<{ userId: string }>()(DirectChannelSchema),
  /**
   * Optional (`oldest` an ISO instant): a message already posted there with that key since
   * `oldest`; a retried send looks first and does not post twice.
   */
  'messaging.findSent': operation<{ channelId: string; idempotencyKey: string; oldest: string }>()(SentMessageSchema),
  'enrichment.company': operation<{ domain: string }>()(EnrichmentSchema),
} as const;

export type OperationName = keyof typeof OPERATIONS;
export type OperationInput<Op extends OperationName> = (typeof OPERATIONS)[Op] extends OperationSpec<infer Input, z.ZodType> ? Input : never;
export type OperationOutput<Op extends OperationName> = z.output<(typeof OPERATIONS)[Op]['output']>;

/** The schema an operation's mapped response must fit. */
export function outputSchema<Op extends OperationName>(op: Op): z.ZodType<OperationOutput<Op>> {
  const table: { readonly [K in OperationName]: OperationSpec<OperationInput<K>, z.ZodType<OperationOutput<K>>> } = OPERATIONS;
  return table[op].output;
}

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}

/** Operations each connection category must define; the optional ones are used when present. */
export const REQUIRED_OPERATIONS = {
  crm: ['crm.findAccounts', 'crm.createLead', 'crm.updateLeadOwner'],
  hris: ['hris.findEmployees'],
  calendar: ['calendar.availability'],
  messaging: ['messaging.send'],
  enrichment: ['enrichment.company'],
} as const satisfies Record<string, readonly OperationName[]>;
