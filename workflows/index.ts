export { routeLead } from './routeLead';
export { leadFollowUp } from './followUp';
export { leadPool } from './leadPool';
export { tenantPolicy } from './tenantPolicy';
export { simulateLead } from './simulateLead';
export { distributionAccount } from './distributionAccount';
