import type { SourceConfig } from '../src/tenants/schema';
import { typeformSignature } from '../src/sources/kinds/typeform';
import { publicSourceId } from '../src/sources/config';
import { DEMO_TOKEN } from './seed';

/**
 * The sandbox `demo` tenant's lead sources: one of each kind, with development secrets (like
 * `demo-key`, they exist only for the sandbox). Sign a delivery with the secret named here and
 * POST it to `/v1/sources/src_demo_<id>/events`. Kinds added later go in this list the same way.
 * The Meta source reads each lead from the sandbox's Graph API: create one with
 * `POST <sandbox>/v26.0/<form id>/test_leads` (Bearer: the workspace token) and sign a leadgen
 * notification naming the answered `id` as its `leadgen_id`.
 */
export const DEMO_SOURCE_SECRETS = {
  hubspot: 'demo-hubspot-client-secret-0001',
  typeform: 'demo-typeform-webhook-secret-0001',
  segment: 'demo-segment-shared-secret-0001',
  marketo: 'demo-marketo-token-0001',
  generic: 'demo-generic-signing-secret-0001',
  /** Meta: the app secret (X-Hub-Signature-256) and the token the hub.challenge handshake must name. */
  meta: 'demo-meta-app-secret-0001',
  metaVerifyToken: 'demo-meta-verify-token-0001',
  calendly: 'demo-calendly-signing-key-0001',
  calcom: 'demo-calcom-webhook-secret-0001',
} as const;

/** Where the sandbox listens by default (SANDBOX_PORT), for callers that do not say. */
const DEFAULT_SANDBOX_URL = 'http://127.0.0.1:4010';

/**
 * `graph`: the sandbox the Meta source reads leads from (its Graph API emulator, where the
 * workspace's token is the Page access token); default the sandbox at its default port.
 */
export function demoSources(graph: { sandboxUrl: string; pageToken: string } = { sandboxUrl: DEFAULT_SANDBOX_URL, pageToken: DEMO_TOKEN }): SourceConfig[] {
  return [
    { id: 'hubspot', kind: 'hubspot', name: 'HubSpot forms (workflow webhook)', secret: { value: DEMO_SOURCE_SECRETS.hubspot } },
    { id: 'typeform', kind: 'typeform', name: 'Typeform demo request', secret: { value: DEMO_SOURCE_SECRETS.typeform } },
    { id: 'segment', kind: 'segment', name: 'Segment product sign-ups', secret: { value: DEMO_SOURCE_SECRETS.segment } },
    { id: 'marketo', kind: 'marketo', name: 'Marketo contact sales', secret: { value: DEMO_SOURCE_SECRETS.marketo } },
    { id: 'generic', kind: 'generic', name: 'Partner feed (generic JSON)', secret: { value: DEMO_SOURCE_SECRETS.generic } },
    {
      id: 'meta',
      kind: 'meta',
      name: 'Meta Lead Ads (demo page)',
      secret: { value: DEMO_SOURCE_SECRETS.meta },
      verifyToken: { value: DEMO_SOURCE_SECRETS.metaVerifyToken },
      accessToken: { value: graph.pageToken },
      baseUrl: graph.sandboxUrl,
    },
    { id: 'calendly', kind: 'calendly', name: 'Calendly demo bookings', secret: { value: DEMO_SOURCE_SECRETS.calendly } },
    { id: 'calcom', kind: 'calcom', name: 'Cal.com demo bookings', secret: { value: DEMO_SOURCE_SECRETS.calcom } },
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
