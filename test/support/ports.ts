import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port nothing listens on right now, taken below the ephemeral range (32768 and up on Linux,
 * 49152 and up elsewhere). A port the OS handed out for `listen(0)` and took back is soon handed
 * out again, and the Temporal dev server takes several that way for its own services: one of
 * them was the port it had been told to serve on, and it crashed.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}
