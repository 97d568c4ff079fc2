/**
 * A layer of request templates as configuration gives it (the environment's file, a tenant's
 * `distribution.templates`): template ID → JSONata source. Every ID is a catalog ID and every
 * source compiles, or the issue names the template (`<path>.<id>`). Imports neither the model nor
 * the tenant schema, so the tenant schema can use it.
 */
import { z } from 'zod';
import { PROTOTYPE_KEY_MESSAGE, PROTOTYPE_KEYS } from '../domain/input';
import { ID_MESSAGE, ID_PATTERN } from './ids';
import { compileJsonata, jsonataError } from './jsonata';

/** Most templates one layer may define. */
export const MAX_TEMPLATES_PER_LAYER = 200;
/** Longest template source (the same cap as an endpoint's own mapping). */
export const MAX_TEMPLATE_CHARS = 20_000;

export const TemplateMapSchema = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  const entries = Object.entries(map);
  if (entries.length > MAX_TEMPLATES_PER_LAYER) ctx.addIssue({ code: 'custom', path: [], message: `must define at most ${MAX_TEMPLATES_PER_LAYER} templates` });
  for (const [id, source] of entries) {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', path: [id], message });
    if (!ID_PATTERN.test(id)) issue(`is not a valid template id: ${ID_MESSAGE}`);
    else if (PROTOTYPE_KEYS.has(id)) issue(PROTOTYPE_KEY_MESSAGE);
    else if (source.trim() === '') issue('must be a JSONata expression');
    else if (source.length > MAX_TEMPLATE_CHARS) issue(`must be at most ${MAX_TEMPLATE_CHARS} characters`);
    else {
      try {
        compileJsonata(source);
      } catch (err) {
        issue(`is not valid JSONata: ${jsonataError(err)}`);
      }
    }
  }
});
