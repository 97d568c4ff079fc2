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
export const EmployeeSchema = z.object({
  email: z.string(),
  employmentStatus: z.enum(['ACTIVE', 'INACTIVE', 'TERMINATED']),
  timezone: z.string().nullable(),
  timeOff: z.array(z.object({ start: z.string(), end: z.string(), type: z.string() })),
});
export const CalendarSchema = z.object({
  email: z.string(),
  busy: z.array(z.object({ start: z.string(), end: z.string() })),
});
export const WriteSchema = z.object({ crmLeadId: z.string(), ownerId: z.string() });
export const MessageSchema = z.object({ messageId: z.string(), channel: z.string().nullable() });
export const EnrichmentSchema = z.custom<EnrichmentFacts>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'string',
  'must be an enrichment result with a status',
);

/** Operation name → the schema of its normalized result. */
export const OPERATION_SCHEMAS = {
  'crm.findAccounts': z.array(AccountSchema),
  'hris.findEmployees': z.array(EmployeeSchema),
  'calendar.availability': z.array(CalendarSchema),
  'crm.createLead': WriteSchema,
  'crm.updateLeadOwner': WriteSchema,
  'messaging.send': MessageSchema,
  'enrichment.company': EnrichmentSchema,
} as const;
