export { routeLead } from './routeLead';
export { leadPool } from './leadPool';
