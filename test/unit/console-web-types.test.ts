import type { ConnectionView } from '../../src/connectors/registry';
import type { ConnectionRow, PoolStatsAnswer, SimulateAnswer } from '../../src/console/web/api';
import type { SimulateLeadResult } from '../../workflows/simulateLead';

/*
 * The console's client is type-checked without Node's types, so it cannot import modules that
 * need them (the connectors registry, the simulation workflow). It declares those answers itself;
 * these compile-time checks keep its declarations the same shapes as the server's, both ways.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const connections: Same<ConnectionRow, ConnectionView> = true;
const simulate: Same<Omit<SimulateAnswer, 'warnings'>, SimulateLeadResult> = true;
const stats: Same<PoolStatsAnswer['members'][number]['cap'], { limits: Partial<Record<'day' | 'week' | 'month', number>>; reached: boolean; detail: string }> = true;

it("declares the connections and simulation answers exactly as the server's types", () => {
  expect([connections, simulate, stats]).toEqual([true, true, true]);
});
