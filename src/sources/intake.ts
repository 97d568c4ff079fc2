import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ApiContext } from '../api/context';
import { leadIdFor } from '../api/ids';
import { ApiError } from '../api/errors';
import { startLead, type LeadStartResult } from '../api/leadStart';
import { canonicalJson } from '../canonicalJson';
import type { LeadInput } from '../domain/leadSchema';
import { prototypeKeyPath } from '../domain/input';
import { logger } from '../log';
import { leadWorkflowId } from '../protocol/ids';
import { quarantinePayload } from '../quarantine';
import type { SourceConfig, Tenant } from '../tenants/schema';
import { resolveSecret } from '../tenants/secrets';
import { environmentSourceMappings, publicSourceId } from './config';
import { SOURCE_KIND_REGISTRY } from './kinds';
import { applyMapping, mappingLayers, type FieldProblem, type SourceDefinitionOverride } from './mapping';
import { recordDelivery, recordOutcome } from './stats';
import { publishedSourceMappings } from './store';
import type { SourceKind, SourceKindName, SourceRequest } from './types';

/*
 * A source's delivery, from the verified request to leads started (or payloads quarantined):
 * verify → split into events → each event's ID → (the kind's pass-through read) → map with the
 * current mapping stack → LeadInputSchema → start the lead as POST /v1/leads does, keyed by
 * `<sourceId>:<eventId>` so a redelivery starts nothing and answers the same lead.
 */

const log = logger('sources');

type ApiDeps = Pick<ApiContext, 'client' | 'taskQueue' | 'tenants'> & ApiContext;

/**
 * The API context mapSourceEvent reads published overrides through when its caller passes none:
 * set by the sources routes when the app is created (one per process in practice).
 */
let defaultContext: ApiContext | null = null;
export function useSourceContext(ctx: ApiContext): void {
  defaultContext = ctx;
}

function tenantOf(tenant: Tenant | string, ctx: ApiContext | null): Tenant {
  if (typeof tenant !== 'string') return tenant;
  const found = ctx?.tenants.get(tenant);
  if (!found) throw new Error(`unknown tenant ${tenant}`);
  return found;
}

function sourceOf(tenant: Tenant, source: SourceConfig | string): SourceConfig {
  if (typeof source !== 'string') return source;
  const found = tenant.sources?.find((s) => s.id === source || publicSourceId(tenant.id, s.id) === source);
  if (!found) throw new Error(`tenant ${tenant.id} has no source ${source}`);
  return found;
}

function kindOf(source: SourceConfig): SourceKind {
  const kind = SOURCE_KIND_REGISTRY[source.kind];
  if (!kind) throw new Error(`source kind ${source.kind} is not available in this build`);
  return kind;
}

/** The tenant level of a source's stack: its published override (the entity), else its configured mapping. */
async function tenantLayer(ctx: ApiContext | null, tenant: Tenant, source: SourceConfig): Promise<SourceDefinitionOverride | undefined> {
  if (ctx) {
    const published = (await publishedSourceMappings(ctx.client, tenant.id))[source.id];
    if (published) return published.mapping === null ? (source.mapping ? { mapping: source.mapping } : undefined) : { mapping: published.mapping };
  }
  return source.mapping ? { mapping: source.mapping } : undefined;
}

/**
 * Maps one event with the source's CURRENT stack (platform → environment → tenant, the tenant's
 * published override read live), so a replay after a fix uses the fix. `tenant` and `source` may
 * be given as objects or IDs (the source's own ID or its public `src_…` ID). Pass `ctx` to read
 * the published override through it; without it, through the app's context (useSourceContext).
 */
export async function mapSourceEvent(
  tenant: Tenant | string,
  source: SourceConfig | string,
  event: unknown,
  ctx?: ApiContext,
): Promise<{ ok: true; lead: LeadInput } | { ok: false; reason: string; issues: Array<{ field: string; message: string }> }> {
  const context = ctx ?? defaultContext;
  const t = tenantOf(tenant, context);
  const s = sourceOf(t, source);
  const kind = kindOf(s);
  const layers = mappingLayers(s.kind as SourceKindName, environmentSourceMappings()[s.kind], await tenantLayer(context, t, s));
  const leadSource = (s.leadSource ?? kind.leadSource ?? 'webhook') as LeadInput['source'];
  return applyMapping(layers, event, { kind: s.kind as SourceKindName, sourceId: s.id, leadSource });
}

/**
 * Maps a quarantined event again for a replay. An event kept because its pass-through read failed
 * (`source_read_failed`: Meta's notification names a lead, the fields live in the Graph API) is
 * read from the provider first, so a replay after the token is fixed routes it. A read that fails
 * for good again is a mapping failure naming `(read)`; one worth retrying is a 503.
 */
