/**
 * Request templates for buyer endpoints: named JSONata mappings over the delivery context
 * `{ kind, leadId, lead, campaign: { id, name, currency }, buyer: { id, name }, bid }` giving the
 * body to send. The platform defines the built-ins below; the environment and then the tenant may
 * add templates or replace one by its ID (the same override stack as provider definitions: the
 * later layer wins). An endpoint names a template, or carries its own `mapping`, or neither (then
 * `standard`). Pure data: no I/O, so the catalog's validation and the workflows may import it.
 */

/** Template ID → JSONata source. */
export type TemplateMap = Readonly<Record<string, string>>;

/** The template an endpoint with neither `mapping` nor `template` uses. */
export const DEFAULT_TEMPLATE = 'standard';

export const PLATFORM_TEMPLATES: TemplateMap = Object.freeze({
  /** `{ lead_id, campaign, <every lead field>, bid_id }` (bid_id only when posting against a bid). */
  standard: '$merge([{ "lead_id": leadId, "campaign": campaign.id }, lead, { "bid_id": bid.id }])',
  /** A ping: `{ lead_id, campaign, <the ping fields> }`; the lead it sees holds only the campaign's ping fields. */
  'ping-standard': '$merge([{ "lead_id": leadId, "campaign": campaign.id }, lead])',
  /** The lead's fields under `lead`, for buyers that want an envelope: `{ lead_id, campaign, bid_id, lead: {...} }`. */
  nested: '{ "lead_id": leadId, "campaign": campaign.id, "bid_id": bid.id, "lead": lead }',
});

export interface TemplateOverrides {
  /** The deployment's templates (from its configuration): over the platform's. */
  environment?: Record<string, string> | undefined;
  /** The tenant's templates: over the environment's. */
  tenant?: Record<string, string> | undefined;
}

/** Every template visible to a tenant: platform, then environment, then tenant (later wins). */
export function resolveTemplates(overrides: TemplateOverrides = {}): TemplateMap {
  const merged: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const layer of [PLATFORM_TEMPLATES, overrides.environment ?? {}, overrides.tenant ?? {}]) {
    for (const [id, source] of Object.entries(layer)) {
      if (typeof source === 'string' && source.trim() !== '') merged[id] = source;
    }
  }
  return merged;
}

/** A template's source by ID, or null when no layer defines it. */
export function templateSource(templates: TemplateMap, id: string): string | null {
  return Object.hasOwn(templates, id) ? (templates[id] ?? null) : null;
}

/**
 * The request mapping an endpoint uses: its own `mapping`, else its named template, else
 * `standard`. `source` is null when the named template does not exist.
 */
export function requestMapping(endpoint: { mapping?: string | undefined; template?: string | undefined }, templates: TemplateMap): { source: string | null; template: string | null } {
  if (endpoint.mapping !== undefined) return { source: endpoint.mapping, template: null };
  const id = endpoint.template ?? DEFAULT_TEMPLATE;
  return { source: templateSource(templates, id), template: id };
}
