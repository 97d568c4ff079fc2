import { businessClock } from '../../src/clock';
import type { LeadState } from '../../src/domain/leadState';
import type { Policy, PoolMember, Strategy } from '../../src/domain/policy/types';
import { DEMO_QUEUE_USER } from '../../sandbox/demoTenant';
import { DEMO_REPS } from '../../sandbox/seed';
import { demoScenario } from '../support/scenario';
import { eventually, startTestStack, type TestStack } from '../support/stack';

/**
 * The claims the pool entities serialize must stay exact with hundreds of leads in flight and
 * across a worker restart. Each test has its own tenant, so its pool starts empty.
 */
const REPS = DEMO_REPS.map((r) => r.id);
/** Hundreds of leads through a 2-core machine: generous budgets; the assertions are on counts, never on time. */
const FLOOD_TIMEOUT_MS = 600_000;
let t: TestStack;

// Upstream rate limits are another test's subject: here they would only slow the flood down.
const unlimited = { allAvailable: true, rateLimit: { limit: 1_000_000, windowSeconds: 60 } };

beforeAll(async () => {
  t = await startTestStack(demoScenario(unlimited), demoScenario(unlimited), demoScenario(unlimited), demoScenario(unlimited));
}, FLOOD_TIMEOUT_MS);

afterAll(async () => {
  await t?.close();
}, FLOOD_TIMEOUT_MS);

/** A fixed-offset zone where it is about noon in business time, so no daily count resets during the test. */
function noonZone(): string {
  let offset = 12 - new Date(businessClock.now()).getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

function poolPolicy(strategy: Strategy, members: PoolMember[]): Policy {
  return {
    timezone: noonZone(),
    pools: [{ id: 'p', strategy, members }],
    rules: [{ id: 'all', when: { all: [] }, action: { type: 'pool', pool: 'p' } }],
    fallback: { ownerId: DEMO_QUEUE_USER.id, label: 'Inbound Queue' },
  };
}

/** Posts `n` leads at once (new domains, so no account owner interferes) and returns their IDs. */
async function flood(key: string, n: number, tag: string): Promise<string[]> {
  const posts = Array.from({ length: n }, (_, i) =>
    t.request('POST', '/v1/leads', { email: `${tag}${i}@${tag}-${i}.example` }, { authorization: `Bearer ${key}` }).then((res) => {
      expect(res.status).toBe(202);
      return res.body.leadId as string;
    }),
  );
  return Promise.all(posts);
}

async function owners(key: string, leadIds: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const leadId of leadIds) {
    const state = await eventually(
      async () => {
        const res = await t.request('GET', `/v1/leads/${leadId}`, undefined, { authorization: `Bearer ${key}` });
        return res.status === 200 && res.body.status === 'routed' ? (res.body as LeadState) : undefined;
      },
      300_000,
      `lead ${leadId}`,
    );
    counts[state.owner!.id] = (counts[state.owner!.id] ?? 0) + 1;
  }
  return counts;
}

async function publish(key: string, policy: Policy): Promise<void> {
  const res = await t.request('PUT', '/v1/policy', policy, { authorization: `Bearer ${key}` });
  expect(res.status).toBe(200);
}

async function statsOf(key: string): Promise<Record<string, number>> {
  const res = await t.request('GET', '/v1/pools/p/stats?period=day', undefined, { authorization: `Bearer ${key}` });
  return Object.fromEntries(res.body.members.map((m: { repId: string; assigned: number }) => [m.repId, m.assigned]));
}

it('gives each of 5 reps exactly 60 of 300 concurrent leads under strict round robin', async () => {
  const key = t.scenarios[0]!.apiKey;
  await publish(key, poolPolicy('round_robin', REPS.map((repId) => ({ repId }))));
  const leads = await flood(key, 300, 'rr');
  const expected = Object.fromEntries(REPS.map((r) => [r, 60]));
  expect(await owners(key, leads)).toEqual(expected);
  expect(await statsOf(key)).toEqual(expected);
}, FLOOD_TIMEOUT_MS);

it('never lets a rep exceed a cap of 10 a day, however many leads arrive at once', async () => {
  const key = t.scenarios[1]!.apiKey;
  const [capped, ...others] = REPS;
  await publish(key, poolPolicy('round_robin', [{ repId: capped!, caps: { day: 10 } }, ...others.map((repId) => ({ repId }))]));
  const counts = await owners(key, await flood(key, 100, 'cap'));
  expect(counts[capped!]).toBe(10);
  // The other 90 are shared strictly among the remaining four.
  expect(others.map((r) => counts[r]).sort()).toEqual([22, 22, 23, 23]);
  expect(counts[DEMO_QUEUE_USER.id]).toBeUndefined();
}, FLOOD_TIMEOUT_MS);

it('lands weighted 60/20/20 within ±3 points over 1,000 leads', async () => {
  const key = t.scenarios[2]!.apiKey;
  const [a, b, c] = REPS;
  await publish(key, poolPolicy('weighted', [{ repId: a!, weight: 60 }, { repId: b!, weight: 20 }, { repId: c!, weight: 20 }]));
  const leads: string[] = [];
  // In waves of 250, so the API and the dev server are not handed 1,000 requests in one burst.
  for (let wave = 0; wave < 4; wave++) leads.push(...(await flood(key, 250, `w${wave}-`)));
  const counts = await owners(key, leads);
  const share = (rep: string) => ((counts[rep] ?? 0) / 1000) * 100;
  expect(Math.abs(share(a!) - 60)).toBeLessThanOrEqual(3);
  expect(Math.abs(share(b!) - 20)).toBeLessThanOrEqual(3);
  expect(Math.abs(share(c!) - 20)).toBeLessThanOrEqual(3);
  expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(1000);
}, FLOOD_TIMEOUT_MS);

it('keeps round-robin counts exact when the worker restarts in the middle', async () => {
  const key = t.scenarios[3]!.apiKey;
  await publish(key, poolPolicy('round_robin', REPS.map((repId) => ({ repId }))));
  const leads = await flood(key, 300, 'rs');
  // Restart once part of the leads are through, while the rest are in flight.
  await eventually(async () => {
    const stats = await statsOf(key);
    const done = Object.values(stats).reduce((x, y) => x + y, 0);
    return done >= 60 ? done : undefined;
  }, FLOOD_TIMEOUT_MS, '60 claims before the restart');
  await t.restart();
  const expected = Object.fromEntries(REPS.map((r) => [r, 60]));
  expect(await owners(key, leads)).toEqual(expected);
  expect(await statsOf(key)).toEqual(expected);
}, FLOOD_TIMEOUT_MS);
