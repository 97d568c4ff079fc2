import { sha256Hex } from '../src/tenants/registry';
import type { ProviderId } from '../src/connectors/providers';
import type { ConnectionCategory, ConsoleUser, TenantInput } from '../src/tenants/schema';
import { DEMO_REPS, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from './seed';
import type { SandboxWorkspace } from './types';
import { demoSources } from './demoSources';

/** The documented development key of the sandbox's demo tenant. Never a default outside the sandbox. */
export const DEMO_API_KEY = 'demo-key';
export const DEMO_TENANT_ID = 'demo';
/** The inbound queue user that fallback leads are assigned to. */
export const DEMO_QUEUE_USER = { id: 'usr_inbound_queue', email: 'inbound-queue@demo-sales.example', name: 'Inbound Queue' };
/** A Slack-shaped channel ID (C + letters and digits), so every demo messenger accepts it. */
export const DEMO_TRIAGE_CHANNEL = 'C0LEADTRIAGE';
/** Development-only secrets of the sandbox's demo tenant (like `demo-key`): never used outside the sandbox. */
export const DEMO_SLACK_SIGNING_SECRET = 'sandbox-slack-signing-secret';
export const DEMO_ACCEPT_LINK_SECRET = 'sandbox-accept-link-secret';

/**
 * Provider mixes the sandbox can show: the same sales team and accounts behind different real
 * providers' wire formats. `unified` is the pass-through unified API; the others are direct
 * connections to the providers (each emulated by the sandbox).
 */
export type DemoStack = 'unified' | 'salesforce' | 'hubspot' | 'pipedrive';
export const DEMO_STACKS: Record<DemoStack, Record<ConnectionCategory, ProviderId>> = {
  unified: { crm: 'unified', hris: 'unified', calendar: 'unified', messaging: 'unified', enrichment: 'clearbit' },
  salesforce: { crm: 'salesforce', hris: 'bamboohr', calendar: 'google', messaging: 'slack', enrichment: 'clearbit' },
  hubspot: { crm: 'hubspot', hris: 'okta', calendar: 'msgraph', messaging: 'teams', enrichment: 'pdl' },
  pipedrive: { crm: 'pipedrive', hris: 'hibob', calendar: 'google', messaging: 'webhook', enrichment: 'pdl' },
};

/** The sandbox tenant of each stack: its ID, development API key and workspace. */
export const DEMO_STACK_TENANTS: Record<DemoStack, { tenantId: string; apiKey: string; workspaceId: string; token: string }> = {
  unified: { tenantId: DEMO_TENANT_ID, apiKey: DEMO_API_KEY, workspaceId: DEMO_WORKSPACE_ID, token: DEMO_TOKEN },
  salesforce: { tenantId: 'demo-salesforce', apiKey: 'demo-salesforce-key', workspaceId: 'demo-salesforce-org', token: 'sandbox-salesforce-token' },
  hubspot: { tenantId: 'demo-hubspot', apiKey: 'demo-hubspot-key', workspaceId: 'demo-hubspot-portal', token: 'sandbox-hubspot-token' },
  pipedrive: { tenantId: 'demo-pipedrive', apiKey: 'demo-pipedrive-key', workspaceId: 'demo-pipedrive-company', token: 'sandbox-pipedrive-token' },
};

/**
 * Development console sign-ins of the sandbox tenants (documented in the README, printed by
 * `npm start`): never used outside the sandbox. The hashes are of the passwords shown, made once
 * with scripts/hash-password.ts so the sandbox does not spend scrypt time at each start.
 */
export const DEMO_CONSOLE_USERS: Partial<Record<DemoStack, Array<ConsoleUser & { password: string }>>> = {
  unified: [
    {
      email: 'admin@demo.leadrelay.dev',
      name: 'Avery Admin',
      role: 'admin',
      password: 'demo-admin',
      passwordHash: 'scrypt$32768$8$1$SIIbsxuaZN0YUmH3mGlrDw==$8r0PXrfi3aeoJIe6KC9xUhlr222tEpRnJ8oUAiGZchA=',
    },
    {
      email: 'ops@demo.leadrelay.dev',
      name: 'Olive Ops',
      role: 'ops',
      password: 'demo-ops',
      passwordHash: 'scrypt$32768$8$1$eQuaxWB/3hgI4bUzvbFj4w==$D+mG6x7UYLJFKU0+NBroc2wMTdZAJg0VE3FGbn/uQSg=',
    },
    {
      email: 'viewer@demo.leadrelay.dev',
      name: 'Vic Viewer',
      role: 'viewer',
      password: 'demo-viewer',
      passwordHash: 'scrypt$32768$8$1$k6ZtmhkH6PHQRs9J3BVZrw==$EP612cP9jX3qaj/I3KwfaIXv1owi9JWXJpKVGxOYYL8=',
    },
  ],
  hubspot: [
    {
      email: 'admin@demo-hubspot.leadrelay.dev',
      name: 'Hana Admin',
      role: 'admin',
      password: 'demo-admin',
      passwordHash: 'scrypt$32768$8$1$+gY0kXxKPnTUiaUhC0uP4w==$WIpQ4nN8Pul5YEigr4vgmXwmcvMoOb3cO1iC87/yF1s=',
    },
  ],
};

/**
 * The `console` settings of a sandbox tenant (its development users), or undefined for a stack
 * without any. Kept out of demoStackTenant: tests copy that tenant under other IDs, and an email
 * may belong to one tenant only.
 */
export function demoConsole(stack: DemoStack): TenantInput['console'] {
  const users = DEMO_CONSOLE_USERS[stack];
  return users ? { users: users.map(({ password: _password, ...user }) => user) } : undefined;
}

function stackIdentity(stack: DemoStack): { id: string; token: string } {
  return { id: DEMO_STACK_TENANTS[stack].workspaceId, token: DEMO_STACK_TENANTS[stack].token };
}

/**
 * Record IDs look like each CRM's own (Salesforce 18-character IDs, HubSpot and Pipedrive
 * numbers): CRM user IDs are what owners are written as, so team members carry them too.
 */
function crmIdOf(stack: DemoStack, kind: 'user' | 'account', index: number): string {
  const n = String(index + 1).padStart(5, '0');
  switch (stack) {
    case 'unified':
      throw new Error('unified IDs are the seed IDs');
    case 'salesforce':
      return `${kind === 'user' ? '005' : '001'}5j00000${n}AAA`;
    case 'hubspot':
      return kind === 'user' ? String(41_629_700 + index + 1) : String(9_800_000_000 + index + 1);
    case 'pipedrive':
      return kind === 'user' ? String(12_000 + index + 1) : String(500 + index + 1);
  }
}

/** Seed ID → the stack's CRM ID, for users (reps and the queue) and accounts. */
export function demoIdMap(stack: DemoStack, workspace: SandboxWorkspace): Map<string, string> {
  const map = new Map<string, string>();
  if (stack === 'unified') return map;
  workspace.users.forEach((u, i) => map.set(u.id, crmIdOf(stack, 'user', i)));
  workspace.accounts.forEach((a, i) => map.set(a.id, crmIdOf(stack, 'account', i)));
  return map;
}

/** Replaces every string equal to a seed ID (anywhere in a policy or expectation) with the stack's ID. */
export function remapIds<T>(value: T, ids: Map<string, string>): T {
  if (ids.size === 0) return value;
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => (typeof v === 'string' ? (ids.get(v) ?? v) : v)) as T;
}

