import * as otel from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { ClientInterceptors } from '@temporalio/client';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** The workflow-side interceptors (inbound, outbound, internals), bundled only when tracing is on. */
export const WORKFLOW_TRACING_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * OpenTelemetry traces of a lead: the API's request span, the workflow start made while handling
 * it (the SDK's client interceptor), the workflow run and the activities it schedules (its
 * workflow interceptors, whose spans leave the sandbox through the `exporter` sink) and each
 * activity run (its activity interceptors), in one trace, exported over OTLP/HTTP (JSON).
 * Off unless an endpoint is configured: then nothing here is loaded into workers, bundles or the API.
 */
export interface Tracing {
  readonly tracer: otel.Tracer;
  readonly resource: Resource;
  readonly spanProcessor: SpanProcessor;
  /** For the Temporal Client: workflow starts, signals, updates and queries become spans and carry their context. */
  clientInterceptors(): ClientInterceptors;
  /** For the worker: activity runs become spans, children of the workflow span that scheduled them. */
  activityInterceptor(): ActivityInterceptorsFactory;
  /** For the worker: the sink that exports the workflow sandbox's spans. */
  sinks(): InjectedSinks<any>;
  /** For the API (first middleware): one server span per request, the active context while it is handled. */
  httpMiddleware(): RequestHandler;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` of the spans (default `leadrelay`). */
  serviceName?: string;
  /** The OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`). */
  url?: string;
  /** Another exporter instead of OTLP/HTTP (tests). */
  exporter?: SpanExporter;
}

let registered = false;

export function startTracing(options: TracingOptions): Tracing {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: options.serviceName ?? 'leadrelay' });
  const exporter = options.exporter ?? new OTLPTraceExporter(options.url ? { url: options.url } : {});
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The context manager (AsyncLocalStorage) and the W3C propagator are process-wide: registered
  // once. Every span here is made with this provider's own tracer, so several stacks in one
  // process (tests) each export their own.
  if (!registered) {
    provider.register();
    registered = true;
  }
  const tracer = provider.getTracer('leadrelay');
  return {
    tracer,
    resource,
    spanProcessor,
    clientInterceptors: () => ({ workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] }),
    activityInterceptor: () => (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
    sinks: () => ({ exporter: makeWorkflowExporter(spanProcessor, resource) }),
    httpMiddleware: () => requestSpans(tracer),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Tracing from the environment: on when LEADRELAY_OTEL_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
 * names a collector's OTLP/HTTP base URL (`/v1/traces` is appended), or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT its full traces URL; null (off) otherwise.
 */
export function tracingFromEnv(env: Record<string, string | undefined>): Tracing | null {
  const url = tracesUrl(env);
  return url ? startTracing({ url, serviceName: env['OTEL_SERVICE_NAME'] || 'leadrelay' }) : null;
}

export function tracesUrl(env: Record<string, string | undefined>): string | null {
  const full = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (full) return full;
  const base = (env['LEADRELAY_OTEL_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'])?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : null;
}

/**
 * A server span per request (`POST /v1/leads`, by the route that answered), continuing a
 * `traceparent` the caller sent; the request is handled inside its context, so the workflow
 * start made by the handler is its child.
 */
function requestSpans(tracer: otel.Tracer): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const parent = otel.propagation.extract(otel.context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method} ${req.path}`,
      { kind: otel.SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_PATH]: req.path } },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      // The route pattern, not the path: IDs stay out of span names.
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        span.updateName(`${req.method} ${req.baseUrl}${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, `${req.baseUrl}${route}`);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    otel.context.with(otel.trace.setSpan(parent, span), next);
  };
}