export async function remapKeptEvent(
  ctx: ApiContext,
  tenant: Tenant | string,
  source: SourceConfig | string,
  event: unknown,
  reason: string,
): Promise<{ ok: true; lead: LeadInput } | { ok: false; reason: string; issues: Array<{ field: string; message: string }> }> {
  const t = tenantOf(tenant, ctx);
  const s = sourceOf(t, source);
  const kind = kindOf(s);
  let read = event;
  if (reason === 'source_read_failed' && kind.fetch) {
    try {
      read = await kind.fetch(event, sourceIo(s));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (readFailedForGood(err)) return { ok: false, reason: 'source_read_failed', issues: [{ field: '(read)', message }] };
      throw new ApiError(503, 'unavailable', `Reading the event from the provider failed; replay it again later: ${message}`);
    }
  }
  return mapSourceEvent(t, s, read, ctx);
}

/** The lead's idempotency key for a source event: `<sourceId>:<eventId>` (the tenant is part of the lead ID already). */
export function sourceIdempotencyKey(source: SourceConfig | string, eventId: string): string {
  return `${typeof source === 'string' ? source : source.id}:${eventId}`;
}

/** Starts a source's lead exactly as POST /v1/leads does; a redelivery of the event finds the same lead and starts nothing. */
export function startSourceLead(ctx: ApiContext, tenant: Tenant | string, source: SourceConfig | string, lead: LeadInput, eventId: string | null): Promise<LeadStartResult> {
  const t = tenantOf(tenant, ctx);
  const s = sourceOf(t, source);
  const key = sourceIdempotencyKey(s, eventId ?? `sha256:${createHash('sha256').update(canonicalJson(lead)).digest('hex').slice(0, 32)}`);
  return startLead(ctx, t.id, lead, { idempotencyKey: key.slice(0, 255), onKeyReuse: 'same-lead' });
}

/**
 * The lead an event already started, if any (the ID startSourceLead derives for it, described):
 * a redelivery of a reference-only event (Meta) answers it without reading the provider again.
 */
