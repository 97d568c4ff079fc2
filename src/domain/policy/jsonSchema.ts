/**
 * The routing policy's published JSON Schema (draft 2020-12), generated from the zod schema in
 * ./schema.ts with its descriptions. schemas/policy.schema.json is this, written by
 * scripts/write-policy-schema.ts; GET /v1/policy/schema serves it.
 */
import { z } from 'zod';
import { policyMeta, PolicySchema } from './schema';

/** The published JSON Schema (draft 2020-12) of a policy file. Cross-field checks are parsePolicy's. */
export function policyJsonSchema(): object {
  const generated = z.toJSONSchema(PolicySchema, { target: 'draft-2020-12', metadata: policyMeta, io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'https://leadrelay.dev/schemas/policy.json',
    title: 'Leadrelay routing policy',
    description:
      'Rules in priority order route a lead to its account owner, a pool of reps or a named owner; segments name reusable conditions; ' +
      'the fallback takes what nothing else can. Cross-field rules (unique IDs, references that resolve, valid regular expressions) ' +
      'are checked by the service on upload.',
    ...rest,
  };
}

/** The JSON Schema as the committed file holds it: pretty-printed, with a final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
