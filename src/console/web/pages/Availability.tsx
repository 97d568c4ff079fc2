/** The availability board: each rep now, read live from the connectors routing uses. */
import { api, type AvailabilityState, type RepAvailability } from '../api';
import { clockTime, formatInstant, reasonWords, zoneCity } from '../format';
import { forgetTeam } from '../state';
import type { SkipCode } from '../../../domain/routing';
import { Badge, ErrorNote, Loading, PageHeader, TableWrap, Time, useAsync, type Tone } from '../components/ui';

const STATE: Record<AvailabilityState, { label: string; tone: Tone }> = {
  available: { label: 'Available', tone: 'good' },
  on_leave: { label: 'On leave', tone: 'warn' },
  busy: { label: 'In a meeting', tone: 'warn' },
  outside_hours: { label: 'Outside hours', tone: 'neutral' },
  capped: { label: 'Capped', tone: 'warn' },
  paused: { label: 'Paused', tone: 'warn' },
  inactive: { label: 'Inactive', tone: 'bad' },
  unknown: { label: 'Unknown', tone: 'neutral' },
};

const PERIOD_WORD: Record<string, string> = { day: 'today', week: 'this week', month: 'this month' };

const SKIP_CODES = new Set<string>(['inactive', 'on_leave', 'busy', 'outside_hours', 'not_in_hris', 'not_on_team', 'paused', 'cap_reached', 'sla_lapsed']);

/** A board reason in words: the routing trace's wording when it is one of its codes, with "until" from the board. */
export function boardReason(r: RepAvailability['reasons'][number]): string {
  if (SKIP_CODES.has(r.code)) {
    const words = reasonWords({ code: r.code as SkipCode, detail: r.detail });
    // The trace's own "until" is in the detail; the board's is explicit: say it when the words do not.
    if (r.until && !/until/.test(words)) return `${words} until ${formatInstant(r.until)}`;
    return words;
  }
  return r.until ? `${r.detail} until ${formatInstant(r.until)}` : r.detail;
}

export function AvailabilityPage() {
  const board = useAsync(() => api.availability(), []);
  const refresh = () => {
    forgetTeam();
    board.reload();
  };
  const reps = board.data?.reps ?? [];
  const counts = reps.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.state]: (acc[r.state] ?? 0) + 1 }), {});

  return (
    <>
      <PageHeader title="Availability">
        <button type="button" onClick={refresh} disabled={board.loading}>
          {board.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </PageHeader>
      <ErrorNote error={board.error} title="Could not read the team’s availability" />
      {board.data && board.data.failures.length > 0 ? (
        <div class="note note-warn" role="status">
          <strong>Some facts could not be read, so some reps may show as unknown:</strong>
          <ul>
            {board.data.failures.map((f, i) => (
              <li key={i}>
                {f.step}: {f.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {board.loading && !board.data ? <Loading label="Asking the HR system, calendars and pools…" /> : null}
      {board.data ? (
        <section class="card" aria-labelledby="board-title" aria-busy={board.loading}>
          <div class="card-header">
            <h2 id="board-title">Team now</h2>
            <span class="muted small">
              As of <Time iso={board.data.at} seconds />. {Object.entries(counts).map(([state, n]) => `${n} ${STATE[state as AvailabilityState]?.label.toLowerCase() ?? state}`).join(', ')}.
            </span>
          </div>
          {reps.length === 0 ? (
            <p class="empty">No reps on the routing team.</p>
          ) : (
            <TableWrap label="Team availability">
              <table class="data stack-on-phone">
                <thead>
                  <tr>
                    <th scope="col">Rep</th>
                    <th scope="col">Now</th>
                    <th scope="col">Why</th>
                    <th scope="col">Their time</th>
                    <th scope="col">Changes</th>
                    <th scope="col">Pools</th>
                  </tr>
                </thead>
                <tbody>
                  {reps.map((r) => (
                    <tr key={r.repId}>
                      <th scope="row" data-label="Rep">
                        {r.name}
                        <div class="muted small">{r.email}</div>
                      </th>
                      <td data-label="Now">
                        <Badge tone={STATE[r.state]?.tone ?? 'neutral'}>{STATE[r.state]?.label ?? r.state}</Badge>
                      </td>
                      <td data-label="Why">
                        {r.reasons.length === 0 ? (
                          <span class="muted">—</span>
                        ) : (
                          <ul class="plain-list">
                            {r.reasons.map((reason, i) => (
                              <li key={i}>{boardReason(reason)}</li>
                            ))}
                          </ul>
                        )}
                      </td>
                      <td data-label="Their time">
                        {/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(r.localTime) ? r.localTime.slice(11, 16) : clockTime(board.data!.at, r.timezone)} <span class="muted small">{zoneCity(r.timezone)}</span>
                      </td>
                      <td data-label="Changes">{r.changesAt ? <Time iso={r.changesAt} /> : <span class="muted">no change expected</span>}</td>
                      <td data-label="Pools">
                        {r.pools.length === 0 ? (
                          <span class="muted">—</span>
                        ) : (
                          <ul class="plain-list">
                            {r.pools.map((p) => (
                              <li key={p.poolId}>
                                {p.poolId}: {p.cap !== null ? p.capDetail : `${p.assigned} ${PERIOD_WORD[p.period] ?? `this ${p.period}`}`}
                                {p.paused ? ' (paused)' : ''}
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </section>
      ) : null}
    </>
  );
}
