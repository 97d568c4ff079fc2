import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { processLeadMetrics } from './leadMetrics';

export interface MetricsServer {
  server: Server;
  /** The address it listens on, e.g. `http://127.0.0.1:9100/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * A process's own GET /metrics, for a worker that runs without the API (LEADRELAY_METRICS_PORT):
 * the lead metrics this process records, plus any other registries given (the connection
 * metrics, `metricsRegistry` in src/api/routes/connections.ts). Anything else is 404. Like the
 * API's /metrics it is unauthenticated: bind it to a private interface.
 */
export async function serveMetrics(port: number, options: { host?: string; registries?: Registry[] } = {}): Promise<MetricsServer> {
  const registries = [processLeadMetrics().registry, ...(options.registries ?? [])];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.all(registries.map((r) => r.metrics()))
      .then((texts) => res.writeHead(200, { 'content-type': registries[0]!.contentType }).end(texts.join('\n')))
      .catch((err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`));
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
