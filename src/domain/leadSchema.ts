import { z } from 'zod';

/**
 * The lead as a client submits it. `.strict()` so a misspelt field is an error naming it, not a
 * silently dropped value. Custom fields go in `attributes`.
 */
export const LeadInputSchema = z
  .object({
    externalId: z.string().trim().min(1).max(200).optional(),
    source: z.enum(['form', 'webhook', 'product', 'import', 'api', 'chat', 'event']).default('api'),
    email: z.string().trim().toLowerCase().pipe(z.email({ message: 'must be a valid email address' })),
    firstName: z.string().trim().max(100).optional(),
    lastName: z.string().trim().max(100).optional(),
    company: z.string().trim().max(200).optional(),
    website: z.string().trim().max(300).optional(),
    phone: z.string().trim().max(50).optional(),
    title: z.string().trim().max(200).optional(),
    country: z.string().trim().max(100).optional(),
    message: z.string().max(5000).optional(),
    attributes: z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
  })
  .strict();

export type LeadInput = z.infer<typeof LeadInputSchema>;
