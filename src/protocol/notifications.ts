/**
 * Every message a lead's run sends, by kind, and its text: the one place to change what reps and
 * the triage channel read. Pure, so workflows import it too.
 */

import type { NotificationRecord } from '../domain/leadState';

export type NotificationKind = NotificationRecord['kind'];

/** What a message says about the lead itself. */
export interface LeadInBrief {
  fullName: string;
  email: string;
  company?: string | null | undefined;
}

const who = (lead: LeadInBrief) => `${lead.fullName} <${lead.email}>`;

export const notificationTexts = {
  /** To the decided owner, with why them and how long they have to accept. */
  assignment: (p: { lead: LeadInBrief; leadId: string; hot: boolean; why: string; slaSeconds: number }) =>
    `New ${p.hot ? 'HOT ' : ''}lead for you: ${who(p.lead)}${p.lead.company ? ` at ${p.lead.company}` : ''}. Why you: ${p.why}. Please accept within ${Math.round(p.slaSeconds / 60)} min. Lead ${p.leadId}.`,
  /** To a named owner of a lead the CRM had refused (a person assigned it). */
  namedAssignment: (p: { lead: LeadInBrief; leadId: string; actor: string; reason: string }) =>
    `Lead assigned to you by ${p.actor}: ${who(p.lead)}. Reason: ${p.reason}. Lead ${p.leadId}.`,
  /** To the triage channel: nobody could take the lead (`why`), or the CRM refused it. */
  needsOwner: (p: { lead: LeadInBrief; leadId: string; why: string }) => `Lead needs an owner: ${who(p.lead)}. ${p.why}. Lead ${p.leadId}.`,
  /** To a rule's fan-out channel: where the lead went. */
  fanOut: (p: { lead: LeadInBrief; leadId: string; owner: string; ruleId: string | null }) =>
    `Lead ${who(p.lead)} routed to ${p.owner} by rule ${p.ruleId ?? 'fallback'}. Lead ${p.leadId}.`,
  /** To the owner whose SLA lapsed: accept now, or the lead moves on at `escalateAt`. */
  reminder: (p: { lead: LeadInBrief; leadId: string; slaSeconds: number; dueAt: string; escalateAt: string }) =>
    `Reminder: lead ${who(p.lead)} is waiting for you to accept it (SLA ${p.slaSeconds}s lapsed at ${p.dueAt}). It moves on at ${p.escalateAt}. Lead ${p.leadId}.`,
  escalation: (p: { lead: LeadInBrief; leadId: string; reason: string }) => `Lead escalated to you: ${who(p.lead)}. ${p.reason}. Lead ${p.leadId}.`,
  escalatedAway: (p: { lead: LeadInBrief; to: string }) => `Lead ${who(p.lead)} moved on to ${p.to} because it was not accepted in time.`,
  reassignment: (p: { lead: LeadInBrief; leadId: string; actor: string; reason: string }) =>
    `Lead reassigned to you by ${p.actor}: ${who(p.lead)}. Reason: ${p.reason}. Lead ${p.leadId}.`,
  reassignedAway: (p: { lead: LeadInBrief; to: string; actor: string; reason: string }) =>
    `Lead ${who(p.lead)} was reassigned to ${p.to} by ${p.actor}. Reason: ${p.reason}.`,
};
