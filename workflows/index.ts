export { routeLead } from './routeLead';
export { leadPool } from './leadPool';
export { tenantPolicy } from './tenantPolicy';
export { simulateLead } from './simulateLead';
