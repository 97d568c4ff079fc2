import express from 'express';
import { authenticate, requireJson, YAML_TYPES } from './auth';
import { authorize } from './roles';
import { sessionRoutes, signInRoute } from './session-routes';
import type { ApiContext } from './context';
import { errorHandler, noPrototypeKeys, notFound } from './errors';
import { connectionRoutes, metricsRoute } from './routes/connections';
import { consoleStaticRoutes } from './routes/console-static';
import { getHealthz } from './routes/get-healthz';
import { codecRoutes } from './routes/codec';
import { getLead } from './routes/get-lead';
import { getLeadAudit } from './routes/get-lead-audit';
import { getLeads } from './routes/get-leads';
import { eraseLeadRoutes } from './routes/erase-lead';
import { postLeadReassign } from './routes/post-lead-reassign';
import { policyRoutes } from './routes/policy';
import { availabilityRoutes } from './routes/availability';
import { openApiRoute } from './openapi';
import { postLeadAccept, signedAcceptRoutes } from './routes/accept';
import { postLeads } from './routes/post-leads';
import { sourceEventRoutes, sourceRoutes } from './routes/sources';
import { quarantineRoutes } from './routes/quarantine';
import { distributionRoutes } from './routes/distribution';
import { distributedLeadRoutes } from './routes/distributed-leads';
import { supplierRoutes } from './routes/supplier-leads';
import { temporalGuard } from './temporalGuard';
import { TemporalReachability } from '../temporal/reachability';

/** The HTTP API: JSON in and out, one error envelope, tenants identified by API key. */
export function createApp(ctx: ApiContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Only proxies the operator names are believed about the client's address and scheme.
  app.set('trust proxy', ctx.trustProxy ?? false);
  // With tracing on, each request is a span, and the workflow it starts is that span's child.
  if (ctx.tracing) app.use(ctx.tracing.httpMiddleware());

  const open = express.Router();
  getHealthz(open, ctx);
  metricsRoute(open, ctx);
  openApiRoute(open);
  app.use(open);
  // Console sign-in: the one /v1 route that needs neither an API key nor a session.
  app.use(signInRoute(ctx));
  // The operations console's page and assets: public files; its data comes through /v1 below.
  consoleStaticRoutes(app);
  // The codec server for the Temporal Web UI and CLI (its own authentication and CORS, see routes/codec.ts).
  app.use(codecRoutes(ctx));

  const guard = temporalGuard(ctx, ctx.temporalReachability ?? TemporalReachability.of(ctx.client.connection, 'Temporal'));
  // Routes authenticated by a signature instead of an API key (Slack callbacks, accept links).
  app.post(['/v1/accept', '/v1/integrations/slack/:tenantId/interactions'], guard);
  signedAcceptRoutes(app, ctx);
  // Lead sources' deliveries, authenticated by each source's signature over the raw body: before any JSON parser.
  app.use(sourceEventRoutes(ctx, guard));
  // Suppliers send leads with their own keys (sk.<tenant>.<supplier>.<secret>), not the tenant's.
  app.use(supplierRoutes(ctx, guard));

  const v1 = express.Router();
  // An API key, or a console session (whose writes carry its CSRF token) held to its role.
  v1.use(authenticate(ctx.tenants, ctx.sessions));
  v1.use(authorize);
  v1.use(requireJson);
  v1.use(express.json({ limit: ctx.bodyLimit, strict: true }));
  // Policies may also be written in YAML.
  v1.use(express.text({ limit: ctx.bodyLimit, type: YAML_TYPES }));
  // `{"__proto__": …}` anywhere in a JSON body is refused, not silently dropped (YAML: see policy).
  v1.use(noPrototypeKeys);
  sessionRoutes(v1, ctx);
  // Connection state lives in this process: it answers while Temporal does not.
  connectionRoutes(v1, ctx);
  // Every Temporal call made while handling the request inherits its deadline, and an unreachable
  // Temporal is answered with a 503 within about two seconds.
  v1.use(guard);
  postLeads(v1, ctx);
  getLeads(v1, ctx);
  distributedLeadRoutes(v1, ctx);
  getLead(v1, ctx);
  postLeadReassign(v1, ctx);
  getLeadAudit(v1, ctx);
  eraseLeadRoutes(v1, ctx);
  postLeadAccept(v1, ctx);
  policyRoutes(v1, ctx);
  availabilityRoutes(v1, ctx);
  distributionRoutes(v1, ctx);
  sourceRoutes(v1, ctx);
  quarantineRoutes(v1, ctx);
  app.use(v1);

  app.use(notFound);
  app.use(errorHandler(ctx.onError));
  return app;
}
