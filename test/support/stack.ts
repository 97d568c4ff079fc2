import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import type { SandboxEvent, SandboxSystem } from '../../sandbox/types';
import { startStack, type RunningStack, type StackOptions } from '../../src/stack';
import { TenantRegistry } from '../../src/tenants/registry';
import type { Tenant } from '../../src/tenants/schema';
import type { LeadState } from '../../src/domain/leadState';
import { TEST_ENV_FILE } from './globalSetup';
import type { Scenario } from './scenario';

export interface TestStack {
  api: string;
  sandbox: RunningSandbox;
  stack: RunningStack;
  tenants: TenantRegistry;
  tenant: Tenant;
  apiKey: string;
  /** The scenarios as built, in the order given (the first is the default for requests). */
  scenarios: Scenario[];
  /** JSON request to the API with the scenario's key unless `headers.authorization` says otherwise. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  events(system?: SandboxSystem): SandboxEvent[];
  /** The lead's status as `GET /v1/leads/:id` answers it (with another tenant's key if given). */
  leadState(leadId: string, apiKey?: string): Promise<LeadState>;
  /** Polls the lead's status until `check` holds. */
  waitForLead(leadId: string, check: (s: LeadState) => boolean, what: string, apiKey?: string): Promise<LeadState>;
  /** Polls until the lead is routed (or failed). */
  routed(leadId: string, apiKey?: string): Promise<LeadState>;
  /** Stops the worker and API and starts new ones on the same task queue (a deploy, or a crash and restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function testEnv(): { address: string; bundlePath: string; encryptionKey: string } {
  return JSON.parse(readFileSync(TEST_ENV_FILE, 'utf8'));
}

/** The run's deployment key (made by the global setup): payloads are encrypted in every test, as in production. */
export function testEncryption(): { active: Buffer } {
  return { active: Buffer.from(testEnv().encryptionKey, 'base64') };
}

/** Settings of the stack under test beyond the defaults (the environment level of the template stack). */
export type TestStackOptions = Pick<StackOptions, 'distributionTemplates' | 'codecCorsOrigins' | 'backlogPollSeconds' | 'tracing' | 'workflowBundle'>;

/** Sandbox + worker + API on ephemeral ports, against the run's shared dev server. */
export function startTestStack(...scenarios: Array<(sandboxUrl: string) => Scenario>): Promise<TestStack> {
  return startTestStackWith({}, ...scenarios);
}

/** startTestStack with settings of the stack's own. */
export async function startTestStackWith(extra: TestStackOptions, ...scenarios: Array<(sandboxUrl: string) => Scenario>): Promise<TestStack> {
  const env = testEnv();
  const sandbox = await startSandbox({ workspaces: [] });
  const built = scenarios.map((s) => s(sandbox.url));
  const tenants = new TenantRegistry();
  for (const s of built) {
    sandbox.addWorkspace(s.workspace);
    tenants.add(s.tenant);
  }
  const first = built[0];
  if (!first) throw new Error('at least one scenario');
  const options = {
    temporalAddress: env.address,
    namespace: 'default',
    taskQueue: `test-${randomBytes(4).toString('hex')}`,
    tenants,
    apiHost: '127.0.0.1',
    apiPort: 0,
    bodyLimit: '16kb',
    webUiUrl: null,
    workflowBundle: { codePath: env.bundlePath },
    // The marketplace's buyers are local emulators.
    allowPrivateBuyerUrls: true,
    // Console sessions; a restart keeps the key, so signed-in users stay signed in, as in production.
    sessionKey: randomBytes(32),
    encryption: { active: Buffer.from(env.encryptionKey, 'base64') },
    ...extra,
  };
  let stack = await startStack(options);
  const tenant = tenants.get(first.tenant.id)!;
  const testStack: TestStack = {
    get api() {
      return stack.apiUrl;
    },
    sandbox,
    get stack() {
      return stack;
    },
    tenants,
    tenant,
    apiKey: first.apiKey,
    scenarios: built,
    async request(method, path, body, headers = {}) {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${first.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // leave as text
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    events: (system) => sandbox.events().filter((e) => !system || e.system === system),
    async leadState(leadId, apiKey = first.apiKey) {
      const res = await testStack.request('GET', `/v1/leads/${leadId}`, undefined, { authorization: `Bearer ${apiKey}` });
      if (res.status !== 200) throw new Error(`GET /v1/leads/${leadId} answered ${res.status}`);
      return res.body as LeadState;
    },
    waitForLead(leadId, check, what, apiKey) {
      return eventually(async () => {
        const state = await testStack.leadState(leadId, apiKey);
        return check(state) ? state : undefined;
      }, 120_000, `lead ${leadId}: ${what}`);
    },
    routed(leadId, apiKey) {
      return testStack.waitForLead(leadId, (s) => s.status === 'routed' || s.status === 'failed', 'routed', apiKey);
    },
    async restart() {
      await stack.close();
      stack = await startStack(options);
    },
    async close() {
      await stack.close();
      await sandbox.close();
    },
  };
  return testStack;
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
