import { z } from 'zod';
import type { SandboxFault, SandboxLatency, SandboxSystem, SandboxWorkspace } from './types';
import { HttpError } from './wire';

export const SYSTEMS = [
  'crm',
  'hris',
  'calendar',
  'messaging',
  'enrichment',
  'auth',
  'ads',
] as const satisfies readonly SandboxSystem[];

const systemSchema = z.enum(SYSTEMS);
/** Optional string a client may also send as null ("no value"); empty strings count as absent. */
const optionalText = z.string().nullish();

export const createLeadBody = z.object({
  email: z.email(),
  first_name: optionalText,
  last_name: optionalText,
  company: optionalText,
  owner_id: z.string().min(1),
  source: optionalText,
  title: optionalText,
  phone: optionalText,
});

export const updateLeadBody = z.object({ owner_id: z.string().min(1) });

export const createMessageBody = z
  .object({
    recipient_email: z.email().exactOptional(),
    channel_id: z.string().min(1).exactOptional(),
    text: z.string().min(1),
    blocks: z.array(z.unknown()).exactOptional(),
  })
  .refine((b) => b.recipient_email !== undefined || b.channel_id !== undefined, {
    message: 'one of recipient_email or channel_id is required',
    path: ['recipient_email'],
  });

export const faultSchema = z.object({
  system: systemSchema.exactOptional(),
  provider: z.string().min(1).exactOptional(),
  method: z.string().min(1).exactOptional(),
  pathPrefix: z.string().startsWith('/').exactOptional(),
  status: z.number().int().min(200).max(599),
  headers: z.record(z.string(), z.string()).exactOptional(),
  body: z.unknown().optional(),
  // Defaulting to one keeps the common "fail the next call" case a one-field body.
  times: z.number().int().positive().default(1),
}) satisfies z.ZodType<SandboxFault>;

export const latencySchema = z.partialRecord(
  systemSchema,
  z.object({ baseMs: z.number().min(0), jitterMs: z.number().min(0) }),
) satisfies z.ZodType<SandboxLatency>;

const timeOffSchema = z.object({
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }),
  type: z.enum(['PTO', 'SICK', 'HOLIDAY', 'OTHER']),
});

export const workspaceSchema = z.object({
  id: z.string().min(1),
  token: z.string().min(1),
  accounts: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string(),
      domains: z.array(z.string()),
      website: z.string().exactOptional(),
      ownerId: z.string().min(1),
      industry: z.string().exactOptional(),
      country: z.string().exactOptional(),
      custom: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).exactOptional(),
    }),
  ),
  users: z.array(z.object({ id: z.string().min(1), email: z.string(), name: z.string() })),
  employees: z.array(
    z.object({
      id: z.string().min(1),
      email: z.string(),
      name: z.string(),
      status: z.enum(['ACTIVE', 'INACTIVE', 'TERMINATED']),
      timezone: z.string(),
      managerId: z.string().exactOptional(),
      timeOff: z.array(timeOffSchema),
    }),
  ),
  busy: z.array(
    z.object({
      email: z.string(),
      start: z.iso.datetime({ offset: true }),
      end: z.iso.datetime({ offset: true }),
    }),
  ),
  companies: z.array(
    z.object({
      domain: z.string().min(1),
      name: z.string(),
      industry: z.string(),
      sector: z.string(),
      country: z.string(),
      countryCode: z.string(),
      state: z.string().exactOptional(),
      employees: z.number(),
      employeesRange: z.string(),
      annualRevenue: z.number().exactOptional(),
    }),
  ),
  rateLimit: z
    .object({ limit: z.number().int().positive(), windowSeconds: z.number().positive() })
    .exactOptional(),
  oauth: z
    .object({
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      refreshToken: z.string().min(1),
      accessTokenTtlSeconds: z.number().int().positive().exactOptional(),
    })
    .exactOptional(),
}) satisfies z.ZodType<SandboxWorkspace>;

/** Parses `input` or throws a 400 VALIDATION naming the first offending field. */
export function parseBody<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new HttpError(400, 'VALIDATION', `${field}: ${issue?.message ?? 'invalid'}`);
}
