/**
 * The dispute log of a distributed lead, read from its workflow history: when it came and from
 * which supplier, every buyer considered and why one was skipped, every ping and post as sent
 * (contact details masked) with the buyer's raw answer, latency and mapped outcome, the sale,
 * waits, returns and their decisions. The history is the record; this only reads it.
 */
import type { DeliveryRecord } from '../distribution/delivery';
import { maskText } from '../distribution/delivery';
import type { DistributeLeadInput, DistributionState } from '../distribution/lead';
import type { Campaign } from '../distribution/model';
import { piiValues, type Screening } from '../distribution/plan';
import { csvField } from './csv';
import { asObject, decode, describeFailure, first, iso, tsMs, type HistoryEvent } from './history';

export type DisputeEntryKind =
  | 'received'
  | 'campaign'
  | 'screened'
  | 'skipped'
  | 'ping'
  | 'post'
  | 'reserved'
  | 'refused'
  | 'duplicate'
  | 'sold'
  | 'unknown'
  | 'released'
  | 'answer'
  | 'wait'
  | 'return'
  | 'refund'
  | 'failure';

export interface DisputeEntry {
  at: string;
  kind: DisputeEntryKind;
  buyerId: string | null;
  summary: string;
  /** Pings and posts: the request as sent (contact details masked), the raw answer, latency and outcome. */
  delivery?: {
    request: DeliveryRecord['request'];
    response: DeliveryRecord['response'];
    error: DeliveryRecord['error'];
    latencyMs: number;
    outcome: string;
    price: number | null;
    reason: string | null;
    reference: string | null;
  };
  reason?: string;
}

export interface DisputeLog {
  leadId: string;
  workflowId: string;
  campaignId: string | null;
  supplierId: string | null;
  receivedAt: string | null;
  status: string | null;
  soldTo: Array<{ buyerId: string; price: number; reference: string | null; return: unknown }>;
  buyers: DistributionState['buyers'];
  entries: DisputeEntry[];
}

const money = (c: number) => Math.round(c) / 100;

