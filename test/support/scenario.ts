import { randomBytes } from 'node:crypto';
import { businessClock } from '../../src/clock';
import { localTime } from '../../src/domain/calendar';
import { DEMO_QUEUE_USER, DEMO_TRIAGE_CHANNEL, demoIdMap, demoSandboxWorkspace, demoStackTenant, demoStackWorkspace, type DemoStack } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import type { SandboxWorkspace } from '../../sandbox/types';
import { sha256Hex } from '../../src/tenants/registry';
import type { TenantInput } from '../../src/tenants/schema';
import type { Policy } from '../../src/domain/policy/types';
import { hashPasswordSync, type ConsoleRole } from '../../src/console/users';

export const ALWAYS = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

export interface Scenario {
  workspace: SandboxWorkspace;
  tenant: TenantInput;
  apiKey: string;
  /** The scenario's CRM ID for a seed ID (`usr_ava` → the stack's ID for Ava): identity for the unified stack. */
  id(seedId: string): string;
}

export interface ScenarioOptions {
  /** Rep IDs in the pool (and on the team), default all five demo reps. */
  members?: string[];
  holdOpenSeconds?: number;
  /** Clear the demo's PTO and meeting so every rep is available (concurrency tests). */
  allAvailable?: boolean;
  /** The emulated upstreams' rate limit (the demo's is a realistic 1,000 a minute per system). */
  rateLimit?: { limit: number; windowSeconds: number };
  /** Which providers the tenant connects (default the unified API). */
  stack?: DemoStack;
  /** Tenant-level mapping overrides of the CRM connection. */
  crmMappings?: Record<string, unknown>;
  /** Busy blocks to put on reps' calendars instead of the demo's. */
  busy?: Array<{ repId: string; start: string; end: string }>;
  /** Working hours the tenant configures for reps, by seed rep ID; others work around the clock. */
  teamHours?: Record<string, { days: number[]; start: string; end: string }>;
  /** Working hours reps state in their calendars (Outlook), by seed rep ID; others state none. */
  calendarHours?: Record<string, { days: number[]; start: string; end: string }>;
  /** The tenant's buyer request templates (`distribution.templates`); default none. */
  distributionTemplates?: Record<string, string>;
  /**
   * Console users of the tenant, with plain passwords (hashed when the scenario is built, at the
   * real cost: about 0.1 s each). Emails must be unique across the stack's scenarios.
   */
  consoleUsers?: ConsoleUserSpec[];
}

export interface ConsoleUserSpec {
  email: string;
  password: string;
  role: ConsoleRole;
  name?: string;
}

/**
 * The demo data set under a fresh tenant ID, workspace and API key, so test files never share a
 * pool entity or a CRM. Reps work around the clock (tests must not depend on the hour): the
 * tenant configures them so and their calendars state no hours of their own unless a test gives
 * some; PTO (Chloe) and a meeting (Dieter), placed around the business clock's now, are what
 * rules reps out.
 */
