import express, { type Request, type RequestHandler, type Router } from 'express';
import { logger } from '../../log';
import { environmentSourceMappings, findSource, validateSources, parsePublicSourceId, publicBaseUrl, publicSourceId, sourceEndpoint } from '../../sources/config';
import { receiveDelivery, useSourceContext } from '../../sources/intake';
import { compileMapping, mappingLayers, MappingSyntaxError } from '../../sources/mapping';
import { sourceCounts } from '../../sources/stats';
import { publishedSourceMappings, publishSourceMapping, sourceMappingVersions } from '../../sources/store';
import type { SourceKindName, SourceRequest } from '../../sources/types';
import { resolveSecret } from '../../tenants/secrets';
import type { SourceConfig, Tenant } from '../../tenants/schema';
import { actorOf, tenantOf } from '../auth';
import type { ApiContext } from '../context';
import { SourceMappingBody } from '../contracts';
import { ApiError, parseRequest } from '../errors';

const log = logger('sources');

/** The URL the provider called, as it signed it: the configured public base URL + the path and query it requested. */
function calledUrl(req: Request, tenant: Tenant, source: SourceConfig): string {
  return `${publicBaseUrl(tenant, source, `${req.protocol}://${req.get('host') ?? 'localhost'}`)}${req.originalUrl}`;
}

function sourceRequest(req: Request, url: string): SourceRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of new URL(req.originalUrl, 'http://x').searchParams) if (!(name in query)) query[name] = value;
  return { method: req.method.toUpperCase(), url, headers, rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), query };
}

const unknownSource = (id: string) => new ApiError(404, 'not_found', `No source ${id}`);

/**
 * Source deliveries, authenticated by each source's signature instead of an API key:
 * `POST /v1/sources/src_<tenant>_<source>/events` (the raw body is kept: signatures are over its
 * exact bytes, so this is mounted before the JSON parsers) and `GET` on the same path for a
 * kind's verification handshake (Meta's hub.challenge).
 */
export function sourceEventRoutes(ctx: ApiContext, guard: RequestHandler): Router {
  // Bad source configuration (an unknown kind, a mapping that does not compile) fails start-up, not the first event.
  validateSources(ctx.tenants);
  useSourceContext(ctx);
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: ctx.bodyLimit });
  router.post('/v1/sources/:sourceId/events', guard, raw, async (req, res) => {
    const id = String(req.params['sourceId']);
    const found = findSource(ctx.tenants, id);
    if (!found) throw unknownSource(id);
    const { tenant, source, kind } = found;
    // Providers sign with the real time (never the simulated business time of a sandbox run).
    const answer = await receiveDelivery(ctx, tenant, source, kind, sourceRequest(req, calledUrl(req, tenant, source)), Date.now());
    if ('headers' in answer && answer.headers) res.set(answer.headers);
    res.status(answer.status).json(answer.body);
  });
  router.get('/v1/sources/:sourceId/events', (req, res) => {
    const id = String(req.params['sourceId']);
    const found = findSource(ctx.tenants, id);
    if (!found || !found.kind.handshake) throw unknownSource(id);
    const token = found.source.verifyToken ? resolveSecret(found.source.verifyToken, process.env) : null;
    if (!token) {
      log.error('source verify token is not configured', { tenant: found.tenant.id, source: found.source.id, kind: found.source.kind });
      throw new ApiError(503, 'unavailable', 'This source is not ready: its verify token is not configured');
    }
    const query = sourceRequest(req, '').query;
    const answer = found.kind.handshake(query, token);
    // A refusal is an API error like any other (the envelope, naming the query field); only the echoed challenge is plain text.
    if (answer.status === 403) throw new ApiError(403, 'forbidden', `Handshake refused: ${answer.body}`);
    if (answer.status >= 400) throw new ApiError(answer.status, 'invalid_request', `Invalid handshake: ${answer.body}`, [{ field: answer.field ?? 'query', message: answer.body }]);
    res.status(answer.status).type('text/plain').send(answer.body);
  });
  return router;
}

