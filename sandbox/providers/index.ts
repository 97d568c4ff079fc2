import type { ProviderEmulator } from '../emulator';
import { CLEARBIT_EMULATOR } from './clearbit';
import { SALESFORCE_EMULATORS } from './salesforce';
import { HUBSPOT_EMULATORS } from './hubspot';
import { PIPEDRIVE_EMULATORS } from './pipedrive';
import { BAMBOOHR_EMULATORS } from './bamboohr';
import { OKTA_EMULATORS } from './okta';
import { HIBOB_EMULATORS } from './hibob';
import { GOOGLE_EMULATORS } from './google';
import { MSGRAPH_EMULATORS } from './msgraph';
import { SLACK_EMULATORS } from './slack';
import { TEAMS_EMULATORS } from './teams';
import { WEBHOOK_EMULATORS } from './webhook';
import { PDL_EMULATORS } from './pdl';
import { UNIFIED_EMULATORS } from './unified';
import { META_GRAPH_EMULATOR } from './meta-graph';

/** Every emulated provider, mounted side by side on one sandbox server (each owns its path prefixes). */
export const EMULATORS: readonly ProviderEmulator[] = [
  ...UNIFIED_EMULATORS,
  CLEARBIT_EMULATOR,
  ...SALESFORCE_EMULATORS,
  ...HUBSPOT_EMULATORS,
  ...PIPEDRIVE_EMULATORS,
  ...BAMBOOHR_EMULATORS,
  ...OKTA_EMULATORS,
  ...HIBOB_EMULATORS,
  ...GOOGLE_EMULATORS,
  ...MSGRAPH_EMULATORS,
  ...SLACK_EMULATORS,
  ...TEAMS_EMULATORS,
  ...WEBHOOK_EMULATORS,
  ...PDL_EMULATORS,
  META_GRAPH_EMULATOR,
];
