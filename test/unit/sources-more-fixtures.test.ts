import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import jsonata from 'jsonata';
import { LeadInputSchema } from '../../src/domain/leadSchema';
import { calcomKind } from '../../src/sources/kinds/calcom';
import { calendlyKind } from '../../src/sources/kinds/calendly';
import { metaKind, type MetaLeadgenEvent } from '../../src/sources/kinds/meta';
import type { SourceKind } from '../../src/sources/types';

/*
 * Golden fixtures: each provider's documented payload, split into events by the kind, (Meta: the
 * documented Graph read of each leadgen_id, with the notification's references), mapped by the
 * platform definition and parsed by the lead schema, equals the reviewed lead input.
 */
interface Fixture {
  description: string;
  body: unknown;
  graph?: Record<string, Record<string, unknown>>;
  expected: unknown[];
}

const KINDS: SourceKind[] = [metaKind, calendlyKind, calcomKind];
const root = join(__dirname, '../fixtures/sources');

describe.each(KINDS.map((k) => [k.kind, k] as const))('%s golden fixtures', (name, kind) => {
  const mapping = (JSON.parse(readFileSync(join(__dirname, `../../src/sources/definitions/${name}.json`), 'utf8')) as { mapping: string }).mapping;
  const files = readdirSync(join(root, name)).filter((f) => f.endsWith('.json'));

  it('has fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s maps to its expected leads', async (file) => {
    const fixture = JSON.parse(readFileSync(join(root, name, file), 'utf8')) as Fixture;
    const leads = [];
    for (const event of kind.events!(fixture.body)) {
      let input: unknown = event;
      if (name === 'meta') {
        const e = event as MetaLeadgenEvent;
        input = { ...fixture.graph![e.leadgen_id!], form_id: e.form_id, ad_id: e.ad_id, adgroup_id: e.adgroup_id, page_id: e.page_id };
      }
      const mapped: unknown = await jsonata(mapping).evaluate(input);
      leads.push(LeadInputSchema.parse(mapped));
    }
    expect(leads).toEqual(fixture.expected);
  });
});
