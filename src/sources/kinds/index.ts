import type { SourceKind, SourceKindName } from '../types';
import { generic } from './generic';
import { hubspot } from './hubspot';
import { marketo } from './marketo';
import { segment } from './segment';
import { typeform } from './typeform';
import { metaKind } from './meta';
import { calendlyKind } from './calendly';
import { calcomKind } from './calcom';

/**
 * Every source kind this build knows, by name. A kind is added here with its mapping definition
 * in ../definitions/<kind>.json; a tenant's source of a kind not listed is refused at start-up.
 */
export const SOURCE_KIND_LIST: SourceKind[] = [hubspot, typeform, segment, marketo, generic, metaKind, calendlyKind, calcomKind];

export const SOURCE_KIND_REGISTRY: Partial<Record<SourceKindName, SourceKind>> = Object.fromEntries(SOURCE_KIND_LIST.map((k) => [k.kind, k]));
