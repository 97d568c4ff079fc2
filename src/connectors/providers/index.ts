import type { ProviderDefinitionInput } from '../definition';
import { unifiedProvider } from './unified';
import { clearbitProvider } from './clearbit';
import { salesforceProvider } from './salesforce';
import { hubspotProvider } from './hubspot';
import { pipedriveProvider } from './pipedrive';
import { bamboohrProvider } from './bamboohr';
import { oktaProvider } from './okta';
import { hibobProvider } from './hibob';
import { googleProvider } from './google';
import { msgraphProvider } from './msgraph';
import { slackProvider } from './slack';
import { teamsProvider } from './teams';
import { webhookProvider } from './webhook';
import { pdlProvider } from './pdl';

const DEFINITIONS = {
  unified: unifiedProvider,
  clearbit: clearbitProvider,
  salesforce: salesforceProvider,
  hubspot: hubspotProvider,
  pipedrive: pipedriveProvider,
  bamboohr: bamboohrProvider,
  okta: oktaProvider,
  hibob: hibobProvider,
  google: googleProvider,
  msgraph: msgraphProvider,
  slack: slackProvider,
  teams: teamsProvider,
  webhook: webhookProvider,
  pdl: pdlProvider,
} satisfies Record<string, ProviderDefinitionInput>;

/** The providers a connection can name: one for each definition, in this order. */
export type ProviderId = keyof typeof DEFINITIONS;
export const PROVIDER_IDS = Object.keys(DEFINITIONS) as [ProviderId, ...ProviderId[]];

/** Platform defaults, the bottom of every override stack: one declarative definition per provider. */
export const PLATFORM_PROVIDERS: Record<ProviderId, ProviderDefinitionInput> = DEFINITIONS;
