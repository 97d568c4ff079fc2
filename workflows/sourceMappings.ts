import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { appendVersion } from '../src/protocol/versions';
import {
  currentSourceMappingsQuery,
  publishSourceMappingUpdate,
  sourceMappingVersionsQuery,
  type PublishSourceMappingRequest,
  type SourceMappingsInput,
  type SourceMappingVersion,
} from '../src/sources/messages';

/** Versions kept per source; older ones stay readable in earlier runs' histories. */
const KEEP_VERSIONS = 20;
const MAX_HISTORY_EVENTS = 2_000;

/**
 * A tenant's published source mapping overrides, one durable entity per tenant (like its policy):
 * the tenant configuration is a file, so a mapping fixed through the API lives here and applies
 * at the next event, no restart. Publishing is an Update (the API compiles the mapping first),
 * so who changed which source's mapping, when and why is in this workflow's history.
 */
export async function sourceMappings(input: SourceMappingsInput): Promise<void> {
  const sources: Record<string, SourceMappingVersion[]> = input.sources ?? {};

  setHandler(
    publishSourceMappingUpdate,
    (req: PublishSourceMappingRequest): SourceMappingVersion => {
      const versions = (sources[req.sourceId] ??= []);
      return appendVersion(
        versions,
        req.hash,
        (version) => ({ version, hash: req.hash, mapping: req.mapping, publishedAt: new Date(Date.now()).toISOString(), actor: req.actor, note: req.note }),
        KEEP_VERSIONS,
      );
    },
    {
      validator: (req: PublishSourceMappingRequest) => {
        if (!req.sourceId || !req.hash || !req.actor) throw new Error('a source ID, a hash and an actor are required');
      },
    },
  );

  setHandler(currentSourceMappingsQuery, () => {
    const out: Record<string, SourceMappingVersion> = {};
    for (const [id, versions] of Object.entries(sources)) {
      const latest = versions[versions.length - 1];
      if (latest) out[id] = latest;
    }
    return out;
  });
  setHandler(sourceMappingVersionsQuery, (sourceId: string) => sources[sourceId] ?? []);

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS);
  await condition(allHandlersFinished);
  await continueAsNew<typeof sourceMappings>({ tenantId: input.tenantId, sources });
}
