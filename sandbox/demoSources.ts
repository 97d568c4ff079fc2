import type { SourceConfig } from '../src/tenants/schema';
import { typeformSignature } from '../src/sources/kinds/typeform';
import { publicSourceId } from '../src/sources/config';

/**
 * The sandbox `demo` tenant's lead sources: one of each kind, with development secrets (like
 * `demo-key`, they exist only for the sandbox). Sign a delivery with the secret named here and
 * POST it to `/v1/sources/src_demo_<id>/events`. Kinds added later go in this list the same way.
 */
export const DEMO_SOURCE_SECRETS = {
  hubspot: 'demo-hubspot-client-secret-0001',
  typeform: 'demo-typeform-webhook-secret-0001',
  segment: 'demo-segment-shared-secret-0001',
  marketo: 'demo-marketo-token-0001',
  generic: 'demo-generic-signing-secret-0001',
} as const;

export function demoSources(): SourceConfig[] {
  return [
    { id: 'hubspot', kind: 'hubspot', name: 'HubSpot forms (workflow webhook)', secret: { value: DEMO_SOURCE_SECRETS.hubspot } },
    { id: 'typeform', kind: 'typeform', name: 'Typeform demo request', secret: { value: DEMO_SOURCE_SECRETS.typeform } },
    { id: 'segment', kind: 'segment', name: 'Segment product sign-ups', secret: { value: DEMO_SOURCE_SECRETS.segment } },
    { id: 'marketo', kind: 'marketo', name: 'Marketo contact sales', secret: { value: DEMO_SOURCE_SECRETS.marketo } },
    { id: 'generic', kind: 'generic', name: 'Partner feed (generic JSON)', secret: { value: DEMO_SOURCE_SECRETS.generic } },
  ];
}

/**
 * A Typeform delivery to the demo tenant, signed at start as Typeform signs it (Typeform signs no
 * time, so the printed command keeps working; sending it twice shows the redelivery answer).
 */
export function demoSourceCurl(apiUrl: string, tenantId = 'demo'): string[] {
  const body = JSON.stringify({
    event_id: '01HZDEMO0000000000000000001',
    event_type: 'form_response',
    form_response: {
      form_id: 'DemoF0rm',
      token: 'demo-response-0001',
      submitted_at: '2024-06-03T16:00:00Z',
      hidden: { utm_source: 'sandbox' },
      answers: [
        { type: 'text', text: 'Priya', field: { id: 'f1', type: 'short_text', ref: 'first_name' } },
        { type: 'text', text: 'Shah', field: { id: 'f2', type: 'short_text', ref: 'last_name' } },
        { type: 'email', email: 'priya.shah@acme.com', field: { id: 'f3', type: 'email', ref: 'work_email' } },
        { type: 'text', text: 'Acme', field: { id: 'f4', type: 'short_text', ref: 'company' } },
      ],
    },
  });
  return [
    `  curl -s -X POST ${apiUrl}/v1/sources/${publicSourceId(tenantId, 'typeform')}/events -H 'Content-Type: application/json' \\`,
    `    -H 'Typeform-Signature: ${typeformSignature(DEMO_SOURCE_SECRETS.typeform, body)}' \\`,
    `    -d '${body}'`,
  ];
}