/** The demo workspace plus the fallback queue user the CRM needs to accept fallback assignments. */
export function demoSandboxWorkspace(now: Date): SandboxWorkspace {
  const workspace = demoWorkspace(now);
  workspace.users.push(DEMO_QUEUE_USER);
  return workspace;
}

/**
 * The demo workspace as a stack's CRM sees it: its IDs, and (Salesforce) the custom fields a
 * tenant override maps — `Territory__c` and `ABM_Tier__c` on accounts.
 */
export function demoStackWorkspace(now: Date, stack: DemoStack, identity: { id: string; token: string } = stackIdentity(stack)): SandboxWorkspace {
  const base = { ...demoSandboxWorkspace(now), id: identity.id, token: identity.token };
  const ids = demoIdMap(stack, base);
  const workspace = remapIds(base, ids);
  if (stack === 'salesforce') {
    const territories: Record<string, string> = { US: 'NA', DE: 'EMEA', GB: 'EMEA', SG: 'APAC' };
    workspace.accounts = workspace.accounts.map((a, i) => ({
      ...a,
      custom: { Territory__c: territories[a.country ?? ''] ?? null, ABM_Tier__c: i === 0 ? 'Tier 1' : 'Tier 3' },
    }));
  }
  return workspace;
}

/** How a sandbox connection reaches its emulator: base URL, account and credentials as the provider takes them. */
function sandboxConnection(category: ConnectionCategory, provider: ProviderId, sandboxUrl: string, workspace: { id: string; token: string }): NonNullable<TenantInput['connections'][ConnectionCategory]> {
  const base = { id: category, provider, baseUrl: sandboxUrl };
  const secret = { secret: { value: workspace.token } };
  const oauth = (tokenPath?: string) => ({
    oauth: {
      ...(tokenPath ? { tokenUrl: `${sandboxUrl}${tokenPath}` } : {}),
      clientId: { value: workspace.id },
      clientSecret: { value: workspace.token },
      refreshToken: { value: workspace.token },
    },
  });
  switch (provider) {
    case 'unified':
      return { ...base, accountId: workspace.id, ...secret };
    case 'salesforce':
    case 'hubspot':
      return { ...base, ...oauth() };
    case 'google':
      return { ...base, ...oauth('/token') };
    case 'msgraph':
      // Graph's base URL carries the API version; the token endpoint is on the identity platform.
      return { ...base, baseUrl: `${sandboxUrl}/v1.0`, accountId: `scheduler@${workspace.id}.example`, ...oauth('/organizations/oauth2/v2.0/token') };
    case 'bamboohr':
    case 'hibob':
    case 'teams':
    case 'webhook':
      return { ...base, accountId: workspace.id, ...secret };
    case 'okta':
    case 'pipedrive':
    case 'slack':
    case 'clearbit':
    case 'pdl':
      return { ...base, ...secret };
  }
}