/** The tenant's own source (by its ID or public `src_…` ID), else 404. */
function ownSource(tenant: Tenant, id: string): SourceConfig {
  const parsed = parsePublicSourceId(id);
  const sourceId = parsed ? (parsed.tenantId === tenant.id ? parsed.sourceId : null) : id;
  const source = sourceId === null ? undefined : tenant.sources?.find((s) => s.id === sourceId);
  if (!source) throw unknownSource(id);
  return source;
}

/**
 * `GET /v1/sources` (what each source is, where it is called, how it is doing; never a secret)
 * and `PUT /v1/sources/:sourceId/mapping` (admin: publish the tenant's mapping override, applied
 * from the next event without a restart; `GET` on it shows the stack and the versions).
 */
export function sourceRoutes(router: Router, ctx: ApiContext): void {
  router.get('/v1/sources', async (req, res) => {
    const tenant = tenantOf(req);
    const published = (tenant.sources?.length ?? 0) > 0 ? await publishedSourceMappings(ctx.client, tenant.id) : {};
    const fallback = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const sources = (tenant.sources ?? []).map((source) => {
      const counts = sourceCounts(tenant.id, source.id);
      const override = published[source.id];
      return {
        id: publicSourceId(tenant.id, source.id),
        sourceId: source.id,
        kind: source.kind,
        name: source.name ?? source.id,
        endpoint: sourceEndpoint(publicBaseUrl(tenant, source, fallback), tenant.id, source.id),
        mapping: {
          layers: mappingLayers(source.kind as SourceKindName, environmentSourceMappings()[source.kind], override?.mapping ? { mapping: override.mapping } : source.mapping ? { mapping: source.mapping } : undefined).map((l) => l.layer),
          published: override ? { version: override.version, publishedAt: override.publishedAt, actor: override.actor, withdrawn: override.mapping === null } : null,
        },
        lastEventAt: counts.lastEventAt,
        counts: { accepted: counts.accepted, duplicate: counts.duplicate, rejected: counts.rejected, quarantined: counts.quarantined },
        lastRejection: counts.lastRejection,
      };
    });
    res.json({ sources, countsSince: 'process start (kept in this API process)' });
  });

  router.get('/v1/sources/:sourceId/mapping', async (req, res) => {
    const tenant = tenantOf(req);
    const source = ownSource(tenant, String(req.params['sourceId']));
    const versions = await sourceMappingVersions(ctx.client, tenant.id, source.id);
    const latest = versions[versions.length - 1];
    const tenantLevel = latest ? (latest.mapping ?? source.mapping) : source.mapping;
    const layers = mappingLayers(source.kind as SourceKindName, environmentSourceMappings()[source.kind], tenantLevel ? { mapping: tenantLevel } : undefined);
    res.json({
      id: publicSourceId(tenant.id, source.id),
      kind: source.kind,
      layers: layers.map((l) => ({ layer: l.layer, mapping: l.definition.mapping ?? null })),
      configured: source.mapping ?? null,
      versions,
    });
  });

  router.put('/v1/sources/:sourceId/mapping', async (req, res) => {
    const tenant = tenantOf(req);
    const source = ownSource(tenant, String(req.params['sourceId']));
    const body = parseRequest(SourceMappingBody, req.body, 'body');
    if (body.mapping !== null) {
      try {
        compileMapping(body.mapping, 'mapping');
      } catch (err) {
        if (!(err instanceof MappingSyntaxError)) throw err;
        throw new ApiError(422, 'invalid_request', `Invalid mapping: JSONata error at position ${err.position ?? '?'}: ${err.detail}`, [{ field: 'mapping', message: `JSONata error at position ${err.position ?? '?'}: ${err.detail}` }]);
      }
    }
    const version = await publishSourceMapping(ctx.client, ctx.taskQueue, tenant.id, source.id, body.mapping, actorOf(req, `api-key:${tenant.id}`, body.actor), body.note ?? null);
    log.info('source mapping published', { tenant: tenant.id, source: source.id, version: version.version, withdrawn: version.mapping === null });
    res.json({ id: publicSourceId(tenant.id, source.id), version: version.version, publishedAt: version.publishedAt, actor: version.actor, note: version.note, withdrawn: version.mapping === null });
  });
}
