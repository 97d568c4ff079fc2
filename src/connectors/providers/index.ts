import type { ProviderDefinitionInput } from '../definition';
import type { ProviderId } from '../../tenants/schema';
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

/** Platform defaults, the bottom of every override stack: one declarative definition per provider. */
export const PLATFORM_PROVIDERS: Record<ProviderId, ProviderDefinitionInput> = {
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
};
