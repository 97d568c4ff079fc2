import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { testEnv } from '../support/stack';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

/** A policy as an operator would write it in YAML (the demo tenant's reps and triage queue). */
const POLICY_YAML = `
timezone: UTC
pools:
  - id: inbound
    strategy: round_robin
    members:
      - repId: usr_ava
      - repId: usr_ben
rules:
  - id: yaml-everyone
    name: Everyone to the inbound pool
    when: { all: [] }
    action: { type: pool, pool: inbound }
fallback:
  ownerId: usr_inbound_queue
  label: Inbound Queue
  notifyChannel: C0LEADTRIAGE
`;

/**
 * What a deployment gets: the repository's package.json and lock installed with
 * `npm install --omit=dev` (from npm's cache when it has the packages) beside a copy of the runtime
 * sources, then the worker and the API started from there, taking a YAML policy. A package the
 * runtime needs but only devDependencies list fails here (as `yaml` once did).
 */
it('starts from a production install (no devDependencies) and accepts a YAML policy', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leadrelay-production-'));
  try {
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) copyFileSync(path.join(ROOT, file), path.join(dir, file));
    await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, timeout: 120_000 });
    expect(existsSync(path.join(dir, 'node_modules', 'tsx'))).toBe(true);
    expect(existsSync(path.join(dir, 'node_modules', 'jest'))).toBe(false);

    // Copies, not links: Node resolves packages from a file's real location.
    for (const sources of ['src', 'sandbox', 'workflows', 'activities']) cpSync(path.join(ROOT, sources), path.join(dir, sources), { recursive: true });
    mkdirSync(path.join(dir, 'test', 'support'), { recursive: true });
    copyFileSync(path.join(ROOT, 'test', 'support', 'productionSmoke.ts'), path.join(dir, 'test', 'support', 'productionSmoke.ts'));
    writeFileSync(path.join(dir, 'policy.yaml'), POLICY_YAML);

    const { address, bundlePath } = testEnv();
    const smoke = await run(path.join(dir, 'node_modules', '.bin', 'tsx'), ['test/support/productionSmoke.ts', address, bundlePath, 'policy.yaml'], { cwd: dir, timeout: 90_000 }).catch(
      (err: { stderr?: string; message: string }) => {
        throw new Error(`the smoke run under the production install failed: ${err.stderr || err.message}`);
      },
    );
    const line = smoke.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line).toBeDefined();
    const { put, get } = JSON.parse(line!.slice('RESULT '.length)) as { put: { status: number; body: any }; get: { status: number; body: any } };
    expect(put).toMatchObject({ status: 200, body: { version: 'v1' } });
    expect(get).toMatchObject({ status: 200, body: { version: 'v1', policy: { rules: [{ id: 'yaml-everyone', action: { type: 'pool', pool: 'inbound' } }] } } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
