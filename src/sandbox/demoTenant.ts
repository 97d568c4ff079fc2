import { sha256Hex } from '../tenants/registry';
import type { TenantInput } from '../tenants/schema';
import { DEMO_REPS, DEMO_TOKEN, DEMO_WORKSPACE_ID, demoWorkspace } from './seed';
import type { SandboxWorkspace } from './types';

/** The documented development key of the sandbox's demo tenant. Never a default outside the sandbox. */
export const DEMO_API_KEY = 'demo-key';
export const DEMO_TENANT_ID = 'demo';
/** The inbound queue user that fallback leads are assigned to. */
export const DEMO_QUEUE_USER = { id: 'usr_inbound_queue', email: 'inbound-queue@demo-sales.example', name: 'Inbound Queue' };
export const DEMO_TRIAGE_CHANNEL = 'C_LEAD_TRIAGE';
/** Development-only secrets of the sandbox's demo tenant (like `demo-key`): never used outside the sandbox. */
export const DEMO_SLACK_SIGNING_SECRET = 'sandbox-slack-signing-secret';
export const DEMO_ACCEPT_LINK_SECRET = 'sandbox-accept-link-secret';

/** The demo workspace plus the fallback queue user the CRM needs to accept fallback assignments. */
export function demoSandboxWorkspace(now: Date): SandboxWorkspace {
  const workspace = demoWorkspace(now);
  workspace.users.push(DEMO_QUEUE_USER);
  return workspace;
}

/**
 * The demo tenant wired to the sandbox at `sandboxUrl`. Reps work 07:00–22:00 every day in
 * their own time zones, so across five zones someone is usually on and the trace shows who is not.
 */
export function demoTenant(
  sandboxUrl: string,
  workspace: { id: string; token: string } = { id: DEMO_WORKSPACE_ID, token: DEMO_TOKEN },
  apiUrl = 'http://127.0.0.1:3000',
): TenantInput {
  const connection = (id: string) => ({
    id,
    provider: 'unified' as const,
    baseUrl: sandboxUrl,
    accountId: workspace.id,
    secret: { value: workspace.token },
  });
  return {
    id: DEMO_TENANT_ID,
    name: 'Demo Sales (sandbox)',
    apiKeys: [{ id: 'demo', sha256: sha256Hex(DEMO_API_KEY) }],
    connections: {
      crm: connection('crm'),
      hris: connection('hris'),
      calendar: connection('calendar'),
      messaging: connection('messaging'),
      enrichment: { id: 'enrichment', provider: 'clearbit', baseUrl: sandboxUrl, secret: { value: workspace.token } },
    },
    accept: {
      slackSigningSecret: { value: DEMO_SLACK_SIGNING_SECRET },
      linkSecret: { value: DEMO_ACCEPT_LINK_SECRET },
      publicUrl: apiUrl,
    },
    routing: {
      team: DEMO_REPS.map((r) => ({
        id: r.id,
        name: r.name,
        email: r.email,
        timezone: r.timezone,
        workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '07:00', end: '22:00' },
      })),
      pool: { id: 'inbound', members: DEMO_REPS.map((r) => r.id) },
      fallback: { ownerId: DEMO_QUEUE_USER.id, label: 'Inbound Queue', notifyChannel: DEMO_TRIAGE_CHANNEL },
      holdOpenSeconds: 3600,
    },
  };
}
