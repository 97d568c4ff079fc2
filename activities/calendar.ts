import type { Connectors } from '../src/connectors/registry';
import type { CalendarFacts } from '../src/domain/routing';
import type { Upstream } from '../src/domain/upstream';
import { connectorClient } from './context';

export interface CalendarActivityDeps {
  connectors: Connectors;
}

/** The team's busy time and working hours from the tenant's calendar provider. */
export function createCalendarActivities(deps: CalendarActivityDeps) {
  const client = connectorClient(deps.connectors);
  return {
    async lookupCalendars(input: { tenantId: string; emails: string[]; start: string; end: string }): Promise<CalendarFacts & Upstream> {
      const result = await client(input.tenantId, 'calendar').call('calendar.availability', input);
      return { status: 'ok', calendars: result.data, calls: [result.meta] };
    },
  };
}
