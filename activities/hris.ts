import type { BusinessClock } from '../src/clock';
import type { Connectors } from '../src/connectors/registry';
import type { HrisFacts } from '../src/domain/routing';
import { mergeTimeOff, timeOffWindow } from '../src/domain/timeOff';
import type { Upstream } from '../src/domain/upstream';
import type { TenantRegistry } from '../src/tenants/registry';
import { connectorClient } from './context';

export interface HrisActivityDeps {
  tenants: TenantRegistry;
  connectors: Connectors;
  clock: BusinessClock;
}

/** The team's employment status, time zones and time off from the tenant's HRIS. */
export function createHrisActivities(deps: HrisActivityDeps) {
  const { tenants, clock } = deps;
  const client = connectorClient(deps.connectors);
  return {
    /**
     * Employment status, time zone and time off of the team. HRIS that keep time off apart
     * (BambooHR's who's out, HiBob) are read in parallel and merged; whole-day entries become
     * instants in the rep's own time zone.
     */
    async lookupEmployees(input: { tenantId: string; emails: string[] }): Promise<HrisFacts & Upstream> {
      const hris = client(input.tenantId, 'hris');
      const [employees, timeOff] = await Promise.all([
        hris.call('hris.findEmployees', { emails: input.emails }),
        hris.supports('hris.timeOff') ? hris.call('hris.timeOff', { emails: input.emails, ...timeOffWindow(clock.now()) }) : null,
      ]);
      const merged = mergeTimeOff(employees.data, timeOff?.data ?? [], tenants.get(input.tenantId)?.routing);
      return { status: 'ok', employees: merged, calls: [employees.meta, ...(timeOff ? [timeOff.meta] : [])] };
    },
  };
}
