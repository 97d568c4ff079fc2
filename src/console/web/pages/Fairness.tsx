/** Fairness: each pool member's share of assignments in a period against the share the strategy aims for. */
import type { Period } from '../../../domain/policy/types';
import { api } from '../api';
import { percent } from '../format';
import { hrefOf, nameOf, navigate, useTeam } from '../state';
import { BarChart } from '../components/BarChart';
import { Badge, ErrorNote, Loading, PageHeader, Section, TableWrap, useAsync } from '../components/ui';

const PERIODS: ReadonlyArray<{ id: Period; label: string }> = [
  { id: 'day', label: 'Today' },
  { id: 'week', label: 'This week' },
  { id: 'month', label: 'This month' },
];

const STRATEGY_WORDS: Record<string, string> = { round_robin: 'round robin', weighted: 'weighted', load_balanced: 'load balanced' };

export function FairnessPage({ query }: { query: URLSearchParams }) {
  const policy = useAsync(() => api.policy(), []);
  const team = useTeam();
  const pools = policy.data?.policy.pools ?? [];
  const poolId = query.get('pool') && pools.some((p) => p.id === query.get('pool')) ? query.get('pool')! : (pools[0]?.id ?? null);
  const period = (['day', 'week', 'month'] as const).find((p) => p === query.get('period')) ?? 'day';
  const go = (next: { pool?: string; period?: string }) => navigate(hrefOf('/fairness', { pool: next.pool ?? poolId ?? undefined, period: next.period ?? period }));

  return (
    <>
      <PageHeader title="Fairness" />
      <ErrorNote error={policy.error} title="Could not load the policy’s pools" />
      {policy.loading && !policy.data ? <Loading label="Loading pools…" /> : null}
      {policy.data && pools.length === 0 ? <p class="empty">The published policy has no pools.</p> : null}
      {poolId ? (
        <>
          <div class="card toolbar">
            <div class="field">
              <label for="fair-pool">Pool</label>
              <select id="fair-pool" value={poolId} onChange={(e) => go({ pool: e.currentTarget.value })}>
                {pools.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.id} ({STRATEGY_WORDS[p.strategy] ?? p.strategy}, {p.members.length} members)
                  </option>
                ))}
              </select>
            </div>
            <fieldset class="segmented">
              <legend>Period</legend>
              {PERIODS.map((p) => (
                <label key={p.id} class={period === p.id ? 'active' : ''}>
                  <input type="radio" name="fair-period" value={p.id} checked={period === p.id} onChange={() => go({ period: p.id })} />
                  {p.label}
                </label>
              ))}
            </fieldset>
          </div>
          <PoolStatsView poolId={poolId} period={period} timeZone={policy.data?.policy.timezone ?? ''} nameOf={(id) => nameOf(team, id)} />
        </>
      ) : null}
    </>
  );
}

function PoolStatsView({ poolId, period, timeZone, nameOf: name }: { poolId: string; period: Period; timeZone: string; nameOf: (id: string) => string }) {
  const stats = useAsync(() => api.poolStats(poolId, period), [poolId, period]);
  const s = stats.data;
  if (stats.error && !s) return <ErrorNote error={stats.error} title="Could not load the pool’s figures" />;
  if (!s) return <Loading label="Loading the pool’s figures…" />;
  const labels = s.members.map((m) => name(m.repId));
  const periodWord = PERIODS.find((p) => p.id === period)?.label.toLowerCase() ?? period;
  const summary = s.members.map((m) => `${name(m.repId)} ${percent(m.share)} of assignments, target ${percent(m.targetShare)}`).join('; ');
  return (
    <Section
      title={`${s.pool}: ${s.total} assignment${s.total === 1 ? '' : 's'} ${periodWord}`}
      id="pool-stats"
      actions={
        <button type="button" onClick={stats.reload} disabled={stats.loading}>
          Refresh
        </button>
      }
    >
      <p class="muted small">
        Period {s.key} in {timeZone || 'the policy’s time zone'}; strategy {STRATEGY_WORDS[s.strategy] ?? s.strategy}; policy {s.policyVersion}.
      </p>
      <BarChart
        label={`Share of assignments against target share, ${periodWord}: ${summary}`}
        labels={labels}
        unit="%"
        max={100}
        series={[
          { label: 'Share of assignments', values: s.members.map((m) => Math.round(m.share * 1000) / 10), color: '#1d4ed8' },
          { label: 'Target share', values: s.members.map((m) => Math.round(m.targetShare * 1000) / 10), color: '#b45309', outline: true },
        ]}
      />
      <TableWrap label="Pool members">
        <table class="data stack-on-phone">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col" class="num">
                Assigned
              </th>
              <th scope="col" class="num">
                Share
              </th>
              <th scope="col" class="num">
                Target share
              </th>
              <th scope="col">Cap</th>
              <th scope="col">Paused</th>
            </tr>
          </thead>
          <tbody>
            {s.members.map((m) => (
              <tr key={m.repId}>
                <th scope="row" data-label="Member">
                  {name(m.repId)}
                </th>
                <td class="num" data-label="Assigned">
                  {m.assigned}
                </td>
                <td class="num" data-label="Share">
                  {percent(m.share)}
                </td>
                <td class="num" data-label="Target share">
                  {percent(m.targetShare)}
                  {s.strategy === 'weighted' ? <span class="muted small"> (weight {m.weight})</span> : null}
                </td>
                <td data-label="Cap">{m.cap.reached ? <Badge tone="warn">Reached: {m.cap.detail}</Badge> : m.cap.detail}</td>
                <td data-label="Paused">{m.paused ? <Badge tone="warn">Paused</Badge> : 'No'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </Section>
  );
}
