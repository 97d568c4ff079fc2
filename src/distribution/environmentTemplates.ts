/**
 * The environment level of the request-template stack (platform → environment → tenant): a JSON
 * file `{ "<template id>": "<JSONata>" }` named by LEADRELAY_DISTRIBUTION_TEMPLATES, read once at
 * start-up like LEADRELAY_MAPPING_OVERRIDES. A bad file stops the start, naming the file and the
 * template at fault.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, parseOrThrow } from '../tenants/registry';
import { TemplateMapSchema } from './templateSchema';

/** The environment's templates from `file`, validated; undefined when no file is configured. */
export function loadDistributionTemplates(file: string | undefined): Record<string, string> | undefined {
  if (!file) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, '', `cannot read distribution templates file: ${(err as Error).message}`);
  }
  return checkDistributionTemplates(raw, file);
}

/** Templates given in code (StackOptions, tests) checked as strictly as the file: throws a ConfigError naming `source` and the template. */
export function checkDistributionTemplates(templates: unknown, source = 'distributionTemplates'): Record<string, string> {
  return parseOrThrow(TemplateMapSchema, templates, source);
}
