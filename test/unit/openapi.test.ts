import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { OPERATIONS, openApiDocument, openApiPath } from '../../src/api/openapi';
import { TenantRegistry } from '../../src/tenants/registry';

/** The app as served, over a connection that is never dialled (nothing here calls Temporal). */
function app() {
  return createApp({
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    tenants: new TenantRegistry(),
    taskQueue: 'q',
    namespace: 'default',
    webUiUrl: null,
    bodyLimit: '16kb',
    temporalTimeoutMs: 1000,
    health: async () => ({ ok: true, checks: {} }),
    onError: () => {},
  });
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every `METHOD path` the express app registers a route for, nested routers included. */
function registeredRoutes(): Set<string> {
  const found = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) for (const path of paths) found.add(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app() as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

/** Files a static mount serves: documented, but a mount, not a route. */
const STATIC_MOUNTS = new Set(['GET /console/assets/:file']);

const doc = openApiDocument() as any;

describe('the OpenAPI document', () => {
  it('lists every route the app serves, and nothing it does not', () => {
    const documented = new Set(OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    const served = registeredRoutes();
    expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !served.has(r) && !STATIC_MOUNTS.has(r)).sort()).toEqual([]);
    expect(documented.size).toBe(OPERATIONS.length);
  });

  it('is OpenAPI 3.1 with a described answer for every operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      expect(path).toMatch(/^\/[^:]*$/);
      for (const [method, op] of Object.entries<any>(item)) {
        expect(['get', 'post', 'put', 'delete']).toContain(method);
        const statuses = Object.keys(op.responses);
        expect({ path, method, ok: statuses.some((s) => /^[23]\d\d$/.test(s)) }).toEqual({ path, method, ok: true });
        for (const answer of Object.values<any>(op.responses)) expect(typeof answer.description).toBe('string');
        // Every path parameter is declared.
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name, in: 'path', required: true })]));
      }
    }
    const ids = Object.values<Record<string, any>>(doc.paths).flatMap((item) => Object.values<any>(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every request body a schema, from the zod contracts', () => {
    for (const op of OPERATIONS.filter((o) => o.body)) {
      const body = doc.paths[openApiPath(op.path)][op.method].requestBody;
      for (const media of Object.values<any>(body.content)) {
        expect({ op: `${op.method} ${op.path}`, schema: typeof media.schema }).toEqual({ op: `${op.method} ${op.path}`, schema: 'object' });
        expect(Object.keys(media.schema).length).toBeGreaterThan(0);
      }
    }
    const rollback = doc.paths['/v1/policy/rollback'].post.requestBody.content['application/json'].schema;
    expect(rollback).toMatchObject({ type: 'object', required: ['version'], additionalProperties: false });
    const lead = doc.paths['/v1/leads'].post.requestBody.content['application/json'].schema;
    // The request side: `source` has a default, so a client may leave it out.
    expect(lead.required).toEqual(['email']);
  });

  it('documents the routing log’s filters as query parameters and its answer', () => {
    const list = doc.paths['/v1/leads'].get;
    const names = list.parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['email', 'company', 'source', 'owner', 'status', 'domain', 'rule', 'from', 'to', 'limit', 'pageToken']));
    expect(list.responses['200'].content['application/json'].schema.properties).toHaveProperty('nextPageToken');
    expect(list.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('names the security schemes: API key, console session, CSRF token on session writes', () => {
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'csrfToken', 'session', 'supplierKey']);
    expect(doc.paths['/v1/leads'].get.security).toEqual([{ apiKey: [] }, { session: [] }]);
    expect(doc.paths['/v1/policy/rollback'].post.security).toEqual([{ apiKey: [] }, { session: [], csrfToken: [] }]);
    expect(doc.paths['/v1/openapi.json'].get.security).toEqual([]);
  });
});

describe('GET /v1/openapi.json', () => {
  let server: Server;
  beforeAll(async () => {
    server = await new Promise((resolve) => {
      const s = app().listen(0, '127.0.0.1', () => resolve(s));
    });
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('is served without credentials (it holds no tenant data)', async () => {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});