export function demoScenario(options: ScenarioOptions = {}): (sandboxUrl: string) => Scenario {
  const suffix = randomBytes(4).toString('hex');
  return (sandboxUrl) => {
    const stack = options.stack ?? 'unified';
    const identity = { id: `ws-${suffix}`, token: `token-${suffix}` };
    const now = new Date(businessClock.now());
    const workspace = demoStackWorkspace(now, stack, identity);
    const ids = demoIdMap(stack, demoSandboxWorkspace(now));
    const id = (seedId: string) => ids.get(seedId) ?? seedId;
    if (options.rateLimit) workspace.rateLimit = options.rateLimit;
    workspace.employees = workspace.employees.map(({ workingHours: _demoHours, ...e }) => {
      const hours = options.calendarHours?.[DEMO_REPS.find((r) => r.email === e.email)?.id ?? ''];
      return hours ? { ...e, workingHours: hours } : e;
    });
    if (options.allAvailable || options.busy) {
      workspace.employees = workspace.employees.map((e) => ({ ...e, timeOff: [] }));
      workspace.busy = (options.busy ?? []).map((b) => ({ email: DEMO_REPS.find((r) => r.id === b.repId)!.email, start: b.start, end: b.end }));
    }
    const apiKey = `key-${suffix}`;
    const base = demoStackTenant(sandboxUrl, stack, identity);
    if (options.crmMappings) base.connections.crm = { ...base.connections.crm, mappings: options.crmMappings };
    const members = options.members?.map(id);
    const team = base.routing.team
      .filter((m) => !members || members.includes(m.id))
      .map((m) => ({ ...m, workingHours: options.teamHours?.[DEMO_REPS.find((r) => id(r.id) === m.id)?.id ?? ''] ?? ALWAYS }));
    const tenant: TenantInput = {
      ...base,
      id: `t-${suffix}`,
      apiKeys: [{ id: 'test', sha256: sha256Hex(apiKey) }],
      routing: {
        ...base.routing,
        team,
        pool: { id: 'inbound', members: team.map((m) => m.id) },
        fallback: { ownerId: id(DEMO_QUEUE_USER.id), label: 'Inbound Queue', notifyChannel: DEMO_TRIAGE_CHANNEL },
        holdOpenSeconds: options.holdOpenSeconds ?? 600,
      },
      ...(options.distributionTemplates ? { distribution: { templates: options.distributionTemplates } } : {}),
      ...(options.consoleUsers ? { console: { users: options.consoleUsers.map(consoleUser) } } : {}),
    };
    return { workspace, tenant, apiKey, id };
  };
}

function consoleUser(spec: ConsoleUserSpec): NonNullable<TenantInput['console']>['users'][number] {
  return { email: spec.email, name: spec.name ?? spec.email.split('@')[0]!, role: spec.role, passwordHash: hashPasswordSync(spec.password) };
}

/**
 * One round-robin pool of all five reps with short clocks: 3 s to accept, a reminder, 2 s of
 * grace, then the next rep, twice, then the fallback. For the lifecycle and audit tests.
 */
export function shortSlaPolicy(opts: { graceSeconds?: number } = {}): Policy {
  return {
    timezone: 'UTC',
    pools: [{ id: 'p', strategy: 'round_robin', members: DEMO_REPS.map((r) => ({ repId: r.id })) }],
    rules: [
      // Leads a test acts on before any lapse (accept, reassign) get ten minutes: a slow machine cannot race the clock.
      { id: 'patient', when: { field: 'lead.emailDomain', regex: '\\.patient\\.example$' }, action: { type: 'pool', pool: 'p' }, slaSeconds: 600 },
      { id: 'all', when: { all: [] }, action: { type: 'pool', pool: 'p' } },
    ],
    fallback: { ownerId: DEMO_QUEUE_USER.id, label: 'Inbound Queue', notifyChannel: DEMO_TRIAGE_CHANNEL },
    sla: { normal: 3 },
    escalation: { graceSeconds: opts.graceSeconds ?? 2, maxEscalations: 2, then: 'fallback' },
  };
}

/** An email whose lead the short-SLA policy gives ten minutes (rule `patient`). */
export const patientEmail = (tag: string) => `${tag}@${tag}.patient.example`;

/**
 * Every-day working hours in `timeZone` that exclude `atMs` by hours either way: an hour-long
 * window starting two hours after the local time (or, late in the day, ending three hours
 * before it). For tests that need a rep outside their hours whatever the hour they run at.
 */
export function hoursExcluding(atMs: number, timeZone: string): { days: number[]; start: string; end: string } {
  const { minutes } = localTime(atMs, timeZone);
  const hour = Math.floor(minutes / 60);
  const from = hour + 3 <= 23 ? hour + 2 : hour - 4;
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return { days: [1, 2, 3, 4, 5, 6, 7], start: hh(from), end: hh(from + 1) };
}
