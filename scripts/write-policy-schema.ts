/**
 * Writes the routing policy JSON Schema to schemas/policy.schema.json from the zod schema.
 * Run after changing src/domain/policy/schema.ts: `npx tsx scripts/write-policy-schema.ts`.
 * A unit test fails while the committed file differs from what this would write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { policyJsonSchemaText } from '../src/domain/policy/jsonSchema';

const target = join(__dirname, '..', 'schemas', 'policy.schema.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, policyJsonSchemaText());
console.log(`wrote ${target}`);
