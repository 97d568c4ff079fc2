/**
 * Run by test/integration/production-install.test.ts from a copy of the runtime sources beside a
 * production install (`npm install --omit=dev`): starts the worker and the API with a sandbox
 * tenant against the test run's dev server, publishes a YAML policy through the API, reads it back
 * and prints `RESULT {put, get}`. Imports only runtime code, so a package missing from
 * `dependencies` fails it.
 *
 *   tsx test/support/productionSmoke.ts <temporal address> <workflow bundle path> <policy.yaml>
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setLogLevel } from '../../src/log';
import { demoStackTenant, demoStackWorkspace } from '../../sandbox/demoTenant';
import { startSandbox } from '../../sandbox/server';
import { startStack } from '../../src/stack';
import { sha256Hex, TenantRegistry } from '../../src/tenants/registry';

async function main(): Promise<void> {
  const [temporalAddress, codePath, policyFile] = process.argv.slice(2);
  if (!temporalAddress || !codePath || !policyFile) throw new Error('usage: productionSmoke <temporal address> <workflow bundle> <policy.yaml>');
  setLogLevel('warn');
  const suffix = randomBytes(4).toString('hex');
  const identity = { id: `ws-${suffix}`, token: `token-${suffix}` };
  const sandbox = await startSandbox({ workspaces: [demoStackWorkspace(new Date(), 'unified', identity)] });
  const apiKey = `key-${suffix}`;
  const tenants = new TenantRegistry();
  tenants.add({ ...demoStackTenant(sandbox.url, 'unified', identity), id: `t-${suffix}`, apiKeys: [{ id: 'smoke', sha256: sha256Hex(apiKey) }] });
  const stack = await startStack({ temporalAddress, namespace: 'default', taskQueue: `prod-${suffix}`, tenants, apiHost: '127.0.0.1', apiPort: 0, webUiUrl: null, workflowBundle: { codePath }, encryption: { active: randomBytes(32) } });
  try {
    const policy = async (method: 'PUT' | 'GET', yaml?: string) => {
      const res = await fetch(`${stack.apiUrl}/v1/policy`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(yaml === undefined ? {} : { 'content-type': 'application/yaml' }) },
        ...(yaml === undefined ? {} : { body: yaml }),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const put = await policy('PUT', readFileSync(policyFile, 'utf8'));
    const get = await policy('GET');
    process.stdout.write(`RESULT ${JSON.stringify({ put, get })}\n`);
  } finally {
    await stack.close();
    await sandbox.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
