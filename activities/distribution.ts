import type { Client } from '@temporalio/client';
import { clockFields, type BusinessClock } from '../src/clock';
import type { AccountLimits, AccountSnapshot } from '../src/distribution/account';
import type { LoadedCampaign } from '../src/distribution/lead';
import type { BreakerSettings, Buyer, Campaign } from '../src/distribution/model';
import { buyerDedupeScope, fixedPriceCents, screenStatic, type LeadFields, type Screening } from '../src/distribution/plan';
import { accountLimits } from '../src/distribution/workflowSupport';
import { campaignSnapshot } from '../src/temporal/catalog';
import type { createAccountActivities } from './accounts';
import { cancellable } from './context';
import type { createDedupeActivities } from './dedupe';

export interface DistributionActivityDeps {
  temporal: Client;
  clock: BusinessClock;
  accounts: ReturnType<typeof createAccountActivities>;
  dedupe: ReturnType<typeof createDedupeActivities>;
}

/** Why an account refuses even before a price is known, or null. */
function accountRefusal(buyer: Buyer, snap: AccountSnapshot | undefined): { reason: 'cap_reached' | 'budget_reached' | 'breaker_open'; detail: string } | null {
  if (!snap) return null;
  if (snap.blocked) return snap.blocked;
  const fixed = fixedPriceCents(buyer);
  for (const period of ['day', 'month'] as const) {
    const left = snap.periods[period].remainingCents;
    if (left !== null && fixed !== null && left < fixed) return { reason: 'budget_reached', detail: `${period} budget has ${left / 100} left, below the price ${fixed / 100}` };
    if (left !== null && left <= 0) return { reason: 'budget_reached', detail: `${period} budget spent` };
  }
  return null;
}

/** A lead's view of the catalog and of each buyer's account, read live when it needs them. */
export function createDistributionActivities(deps: DistributionActivityDeps) {
  const { temporal, clock } = deps;
  /**
   * Screening reads each buyer's account by query. Leads screening the same buyer at the same
   * moment share one read (single flight, not a cache: a read is never reused once it has
   * finished): a burst of leads would otherwise fill the account's query buffer. A read that fails
   * leaves the buyer to its reservation, which decides caps, budget and breakers exactly anyway.
   */
  const inFlight = new Map<string, Promise<AccountSnapshot | undefined>>();
  const snapshotOf = (tenantId: string, buyer: Buyer, atMs: number, limits: Record<string, AccountLimits>, breakers: Record<string, Partial<Record<'ping' | 'post', BreakerSettings>>>) => {
    const key = `${tenantId}\n${buyer.id}`;
    let read = inFlight.get(key);
    if (!read) {
      read = deps.accounts
        .accountSnapshots({ tenantId, kind: 'buyer', ids: [buyer.id], atMs, limits: { [buyer.id]: limits[buyer.id]! }, breakers: { [buyer.id]: breakers[buyer.id]! } })
        .then((snaps) => snaps[buyer.id], () => undefined)
        .finally(() => inFlight.delete(key));
      inFlight.set(key, read);
    }
    return read;
  };
  const snapshotsOf = async (tenantId: string, buyers: Buyer[], atMs: number, limits: Record<string, AccountLimits>, breakers: Record<string, Partial<Record<'ping' | 'post', BreakerSettings>>>) => {
    const snaps = await Promise.all(buyers.map((b) => snapshotOf(tenantId, b, atMs, limits, breakers)));
    return Object.fromEntries(buyers.flatMap((b, i) => (snaps[i] ? [[b.id, snaps[i]] as const] : []))) as Record<string, AccountSnapshot>;
  };
  return {
    /** The campaign, its supplier and its buyers as they are now (never cached); the business clock's offset when simulated. */
    async loadCampaign(input: { tenantId: string; campaignId: string; supplierId: string }): Promise<LoadedCampaign> {
      const snapshot = await cancellable(temporal, () => campaignSnapshot(temporal, input.tenantId, input.campaignId, input.supplierId));
      return { snapshot, ...clockFields(clock) };
    },

    /**
     * Every buyer of the campaign judged for this lead at `atMs`: paused, filters and operating
     * hours; then, for those left, the account's caps, budget and breakers, and the buyer's own
     * dedupe window. The answer (in history) names each skipped buyer's reason.
     */
    async screenBuyers(input: { tenantId: string; leadId: string; campaign: Campaign; buyers: Buyer[]; lead: LeadFields; atMs: number }): Promise<Screening[]> {
      const out = new Map<string, Screening>();
      const left: Buyer[] = [];
      for (const buyer of input.buyers) {
        const skipped = screenStatic(buyer, input.lead, input.atMs);
        if (skipped) out.set(buyer.id, skipped);
        else left.push(buyer);
      }
      if (left.length) {
        const limits = Object.fromEntries(left.map((b) => [b.id, accountLimits(b.timeZone, b.caps, b.budget)]));
        const breakers = Object.fromEntries(left.map((b) => [b.id, { ping: b.breaker, post: b.breaker }]));
        const scopes = left.filter((b) => b.dedupeDays).map((b) => buyerDedupeScope(input.campaign, b)).filter((scope) => scope.fields.length);
        const [snaps, dupes] = await Promise.all([
          snapshotsOf(input.tenantId, left, input.atMs, limits, breakers),
          scopes.length
            ? deps.dedupe.checkDedupe({
                tenantId: input.tenantId,
                leadId: input.leadId,
                scopes,
                fieldSpecs: input.campaign.fields,
                lead: input.lead,
              })
            : Promise.resolve({} as Record<string, string | null | false>),
        ]);
        for (const buyer of left) {
          const snap = snaps[buyer.id];
          const refused = accountRefusal(buyer, snap);
          if (refused) {
            out.set(buyer.id, { buyerId: buyer.id, eligible: false, ...refused });
            continue;
          }
          const endpoints: Array<'ping' | 'post'> = buyer.pricing.type === 'bid' ? ['ping', 'post'] : ['post'];
          const probe: Array<'ping' | 'post'> = [];
          let open: string | null = null;
          for (const endpoint of endpoints) {
            const view = snap?.breakers[endpoint];
            if (!view || view.state === 'closed') continue;
            if (view.probeAvailable) probe.push(endpoint);
            else open = `${endpoint} endpoint breaker ${view.state}${view.openedAt ? ` since ${new Date(view.openedAt).toISOString()}` : ''}`;
          }
          if (open) {
            out.set(buyer.id, { buyerId: buyer.id, eligible: false, reason: 'breaker_open', detail: open });
            continue;
          }
          const holder = dupes[`buyer:${buyer.id}`];
          if (holder !== undefined && holder !== false) {
            out.set(buyer.id, { buyerId: buyer.id, eligible: false, reason: 'duplicate_for_buyer', detail: `${buyer.id} had this person within ${buyer.dedupeDays} days${holder ? ` (lead ${holder})` : ''}` });
            continue;
          }
          out.set(buyer.id, { buyerId: buyer.id, eligible: true, probe });
        }
      }
      return input.buyers.map((b) => out.get(b.id) as Screening);
    },
  };
}

