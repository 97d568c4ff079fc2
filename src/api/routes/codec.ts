import express, { type Request, type RequestHandler, type Router } from 'express';
import type { Payload } from '@temporalio/common';
import type { Tenant } from '../../tenants/schema';
import { DEPLOYMENT_SCOPE, encryptedBy, PayloadDecryptionError, EncryptionKeyError } from '../../temporal/codec';
import { cookieValues, sessionPrincipal } from '../auth';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { SESSION_COOKIE } from '../session';

/**
 * The codec server (Temporal's codec-server protocol): `POST /codec/decode` and
 * `POST /codec/encode` take and answer `{ "payloads": [{ "metadata": { name: base64 }, "data": base64 }] }`
 * (Payloads as protobuf JSON), so the Temporal Web UI and `temporal --codec-endpoint` show
 * decrypted histories.
 *
 * Who may: a tenant's API key as `Authorization: Bearer`, or a signed-in console session's cookie
 * (the Web UI's "Include cross-origin credentials"). Either decodes its own tenant's payloads only:
 * a payload of another tenant (or of the deployment) is answered as it came, still encrypted, so a
 * history the caller may partly read still shows; the UI shows those as encoded. Encode encrypts
 * with the caller's tenant's active key. No CSRF token: neither endpoint changes anything, and the
 * answer is readable only by the origins allowed below (CORS).
 */

const CODEC_BODY_LIMIT = '4mb';
const ALLOWED_HEADERS = 'Content-Type, Authorization, X-Namespace';

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function fromJson(p: unknown, i: number): Payload {
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new ApiError(400, 'invalid_request', `payloads[${i}] must be an object`, [{ field: `payloads.${i}`, message: 'must be an object' }]);
  const { metadata, data } = p as JsonPayload;
  const bytes = (v: unknown, field: string): Uint8Array => {
    if (typeof v !== 'string' || !BASE64.test(v)) throw new ApiError(400, 'invalid_request', `payloads[${i}].${field} must be base64`, [{ field: `payloads.${i}.${field}`, message: 'must be base64' }]);
    return Buffer.from(v, 'base64');
  };
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new ApiError(400, 'invalid_request', `payloads[${i}].metadata must be an object of base64 values`, [{ field: `payloads.${i}.metadata`, message: 'must be an object' }]);
  }
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, bytes(v, `metadata.${k}`)])),
    data: data === undefined || data === null ? new Uint8Array() : bytes(data, 'data'),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** The Web UI's origin, in both loopback spellings (the UI is reached as either). */
export function codecOrigins(webUiUrl: string | null, extra: readonly string[] = []): Set<string> {
  const origins = new Set<string>();
  const add = (url: string) => {
    try {
      const u = new URL(url);
      origins.add(u.origin);
      if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') {
        for (const host of ['127.0.0.1', 'localhost']) origins.add(`${u.protocol}//${host}${u.port ? `:${u.port}` : ''}`);
      }
    } catch {
      // not a URL: ignored
    }
  };
  if (webUiUrl) add(webUiUrl);
  for (const o of extra) add(o);
  return origins;
}

function cors(allowed: Set<string>): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && allowed.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      // A preflight from an origin not allowed gets no CORS headers: the browser stops there.
      res.status(origin && allowed.has(origin) ? 204 : 403).end();
      return;
    }
    next();
  };
}

/** The caller's tenant: an API key, else a console session (any role: decoding changes nothing). */
function callerTenant(req: Request, ctx: ApiContext): Tenant {
  const header = req.get('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const tenant = match?.[1] ? ctx.tenants.byApiKey(match[1]) : undefined;
    if (tenant) return tenant;
    throw new ApiError(401, 'unauthorized', match ? 'Unknown API key' : 'Authorization must be Bearer <api key>');
  }
  if (ctx.sessions) {
    for (const token of cookieValues(req.get('cookie'), SESSION_COOKIE)) {
      const principal = sessionPrincipal(ctx.tenants, ctx.sessions, token);
      if (principal) return principal.tenant;
    }
  }
  throw new ApiError(401, 'unauthorized', 'Send a tenant API key as Authorization: Bearer <api key>, or sign in to the console in this browser and include credentials');
}

function parseBody(req: Request, ctx: ApiContext): Payload[] {
  const namespace = req.get('x-namespace');
  if (namespace && namespace !== ctx.namespace) throw new ApiError(400, 'invalid_request', `This codec serves namespace ${ctx.namespace}, not ${namespace}`, [{ field: 'X-Namespace', message: `must be ${ctx.namespace}` }]);
  // As every other route: a body that is not JSON is refused for its type, one that is not an object names the body, not a field of it.
  const length = Number(req.get('content-length') ?? '0');
  if ((length > 0 || req.get('transfer-encoding') !== undefined) && !req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json');
  const body: unknown = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'invalid_request', 'The body must be a JSON object { "payloads": [...] }', [{ field: '(body)', message: 'must be a JSON object' }]);
  const payloads = (body as { payloads?: unknown }).payloads;
  if (!Array.isArray(payloads)) throw new ApiError(400, 'invalid_request', 'The body must be { "payloads": [...] }', [{ field: 'payloads', message: 'must be an array' }]);
  return payloads.map(fromJson);
}

export function codecRoutes(ctx: ApiContext): Router {
  const router = express.Router();
  const codecOf = () => {
    if (!ctx.codec) throw new ApiError(404, 'not_found', 'This process has no payload codec');
    return ctx.codec;
  };
  router.use('/codec', cors(codecOrigins(ctx.webUiUrl, ctx.codecCorsOrigins)), express.json({ limit: CODEC_BODY_LIMIT, strict: true }));

  router.post('/codec/decode', (req, res) => {
    const codec = codecOf();
    const tenant = callerTenant(req, ctx);
    const payloads = parseBody(req, ctx);
    const decoded = payloads.map((p, i) => {
      const by = encryptedBy(p);
      // Another tenant's (or the deployment's) payload stays as it is: never decrypted for this caller.
      if (by && (by.scope !== tenant.id || by.scope === DEPLOYMENT_SCOPE)) return p;
      try {
        return codec.decodeOne(p);
      } catch (err) {
        if (err instanceof PayloadDecryptionError || err instanceof EncryptionKeyError) throw new ApiError(400, 'invalid_request', `payloads[${i}]: ${err.message}`, [{ field: `payloads.${i}`, message: err.message }]);
        throw err;
      }
    });
    res.json({ payloads: decoded.map(toJson) });
  });

  router.post('/codec/encode', (req, res) => {
    const tenant = callerTenant(req, ctx);
    const payloads = parseBody(req, ctx);
    res.json({ payloads: codecOf().encodeFor(tenant.id, payloads).map(toJson) });
  });
  return router;
}
