/**
 * The distribution benchmark: a supplier's `POST /v1/campaigns/:id/leads` until its answer, over
 * real HTTP against the full stack (dev server, worker, API) and the marketplace emulator's buyers.
 *
 * Ten buyers answer pings and posts in `latency` ± `jitter` ms, one in `slow` ms. For each method:
 *  - the answer time (p50/p95/p99/max) at a fixed, moderate concurrency;
 *  - throughput by closed-loop steps of rising concurrency (leads/s and p95 per step), and the
 *    knee: the last step before throughput stops growing (under +10%) or p95 doubles (against the
 *    first step).
 *
 * Auction: every buyer bids; all eleven are pinged in parallel and the ping timeout bounds the
 * wait for the slow one; the best net bid gets the post. Waterfall: fixed prices, no pings; the
 * slow buyer pays most so it comes first, and its post times out after the same bound (then the
 * next buyer takes the lead). The slow buyer's breaker is off (it would open after 5 timeouts in
 * a row and skip it), so every lead meets it: the figures are the worst case the timeout allows.
 * Every lead is a new person (the campaign dedupes on email or phone).
 */
import { randomBytes } from 'node:crypto';
import { DEMO_MAPPINGS, demoMarketplaceCatalog, type BuyerInput, type CampaignInput } from '../sandbox/demoMarketplace';
import { startMarketplace, type MarketplaceBuyerInput, type RunningMarketplace } from '../sandbox/marketplace';
import { fmt, percentile } from './stats';

export type BenchMethod = 'auction' | 'waterfall';

export interface DistributionBenchOptions {
  apiUrl: string;
  tenantId: string;
  /** The tenant's API key (stores the catalog through the API). */
  apiKey: string;
  methods: BenchMethod[];
  latencyMs: number;
  jitterMs: number;
  slowMs: number;
  pingTimeoutMs: number;
  /** Concurrency of the latency phase, and its number of leads. */
  concurrency: number;
  leads: number;
  /** Throughput steps: concurrency from stepStart, doubling up to stepMax, each stepSeconds long. */
  stepStart: number;
  stepMax: number;
  stepSeconds: number;
  /** A step goes on past stepSeconds until it has this many answers (and at least two per client). */
  stepMinLeads: number;
  /** Resolves when no distributed lead is still running (each phase starts from an idle engine). */
  idle: () => Promise<void>;
  out: (line: string) => void;
}

const FAST = Array.from({ length: 10 }, (_, i) => `fast-${String(i + 1).padStart(2, '0')}`);
const SLOW = 'slow';
const SUPPLIER = 'bench-supplier';
/** A breaker that never opens: more failures in a row than a phase sends, and no error rate above 100%. */
const NO_BREAKER = { consecutiveFailures: 1000, errorRate: 1, windowSeconds: 60, minCalls: 10_000, coolDownSeconds: 30 };

interface Answer {
  ms: number;
  endedAt: number;
  status: string;
}

interface Run {
  concurrency: number;
  answers: Answer[];
  startedAt: number;
}

