import type { SandboxAccount, SandboxCompany, SandboxWorkspace } from './types';

export const DEMO_WORKSPACE_ID = 'demo-workspace';
export const DEMO_TOKEN = 'sandbox-demo-token';

/**
 * The demo sales team, one rep per time zone so "who is working now" differs through the day.
 * `id` is the CRM user id (a CRM `owner_id`), `employeeId` the HRIS id of the same person.
 */
export const DEMO_REPS = [
  {
    id: 'usr_ava',
    employeeId: 'emp_ava',
    email: 'ava.chen@demo-sales.example',
    name: 'Ava Chen',
    timezone: 'America/New_York',
  },
  {
    id: 'usr_ben',
    employeeId: 'emp_ben',
    email: 'ben.ortiz@demo-sales.example',
    name: 'Ben Ortiz',
    timezone: 'America/Los_Angeles',
  },
  {
    id: 'usr_chloe',
    employeeId: 'emp_chloe',
    email: 'chloe.walker@demo-sales.example',
    name: 'Chloe Walker',
    timezone: 'Europe/London',
  },
  {
    id: 'usr_dieter',
    employeeId: 'emp_dieter',
    email: 'dieter.schmidt@demo-sales.example',
    name: 'Dieter Schmidt',
    timezone: 'Europe/Berlin',
  },
  {
    id: 'usr_mei',
    employeeId: 'emp_mei',
    email: 'mei.tan@demo-sales.example',
    name: 'Mei Tan',
    timezone: 'Asia/Singapore',
  },
] as const;

export type DemoRep = (typeof DEMO_REPS)[number];

/** Chloe is on PTO around `now`: the account she owns exercises the owner-unavailable path. */
export const DEMO_REP_ON_PTO: DemoRep = DEMO_REPS[2];
/** Dieter is in a meeting around `now`. */
export const DEMO_REP_BUSY: DemoRep = DEMO_REPS[3];

const [ava, ben, chloe, dieter, mei] = DEMO_REPS;

const ACCOUNTS: SandboxAccount[] = [
  {
    id: 'acc_acme',
    name: 'Acme Corporation',
    domains: ['acme.com'],
    website: 'https://www.acme.com',
    ownerId: ava.id,
    industry: 'Manufacturing',
    country: 'US',
  },
  {
    id: 'acc_globex',
    name: 'Globex',
    domains: ['globex.com', 'globex.io'],
    website: 'https://globex.com',
    ownerId: ben.id,
    industry: 'Technology',
    country: 'US',
  },
  {
    id: 'acc_initech',
    name: 'Initech',
    // Only the website carries the domain, as in CRMs where nobody filled in the domain list.
    domains: [],
    website: 'http://www.initech.com/',
    ownerId: dieter.id,
    industry: 'Software',
    country: 'DE',
  },
  {
    id: 'acc_umbrella',
    name: 'Umbrella Corporation',
    domains: ['umbrella.co.uk'],
    website: 'https://www.umbrella.co.uk',
    ownerId: chloe.id,
    industry: 'Pharmaceuticals',
    country: 'GB',
  },
  {
    id: 'acc_wayne',
    name: 'Wayne Enterprises',
    domains: ['wayne-enterprises.com'],
    website: 'https://wayne-enterprises.com',
    ownerId: mei.id,
    industry: 'Conglomerate',
    country: 'SG',
  },
];

const COMPANIES: SandboxCompany[] = [
  {
    domain: 'acme.com',
    name: 'Acme Corporation',
    sector: 'Industrials',
    industry: 'Manufacturing',
    country: 'United States',
    countryCode: 'US',
    state: 'NY',
    employees: 5400,
    employeesRange: '5K-10K',
    annualRevenue: 1_200_000_000,
  },
  {
    domain: 'globex.com',
    name: 'Globex',
    sector: 'Information Technology',
    industry: 'Software',
    country: 'United States',
    countryCode: 'US',
    state: 'CA',
    employees: 850,
    employeesRange: '501-1000',
    annualRevenue: 210_000_000,
  },
  {
    domain: 'initech.com',
    name: 'Initech',
    sector: 'Information Technology',
    industry: 'Software',
    country: 'Germany',
    countryCode: 'DE',
    state: 'BE',
    employees: 120,
    employeesRange: '51-250',
    annualRevenue: 18_000_000,
  },
  {
    domain: 'umbrella.co.uk',
    name: 'Umbrella Corporation',
    sector: 'Health Care',
    industry: 'Pharmaceuticals',
    country: 'United Kingdom',
    countryCode: 'GB',
    state: 'ENG',
    employees: 12_000,
    employeesRange: '10K-50K',
    annualRevenue: 4_500_000_000,
  },
  {
    domain: 'wayne-enterprises.com',
    name: 'Wayne Enterprises',
    sector: 'Industrials',
    industry: 'Conglomerates',
    country: 'Singapore',
    countryCode: 'SG',
    employees: 30_000,
    employeesRange: '10K-50K',
    annualRevenue: 9_000_000_000,
  },
  // No CRM account for these two: net-new logos that must be routed by rules, not ownership.
  {
    domain: 'hooli.com',
    name: 'Hooli',
    sector: 'Information Technology',
    industry: 'Internet Software & Services',
    country: 'United States',
    countryCode: 'US',
    state: 'CA',
    employees: 2500,
    employeesRange: '1K-5K',
    annualRevenue: 750_000_000,
  },
  // Small and private: no revenue figure, so consumers must cope with a null annualRevenue.
  {
    domain: 'piedpiper.com',
    name: 'Pied Piper',
    sector: 'Information Technology',
    industry: 'Software',
    country: 'United States',
    countryCode: 'US',
    state: 'CA',
    employees: 35,
    employeesRange: '11-50',
  },
];

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The demo tenant, with PTO and a meeting placed relative to `now` so they are always current. */
export function demoWorkspace(now: Date): SandboxWorkspace {
  const t = now.getTime();
  return {
    id: DEMO_WORKSPACE_ID,
    token: DEMO_TOKEN,
    accounts: ACCOUNTS.map((a) => ({ ...a, domains: [...a.domains] })),
    users: DEMO_REPS.map((r) => ({ id: r.id, email: r.email, name: r.name })),
    employees: DEMO_REPS.map((r) => ({
      id: r.employeeId,
      email: r.email,
      name: r.name,
      status: 'ACTIVE' as const,
      timezone: r.timezone,
      // What their Outlook states, as the demo tenant configures them: 07:00–22:00 every day.
      workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '07:00', end: '22:00' },
      timeOff:
        r.id === DEMO_REP_ON_PTO.id ? [{ start: iso(t - DAY), end: iso(t + 3 * DAY), type: 'PTO' as const }] : [],
    })),
    busy: [{ email: DEMO_REP_BUSY.email, start: iso(t - HOUR / 2), end: iso(t + HOUR) }],
    companies: COMPANIES.map((c) => ({ ...c })),
  };
}