/** Folds the lead's history (and its current state, when the run answers) into the dispute log. */
export function disputeLog(leadId: string, workflowId: string, events: readonly HistoryEvent[], state: DistributionState | null): DisputeLog {
  const entries: DisputeEntry[] = [];
  const scheduled = new Map<string, { type: string; input: Record<string, any> }>();
  const updates = new Map<string, string>();
  let input: DistributeLeadInput | null = null;
  let mask: (s: string) => string = (s) => s;
  const push = (at: number | null, kind: DisputeEntryKind, summary: string, extra: Partial<DisputeEntry> = {}) =>
    entries.push({ at: at === null ? '' : iso(at), kind, buyerId: null, summary, ...extra });

  /** The catalog the lead was distributed with: its campaign's version, and the contact details to mask. */
  let campaignDoc: Campaign | null = null;
  let piiSeen: string[] = [];
  /** Contact details to mask: the lead's, and (ping then post) the posted lead's. */
  const maskAlso = (lead: Record<string, unknown>) => {
    if (!campaignDoc) return;
    piiSeen = [...new Set([...piiSeen, ...piiValues(campaignDoc, lead)])];
    const values = piiSeen;
    mask = (text) => maskText(text, values);
  };
  const campaignRead = (at: number | null, snapshot: unknown) => {
    const snap = asObject(snapshot);
    const campaign = asObject(snap['campaign']);
    if (campaign['doc'] && input) {
      campaignDoc = campaign['doc'] as Campaign;
      maskAlso(input.lead);
    }
    const buyers = (snap['buyers'] as Array<{ id: string; version: number }> | undefined) ?? [];
    push(at, 'campaign', campaign['version'] ? `campaign ${campaign['id']} version ${campaign['version']}; buyers ${buyers.map((b) => `${b.id} v${b.version}`).join(', ')}` : 'campaign not found');
  };

  for (const e of events) {
    const at = tsMs(e.eventTime);
    if (e.workflowExecutionStartedEventAttributes) {
      input = first(e.workflowExecutionStartedEventAttributes.input) as DistributeLeadInput;
      push(at, 'received', `${input.mode === 'ping' ? 'ping' : 'lead'} from supplier ${input.supplierId} for campaign ${input.campaignId} (received ${input.receivedAt})`);
      if (input.snapshot) campaignRead(at, input.snapshot);
      continue;
    }
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      scheduled.set(String(e.eventId), { type: a.activityType?.name ?? '', input: asObject(first(a.input)) });
      continue;
    }
    if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      if (!s) continue;
      const result = first(a.result);
      const buyerId = (s.input['buyer']?.id ?? s.input['buyerId'] ?? (s.input['kind'] === 'buyer' ? s.input['accountId'] : null)) as string | null;
      switch (s.type) {
        case 'loadCampaign':
          campaignRead(at, asObject(result)['snapshot']);
          break;
        case 'screenBuyers':
          for (const sc of (result as Screening[]) ?? []) {
            if (sc.eligible) push(at, 'screened', `${sc.buyerId} eligible${sc.probe.length ? ` (half-open probe of ${sc.probe.join(', ')})` : ''}`, { buyerId: sc.buyerId });
            else push(at, 'skipped', `${sc.buyerId} skipped: ${sc.reason} (${sc.detail})`, { buyerId: sc.buyerId, reason: sc.reason });
          }
          break;
        case 'pingBuyer':
        case 'postToBuyer': {
          const r = result as DeliveryRecord;
          const answer = r.answer;
          const what = r.error ? `${r.error.type}: ${r.error.message}` : `HTTP ${r.response?.status} → ${answer.outcome}${answer.price !== undefined ? ` ${answer.price}` : ''}${answer.reason ? ` (${answer.reason})` : ''}`;
          push(tsMs(e.eventTime), r.kind, `${r.kind} to ${r.buyerId}: ${what} in ${r.latencyMs} ms`, {
            buyerId: r.buyerId,
            delivery: {
              request: { ...r.request, body: mask(r.request.body), url: mask(r.request.url) },
              response: r.response ? { ...r.response, bodyExcerpt: mask(r.response.bodyExcerpt) } : null,
              error: r.error,
              latencyMs: r.latencyMs,
              outcome: answer.outcome,
              price: answer.price ?? null,
              reason: answer.reason ?? null,
              reference: answer.reference ?? null,
            },
          });
          break;
        }
        case 'reserveWithAccount': {
          const r = asObject(result);
          const who = `${s.input['kind']} ${s.input['accountId']}`;
          const amount = money(Number(asObject(s.input['request'])['amountCents'] ?? 0));
          if (r['ok']) push(at, 'reserved', `${who}: ${amount ? `${amount} ` : ''}held against caps and budget`, { buyerId });
          else push(at, 'refused', `${who}: ${r['reason']} (${r['detail']})`, { buyerId, reason: String(r['reason']) });
          break;
        }
        case 'claimDedupe': {
          const r = asObject(result);
          const scope = String(asObject(s.input['scope'])['scope'] ?? '');
          if (r['duplicate']) push(at, 'duplicate', `${scope}: the same person is held by ${r['heldBy'] ?? 'another lead'}`, { buyerId: scope.startsWith('buyer:') ? scope.slice(6) : null, reason: scope.startsWith('buyer:') ? 'duplicate_for_buyer' : 'duplicate' });
          break;
        }
        case 'acquireProbe':
          push(at, asObject(result)['granted'] ? 'screened' : 'skipped', `${s.input['buyerId']}: half-open probe ${asObject(result)['granted'] ? 'granted' : 'refused (breaker_open)'}`, { buyerId: s.input['buyerId'] as string });
          break;
        case 'settleWithAccount': {
          if (s.input['kind'] !== 'buyer') break;
          const request = asObject(s.input['request']);
          const amount = money(Number(request['amountCents']));
          if (request['outcome'] === 'unknown') push(at, 'unknown', `${s.input['accountId']}: no definite answer to the post, the buyer may have taken the lead; ${amount} stays spent`, { buyerId, reason: 'unknown' });
          else push(at, 'sold', `sold to ${s.input['accountId']} for ${amount}`, { buyerId });
          break;
        }
        case 'releaseWithAccount':
          push(at, 'released', `${s.input['accountId']}: reservation released`, { buyerId });
          break;
        case 'refundWithAccount':
          push(at, 'refund', `${s.input['accountId']}: cap and budget given back (${money(Number(asObject(s.input['request'])['amountCents']))})`, { buyerId });
          break;
      }
      continue;
    }
    if (e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes!;
      const s = scheduled.get(String(a.scheduledEventId));
      const failure = describeFailure(a.failure);
      push(at, 'failure', `${s?.type ?? 'activity'} failed: ${failure.type} ${failure.message}`, { buyerId: (s?.input['buyer']?.id as string | undefined) ?? null });
      continue;
    }
    if (e.timerStartedEventAttributes) {
      const ms = tsMs(e.timerStartedEventAttributes.startToFireTimeout) ?? 0;
      const label = e.userMetadata?.summary ? String(decode(e.userMetadata.summary) ?? '') : '';
      // Deadlines and windows the workflow keeps for itself are not waits of the lead.
      if (/Retry-After|queued until/.test(label)) push(at, 'wait', `${label}: waiting ${Math.round(ms / 100) / 10} s`);
      continue;
    }
    if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const a = e.workflowExecutionUpdateAcceptedEventAttributes;
      const name = a.acceptedRequest?.input?.name ?? '';
      updates.set(a.protocolInstanceId ?? '', name);
      const arg = asObject(first(a.acceptedRequest?.input?.args));
      if (name === 'postBid') maskAlso(asObject(arg['lead']));
      if (name === 'returnLead') push(at, 'return', `${arg['buyerId']} returns the lead: "${arg['reason']}" (by ${arg['actor']})`, { buyerId: arg['buyerId'] as string });
      if (name === 'decideReturn') push(at, 'return', `return by ${arg['buyerId']} ${arg['decision'] === 'approve' ? 'approved' : 'denied'} by ${arg['actor']}${arg['note'] ? `: ${arg['note']}` : ''}`, { buyerId: arg['buyerId'] as string });
      continue;
    }
    if (e.workflowExecutionUpdateCompletedEventAttributes) {
      const a = e.workflowExecutionUpdateCompletedEventAttributes;
      const name = updates.get(a.meta?.updateId ?? '') ?? '';
      const value = asObject(first(a.outcome?.success));
      if (name === 'supplierAnswer' || name === 'postBid') push(at, 'answer', `supplier told: ${value['status']}${value['soldTo'] && (value['soldTo'] as unknown[]).length ? ` to ${(value['soldTo'] as string[]).join(', ')}` : ''}${value['payout'] ? `, payout ${value['payout']}` : ''}${value['reason'] ? ` (${value['reason']})` : ''}`);
      if (name === 'returnLead' && value['ok']) push(at, 'return', `return ${asObject(asObject(value['sale'])['return'])['status']}`, { buyerId: asObject(value['sale'])['buyerId'] as string });
    }
  }

  return {
    leadId,
    workflowId,
    campaignId: input?.campaignId ?? null,
    supplierId: input?.supplierId ?? null,
    receivedAt: input?.receivedAt ?? null,
    status: state?.status ?? null,
    soldTo: (state?.sales ?? []).map((s) => ({ buyerId: s.buyerId, price: money(s.priceCents), reference: s.reference, return: s.return })),
    buyers: state?.buyers ?? [],
    entries,
  };
}

/** The log as CSV: at, kind, buyer, outcome, latency, summary. */
export function disputeCsv(log: DisputeLog): string {
  const header = ['at', 'kind', 'buyer', 'outcome', 'latency_ms', 'http_status', 'summary'];
  const rows = log.entries.map((e) =>
    [e.at, e.kind, e.buyerId ?? '', e.delivery?.outcome ?? e.reason ?? '', e.delivery ? String(e.delivery.latencyMs) : '', e.delivery?.response ? String(e.delivery.response.status) : '', e.summary].map(csvField).join(','),
  );
  return `${[header.join(','), ...rows].join('\r\n')}\r\n`;
}
