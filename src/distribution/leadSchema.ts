/**
 * The schema of a campaign's leads, built from its field definitions: every bad field is a 400
 * naming it, before any workflow starts.
 */
import { z } from 'zod';
import { EmailSchema, hasControlCharacter, NO_CONTROL_CHARACTERS, text } from '../domain/input';
import type { Campaign, FieldSpec } from './model';

export const TRUSTEDFORM_PREFIX = 'https://cert.trustedform.com/';
const US_STATES = 'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR'.split(' ');

/** A value of the field's type (and allowed values), required or not as the spec says. */
function fieldSchema(spec: FieldSpec, refine?: (schema: z.ZodType) => z.ZodType): z.ZodType {
  let schema: z.ZodType;
  switch (spec.type) {
    case 'number':
    case 'integer': {
      let n = z.number().finite();
      if (spec.type === 'integer') n = n.int();
      if (spec.min !== undefined) n = n.min(spec.min);
      if (spec.max !== undefined) n = n.max(spec.max);
      schema = n;
      break;
    }
    case 'boolean':
      schema = z.boolean();
      break;
    case 'email':
      schema = EmailSchema;
      break;
    case 'phone':
      schema = z.string().trim().regex(/^\+?[0-9 ().-]{7,20}$/, 'must be a phone number').refine((p) => p.replace(/\D/g, '').length >= 10, 'must have at least 10 digits');
      break;
    case 'zip':
      schema = z.string().trim().regex(/^\d{5}(-\d{4})?$/, 'must be a 5-digit ZIP code (or ZIP+4)');
      break;
    case 'state':
      schema = z.string().trim().toUpperCase().refine((s) => US_STATES.includes(s), 'must be a US state code such as CA');
      break;
    case 'date':
      schema = z.iso.date({ message: 'must be a date YYYY-MM-DD' });
      break;
    case 'url':
      // The URL parser drops or escapes control characters: refused as they are sent.
      schema = z.string().max(2000).refine((s) => !hasControlCharacter(s), NO_CONTROL_CHARACTERS).pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }));
      break;
    default:
      schema = text(spec.maxLength ?? 500, { trim: true }).min(1, 'must not be empty');
  }
  if (spec.enum) {
    const allowed = spec.enum.map((v) => (typeof v === 'string' ? v.toLowerCase() : v));
    schema = schema.refine((v) => allowed.includes(typeof v === 'string' ? v.toLowerCase() : (v as number)), `must be one of ${spec.enum.join(', ')}`);
  }
  if (refine) schema = refine(schema);
  return spec.required ? schema : schema.optional();
}

/** A lead of the campaign (`ping`: only its ping fields, which a ping may leave out). */
export function campaignLeadSchema(campaign: Campaign, mode: 'full' | 'ping'): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(campaign.fields)) {
    if (mode === 'ping' && !campaign.pingFields.includes(name)) continue;
    if (name === 'trustedform_cert_url') {
      // The field's own type and limits, and a TrustedForm certificate on top (required when consent is).
      const required = campaign.consent?.trustedForm === 'required' && mode === 'full';
      const certificate = (schema: z.ZodType) => schema.refine((v) => typeof v === 'string' && v.trim().startsWith(TRUSTEDFORM_PREFIX), `must be a TrustedForm certificate URL (${TRUSTEDFORM_PREFIX}…)`);
      shape[name] = fieldSchema({ ...spec, required: spec.required || required }, certificate);
      continue;
    }
    shape[name] = fieldSchema(spec);
  }
  return z.object(shape).strict() as unknown as z.ZodType<Record<string, unknown>>;
}
