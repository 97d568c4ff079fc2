import type { Request, RequestHandler } from 'express';
import type { Tenant } from '../tenants/schema';
import type { TenantRegistry } from '../tenants/registry';
import { ApiError } from './errors';

const TENANT = Symbol('tenant');

/** Resolves `Authorization: Bearer <api key>` to the tenant the key belongs to. */
export function authenticate(tenants: TenantRegistry): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const tenant = match?.[1] ? tenants.byApiKey(match[1]) : undefined;
    if (!tenant) {
      res.set('WWW-Authenticate', 'Bearer realm="leadrelay"');
      next(new ApiError(401, 'unauthorized', match ? 'Unknown API key' : 'Missing Authorization: Bearer <api key> header'));
      return;
    }
    (req as Request & { [TENANT]?: Tenant })[TENANT] = tenant;
    next();
  };
}

export function tenantOf(req: Request): Tenant {
  const tenant = (req as Request & { [TENANT]?: Tenant })[TENANT];
  if (!tenant) throw new ApiError(401, 'unauthorized', 'Not authenticated');
  return tenant;
}

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** Requests with a body must say it is JSON (or YAML, which only the policy route reads). */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const length = Number(req.get('content-length') ?? '0');
    const chunked = req.get('transfer-encoding') !== undefined;
    if ((length > 0 || chunked) && !req.is(['application/json', ...YAML_TYPES])) {
      next(new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json'));
      return;
    }
  }
  next();
};
