import express from 'express';
import { authenticate, requireJson, YAML_TYPES } from './auth';
import type { ApiContext } from './context';
import { errorHandler, notFound } from './errors';
import { getHealthz } from './routes/get-healthz';
import { getLead } from './routes/get-lead';
import { postLeadReassign } from './routes/post-lead-reassign';
import { policyRoutes } from './routes/policy';
import { postLeads } from './routes/post-leads';

/** The HTTP API: JSON in and out, one error envelope, tenants identified by API key. */
export function createApp(ctx: ApiContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  const open = express.Router();
  getHealthz(open, ctx);
  app.use(open);

  const v1 = express.Router();
  // Every Temporal call made while handling the request inherits this deadline.
  v1.use((_req, _res, next) => {
    void ctx.client.connection.withDeadline(Date.now() + ctx.temporalTimeoutMs, async () => next());
  });
  v1.use(authenticate(ctx.tenants));
  v1.use(requireJson);
  v1.use(express.json({ limit: ctx.bodyLimit, strict: true }));
  // Policies may also be written in YAML.
  v1.use(express.text({ limit: ctx.bodyLimit, type: YAML_TYPES }));
  postLeads(v1, ctx);
  getLead(v1, ctx);
  postLeadReassign(v1, ctx);
  policyRoutes(v1, ctx);
  app.use(v1);

  app.use(notFound);
  app.use(errorHandler(ctx.onError));
  return app;
}
