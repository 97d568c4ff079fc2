import { ActivityFailure, TimeoutFailure, allHandlersFinished, condition, patched, proxyActivities, setHandler, sleep, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DocVersion } from '../src/distribution/catalog';
import type { DeliveryRecord } from '../src/distribution/delivery';
import {
  considerationOf,
  type BuyerConsideration,
  type DistributeLeadInput,
  type DistributionState,
  type ReturnAnswer,
  type ReturnDecision,
  type ReturnRequest,
  type Sale,
  type SupplierAnswer,
} from '../src/distribution/lead';
import { decideReturnUpdate, distributionStateQuery, postBidUpdate, returnLeadUpdate, supplierAnswerUpdate } from '../src/distribution/leadMessages';
import type { Buyer, Campaign, Supplier } from '../src/distribution/model';
import { buyerDedupeScope, byPriority, fixedPriceCents, maxSales, netCents, payoutCents, pingView, rankOffers, type LeadFields, type Offer, type Screening } from '../src/distribution/plan';
import { accountLimits, byBuyer, endpointResult, postMayHaveSold, tallyRequests, type EndpointReport, type Tally } from '../src/distribution/workflowSupport';

const DAY_MS = 86_400_000;
/** A buyer's 429 is waited out (its Retry-After) at most this many times per post, and only this long each. */
const MAX_RATE_LIMIT_WAITS = 3;
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
/** The most a price may be (as the model's Money): a larger bid is no bid. */
const MAX_PRICE = 1_000_000;
/** Queued leads try again at most this many openings. */
const MAX_QUEUE_ROUNDS = 3;
/**
 * An ambiguous post (no answer, a dropped connection, a 5xx, an answer that could not be read) keeps
 * its price spent rather than freeing it: runs from before the change released it as unsold.
 */
const AMBIGUOUS_POST_KEEPS_HOLD = 'ambiguous-post-keeps-hold';

/**
 * The engine's own calls (catalog, screening, accounts, dedupe marks, pools): retried for up to five
 * minutes, so a burst that makes an entity refuse for a while (RESOURCE_EXHAUSTED) delays a lead
 * rather than failing it. A refusal that cannot change (a non-retryable failure) still ends at once.
 */
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

/** Calls to a buyer are made once: a post may have sold the lead even when its answer was lost. */
function buyerCalls(timeoutMs: number) {
  return proxyActivities<Activities>({ startToCloseTimeout: timeoutMs + 5_000, retry: { maximumAttempts: 1 } });
}

/**
 * A ping or post whose activity failed (a buyer secret not configured, the worker lost mid-call):
 * the buyer counts as having answered with an error, and the lead goes on to the next buyer. The
 * failure itself is in history next to this.
 */
async function oneCall(kind: 'ping' | 'post', buyerId: string, call: () => Promise<DeliveryRecord>): Promise<DeliveryRecord> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const timedOut = err.cause instanceof TimeoutFailure;
    const message = err.cause?.message ?? err.message;
    return {
      kind,
      buyerId,
      startedAt: new Date(Date.now()).toISOString(),
      latencyMs: 0,
      request: { method: 'POST', url: '', headers: {}, body: '' },
      response: null,
      error: { type: timedOut ? 'timeout' : 'config', message },
      answer: { outcome: 'error', reason: timedOut ? 'timeout' : message },
      retryAfterMs: null,
      notSent: !timedOut,
    };
  }
}

/**
 * One distributed lead, from the supplier's request to the end of its return window. Every step is
 * an activity or an update, so the history is the dispute log: each buyer considered and why it
 * was skipped, every ping and post as sent with the buyer's raw answer, the sale, returns.
 */
