import { createServer, type Server } from 'node:http';
import type express from 'express';

/** A sandbox server listening on loopback (or where asked): its URL, port, and a close that does not hang. */
export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves an app over real HTTP; port 0 takes any free port. Closing twice closes once. */
export async function serve(app: express.Express, port: number, host: string): Promise<Served> {
  const server = await listen(app, port, host);
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return { url: `http://${urlHost(host)}:${actualPort}`, port: actualPort, close: () => (closing ??= closeServer(server)) };
}

function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Hung requests and keep-alive sockets (fetch pools them) would otherwise hold close() open.
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
