import { z } from 'zod';
import { PROVIDER_IDS } from '../connectors/providers';
import { isTimeZone } from '../domain/availability';
import { TemplateMapSchema } from '../distribution/templateSchema';
import { CONSOLE_ROLES, parsePasswordHash } from '../console/users';

/** A credential reference: configuration names where a secret lives, never the secret itself. */
export const SecretRefSchema = z.union([
  z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name') }).strict(),
  /**
   * A file holding the secret (a mounted Kubernetes or Docker secret), read at each use: a
   * rotated refresh token written there is picked up without a restart.
   */
  z.object({ file: z.string().min(1) }).strict(),
  /** Inline values exist for generated, in-memory configuration (the sandbox); files should use `env`. */
  z.object({ value: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof SecretRefSchema>;

/** The provider IDs come from the platform definitions: a provider is one a connection can name once it has a definition. */

/** An OAuth 2.0 connection's client and grant (Salesforce, HubSpot, Google, Microsoft). */
const OAuthSettingsSchema = z
  .object({
    /** The provider's token endpoint (default: the base URL + the provider's token path). */
    tokenUrl: z.url().optional(),
    clientId: SecretRefSchema,
    clientSecret: SecretRefSchema,
    /** The refresh token granted when an admin authorized the connection. */
    refreshToken: SecretRefSchema,
    /** Space-separated scopes to ask for on refresh (Microsoft needs them; others keep the grant's). */
    scope: z.string().min(1).optional(),
  })
  .strict();

export const ConnectionSchema = z
  .object({
    id: z.string().min(1),
    provider: z.enum(PROVIDER_IDS),
    baseUrl: z.url(),
    accountId: z.string().min(1).optional(),
    /** API key, token or signing secret; OAuth connections use `oauth` instead. */
    secret: SecretRefSchema.optional(),
    oauth: OAuthSettingsSchema.optional(),
    /** Tenant-level mapping overrides, deep-merged over the platform and environment definitions. */
    mappings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type Connection = z.infer<typeof ConnectionSchema>;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');

export const WorkingHoursSchema = z
  .object({
    days: z.array(z.number().int().min(1).max(7)).min(1),
    start: HHMM,
    end: HHMM,
  })
  .strict()
  // Hours are one span within a day: 22:00-06:00 would otherwise pass and mean "never working".
  .refine((h) => h.start < h.end, { path: ['end'], message: 'must be later than start (hours are one span within a day; an overnight shift is not supported)' });

const DEFAULT_HOURS = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

export const TeamMemberSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    email: z.email().transform((e) => e.toLowerCase()),
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone'),
    workingHours: WorkingHoursSchema.default(DEFAULT_HOURS),
    managerId: z.string().min(1).optional(),
  })
  .strict();

export const RoutingSettingsSchema = z
  .object({
    team: z.array(TeamMemberSchema).min(1),
    pool: z.object({ id: z.string().min(1), members: z.array(z.string().min(1)).min(1) }).strict(),
    fallback: z
      .object({ ownerId: z.string().min(1), label: z.string().min(1), notifyChannel: z.string().min(1).nullable().default(null) })
      .strict(),
    holdOpenSeconds: z.number().int().min(0).max(30 * 24 * 3600).default(3600),
    /** The tenant's time zone: calendar periods of the built-in default policy. */
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone').default('UTC'),
    /** Most seconds enrichment may take (retries included) before routing goes on without it. */
    enrichmentBudgetSeconds: z.number().int().min(1).max(120).default(12),
  })
  .strict()
  .superRefine((r, ctx) => {
    const ids = new Set(r.team.map((m) => m.id));
    r.pool.members.forEach((m, i) => {
      if (!ids.has(m)) ctx.addIssue({ code: 'custom', path: ['pool', 'members', i], message: `${m} is not on the team` });
    });
  });

/** A person who signs in to the operations console; the email is unique across every tenant. */
export const ConsoleUserSchema = z
  .object({
    email: z.email().transform((e) => e.toLowerCase()),
    name: z.string().trim().min(1).max(200),
    role: z.enum(CONSOLE_ROLES),
    /** `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`: made by `npx tsx scripts/hash-password.ts`. */
    passwordHash: z.string().superRefine((value, ctx) => {
      const parsed = parsePasswordHash(value);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
    }),
  })
  .strict();
export type ConsoleUser = z.infer<typeof ConsoleUserSchema>;

export const ConsoleSettingsSchema = z
  .object({ users: z.array(ConsoleUserSchema) })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.users.forEach((u, i) => {
      if (seen.has(u.email)) ctx.addIssue({ code: 'custom', path: ['users', i, 'email'], message: `${u.email} is listed twice` });
      seen.add(u.email);
    });
  });

/**
 * Payload encryption keys by reference (each 32 random bytes in base64): the active key encrypts
 * new payloads, every listed key still decrypts, so a key is rotated by adding the new one as
 * active and keeping the old one as long as histories encrypted with it are kept.
 */
export const EncryptionSettingsSchema = z
  .object({
    activeKey: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a key ID (letters, digits, . _ -)'),
    keys: z.array(z.object({ id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a key ID (letters, digits, . _ -)'), secret: SecretRefSchema }).strict()).min(1),
  })
  .strict()
  .superRefine((e, ctx) => {
    const seen = new Set<string>();
    e.keys.forEach((k, i) => {
      if (seen.has(k.id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: `key ${k.id} is listed twice` });
      seen.add(k.id);
    });
    if (!seen.has(e.activeKey)) ctx.addIssue({ code: 'custom', path: ['activeKey'], message: `${e.activeKey} is not one of the listed keys` });
  });

/** The kinds of lead source (src/sources/kinds): each verifies its provider's own signature scheme. */
export const SOURCE_KINDS = ['hubspot', 'typeform', 'segment', 'meta', 'marketo', 'calendly', 'calcom', 'generic'] as const;

/**
 * A lead source: where leads arrive from (a form tool, marketing automation, an ad platform), at
 * `POST /v1/sources/src_<tenant>_<id>/events`, verified with its secret (see README, Lead sources).
 */
export const SourceConfigSchema = z
  .object({
    /** Unique within the tenant; the public source ID is `src_<tenantId>_<id>`. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lower-case slug'),
    kind: z.enum(SOURCE_KINDS),
    name: z.string().trim().min(1).max(200).optional(),
    /** Signing secret, app client secret or shared token, as the kind verifies deliveries. */
    secret: SecretRefSchema,
    /** Meta: the token the hub.challenge handshake must echo. */
    verifyToken: SecretRefSchema.optional(),
    /** Meta: the page access token for the pass-through read of a lead's fields. */
    accessToken: SecretRefSchema.optional(),
    /** The provider's API base URL for a pass-through read (Meta Graph API). */
    baseUrl: z.url().optional(),
    /** The public base URL the provider calls (signed URLs): over the tenant's accept.publicUrl. */
    publicUrl: z.url().optional(),
    /** Tenant-level JSONata mapping to Leadrelay's lead input, over the environment's and the platform's. */
    mapping: z.string().min(1).max(20_000).optional(),
    /** The lead's `source` field when the mapping sets none (default: the kind's, e.g. `form`). */
    leadSource: z.enum(['form', 'webhook', 'product', 'import', 'api', 'chat', 'event']).optional(),
  })
  .strict();
export type SourceConfig = z.infer<typeof SourceConfigSchema>;

export const TenantSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a lower-case slug'),
    name: z.string().min(1),
    /** SHA-256 (hex) of each API key: keys themselves are never stored. */
    apiKeys: z.array(z.object({ id: z.string().min(1), sha256: z.string().regex(/^[a-f0-9]{64}$/) }).strict()).min(1),
    connections: z
      .object({
        crm: ConnectionSchema,
        hris: ConnectionSchema,
        calendar: ConnectionSchema,
        messaging: ConnectionSchema,
        enrichment: ConnectionSchema.optional(),
      })
      .strict(),
    routing: RoutingSettingsSchema,
    /**
     * How much of the tenant's routing may wait at once before the API pushes back with 429 and
     * Retry-After (see src/api/admission.ts): queued leads in all lanes, and the bulk lane's window.
     */
    intake: z
      .object({
        maxQueuedLeads: z.number().int().min(1).max(1_000_000).optional(),
        bulkInFlight: z.number().int().min(1).max(100_000).optional(),
      })
      .strict()
      .optional(),
    /** How owners accept leads from their notifications (Slack button, signed link). */
    accept: z
      .object({
        /** The Slack app's signing secret: verifies interactive callbacks (the Accept button). */
        slackSigningSecret: SecretRefSchema.optional(),
        /** Signs the accept links put in notifications (email, SMS, Teams). */
        linkSecret: SecretRefSchema.optional(),
        /** Public base URL of this API, for accept links (e.g. https://leadrelay.example.com). */
        publicUrl: z.url().optional(),
      })
      .strict()
      .default({}),
    /** Lead distribution settings: the tenant level of the buyer request templates. */
    distribution: z
      .object({
        /**
         * Template ID → JSONata over the delivery context: over the environment's and the
         * platform's templates (a template of the same ID replaces theirs). Buyer endpoints name
         * them in `template`.
         */
        templates: TemplateMapSchema.default({}),
      })
      .strict()
      .optional(),
    /** Who may sign in to the operations console, and with which role (viewer < ops < admin). */
    console: ConsoleSettingsSchema.optional(),
    /** Lead sources: signed webhooks from form tools, marketing automation and ad platforms. */
    sources: z
      .array(SourceConfigSchema)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((s, i) => {
          if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${s.id} is listed twice` });
          seen.add(s.id);
        });
      })
      .optional(),
    /** Keys that encrypt the tenant's payloads in Temporal (see src/temporal/codec.ts); without them, a key derived from the deployment key. */
    encryption: EncryptionSettingsSchema.optional(),
  })
  .strict();
export type Tenant = z.infer<typeof TenantSchema>;
export type TenantInput = z.input<typeof TenantSchema>;

export const TenantsFileSchema = z.object({ tenants: z.array(TenantSchema) }).strict();

export type ConnectionCategory = keyof Tenant['connections'];
