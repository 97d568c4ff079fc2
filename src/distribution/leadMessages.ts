import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DistributionState, ReturnAnswer, ReturnDecision, ReturnRequest, SupplierAnswer } from './lead';
import type { LeadFields } from './plan';

/** The supplier's answer: waits until the lead is decided or its deadline passes (then `pending`). */
export const supplierAnswerUpdate = defineUpdate<SupplierAnswer, []>('supplierAnswer');
/** The full lead posted against a bid from a ping; answers like a direct post. */
export const postBidUpdate = defineUpdate<SupplierAnswer, [{ lead: LeadFields }]>('postBid');
/** A buyer returns the lead (approved or denied by the campaign's rule, or left pending). */
export const returnLeadUpdate = defineUpdate<ReturnAnswer, [ReturnRequest]>('returnLead');
/** A person decides a pending return. */
export const decideReturnUpdate = defineUpdate<ReturnAnswer, [ReturnDecision]>('decideReturn');
/** The lead's distribution so far. */
export const distributionStateQuery = defineQuery<DistributionState>('distributionState');
