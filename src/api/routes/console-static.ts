import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import { buildConsole, CONSOLE_OUT_DIR } from '../../console/build';
import { logger } from '../../log';

const log = logger('console');

/**
 * The console's page may load only what this origin serves: its hashed script and stylesheet
 * (no inline script or style element), and talk only to this origin's API. It may not be framed.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  next();
};

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * The script and stylesheet as the build compressed them (brotli, else gzip) when the browser
 * takes it: the 560 kB script travels as about 150 kB. Anything else falls through to the plain files.
 */
function precompressed(assets: string): RequestHandler {
  return (req, res, next) => {
    const name = req.path.slice(1);
    const type = TYPES[path.extname(name)];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !type || name.includes('/') || name.startsWith('.')) return next();
    res.vary('Accept-Encoding');
    // Brotli when the browser takes it at all (negotiation would pick by the header's order among equals).
    // No Accept-Encoding header (curl without --compressed): plain.
    const encoding = !req.get('accept-encoding') ? null : req.acceptsEncodings('br') === 'br' ? 'br' : req.acceptsEncodings('gzip', 'identity') === 'gzip' ? 'gzip' : null;
    const suffix = encoding === 'br' ? '.br' : encoding === 'gzip' ? '.gz' : null;
    if (!suffix || !existsSync(path.join(assets, name + suffix))) return next();
    res.set({ 'Content-Encoding': encoding!, 'Content-Type': type, 'Cache-Control': 'public, max-age=31536000, immutable' });
    res.sendFile(name + suffix, { root: assets, cacheControl: false, dotfiles: 'deny', lastModified: true }, (err) => {
      if (err && !res.headersSent) next();
    });
  };
}

export interface ConsoleStaticOptions {
  /** Where the build is (default `.data/console/`, written by src/console/build.ts). */
  dir?: string;
}

/**
 * The operations console at `/console/`: index.html (never cached, so a new build is picked up at
 * once) and its content-hashed assets (cached for a year, immutable). No authentication here: the
 * page holds no data; it signs in through `/v1/session` and reads the public API like any client.
 *
 * When there is no build (a checkout that skipped `npm start`/`npm test`), the first request
 * builds it in this process, once, instead of answering 404.
 */
export function consoleStaticRoutes(app: Express, options: ConsoleStaticOptions = {}): void {
  const dir = options.dir ?? CONSOLE_OUT_DIR;
  const index = path.join(dir, 'index.html');
  let building: Promise<void> | null = null;
  const ensureBuilt = (): Promise<void> => {
    if (existsSync(index)) return Promise.resolve();
    building ??= (async () => {
      log.info('no console build found: building it now', { dir });
      const built = await buildConsole(dir);
      log.info('console built', { dir, script: built.script, durationMs: built.durationMs });
    })().finally(() => {
      building = null;
    });
    return building;
  };

  // Strict routing: `/console` and `/console/` are different addresses (relative asset URLs need the slash).
  const router = express.Router({ strict: true, caseSensitive: true });
  router.use('/console', securityHeaders);
  router.get('/console', (req, res) => {
    const query = req.originalUrl.indexOf('?');
    res.redirect(301, `/console/${query >= 0 ? req.originalUrl.slice(query) : ''}`);
  });
  router.get('/console/', async (_req, res) => {
    await ensureBuilt();
    res.set('Cache-Control', 'no-cache');
    // Relative to `dir`, so a build under a dot-directory (`.data/`) is served: only the file name is checked for dots.
    res.sendFile('index.html', { root: dir, cacheControl: false, lastModified: true, dotfiles: 'deny' });
  });
  router.use('/console/assets', precompressed(path.join(dir, 'assets')));
  router.use(
    '/console/assets',
    express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, redirect: false, dotfiles: 'deny', fallthrough: true }),
  );
  app.use(router);
}