async function existingSourceLead(ctx: ApiContext, tenant: Tenant, source: SourceConfig, eventId: string): Promise<string | null> {
  const leadId = leadIdFor(tenant.id, sourceIdempotencyKey(source, eventId).slice(0, 255));
  try {
    await ctx.client.workflow.getHandle(leadWorkflowId(tenant.id, leadId)).describe();
    return leadId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Seconds a provider is asked to wait before redelivering when its own read failed for a while. */
export const SOURCE_READ_RETRY_AFTER_SECONDS = 60;

/**
 * Whether a kind's pass-through read failed for good (the lead is unknown, the token expired):
 * its errors say so with `retryable: false` (MetaGraphError). Anything else (throttling, a 5xx,
 * the provider unreachable, a token not configured here) may pass, so the provider redelivers.
 */
function readFailedForGood(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'retryable' in err && (err as { retryable: unknown }).retryable === false;
}

/** An event's ID: the provider's own, else a hash of the event (the same event hashes the same). */
export function eventIdOf(kind: SourceKind, event: unknown, req: SourceRequest): string {
  let id: string | null = null;
  try {
    id = kind.eventId(event, req);
  } catch {
    id = null;
  }
  return (id ?? `sha256:${createHash('sha256').update(canonicalJson(event ?? null)).digest('hex').slice(0, 32)}`).slice(0, 200);
}

export type EventOutcome =
  | { eventId: string; status: 'accepted' | 'duplicate'; leadId: string }
  | { eventId: string; status: 'quarantined'; quarantineId: string; reason: string; field: string | null };

export type DeliveryAnswer =
  | { status: 401; body: { error: { code: 'invalid_signature'; message: string } } }
  | { status: 400 | 503; body: { error: { code: string; message: string; details?: Array<{ field: string; message: string }> } }; headers?: Record<string, string> }
  | { status: 200 | 202; body: Record<string, unknown> };

/** Whether a verification failure says the request was stale (logged as such). */
const staleReason = (reason: string) => reason.startsWith('stale');

/**
 * One delivery of a source: verified with the source's secret at `nowMs`, then every event in
 * it mapped and started (or quarantined). Logs say which source, kind and why, never the body.
 */
export async function receiveDelivery(ctx: ApiDeps, tenant: Tenant, source: SourceConfig, kind: SourceKind, req: SourceRequest, nowMs: number): Promise<DeliveryAnswer> {
  const where = { tenant: tenant.id, source: source.id, kind: source.kind };
  recordDelivery(tenant.id, source.id, nowMs);
  const secret = resolveSecret(source.secret, process.env);
  if (!secret) {
    log.error('source secret is not configured', where);
    return { status: 503, body: { error: { code: 'unavailable', message: 'This source is not ready: its secret is not configured' } } };
  }
  let verification;
  try {
    verification = kind.verify(req, secret, nowMs);
  } catch (err) {
    verification = { ok: false as const, reason: `verification failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!verification.ok) {
    recordOutcome(tenant.id, source.id, 'rejected', nowMs, verification.reason);
    log.warn(staleReason(verification.reason) ? 'source delivery refused: stale signature' : 'source delivery refused: bad signature', { ...where, reason: verification.reason });
    return { status: 401, body: { error: { code: 'invalid_signature', message: `Signature verification failed: ${verification.reason}` } } };
  }

  const receivedAt = new Date(nowMs).toISOString();
  let body: unknown;
  let parseProblem: FieldProblem | null = null;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    // Signed, but not JSON: kept as text in the quarantine (the sender cannot fix it by retrying).
    body = req.rawBody.toString('utf8').slice(0, 64 * 1024);
    parseProblem = { field: '(body)', message: 'is not JSON' };
  }
  const protoPath = parseProblem ? null : prototypeKeyPath(body);
  if (protoPath !== null) {
    log.warn('source delivery refused: prototype key in the body', where);
    return { status: 400, body: { error: { code: 'invalid_request', message: `Invalid body: ${protoPath} is not an allowed key`, details: [{ field: protoPath, message: 'is not an allowed key' }] } } };
  }

  const events = parseProblem ? [body] : (kind.events?.(body) ?? [body]);
  if (events.length === 0) {
    log.info('source delivery had no lead events', where);
    return { status: 200, body: { status: 'ignored', events: [] } };
  }

  const outcomes: EventOutcome[] = [];
  for (const raw of events) {
    const eventId = eventIdOf(kind, raw, req);
    const quarantine = async (event: unknown, reason: string, issues: FieldProblem[]): Promise<EventOutcome> => {
      const { quarantineId } = await quarantinePayload(ctx, { tenantId: tenant.id, sourceId: source.id, kind: source.kind, eventId, receivedAt, event, reason, issues });
      recordOutcome(tenant.id, source.id, 'quarantined', nowMs);
      log.info('source event quarantined', { ...where, eventId, reason, field: issues[0]?.field ?? null });
      return { eventId, status: 'quarantined', quarantineId, reason, field: issues[0]?.field ?? null };
    };
    if (parseProblem) {
      outcomes.push(await quarantine(raw, 'invalid_json', [parseProblem]));
      continue;
    }
    let event = raw;
    if (kind.fetch) {
      // A redelivery (Meta retries until it gets a 200) finds its lead before reading anything again.
      const existing = await existingSourceLead(ctx, tenant, source, eventId);
      if (existing) {
        recordOutcome(tenant.id, source.id, 'duplicate', nowMs);
        log.info('source event was a redelivery', { ...where, eventId, leadId: existing });
        outcomes.push({ eventId, status: 'duplicate', leadId: existing });
        continue;
      }
      try {
        event = await kind.fetch(raw, sourceIo(source));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (readFailedForGood(err)) {
          // Kept as received (the reference), with the provider's error: nothing is lost, and a person sees why.
          outcomes.push(await quarantine(raw, 'source_read_failed', [{ field: '(read)', message }]));
          continue;
        }
        // Worth trying again: the provider redelivers the whole delivery; events already started answer as duplicates.
        log.warn('source delivery deferred: the pass-through read failed', { ...where, eventId, reason: message });
        return {
          status: 503,
          headers: { 'Retry-After': String(SOURCE_READ_RETRY_AFTER_SECONDS) },
          body: { error: { code: 'unavailable', message: `Reading the event from the provider failed; deliver it again later: ${message}` } },
        };
      }
    }
    const mapped = await mapSourceEvent(tenant, source, event, ctx);
    if (!mapped.ok) {
      outcomes.push(await quarantine(event, mapped.reason, mapped.issues));
      continue;
    }
    const started = await startSourceLead(ctx, tenant, source, mapped.lead, eventId);
    const status = started.replayed ? 'duplicate' : 'accepted';
    recordOutcome(tenant.id, source.id, status, nowMs);
    log.info(started.replayed ? 'source event was a redelivery' : 'source event started a lead', { ...where, eventId, leadId: started.answer.leadId });
    outcomes.push({ eventId, status, leadId: started.answer.leadId });
  }

  const allDuplicates = outcomes.every((o) => o.status === 'duplicate');
  if (outcomes.length === 1) {
    const only = outcomes[0] as EventOutcome;
    const { eventId: _eventId, ...rest } = only;
    return { status: allDuplicates ? 200 : 202, body: rest };
  }
  const firstLead = outcomes.find((o): o is Extract<EventOutcome, { leadId: string }> => 'leadId' in o);
  const status = outcomes.some((o) => o.status === 'accepted') ? 'accepted' : allDuplicates ? 'duplicate' : 'quarantined';
  return { status: allDuplicates ? 200 : 202, body: { status, ...(firstLead ? { leadId: firstLead.leadId } : {}), events: outcomes } };
}

/** What a kind's pass-through read may use: the source's base URL and its secrets by name. */
function sourceIo(source: SourceConfig): { baseUrl: string; secret(name: 'accessToken' | 'verifyToken'): string; fetch: typeof fetch } {
  return {
    baseUrl: source.baseUrl ?? '',
    secret(name) {
      const ref = source[name];
      const value = ref ? resolveSecret(ref, process.env) : null;
      if (!value) throw new Error(`source ${source.id}: ${name} is not configured`);
      return value;
    },
    fetch: globalThis.fetch,
  };
}
