import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { get } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import express from 'express';
import { buildConsole } from '../../src/console/build';
import { CONSOLE_CSP, consoleStaticRoutes } from '../../src/api/routes/console-static';

/** The console as the API serves it: built into a directory of its own, served by the route module. */
async function serve(dir: string) {
  const app = express();
  consoleStaticRoutes(app, { dir });
  app.use((_req, res) => void res.status(404).json({ error: { code: 'not_found', message: 'Not found' } }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise((resolve) => server.close(resolve)) };
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leadrelay-console-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('console build', () => {
  it('writes an index.html naming content-hashed assets, and a metafile', async () => {
    const dir = tempDir();
    const built = await buildConsole(dir);
    expect(built.script).toMatch(/^assets\/console-[A-Z0-9]+\.js$/);
    expect(built.stylesheet).toMatch(/^assets\/console-[A-Z0-9]+\.css$/);
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(html).toContain(`<script type="module" src="${built.script}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${built.stylesheet}">`);
    // Nothing inline: the page runs under script-src 'self'.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'))).toHaveProperty('outputs');
    // No CDN: every import is bundled.
    expect(readFileSync(path.join(dir, built.script), 'utf8')).not.toMatch(/https?:\/\/(cdn|unpkg|esm\.sh|jsdelivr)/);
  });
});

describe('GET /console', () => {
  let base: string;
  let close: () => Promise<unknown>;
  let dir: string;
  beforeAll(async () => {
    // Under a dot-directory, like the default `.data/console/`.
    dir = path.join(tempDir(), '.data', 'console');
    ({ base, close } = await serve(dir));
  });
  afterAll(() => close());

  it('builds the console on first request when there is no build, then serves index.html uncached under a strict CSP', async () => {
    const res = await fetch(`${base}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('<div id="app">');
  });

  it('redirects /console to /console/, keeping the query', async () => {
    const res = await fetch(`${base}/console?x=1`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/console/?x=1');
  });

  it('serves hashed assets as immutable for a year, and nothing else', async () => {
    const html = await (await fetch(`${base}/console/`)).text();
    const script = /src="(assets\/[^"]+\.js)"/.exec(html)![1]!;
    const stylesheet = /href="(assets\/[^"]+\.css)"/.exec(html)![1]!;
    const js = await fetch(`${base}/console/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    const css = await fetch(`${base}/console/${stylesheet}`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${base}/console/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/console/assets/../index.html`)).status).not.toBe(500);
    expect((await fetch(`${base}/console/meta.json`)).status).toBe(404);
  });

  it('sends the script compressed as the browser accepts it (brotli, gzip), and plain to a client that takes neither', async () => {
    const html = await (await fetch(`${base}/console/`)).text();
    const script = /src="(assets\/[^"]+\.js)"/.exec(html)![1]!;
    const raw = (encoding: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        get(`${base}/console/${script}`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
    const plain = await raw('identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect((await raw('')).headers['content-encoding']).toBeUndefined();
    const br = await raw('gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/^text\/javascript/);
    expect(br.headers['vary']).toMatch(/Accept-Encoding/i);
    expect(br.body.length).toBeLessThan(plain.body.length / 2);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gz = await raw('gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
  });

  it('leaves other paths alone', async () => {
    const res = await fetch(`${base}/v1/leads`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-security-policy')).toBeNull();
  });
});
