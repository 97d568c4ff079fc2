import type { ProviderDefinitionInput } from '../definition';
import { SLACK_BLOCKS } from './slack';

/**
 * The unified-API style (one pass-through API in front of many CRMs, HRIS, calendars and
 * messaging tools): `{ result, next_cursor }` envelopes, `integrated_account_id` on every call,
 * IETF `ratelimit-*` headers. Mappings turn its objects into Leadrelay's normalized shapes.
 */
export const unifiedProvider: ProviderDefinitionInput = {
  id: 'unified',
  auth: { type: 'bearer' },
  timeoutMs: 4000,
  operations: {
    'crm.findAccounts': {
      method: 'GET',
      path: '/unified/crm/accounts',
      query: '{ "integrated_account_id": connection.accountId, "domain": input.domain, "limit": 100 }',
      response: `[result.{
        "id": id,
        "name": name,
        "ownerId": owner_id,
        "domains": [domains],
        "website": website ? website : null
      }]`,
      pagination: { nextCursor: 'next_cursor', cursorParam: 'cursor' },
    },
    'hris.findEmployees': {
      method: 'GET',
      path: '/unified/hris/employees',
      query: '{ "integrated_account_id": connection.accountId, "emails": $join(input.emails, ","), "limit": 100 }',
      response: `[result.{
        "email": $lowercase($exists(emails[type = "WORK"]) ? emails[type = "WORK"][0].email : emails[0].email),
        "employmentStatus": employment_status,
        "timezone": timezone ? timezone : null,
        "timeOff": [time_off[status = "APPROVED"].{ "start": start_at, "end": end_at, "type": type }]
      }]`,
      pagination: { nextCursor: 'next_cursor', cursorParam: 'cursor' },
    },
    'calendar.availability': {
      method: 'GET',
      path: '/unified/calendar/availability',
      query: `{
        "integrated_account_id": connection.accountId,
        "emails": $join(input.emails, ","),
        "start": input.start,
        "end": input.end
      }`,
      response: '[result.{ "email": $lowercase(email), "busy": [busy.{ "start": start, "end": end }] }]',
      pagination: { nextCursor: 'next_cursor', cursorParam: 'cursor' },
    },
    'crm.createLead': {
      method: 'POST',
      path: '/unified/crm/leads',
      query: '{ "integrated_account_id": connection.accountId }',
      headers: '{ "Idempotency-Key": input.idempotencyKey }',
      body: `{
        "email": input.lead.email,
        "first_name": input.lead.firstName,
        "last_name": input.lead.lastName,
        "company": input.lead.company,
        "title": input.lead.title,
        "phone": input.lead.phone,
        "source": input.lead.source,
        "owner_id": input.ownerId
      }`,
      response: '{ "crmLeadId": result.id, "ownerId": result.owner_id }',
    },
    'crm.updateLeadOwner': {
      method: 'PATCH',
      path: '/unified/crm/leads/{crmLeadId}',
      query: '{ "integrated_account_id": connection.accountId }',
      headers: '{ "Idempotency-Key": input.idempotencyKey }',
      body: '{ "owner_id": input.ownerId }',
      response: '{ "crmLeadId": result.id, "ownerId": result.owner_id }',
    },
    'messaging.send': {
      method: 'POST',
      path: '/unified/instant-messaging/messages',
      query: '{ "integrated_account_id": connection.accountId }',
      headers: '{ "Idempotency-Key": input.idempotencyKey }',
      body: `{
        "recipient_email": input.recipientEmail,
        "channel_id": input.channelId,
        "text": input.text,
        "blocks": ${SLACK_BLOCKS}
      }`,
      response: '{ "messageId": result.id, "channel": result.channel_id ? result.channel_id : null }',
    },
  },
};
