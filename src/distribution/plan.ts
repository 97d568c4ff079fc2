/**
 * Pure decisions of a distributed lead: which buyers a lead may be offered and why not, operating
 * hours, what a ping may carry, how bids rank, and what the supplier is paid. No runtime imports
 * beyond pure modules: the workflow runs this.
 */
import { calendarFields, zonedTimeToUtc } from '../domain/calendar';
import { evaluate } from '../domain/policy/conditions';
import type { RoutingContext } from '../domain/policy/types';
import type { Buyer, Campaign, SkipReason, Supplier } from './model';

/** Money to integer cents (as model.ts's cents(), kept here so workflow code imports no schema). */
const cents = (amount: number): number => Math.round(amount * 100);

export type LeadFields = Record<string, unknown>;

/** A buyer considered for a lead: offered, or skipped with a reason and a readable detail. */
export type Screening =
  | { buyerId: string; eligible: true; probe: Array<'ping' | 'post'> }
  | { buyerId: string; eligible: false; reason: SkipReason; detail: string; queueUntilMs?: number };

/** The fields a ping may carry: the campaign's ping fields, never one marked as contact details. */
export function pingView(campaign: Campaign, lead: LeadFields): LeadFields {
  const out: LeadFields = {};
  for (const field of campaign.pingFields) {
    if (campaign.fields[field]?.pii) continue;
    if (Object.hasOwn(lead, field)) out[field] = lead[field];
  }
  return out;
}

/** The values of the lead's contact details, for masking them in the log view. */
export function piiValues(campaign: Campaign, lead: LeadFields): string[] {
  return Object.entries(campaign.fields)
    .filter(([name, spec]) => spec.pii && lead[name] !== undefined && lead[name] !== null && String(lead[name]).length > 0)
    .map(([name]) => String(lead[name]));
}

const minutesOf = (clock: string): number => {
  const [h = 0, m = 0, s = 0] = clock.split(':').map(Number);
  return h * 60 + m + s / 60;
};

/**
 * Whether the buyer is open at `atMs`, and if not, when it next opens (within the coming 8 days).
 * A window whose close is before its open runs past midnight (22:00–06:00 opens on the listed day).
 */
export function hoursStatus(buyer: Buyer, atMs: number): { open: true } | { open: false; nextOpeningMs: number | null } {
  const hours = buyer.hours;
  if (!hours) return { open: true };
  const zone = buyer.timeZone;
  const open = minutesOf(hours.open);
  const close = minutesOf(hours.close);
  const now = calendarFields(atMs, zone);
  const minute = now.hour * 60 + now.minute + now.second / 60;
  const overnight = close <= open;
  const yesterday = now.weekday === 1 ? 7 : now.weekday - 1;
  const inWindow = overnight
    ? (hours.days.includes(now.weekday) && minute >= open) || (hours.days.includes(yesterday) && minute < close)
    : hours.days.includes(now.weekday) && minute >= open && minute < close;
  if (inWindow) return { open: true };
  const [oh = 0, om = 0, os = 0] = hours.open.split(':').map(Number);
  for (let d = 0; d <= 8; d++) {
    const day = calendarFields(atMs + d * 86_400_000, zone);
    if (!hours.days.includes(day.weekday)) continue;
    const opening = zonedTimeToUtc(day.year, day.month, day.day, oh, om, zone) + os * 1000;
    if (opening > atMs) return { open: false, nextOpeningMs: opening };
  }
  return { open: false, nextOpeningMs: null };
}

/** The buyer's filters over `{ lead }`: matched, or the reason it did not match. */
export function filterMatch(buyer: Buyer, lead: LeadFields): { matched: boolean; detail: string } {
  if (!buyer.filters) return { matched: true, detail: 'no filters' };
  return evaluate(buyer.filters, { lead } as unknown as RoutingContext);
}

/** What the workflow can decide without asking anyone: paused, filters, operating hours. */
export function screenStatic(buyer: Buyer, lead: LeadFields, atMs: number): Screening | null {
  if (buyer.paused) return { buyerId: buyer.id, eligible: false, reason: 'paused', detail: 'paused by an operator' };
  const filter = filterMatch(buyer, lead);
  if (!filter.matched) return { buyerId: buyer.id, eligible: false, reason: 'filter', detail: filter.detail };
  const hours = hoursStatus(buyer, atMs);
  if (!hours.open) {
    const when = hours.nextOpeningMs === null ? 'no opening within 8 days' : `opens ${new Date(hours.nextOpeningMs).toISOString()}`;
    const queue = buyer.hours?.outside === 'queue' && hours.nextOpeningMs !== null;
    return {
      buyerId: buyer.id,
      eligible: false,
      reason: 'outside_hours',
      detail: `outside operating hours (${buyer.hours?.open}-${buyer.hours?.close} ${buyer.timeZone}); ${when}${queue ? '; the lead waits for it' : ''}`,
      ...(queue && hours.nextOpeningMs !== null ? { queueUntilMs: hours.nextOpeningMs } : {}),
    };
  }
  return null;
}

/** What the seller nets from a buyer's price after the campaign's margin, in cents. */
export function netCents(campaign: Campaign, priceCents: number): number {
  return Math.floor((priceCents * (100 - campaign.marginPercent)) / 100);
}

export interface Offer {
  buyerId: string;
  priceCents: number;
  netCents: number;
  /** The buyer's bid ID from its ping, sent back with the post. */
  bidId: string | null;
}

/** Buyers in waterfall order: priority (lower first), then ID. */
export function byPriority(buyers: readonly Buyer[]): Buyer[] {
  return [...buyers].sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Offers ranked for an auction: best net price, then priority, then ID. */
export function rankOffers(offers: readonly Offer[], buyers: ReadonlyMap<string, Buyer>): Offer[] {
  return [...offers].sort(
    (a, b) =>
      b.netCents - a.netCents ||
      (buyers.get(a.buyerId)?.priority ?? 0) - (buyers.get(b.buyerId)?.priority ?? 0) ||
      (a.buyerId < b.buyerId ? -1 : a.buyerId > b.buyerId ? 1 : 0),
  );
}

/** What the supplier is paid for a lead sold for `revenueCents` (0 when unsold). */
export function payoutCents(supplier: Supplier | null, revenueCents: number): number {
  if (!supplier || revenueCents <= 0) return 0;
  if (supplier.payout.type === 'fixed') return Math.min(cents(supplier.payout.amount), revenueCents);
  return Math.floor((revenueCents * supplier.payout.percent) / 100);
}

/** How many buyers a lead may be sold to. */
export function maxSales(campaign: Campaign): number {
  return campaign.sale.model === 'shared' ? campaign.sale.maxBuyers : 1;
}

/** The fixed price of a buyer in cents, or null for a bidder. */
export function fixedPriceCents(buyer: Buyer): number | null {
  return buyer.pricing.type === 'fixed' ? cents(buyer.pricing.price) : null;
}

/** A buyer's own dedupe window: the campaign's dedupe fields (else its contact fields), any one matching. */
export function buyerDedupeScope(campaign: Campaign, buyer: Buyer): { scope: string; fields: string[]; match: 'any'; days: number } {
  const fields = campaign.dedupe?.fields ?? Object.entries(campaign.fields).filter(([, f]) => f.pii).map(([name]) => name);
  return { scope: `buyer:${buyer.id}`, fields, match: 'any', days: buyer.dedupeDays ?? 1 };
}