/**
 * A sandbox tenant wired to the sandbox at `sandboxUrl` through `stack`'s providers. Reps work
 * 07:00–22:00 every day in their own time zones, so across five zones someone is usually on and
 * the trace shows who is not.
 */
export function demoStackTenant(
  sandboxUrl: string,
  stack: DemoStack,
  workspace: { id: string; token: string } = stackIdentity(stack),
  apiUrl = 'http://127.0.0.1:3000',
): TenantInput {
  const seed = demoSandboxWorkspace(new Date(0));
  const ids = demoIdMap(stack, seed);
  const id = (seedId: string) => ids.get(seedId) ?? seedId;
  const providers = DEMO_STACKS[stack];
  const connection = (category: ConnectionCategory) => sandboxConnection(category, providers[category], sandboxUrl, workspace);
  const identity = DEMO_STACK_TENANTS[stack];
  return {
    id: identity.tenantId,
    name: stack === 'unified' ? 'Demo Sales (sandbox)' : `Demo Sales on ${Object.values(providers).join(' + ')} (sandbox)`,
    apiKeys: [{ id: 'demo', sha256: sha256Hex(identity.apiKey) }],
    connections: {
      crm: connection('crm'),
      hris: connection('hris'),
      calendar: connection('calendar'),
      messaging: connection('messaging'),
      enrichment: connection('enrichment'),
    },
    accept: {
      slackSigningSecret: { value: DEMO_SLACK_SIGNING_SECRET },
      linkSecret: { value: DEMO_ACCEPT_LINK_SECRET },
      publicUrl: apiUrl,
    },
    routing: {
      team: DEMO_REPS.map((r) => ({
        id: id(r.id),
        name: r.name,
        email: r.email,
        timezone: r.timezone,
        workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '07:00', end: '22:00' },
      })),
      pool: { id: 'inbound', members: DEMO_REPS.map((r) => id(r.id)) },
      fallback: { ownerId: id(DEMO_QUEUE_USER.id), label: 'Inbound Queue', notifyChannel: DEMO_TRIAGE_CHANNEL },
      holdOpenSeconds: 3600,
    },
    // The demo tenant receives leads from one source of each kind (see demoSources.ts).
    ...(stack === 'unified' ? { sources: demoSources({ sandboxUrl, pageToken: workspace.token }) } : {}),
  };
}

/** The unified-API demo tenant (the sandbox's default). */
export function demoTenant(
  sandboxUrl: string,
  workspace: { id: string; token: string } = { id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN },
  apiUrl = 'http://127.0.0.1:3000',
): TenantInput {
  return demoStackTenant(sandboxUrl, 'unified', workspace, apiUrl);
}
