import { z } from 'zod';
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
 * Operation name → the schema of its normalized result. Each operation's input:
 * - `crm.findAccounts` `{ domain }`; `crm.findAccountsByDomains` `{ domains }` (optional: one call for several)
 * - `crm.findLead` `{ email }` (optional: CRMs without upsert are searched first)
 * - `crm.createLead` `{ lead, ownerId, idempotencyKey }`; `crm.updateLeadOwner` `{ crmLeadId, ownerId, idempotencyKey, lead? }`
 * - `hris.findEmployees` `{ emails }`; `hris.timeOff` `{ emails, startDate, endDate }` (optional, YYYY-MM-DD)
 * - `calendar.availability` `{ emails, start, end }` (ISO instants)
 * - `messaging.lookupUser` `{ email }` (optional); `messaging.send` `{ text, accept?, blocks?, recipientEmail?, channelId?, userId?, acceptUrl?, idempotencyKey, title? }`
 *   (`accept` `{ value, text }`: an Accept action with the value the accept route decodes, and the text without the link line)
 * - `messaging.openDirect` `{ userId }` (optional): the DM channel with a user, to read it back
 * - `messaging.findSent` `{ channelId, idempotencyKey, oldest }` (optional, `oldest` an ISO instant): a message
 *   already posted there with that key since `oldest`; a retried send looks first and does not post twice
 * - `enrichment.company` `{ domain }`
 */
export const OPERATION_SCHEMAS = {
  'crm.findAccounts': z.array(AccountSchema),
  'crm.findAccountsByDomains': z.array(AccountsByDomainSchema),
  'crm.findLead': z.array(FoundLeadSchema),
  'hris.findEmployees': z.array(EmployeeSchema),
  'hris.timeOff': z.array(TimeOffEntrySchema),
  'calendar.availability': z.array(CalendarSchema),
  'crm.createLead': WriteSchema,
  'crm.updateLeadOwner': WriteSchema,
  'messaging.lookupUser': MessagingUserSchema,
  'messaging.send': MessageSchema,
  'messaging.openDirect': DirectChannelSchema,
  'messaging.findSent': SentMessageSchema,
  'enrichment.company': EnrichmentSchema,
} as const;

/** Operations each connection category must define; the optional ones are used when present. */
export const REQUIRED_OPERATIONS = {
  crm: ['crm.findAccounts', 'crm.createLead', 'crm.updateLeadOwner'],
  hris: ['hris.findEmployees'],
  calendar: ['calendar.availability'],
  messaging: ['messaging.send'],
  enrichment: ['enrichment.company'],
} as const;
