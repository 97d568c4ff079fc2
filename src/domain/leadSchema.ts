import { z } from 'zod';
import { EmailSchema, key, line, text } from './input';

/** Custom fields: a flat map of at most this many entries. */
const MAX_ATTRIBUTES = 100;

/**
 * The lead as a client submits it. `.strict()` so a misspelt field is an error naming it, not a
 * silently dropped value. Custom fields go in `attributes`. Every string has a length cap and no
 * control characters (see ./input): what passes here is safe for search attributes and upstreams.
 * Prototype keys (`attributes.__proto__`) are refused before parsing: a record would drop them.
 */
export const LeadInputSchema = z
  .object({
    externalId: line(200).min(1).optional(),
    source: z.enum(['form', 'webhook', 'product', 'import', 'api', 'chat', 'event']).default('api'),
    /**
     * How soon the lead must be worked on, when the source alone does not say (see
     * src/domain/lane.ts): `high` takes the interactive lane, `bulk` the throttled bulk lane.
     */
    priority: z.enum(['high', 'normal', 'bulk']).optional(),
    email: EmailSchema,
    firstName: line(100).optional(),
    lastName: line(100).optional(),
    company: line(200).optional(),
    website: line(300).optional(),
    phone: line(50).optional(),
    title: line(200).optional(),
    country: line(100).optional(),
    message: text(5000).optional(),
    attributes: z
      .record(key(100), z.union([text(2000), z.number(), z.boolean(), z.null()]))
      .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, `must have at most ${MAX_ATTRIBUTES} entries`)
      .optional(),
  })
  .strict();

export type LeadInput = z.infer<typeof LeadInputSchema>;
