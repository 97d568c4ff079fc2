/**
 * A distributed lead as it travels: the workflow's input, the supplier's answer, returns, and the
 * state the API reads. Pure (the workflow imports it).
 */
import type { CampaignSnapshot } from './catalog';
import type { LeadFields, Screening } from './plan';

export interface DistributeLeadInput {
  tenantId: string;
  leadId: string;
  campaignId: string;
  supplierId: string;
  /** `full`: the whole lead now. `ping`: only ping fields now; the full lead comes with a post of the bid. */
  mode: 'full' | 'ping';
  lead: LeadFields;
  /** When the supplier's request arrived (ISO). */
  receivedAt: string;
  /** The supplier's answer is due this long after the request arrived. */
  deadlineMs: number;
  /** The catalog as the API read it for this request; absent: the lead reads it itself. */
  snapshot?: CampaignSnapshot;
  /** Business-clock offset of the API (see src/clock.ts); absent in real time. */
  clockOffsetMs?: number;
}

export type AnswerStatus = 'sold' | 'rejected' | 'duplicate' | 'queued' | 'pending' | 'bid' | 'no_bid' | 'expired';

/** What the supplier is told: sold to whom and for what it is paid, or why not. */
export interface SupplierAnswer {
  leadId: string;
  status: AnswerStatus;
  /** Buyers the lead was sold to. */
  soldTo: string[];
  /** What the supplier is paid for this lead (campaign currency). */
  payout: number;
  currency: string;
  reason?: string;
  /** Queued: when delivery is planned (a buyer's opening). */
  deliverAt?: string;
  /** Ping: the bid to post against, and until when. */
  bidId?: string;
  expiresAt?: string;
}

export type ReturnStatus = 'pending' | 'approved' | 'denied';

export interface Sale {
  buyerId: string;
  priceCents: number;
  /** Business time of the sale. */
  soldAtMs: number;
  reference: string | null;
  return: { status: ReturnStatus; reason: string; requestedAt: string; actor: string; decidedAt: string | null; decidedBy: string | null; note: string | null } | null;
}

export interface ReturnRequest {
  buyerId: string;
  reason: string;
  actor: string;
}
export interface ReturnDecision {
  buyerId: string;
  decision: 'approve' | 'deny';
  actor: string;
  note: string | null;
}
export type ReturnAnswer = { ok: true; sale: Sale } | { ok: false; code: 'not_sold_to_buyer' | 'window_closed' | 'already_returned' | 'no_pending_return'; message: string };

/** unknown: a post the buyer may have taken (no definite answer); its price stays spent. */
export type BuyerStatus = 'offered' | 'skipped' | 'pinged' | 'bid' | 'no_bid' | 'posted' | 'sold' | 'rejected' | 'duplicate' | 'error' | 'unknown';

/** Why each buyer got (or did not get) the lead, latest first decisions per buyer. */
export interface BuyerConsideration {
  buyerId: string;
  status: BuyerStatus;
  reason: string | null;
  detail: string | null;
  priceCents: number | null;
}

export interface DistributionState {
  leadId: string;
  tenantId: string;
  campaignId: string;
  supplierId: string;
  mode: 'full' | 'ping';
  status: 'screening' | 'selling' | 'awaiting_post' | 'queued' | 'sold' | 'unsold' | 'rejected' | 'duplicate' | 'expired';
  receivedAt: string;
  answer: SupplierAnswer | null;
  campaignVersion: number | null;
  buyers: BuyerConsideration[];
  sales: Sale[];
  revenueCents: number;
  payoutCents: number;
  /** When the last return may be asked for (ISO); null before a sale. */
  returnsUntil: string | null;
}

/** The first answer of a screening per buyer, in the shape the log reads. */
export function considerationOf(s: Screening): BuyerConsideration {
  return s.eligible
    ? { buyerId: s.buyerId, status: 'offered', reason: null, detail: null, priceCents: null }
    : { buyerId: s.buyerId, status: 'skipped', reason: s.reason, detail: s.detail, priceCents: null };
}

export type LoadedCampaign = { snapshot: CampaignSnapshot | null; clockOffsetMs?: number };