export async function distributeLead(input: DistributeLeadInput): Promise<DistributionState> {
  const startedAt = workflowInfo().startTime.getTime();
  const state: DistributionState = {
    leadId: input.leadId,
    tenantId: input.tenantId,
    campaignId: input.campaignId,
    supplierId: input.supplierId,
    mode: input.mode,
    status: 'screening',
    receivedAt: input.receivedAt,
    answer: null,
    campaignVersion: null,
    buyers: [],
    sales: [],
    revenueCents: 0,
    payoutCents: 0,
    returnsUntil: null,
  };
  let lead: LeadFields = input.lead;
  let posted: LeadFields | null = null;
  let currency = 'USD';
  let offsetMs = 0;
  const businessNow = () => Date.now() + offsetMs;
  const pendingRefunds: Sale[] = [];

  const consider = (c: BuyerConsideration) => {
    const i = state.buyers.findIndex((b) => b.buyerId === c.buyerId);
    if (i < 0) state.buyers.push(c);
    else state.buyers[i] = c;
  };
  const answer = (a: Omit<SupplierAnswer, 'leadId' | 'currency' | 'soldTo' | 'payout'> & Partial<SupplierAnswer>) => {
    state.answer = { leadId: input.leadId, currency, soldTo: state.sales.map((s) => s.buyerId), payout: state.payoutCents / 100, ...a };
  };

  const pending = (reason: string): SupplierAnswer => ({ leadId: input.leadId, status: 'pending', soldTo: [], payout: 0, currency, reason });

  setHandler(distributionStateQuery, () => state);
  setHandler(supplierAnswerUpdate, async () => {
    const deadline = startedAt + input.deadlineMs;
    await condition(() => state.answer !== null, Math.max(0, deadline - Date.now()), { summary: 'supplier answer deadline' });
    return state.answer ?? pending('still being distributed; the answer was due now');
  });
  setHandler(
    postBidUpdate,
    async (req: { lead: LeadFields }) => {
      if (posted === null) posted = req.lead;
      const deadline = Date.now() + input.deadlineMs;
      await condition(() => state.answer !== null && state.answer.status !== 'bid', Math.max(0, deadline - Date.now()), { summary: 'supplier answer deadline' });
      return state.answer && state.answer.status !== 'bid' ? state.answer : pending('still being distributed; the answer was due now');
    },
    {
      validator: (_req: { lead: LeadFields }) => {
        if (input.mode !== 'ping') throw new Error('this lead was posted in full; there is no bid to post against');
        if (state.status !== 'awaiting_post' && posted === null) throw new Error(state.status === 'expired' ? 'the bid has expired' : 'the bid is not ready to be posted against');
        // The bids were made for the pinged fields: the posted lead must carry the same.
        for (const [field, value] of Object.entries(input.lead)) {
          if (JSON.stringify(_req.lead[field]) !== JSON.stringify(value)) throw new Error(`lead.${field} differs from the ping (${JSON.stringify(value)})`);
        }
      },
    },
  );

  // ------------------------------------------------------------------------------ returns
  let campaignForReturns: Campaign | null = null;
  const saleOf = (buyerId: string) => state.sales.find((s) => s.buyerId === buyerId);
  setHandler(returnLeadUpdate, (req: ReturnRequest): ReturnAnswer => {
    const sale = saleOf(req.buyerId);
    if (!sale || !campaignForReturns) return { ok: false, code: 'not_sold_to_buyer', message: `lead ${input.leadId} was not sold to ${req.buyerId}` };
    if (sale.return) return sale.return.status === 'denied' || sale.return.status === 'approved' ? { ok: false, code: 'already_returned', message: `a return of this lead by ${req.buyerId} was already ${sale.return.status}` } : { ok: true, sale };
    if (businessNow() > sale.soldAtMs + campaignForReturns.returns.windowDays * DAY_MS) {
      return { ok: false, code: 'window_closed', message: `the return window (${campaignForReturns.returns.windowDays} days) closed ${new Date(sale.soldAtMs + campaignForReturns.returns.windowDays * DAY_MS).toISOString()}` };
    }
    const rule = campaignForReturns.returns;
    const reason = req.reason.toLowerCase();
    const status = rule.autoApprove.some((r) => r.toLowerCase() === reason) ? 'approved' : rule.autoDeny.some((r) => r.toLowerCase() === reason) ? 'denied' : 'pending';
    const now = new Date(businessNow()).toISOString();
    sale.return = { status, reason: req.reason, requestedAt: now, actor: req.actor, decidedAt: status === 'pending' ? null : now, decidedBy: status === 'pending' ? null : 'rule', note: null };
    if (status === 'approved') pendingRefunds.push(sale);
    return { ok: true, sale };
  });
  setHandler(decideReturnUpdate, (req: ReturnDecision): ReturnAnswer => {
    const sale = saleOf(req.buyerId);
    if (!sale) return { ok: false, code: 'not_sold_to_buyer', message: `lead ${input.leadId} was not sold to ${req.buyerId}` };
    if (!sale.return || sale.return.status !== 'pending') return { ok: false, code: 'no_pending_return', message: `no return of this lead by ${req.buyerId} waits for a decision` };
    sale.return = { ...sale.return, status: req.decision === 'approve' ? 'approved' : 'denied', decidedAt: new Date(businessNow()).toISOString(), decidedBy: req.actor, note: req.note };
    if (req.decision === 'approve') pendingRefunds.push(sale);
    return { ok: true, sale };
  });

  // ------------------------------------------------------------------------------ load
  const loaded = input.snapshot ? { snapshot: input.snapshot, clockOffsetMs: input.clockOffsetMs } : await acts.loadCampaign({ tenantId: input.tenantId, campaignId: input.campaignId, supplierId: input.supplierId });
  offsetMs = loaded.clockOffsetMs ?? 0;
  const snapshot = loaded.snapshot;
  if (!snapshot || !snapshot.supplier) {
    state.status = 'rejected';
    answer({ status: 'rejected', reason: !snapshot ? `campaign ${input.campaignId} does not exist` : `supplier ${input.supplierId} does not exist` });
    await condition(allHandlersFinished);
    return state;
  }
  const campaign = snapshot.campaign.doc;
  const supplier: Supplier = snapshot.supplier.doc;
  currency = campaign.currency;
  state.campaignVersion = snapshot.campaign.version;
  campaignForReturns = campaign;
  const buyers = new Map<string, Buyer>(snapshot.buyers.map((b: DocVersion<Buyer>) => [b.id, b.doc]));
  const endpointReports: EndpointReport[] = [];
  const tallies = new Map<string, Tally['counters']>();
  const count = (buyerId: string, counter: keyof Tally['counters'], n = 1) => {
    const c = tallies.get(buyerId) ?? {};
    c[counter] = (c[counter] ?? 0) + n;
    tallies.set(buyerId, c);
  };

  // The supplier's own caps: the lead counts against them once it is taken in.
  const supplierLimits = accountLimits(supplier.timeZone, supplier.caps, {});
  const admitted = await acts.reserveWithAccount({ tenantId: input.tenantId, kind: 'supplier', accountId: supplier.id, request: { leadId: input.leadId, amountCents: 0, atMs: businessNow(), limits: supplierLimits } });
  if (!admitted.ok) {
    state.status = 'rejected';
    answer({ status: 'rejected', reason: `supplier ${admitted.reason}: ${admitted.detail}` });
    await finish();
    return state;
  }
  // Taken in: it counts against the supplier's caps now, however long it then waits (a bid, an opening).
  await acts.settleWithAccount({ tenantId: input.tenantId, kind: 'supplier', accountId: supplier.id, request: { leadId: input.leadId, amountCents: 0, atMs: businessNow(), timeZone: supplier.timeZone } });

  // ------------------------------------------------------------------------------ selling
  const attempted = new Set<string>();
  const bidsFromPings = new Map<string, Offer>();

  async function claimCampaignDedupe(full: LeadFields): Promise<boolean> {
    if (!campaign.dedupe) return true;
    const claim = await acts.claimDedupe({
      tenantId: input.tenantId,
      leadId: input.leadId,
      scope: { scope: `campaign:${campaign.id}`, fields: campaign.dedupe.fields, match: campaign.dedupe.match, days: campaign.dedupe.lookbackDays },
      fieldSpecs: campaign.fields,
      lead: full,
    });
    if (!claim.duplicate) return true;
    state.status = 'duplicate';
    // The other lead may be another supplier's: the supplier is not told which (the dispute log is).
    answer({ status: 'duplicate', reason: `the same person was submitted to campaign ${campaign.id} within ${campaign.dedupe.lookbackDays} days` });
    return false;
  }

  async function screen(excluded: ReadonlySet<string>): Promise<Screening[]> {
    const candidates = campaign.buyers.filter((id) => buyers.has(id) && !excluded.has(id)).map((id) => buyers.get(id) as Buyer);
    const screened = await acts.screenBuyers({ tenantId: input.tenantId, leadId: input.leadId, campaign, buyers: candidates, lead, atMs: businessNow() });
    for (const s of screened) consider(considerationOf(s));
    return screened;
  }

  /** Lets a half-open endpoint's single probe through, or says the breaker is still open. */
  async function probeAllowed(buyer: Buyer, s: Screening, endpoint: 'ping' | 'post'): Promise<boolean> {
    if (!s.eligible || !s.probe.includes(endpoint)) return true;
    const { granted } = await acts.acquireProbe({ tenantId: input.tenantId, buyerId: buyer.id, request: { endpoint, leadId: input.leadId, atMs: businessNow(), settings: buyer.breaker } });
    if (!granted) consider({ buyerId: buyer.id, status: 'skipped', reason: 'breaker_open', detail: `${endpoint} endpoint half-open: another lead holds the probe`, priceCents: null });
    return granted;
  }

  async function ping(buyer: Buyer, s: Screening): Promise<Offer | null> {
    const fixed = fixedPriceCents(buyer);
    if (fixed !== null) return { buyerId: buyer.id, priceCents: fixed, netCents: netCents(campaign, fixed), bidId: null };
    const known = bidsFromPings.get(buyer.id);
    if (known) return known;
    if (!(await probeAllowed(buyer, s, 'ping'))) return null;
    count(buyer.id, 'pinged');
    const record = await oneCall('ping', buyer.id, () => buyerCalls(campaign.pingTimeoutMs).pingBuyer({ tenantId: input.tenantId, leadId: input.leadId, campaign, buyer, lead: pingView(campaign, lead) }));
    endpointReports.push(endpointResult(buyer, 'ping', record, input.leadId, businessNow()));
    if (record.error?.type === 'timeout') {
      consider({ buyerId: buyer.id, status: 'skipped', reason: 'ping_timeout', detail: `no bid within ${campaign.pingTimeoutMs} ms`, priceCents: null });
      attempted.add(buyer.id);
      return null;
    }
    const bid = record.answer.price;
    if (record.answer.outcome !== 'accepted' || typeof bid !== 'number' || !(bid >= 0 && bid <= MAX_PRICE)) {
      const why = typeof bid === 'number' && record.answer.outcome === 'accepted' ? `bid ${bid} is not a price (0 to ${MAX_PRICE})` : (record.answer.reason ?? `answered ${record.answer.outcome}`);
      consider({ buyerId: buyer.id, status: 'no_bid', reason: 'no_bid', detail: why, priceCents: null });
      attempted.add(buyer.id);
      return null;
    }
    const priceCents = Math.round(bid * 100);
    count(buyer.id, 'bids');
    const offer: Offer = { buyerId: buyer.id, priceCents, netCents: netCents(campaign, priceCents), bidId: record.answer.reference ?? null };
    consider({ buyerId: buyer.id, status: 'bid', reason: null, detail: record.answer.reference ? `bid ${record.answer.reference}` : null, priceCents });
    bidsFromPings.set(buyer.id, offer);
    return offer;
  }

  /** Reserve → buyer dedupe → post → settle or release: one buyer, at most one post. */
  async function sell(buyer: Buyer, s: Screening, offer: Offer): Promise<boolean> {
    attempted.add(buyer.id);
    if (offer.netCents < Math.round(campaign.floorPrice * 100)) {
      consider({ buyerId: buyer.id, status: 'skipped', reason: 'bid_below_floor', detail: `net ${offer.netCents / 100} below the floor ${campaign.floorPrice}`, priceCents: offer.priceCents });
      return false;
    }
    if (!(await probeAllowed(buyer, s, 'post'))) return false;
    const limits = accountLimits(buyer.timeZone, buyer.caps, buyer.budget);
    const reserved = await acts.reserveWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId, amountCents: offer.priceCents, atMs: businessNow(), limits } });
    if (!reserved.ok) {
      consider({ buyerId: buyer.id, status: 'skipped', reason: reserved.reason, detail: reserved.detail, priceCents: offer.priceCents });
      return false;
    }
    const full = posted ?? lead;
    let marks: string[] = [];
    if (buyer.dedupeDays) {
      const scope = buyerDedupeScope(campaign, buyer);
      const claim = await acts.claimDedupe({ tenantId: input.tenantId, leadId: input.leadId, scope, fieldSpecs: campaign.fields, lead: full });
      if (claim.duplicate) {
        await acts.releaseWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId } });
        consider({ buyerId: buyer.id, status: 'skipped', reason: 'duplicate_for_buyer', detail: `${buyer.id} had this person within ${buyer.dedupeDays} days`, priceCents: offer.priceCents });
        return false;
      }
      marks = claim.keys;
    }
    count(buyer.id, 'won');
    let record: DeliveryRecord | null = null;
    for (let wait = 0; ; wait++) {
      const timeoutMs = buyer.post.kind === 'email' ? 10_000 : buyer.post.timeoutMs;
      record = await oneCall('post', buyer.id, () =>
        buyerCalls(timeoutMs).postToBuyer({ tenantId: input.tenantId, leadId: input.leadId, campaign, buyer, lead: full, bid: offer.bidId ? { id: offer.bidId, price: offer.priceCents / 100 } : null }),
      );
      // Only a 429 says the post was not taken: a 5xx after sending may have sold the lead, so it is never sent again.
      if (record.response?.status !== 429 || record.retryAfterMs === null || wait >= MAX_RATE_LIMIT_WAITS || record.retryAfterMs > MAX_RATE_LIMIT_WAIT_MS) break;
      // The buyer said when to come back: a durable timer, in history, then the same post again.
      await sleep(Math.max(1, record.retryAfterMs), { summary: `${buyer.id} asked to wait (Retry-After ${record.retryAfterMs} ms)` });
      // Still held after the wait (a lapsed hold is checked against the caps again), or the buyer is out.
      const held = await acts.reserveWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId, amountCents: offer.priceCents, atMs: businessNow(), limits } });
      if (!held.ok) {
        if (marks.length) await acts.releaseDedupe({ tenantId: input.tenantId, leadId: input.leadId, scope: buyerDedupeScope(campaign, buyer).scope, keys: marks });
        consider({ buyerId: buyer.id, status: 'skipped', reason: held.reason, detail: held.detail, priceCents: offer.priceCents });
        return false;
      }
    }
    endpointReports.push(endpointResult(buyer, 'post', record, input.leadId, businessNow()));
    const outcome = record.answer.outcome;
    if (outcome === 'accepted') {
      // The price held is the most a sale may cost: a buyer naming another final price pays at most that.
      const priceCents = typeof record.answer.price === 'number' ? Math.min(Math.round(record.answer.price * 100), offer.priceCents) : offer.priceCents;
      const soldAtMs = businessNow();
      await acts.settleWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId, amountCents: priceCents, atMs: soldAtMs, timeZone: buyer.timeZone } });
      state.sales.push({ buyerId: buyer.id, priceCents, soldAtMs, reference: record.answer.reference ?? null, return: null });
      state.revenueCents += priceCents;
      count(buyer.id, 'accepted');
      count(buyer.id, 'revenueCents', priceCents);
      consider({ buyerId: buyer.id, status: 'sold', reason: null, detail: record.answer.reference ? `reference ${record.answer.reference}` : null, priceCents });
      return true;
    }
    if (postMayHaveSold(record) && patched(AMBIGUOUS_POST_KEEPS_HOLD)) {
      // The buyer may have bought the lead: releasing would give its price to another lead and
      // spend the budget twice. The hold becomes spent (a sale in the account's caps and budget,
      // at the price held), the lead is not counted as sold to it, and the buyer keeps its dedupe
      // mark. The post is not sent again: a buyer need not drop a repeated Idempotency-Key.
      await acts.settleWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId, amountCents: offer.priceCents, atMs: businessNow(), timeZone: buyer.timeZone, outcome: 'unknown' } });
      count(buyer.id, 'unknown');
      const why = record.error ? `${record.error.type}: ${record.error.message}` : (record.answer.reason ?? 'error');
      consider({ buyerId: buyer.id, status: 'unknown', reason: record.error?.type ?? record.answer.reason ?? 'error', detail: `${why}; the buyer may have taken the lead, so its price stays spent`, priceCents: offer.priceCents });
      return false;
    }
    await acts.releaseWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId } });
    // A buyer that says it already has the person keeps its mark; others give theirs back.
    if (marks.length && outcome !== 'duplicate') await acts.releaseDedupe({ tenantId: input.tenantId, leadId: input.leadId, scope: buyerDedupeScope(campaign, buyer).scope, keys: marks });
    count(buyer.id, outcome === 'duplicate' ? 'duplicates' : outcome === 'rejected' ? 'rejected' : 'errors');
    consider({ buyerId: buyer.id, status: outcome, reason: outcome === 'error' ? (record.error?.type ?? 'error') : outcome, detail: record.answer.reason ?? null, priceCents: offer.priceCents });
    return false;
  }

  /** Offers in the method's order; bidders are pinged (in parallel for auctions, at their turn otherwise). */
  async function offersInOrder(eligible: Screening[], priced = false): Promise<Array<{ buyer: Buyer; s: Screening; offer: Offer | null }>> {
    const entries = eligible.map((s) => ({ buyer: buyers.get(s.buyerId) as Buyer, s }));
    if (priced || campaign.method === 'auction' || campaign.method === 'send_to_all') {
      const offers = await Promise.all(entries.map(async (e) => ({ ...e, offer: await ping(e.buyer, e.s) })));
      const ranked = rankOffers(offers.flatMap((o) => (o.offer ? [o.offer] : [])), buyers);
      return ranked.map((offer) => offers.find((o) => o.buyer.id === offer.buyerId) as { buyer: Buyer; s: Screening; offer: Offer });
    }
    if (campaign.method === 'waterfall') return byPriority(entries.map((e) => e.buyer)).map((b) => ({ ...(entries.find((e) => e.buyer.id === b.id) as { buyer: Buyer; s: Screening }), offer: null }));
    // Round robin and weighted: the campaign's buyer pool (the same entity as rep pools) picks who
    // is offered first; if that buyer does not take the lead, the others follow in the pool's order.
    const members = campaign.buyers.filter((id) => buyers.has(id));
    const claim = entries.length
      ? await acts.claimFromPool({
          tenantId: input.tenantId,
          request: {
            leadId: input.leadId,
            pool: { id: `campaign-${campaign.id}`, strategy: campaign.method === 'weighted' ? 'weighted' : 'round_robin', members: members.map((id) => ({ repId: id, weight: (buyers.get(id) as Buyer).weight })) },
            eligible: entries.map((e) => e.buyer.id),
            timeZone: 'UTC',
          },
        })
      : null;
    const start = claim?.ok && claim.ownerId ? members.indexOf(claim.ownerId) : 0;
    const rotated = [...members.slice(start), ...members.slice(0, start)];
    return rotated.flatMap((id) => entries.filter((e) => e.buyer.id === id).map((e) => ({ ...e, offer: null })));
  }

  /** One pass over the buyers not tried yet; answers with the earliest opening of a buyer the lead waits for. */
  async function sellingPass(): Promise<number | null> {
    state.status = 'selling';
    const screened = await screen(new Set([...attempted, ...state.sales.map((s) => s.buyerId)]));
    const eligible = screened.filter((s) => s.eligible);
    for (const s of eligible) count(s.buyerId, 'offered');
    for (const entry of await offersInOrder(eligible)) {
      if (state.sales.length >= maxSales(campaign)) break;
      const offer = entry.offer ?? (await ping(entry.buyer, entry.s));
      if (!offer) {
        attempted.add(entry.buyer.id);
        continue;
      }
      await sell(entry.buyer, entry.s, offer);
    }
    const queued = screened.flatMap((s) => (!s.eligible && s.queueUntilMs !== undefined ? [s.queueUntilMs] : []));
    return queued.length ? Math.min(...queued) : null;
  }

  if (input.mode === 'ping') {
    // Exchange: bid now on ping fields only; the full lead comes with the post, before the bid expires.
    const screened = await screen(new Set());
    // A bid is a price now: every eligible buyer's offer is collected at once, whatever the method.
    const ranked = await offersInOrder(screened.filter((s) => s.eligible), true);
    const best = ranked.find((r) => r.offer && r.offer.netCents >= Math.round(campaign.floorPrice * 100));
    if (!best?.offer) {
      state.status = 'unsold';
      answer({ status: 'no_bid', reason: 'no buyer bid on this lead' });
      await finish();
      return state;
    }
    const expiresAtMs = Date.now() + campaign.bidTtlSeconds * 1000;
    state.status = 'awaiting_post';
    answer({ status: 'bid', bidId: input.leadId, payout: payoutCents(supplier, best.offer.priceCents) / 100, expiresAt: new Date(expiresAtMs).toISOString() });
    if (!(await condition(() => posted !== null, Math.max(0, expiresAtMs - Date.now()), { summary: 'bid expiry' }))) {
      state.status = 'expired';
      answer({ status: 'expired', reason: `the bid was not posted against within ${campaign.bidTtlSeconds} s` });
      await finish();
      return state;
    }
    lead = posted ?? lead;
    state.answer = null;
  }

  if (!(await claimCampaignDedupe(lead))) {
    await finish();
    return state;
  }
  let nextOpening = await sellingPass();
  for (let round = 0; state.sales.length === 0 && nextOpening !== null && round < MAX_QUEUE_ROUNDS; round++) {
    state.status = 'queued';
    answer({ status: 'queued', deliverAt: new Date(nextOpening).toISOString(), reason: 'waiting for a buyer to open' });
    await sleep(Math.max(1, nextOpening - businessNow()), { summary: `queued until a buyer opens at ${new Date(nextOpening).toISOString()}` });
    nextOpening = await sellingPass();
  }
  state.payoutCents = payoutCents(supplier, state.revenueCents);
  state.status = state.sales.length ? 'sold' : 'unsold';
  answer(state.sales.length ? { status: 'sold' } : { status: 'rejected', reason: 'no buyer took the lead' });
  await finish();

  // ------------------------------------------------------------------------------ returns window
  if (state.sales.length) {
    const until = Math.max(...state.sales.map((s) => s.soldAtMs)) + campaign.returns.windowDays * DAY_MS;
    state.returnsUntil = new Date(until).toISOString();
    for (;;) {
      const open = () => businessNow() < until || state.sales.some((s) => s.return?.status === 'pending');
      // Past the window, a pending return waits for its decision without a timer.
      const left = until - businessNow();
      const ready = () => pendingRefunds.length > 0 || !open();
      if (left > 0) await condition(ready, left, { summary: 'return window' });
      else await condition(ready);
      while (pendingRefunds.length) await refund(pendingRefunds.shift() as Sale);
      if (!open()) break;
    }
  }
  await condition(allHandlersFinished);
  return state;

  /** An approved return gives back the buyer's cap and budget and reverses the revenue and payout. */
  async function refund(sale: Sale): Promise<void> {
    const buyer = buyers.get(sale.buyerId);
    const atMs = businessNow();
    // The buyer's account gives back cap and budget and counts the return against the sale's day.
    if (buyer) await acts.refundWithAccount({ tenantId: input.tenantId, kind: 'buyer', accountId: buyer.id, request: { leadId: input.leadId, amountCents: sale.priceCents, soldAtMs: sale.soldAtMs, atMs, limits: accountLimits(buyer.timeZone, buyer.caps, buyer.budget) } });
    const before = state.payoutCents;
    state.revenueCents -= sale.priceCents;
    state.payoutCents = payoutCents(supplier, state.revenueCents);
    const supplierTally: Tally = { kind: 'supplier', accountId: supplier.id, key: `return:${sale.buyerId}`, atMs, timeZone: supplier.timeZone, counters: { returned: 1, revenueCents: -sale.priceCents, payoutCents: state.payoutCents - before } };
    await acts.tallyAccounts({ tenantId: input.tenantId, tallies: tallyRequests(input.leadId, [supplierTally]) });
  }

  /** Settles the supplier's admission, reports endpoint results to the breakers and counts the lead in the stats. */
  async function finish(): Promise<void> {
    const atMs = businessNow();
    if (endpointReports.length) await acts.reportEndpointResults({ tenantId: input.tenantId, accounts: byBuyer(endpointReports.splice(0)) });
    const buyerTallies: Tally[] = [...tallies].map(([buyerId, counters]) => ({ kind: 'buyer', accountId: buyerId, key: 'sale', atMs, timeZone: buyers.get(buyerId)?.timeZone ?? 'UTC', counters }));
    const sold = state.sales.length > 0;
    const supplierTally: Tally = {
      kind: 'supplier',
      accountId: supplier.id,
      key: 'sale',
      atMs,
      timeZone: supplier.timeZone,
      counters: { submitted: 1, ...(sold ? { sold: 1 } : { unsold: 1 }), ...(state.status === 'duplicate' ? { duplicates: 1 } : {}), ...(state.status === 'rejected' ? { rejected: 1 } : {}), revenueCents: state.revenueCents, payoutCents: state.payoutCents },
    };
    await acts.tallyAccounts({ tenantId: input.tenantId, tallies: tallyRequests(input.leadId, [...buyerTallies, supplierTally]) });
    upsertMemo({ distribution: { status: state.status, soldTo: state.sales.map((s) => s.buyerId), revenueCents: state.revenueCents, payoutCents: state.payoutCents } });
    // The supplier's answer (and a post against a bid) has what it waited for: let it reply before the run moves on or ends.
    await condition(allHandlersFinished);
  }
}
