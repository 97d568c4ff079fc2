import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTracing, type Tracing } from '../../src/tracing/tracing';
import { bundleWorkflows } from '../../src/worker';
import { demoScenario } from '../support/scenario';
import { eventually, startTestStackWith, type TestStack } from '../support/stack';

/**
 * Traces for real: a local OTLP/HTTP receiver takes what the JSON exporter posts to /v1/traces;
 * a stack with tracing on routes a lead; the request's span, the workflow start, the workflow run
 * and its activities arrive in one trace.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

const received: Array<OtlpSpan & { service: string }> = [];
let receiver: Server;
let tracing: Tracing;
let t: TestStack;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) received.push({ ...span, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  tracing = startTracing({ url: `http://127.0.0.1:${port}/v1/traces`, serviceName: 'leadrelay-test' });
  // The OpenTelemetry workflow interceptors are bundled only when tracing is on.
  const workflowBundle = await bundleWorkflows({ tracing: true });
  t = await startTestStackWith({ tracing, workflowBundle }, demoScenario({ allAvailable: true, holdOpenSeconds: 1 }));
});

afterAll(async () => {
  await t?.close();
  await tracing?.shutdown();
  await new Promise((resolve) => receiver?.close(resolve));
});

it('links the HTTP request, the workflow start, the workflow run and its activities in one trace', async () => {
  const res = await t.request('POST', '/v1/leads', { email: 'jane.doe@acme.com', firstName: 'Jane', lastName: 'Doe', company: 'Acme', source: 'form' });
  expect(res.status).toBe(202);
  const { leadId, workflowId } = res.body as { leadId: string; workflowId: string };
  await t.routed(leadId);
  // Accepted, the run closes once its 1-second reassignment window has passed: its span ends.
  expect((await t.request('POST', `/v1/leads/${leadId}/accept`, {})).status).toBe(202);
  await eventually(async () => ((await t.stack.temporal.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED' ? true : undefined), 60_000, 'the run closed');

  const spans = await eventually(async () => {
    await tracing.flush();
    const request = received.find((s) => s.name === 'POST /v1/leads' && s.kind === 2 /* SERVER */);
    if (!request) return undefined;
    const trace = received.filter((s) => s.traceId === request.traceId);
    const names = new Set(trace.map((s) => s.name));
    return ['StartWorkflow:routeLead', 'RunWorkflow:routeLead', 'RunActivity:assignOwner', 'RunActivity:notify'].every((n) => names.has(n)) ? { request, trace } : undefined;
  }, 60_000, 'the spans of the lead');

  const { request, trace } = spans;
  const byName = (name: string) => trace.filter((s) => s.name === name);
  const start = byName('StartWorkflow:routeLead');
  expect(start).toHaveLength(1);
  // The workflow start is the request's child, the run the start's, and each activity run the child of the workflow's StartActivity span.
  expect(start[0]!.parentSpanId).toBe(request.spanId);
  const runs = byName('RunWorkflow:routeLead');
  expect(runs.length).toBeGreaterThanOrEqual(1);
  for (const run of runs) expect(run.parentSpanId).toBe(start[0]!.spanId);
  const assign = byName('RunActivity:assignOwner')[0]!;
  const scheduled = trace.find((s) => s.spanId === assign.parentSpanId);
  expect(scheduled?.name).toBe('StartActivity:assignOwner');
  expect(runs.map((r) => r.spanId)).toContain(scheduled?.parentSpanId);
  expect(assign.attributes?.find((a) => a.key === 'temporalWorkflowId')?.value).toEqual({ stringValue: workflowId });
  expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['leadrelay-test']));
  expect(request.attributes?.find((a) => a.key === 'http.response.status_code')?.value).toEqual({ intValue: 202 });
});
