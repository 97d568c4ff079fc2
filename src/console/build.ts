/**
 * Builds the operations console (src/console/web: Preact + TSX, Chart.js) into `.data/console/`:
 * one minified, content-hashed script and stylesheet under `assets/` with their source maps, and
 * an `index.html` that names them (no inline script, so the page can run under a strict CSP).
 * esbuild's metafile is kept next to them (`meta.json`) with a short size summary (`build.json`).
 *
 * Run by `npm start`, `npm test` and the integration tests' global setup (`tsx scripts/build-console.ts`),
 * and by the API itself when it is asked for the console and finds no build (see
 * src/api/routes/console-static.ts), which is why it lives under src/: a production install has no
 * scripts/. Everything comes from node_modules: no network.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants as zlib, brotliCompressSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
export const CONSOLE_SOURCE_DIR = path.join(ROOT, 'src', 'console', 'web');
export const CONSOLE_OUT_DIR = path.join(ROOT, '.data', 'console');
/** Where the assets are served from, relative to the console's index.html. */
const ASSETS = 'assets';

export interface ConsoleBuild {
  outDir: string;
  /** Paths relative to `outDir`. */
  script: string;
  stylesheet: string;
  /** Bytes of each output file (source maps included), from the metafile. */
  bytes: Record<string, number>;
  durationMs: number;
}

const escapeAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function indexHtml(script: string, stylesheet: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Leadrelay console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeAttr(stylesheet)}">
<script type="module" src="${escapeAttr(script)}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the Leadrelay console…</p></div>
<noscript><p>The Leadrelay console needs JavaScript.</p></noscript>
</body>
</html>
`;
}

/**
 * zod exports every error-message locale as `z.locales` (about 260 kB minified), which a bundler
 * cannot drop from the `z` namespace. The console validates with zod's default English messages
 * (the API's), so `z.locales` offers English only here.
 */
const englishOnlyZodLocales: Plugin = {
  name: 'zod-english-locale-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: path.resolve(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/** Output file names under `outDir` of one build, from the metafile. */
function outputsOf(metafile: Metafile, outDir: string): { script: string; stylesheet: string; bytes: Record<string, number> } {
  let script: string | null = null;
  let stylesheet: string | null = null;
  const bytes: Record<string, number> = {};
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const rel = path.relative(outDir, path.resolve(ROOT, file)).split(path.sep).join('/');
    bytes[rel] = output.bytes;
    if (output.entryPoint && rel.endsWith('.js')) {
      script = rel;
      if (output.cssBundle) stylesheet = path.relative(outDir, path.resolve(ROOT, output.cssBundle)).split(path.sep).join('/');
    }
  }
  if (!script || !stylesheet) throw new Error('console build produced no script or no stylesheet');
  return { script, stylesheet, bytes };
}

/**
 * Bundles the console into `outDir`. Assets are content-addressed, so writing them again is
 * harmless; index.html is replaced atomically last, then assets no build names any more are removed.
 */
export async function buildConsole(outDir: string = CONSOLE_OUT_DIR): Promise<ConsoleBuild> {
  const started = Date.now();
  const assetsDir = path.join(outDir, ASSETS);
  mkdirSync(assetsDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { console: path.join(CONSOLE_SOURCE_DIR, 'main.tsx') },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(CONSOLE_SOURCE_DIR, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'linked',
    metafile: true,
    plugins: [englishOnlyZodLocales],
    logLevel: 'silent',
  });
  const { script, stylesheet, bytes } = outputsOf(result.metafile, outDir);
  writeFileSync(path.join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  const tmp = path.join(outDir, `index.html.${process.pid}.tmp`);
  writeFileSync(tmp, indexHtml(script, stylesheet));
  renameSync(tmp, path.join(outDir, 'index.html'));
  const durationMs = Date.now() - started;
  writeFileSync(path.join(outDir, 'build.json'), JSON.stringify({ builtAt: new Date().toISOString(), script, stylesheet, bytes, durationMs }, null, 2));
  // Compressed copies of the script and stylesheet, made once here rather than per request.
  for (const file of [script, stylesheet]) {
    const body = readFileSync(path.join(outDir, file));
    writeFileSync(path.join(outDir, `${file}.br`), brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }));
    writeFileSync(path.join(outDir, `${file}.gz`), gzipSync(body, { level: 9 }));
  }
  const keep = new Set(Object.keys(bytes).flatMap((f) => [path.basename(f), `${path.basename(f)}.br`, `${path.basename(f)}.gz`]));
  for (const file of readdirSync(assetsDir)) if (!keep.has(file)) rmSync(path.join(assetsDir, file), { force: true });
  return { outDir, script, stylesheet, bytes, durationMs };
}

/** "123.4 kB" */
export function kilobytes(n: number): string {
  return `${(n / 1000).toFixed(1)} kB`;
}

/** `tsx scripts/build-console.ts` (npm start, npm test, `npm run build:console`). */
export function buildConsoleCli(): void {
  buildConsole().then(
    (b) => {
      const size = (f: string) => kilobytes(b.bytes[f] ?? 0);
      console.log(`[console] built ${path.relative(ROOT, b.outDir)}/ in ${b.durationMs} ms: ${b.script} ${size(b.script)}, ${b.stylesheet} ${size(b.stylesheet)}`);
    },
    (err: unknown) => {
      console.error('[console] build failed:', err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