const sorted = (run: Run) => run.answers.map((a) => a.ms).sort((a, b) => a - b);
const throughput = (run: Run) => {
  const last = Math.max(...run.answers.map((a) => a.endedAt));
  return run.answers.length / Math.max(0.001, (last - run.startedAt) / 1000);
};
const statuses = (run: Run) => {
  const counts = new Map<string, number>();
  for (const a of run.answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
};

export async function runDistributionBench(opts: DistributionBenchOptions): Promise<void> {
  const { out } = opts;
  const market = await startMarketplace({ buyers: marketBuyers(opts) });
  try {
    const supplierKey = `sk.${opts.tenantId}.${SUPPLIER}.${randomBytes(16).toString('hex')}`;
    const api = apiClient(opts.apiUrl, opts.apiKey);
    await storeCatalog(api, market, opts, supplierKey);

    out(
      `distribution: ${FAST.length} buyers answering pings and posts in ${opts.latencyMs} ms ± ${opts.jitterMs} ms, one in ${opts.slowMs} ms; ` +
        `ping timeout ${opts.pingTimeoutMs} ms (waterfall: the slow buyer comes first and its post times out after ${opts.pingTimeoutMs} ms); ` +
        `the slow buyer's breaker is off, so every lead waits for it; each lead a new person; time = supplier's POST → its answer\n`,
    );
    let seq = 0;
    const lead = () => {
      const n = seq++;
      const digits = String(n).padStart(7, '0');
      return { first_name: 'Bench', last_name: `Lead${n}`, email: `bench.${digits}@example.com`, phone: `+1415${digits}`, state: 'CA', zip: '94105', age: 35, vehicle_year: 2019, insured: true };
    };
    const post = async (method: BenchMethod): Promise<Answer> => {
      const t0 = performance.now();
      const res = await fetch(`${opts.apiUrl}/v1/campaigns/bench-${method}/leads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${supplierKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(lead()),
      });
      const body = (await res.json()) as { status?: string; error?: { code?: string } };
      const endedAt = performance.now();
      return { ms: endedAt - t0, endedAt, status: res.status === 200 ? (body.status ?? 'unknown') : `http_${res.status}` };
    };
    /** Each client posts its next lead when its answer arrives, until `leads` are sent, or `seconds` have passed and at least `minLeads` were sent. */
    const closedLoop = async (method: BenchMethod, concurrency: number, stop: { leads?: number; seconds?: number; minLeads?: number }): Promise<Run> => {
      const startedAt = performance.now();
      const until = stop.seconds !== undefined ? startedAt + stop.seconds * 1000 : Infinity;
      const answers: Answer[] = [];
      let issued = 0;
      const client = async () => {
        while ((stop.leads === undefined || issued < stop.leads) && (performance.now() < until || issued < (stop.minLeads ?? 0))) {
          issued++;
          answers.push(await post(method));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, client));
      return { concurrency, answers, startedAt };
    };

    const latency = new Map<BenchMethod, Run>();
    const steps = new Map<BenchMethod, Run[]>();
    const knees = new Map<BenchMethod, { knee: Run | null; past: Run | null; why: string }>();
    for (const method of opts.methods) {
      // A fresh slow buyer per phase keeps its failures in a row under its breaker's limit.
      let phase = 0;
      const nextPhase = () => usePhase(api, market, opts, method, ++phase);
      await nextPhase();
      for (let i = 0; i < 5; i++) await post(method); // warm-up: worker caches, connections, account workflows
      await opts.idle();
      const started = Date.now();
      latency.set(method, await closedLoop(method, opts.concurrency, { leads: opts.leads }));
      out(`  ${method}: ${opts.leads} leads at concurrency ${opts.concurrency} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const list: Run[] = [];
      steps.set(method, list);
      let result: { knee: Run | null; past: Run | null; why: string } = { knee: null, past: null, why: `no knee up to concurrency ${opts.stepMax}` };
      for (let c = opts.stepStart; c <= opts.stepMax; c *= 2) {
        await nextPhase();
        // What the previous phase's leads still do after their answer (settling, breaker reports, tallies) ends first.
        await opts.idle();
        // Enough answers for a p95 that is not just the slowest one.
        const run = await closedLoop(method, c, { seconds: opts.stepSeconds, minLeads: Math.max(opts.stepMinLeads, 2 * c) });
        list.push(run);
        const p95 = percentile(sorted(run), 95);
        out(`  ${method}: concurrency ${String(c).padStart(3)}: ${run.answers.length} leads, ${throughput(run).toFixed(1)} leads/s, p95 ${p95.toFixed(0)} ms`);
        const prev = list[list.length - 2];
        if (!prev) continue;
        const first = list[0]!;
        const growth = throughput(run) / throughput(prev);
        const slower = p95 / percentile(sorted(first), 95);
        if (growth < 1.1 || slower >= 2) {
          const why = [growth < 1.1 ? `throughput ${growth >= 1 ? '+' : ''}${((growth - 1) * 100).toFixed(0)}%` : null, slower >= 2 ? `p95 ×${slower.toFixed(1)} of the first step` : null].filter(Boolean).join(', ');
          result = { knee: prev, past: run, why: `at concurrency ${c}: ${why}` };
          break;
        }
      }
      knees.set(method, result);
    }

    // ------------------------------------------------------------------------------ the table
    out('');
    out(`answer time at concurrency ${opts.concurrency} (${opts.leads} leads per method)`);
    out(`${'method'.padEnd(11)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}${'leads/s'.padStart(10)}   answers`);
    for (const [method, run] of latency) {
      const s = sorted(run);
      out(`${method.padEnd(11)}${fmt(percentile(s, 50)).padStart(10)}${fmt(percentile(s, 95)).padStart(10)}${fmt(percentile(s, 99)).padStart(10)}${fmt(s[s.length - 1] ?? NaN).padStart(10)}${throughput(run).toFixed(1).padStart(10)}   ${statuses(run)}`);
    }
    out('');
    out(`throughput by concurrency (closed loop, each step ${opts.stepSeconds} s and at least ${opts.stepMinLeads} leads)`);
    out(`${'method'.padEnd(11)}${'conc.'.padStart(6)}${'leads'.padStart(7)}${'leads/s'.padStart(9)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'p99'.padStart(10)}   answers`);
    for (const [method, list] of steps) {
      for (const run of list) {
        const s = sorted(run);
        const mark = knees.get(method)?.knee === run ? '  <- knee' : '';
        out(`${method.padEnd(11)}${String(run.concurrency).padStart(6)}${String(run.answers.length).padStart(7)}${throughput(run).toFixed(1).padStart(9)}${fmt(percentile(s, 50)).padStart(10)}${fmt(percentile(s, 95)).padStart(10)}${fmt(percentile(s, 99)).padStart(10)}   ${statuses(run)}${mark}`);
      }
    }
    out('');
    for (const [method, k] of knees) {
      if (!k.knee) {
        out(`knee ${method}: ${k.why}`);
        continue;
      }
      out(`knee ${method}: concurrency ${k.knee.concurrency}, ${throughput(k.knee).toFixed(1)} leads/s, p95 ${percentile(sorted(k.knee), 95).toFixed(0)} ms (next step ${k.why})`);
    }
    out(`answers: sold, or pending when the campaign's deadline (8 s) passed first; the lead then goes on and its answer is read later`);
  } finally {
    await market.close();
  }
}

// ----------------------------------------------------------------------------------- the catalog

type Api = (method: string, path: string, body?: unknown) => Promise<unknown>;

function apiClient(apiUrl: string, apiKey: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-actor': 'bench' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  };
}

/** The emulated buyers: ten at latency ± jitter bidding $11 to $20, the slow one bidding $30. */
function marketBuyers(opts: DistributionBenchOptions): MarketplaceBuyerInput[] {
  return [
    ...FAST.map((id, i) => ({ id, name: `Fast buyer ${i + 1}`, latency: { meanMs: opts.latencyMs, jitterMs: opts.jitterMs }, price: 11 + i })),
    { id: SLOW, name: 'Slow buyer', latency: { meanMs: opts.slowMs }, price: 30 },
  ];
}

function jsonEndpoint(market: RunningMarketplace, buyerId: string, kind: 'ping' | 'post', timeoutMs: number) {
  return {
    kind: 'http' as const,
    url: `${market.url}/buyers/${buyerId}/${kind}`,
    format: 'json' as const,
    mapping: kind === 'ping' ? DEMO_MAPPINGS.jsonPingRequest : DEMO_MAPPINGS.jsonPostRequest,
    timeoutMs,
    response: { mapping: kind === 'ping' ? DEMO_MAPPINGS.jsonPingResponse : DEMO_MAPPINGS.jsonPostResponse },
  };
}

/** A catalog buyer of a method for an emulated buyer: bidders for the auction, fixed prices by priority for the waterfall. */
function catalogBuyer(market: RunningMarketplace, opts: DistributionBenchOptions, method: BenchMethod, id: string, emulated: string, price: number, priority: number, slow: boolean): BuyerInput {
  const postTimeout = slow && method === 'waterfall' ? opts.pingTimeoutMs : 5000;
  return {
    id,
    name: `${method} ${emulated}`,
    priority,
    pricing: method === 'auction' ? { type: 'bid' } : { type: 'fixed', price },
    ...(method === 'auction' ? { ping: jsonEndpoint(market, emulated, 'ping', 5000) } : {}),
    post: jsonEndpoint(market, emulated, 'post', postTimeout),
    ...(slow ? { breaker: NO_BREAKER } : {}),
  };
}

function campaignDoc(opts: DistributionBenchOptions, method: BenchMethod, buyers: string[]): CampaignInput {
  const demo = demoMarketplaceCatalog('http://127.0.0.1:1').campaign;
  return {
    ...demo,
    id: `bench-${method}`,
    name: `Bench ${method}`,
    method,
    pingTimeoutMs: opts.pingTimeoutMs,
    deadlineMs: 8000,
    floorPrice: 0,
    // No return window: a lead's workflow ends once it is decided.
    returns: { windowDays: 0 },
    buyers,
  };
}

async function storeCatalog(api: Api, market: RunningMarketplace, opts: DistributionBenchOptions, supplierKey: string): Promise<void> {
  for (const method of opts.methods) {
    for (const [i, id] of FAST.entries()) await api('PUT', `/v1/buyers/${method}-${id}`, catalogBuyer(market, opts, method, `${method}-${id}`, id, 11 + i, 10 + (FAST.length - i), false));
    await usePhase(api, market, opts, method, 0);
  }
  await api('PUT', `/v1/suppliers/${SUPPLIER}`, {
    name: 'Bench supplier',
    apiKey: supplierKey,
    campaigns: opts.methods.map((m) => `bench-${m}`),
    payout: { type: 'fixed', amount: 3 },
  });
}

/** A new slow buyer for the phase, and the campaign with it and the ten fast buyers. */
async function usePhase(api: Api, market: RunningMarketplace, opts: DistributionBenchOptions, method: BenchMethod, phase: number): Promise<void> {
  const slowId = `${method}-slow-${phase}`;
  await api('PUT', `/v1/buyers/${slowId}`, catalogBuyer(market, opts, method, slowId, SLOW, 30, 1, true));
  await api('PUT', `/v1/campaigns/bench-${method}`, campaignDoc(opts, method, [...FAST.map((id) => `${method}-${id}`), slowId]));
  market.clearRequests();
}
