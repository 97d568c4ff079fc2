/** Connections: each upstream's OAuth state, rate-limit state and last refusal; re-authorize. */
import { useState } from 'preact/hooks';
import { api, type ConnectionCategory, type ConnectionRow } from '../api';
import { formatDuration } from '../format';
import { can, useSession } from '../state';
import { Badge, ErrorNote, Loading, PageHeader, StatusLine, Time, useAsync, type Tone } from '../components/ui';

const CATEGORY: Record<ConnectionCategory, string> = { crm: 'CRM', hris: 'HR system', calendar: 'Calendar', messaging: 'Messaging', enrichment: 'Enrichment' };

const AUTH: Record<string, { label: string; tone: Tone }> = {
  static: { label: 'API key (no OAuth)', tone: 'neutral' },
  valid: { label: 'Authorized', tone: 'good' },
  refreshing: { label: 'Refreshing token', tone: 'info' },
  cooling_down: { label: 'Token refresh failing', tone: 'warn' },
  needs_reauthorization: { label: 'Needs re-authorization', tone: 'bad' },
  unknown: { label: 'Not used yet', tone: 'neutral' },
};

export function ConnectionsPage() {
  const list = useAsync(() => api.connections(), []);
  return (
    <>
      <PageHeader title="Connections">
        <button type="button" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </PageHeader>
      <ErrorNote error={list.error} title="Could not read the connections" />
      {list.loading && !list.data ? <Loading label="Loading connections…" /> : null}
      {list.data && list.data.connections.length === 0 ? <p class="empty">No connections configured.</p> : null}
      <div class="cards-grid">
        {(list.data?.connections ?? []).map((c) => (
          <ConnectionCard key={c.category} connection={c} onChanged={list.reload} />
        ))}
      </div>
    </>
  );
}

function ConnectionCard({ connection: c, onChanged }: { connection: ConnectionRow; onChanged: () => void }) {
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const auth = AUTH[c.auth.state] ?? { label: c.auth.state, tone: 'neutral' as Tone };
  const oauth = c.auth.state !== 'static' ? c.auth : null;
  const h = c.health;
  const rl = h?.rateLimit;
  const refusal = h?.lastRateLimited;
  const failures = h ? Object.entries(h.answers).filter(([k, n]) => k !== 'ok' && n > 0) : [];

  const reauthorize = async () => {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.reauthorize(c.category);
      setStatus(`Re-authorization started: ${answer.detail}.`);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const headingId = `conn-${c.category}`;
  return (
    <section class="card connection" aria-labelledby={headingId}>
      <div class="card-header">
        <h2 id={headingId}>{CATEGORY[c.category] ?? c.category}</h2>
        <Badge tone={auth.tone}>{auth.label}</Badge>
      </div>
      <dl class="facts">
        <div>
          <dt>Provider</dt>
          <dd>
            {c.provider} <span class="muted small">({c.id})</span>
          </dd>
        </div>
        {oauth ? (
          <>
            <div>
              <dt>Token</dt>
              <dd>
                {oauth.expiresAt ? (
                  <>
                    expires <Time iso={oauth.expiresAt} />
                  </>
                ) : (
                  'none held'
                )}
                , {oauth.refreshes} refresh{oauth.refreshes === 1 ? '' : 'es'}
                {oauth.failedRefreshes ? `, ${oauth.failedRefreshes} failed` : ''}
              </dd>
            </div>
            {oauth.needsReauthorizationSince ? (
              <div>
                <dt>Lost since</dt>
                <dd>
                  <Time iso={oauth.needsReauthorizationSince} />
                </dd>
              </div>
            ) : null}
            {oauth.lastError ? (
              <div>
                <dt>Last error</dt>
                <dd class="text-bad">{oauth.lastError}</dd>
              </div>
            ) : null}
          </>
        ) : null}
        <div>
          <dt>Rate limit</dt>
          <dd>
            {rl && rl.remaining !== null ? (
              <>
                {rl.remaining}
                {rl.limit !== null ? ` of ${rl.limit}` : ''} left
                {rl.resetSeconds !== null ? `, resets ${formatDuration(rl.resetSeconds * 1000)} after ` : ' as of '}
                <Time iso={rl.at} />
              </>
            ) : (
              <span class="muted">not reported</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Last refusal</dt>
          <dd>
            {refusal ? (
              <>
                <Time iso={refusal.at} />: {refusal.status} on {refusal.operation} — {refusal.reason}
                {refusal.waitMs !== null ? ` (asked to wait ${formatDuration(refusal.waitMs)})` : ''}
              </>
            ) : (
              <span class="muted">none</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Last answer</dt>
          <dd>
            {h?.lastAnswer ? (
              <>
                <Time iso={h.lastAnswer.at} />: {h.lastAnswer.status} on {h.lastAnswer.operation}
              </>
            ) : (
              <span class="muted">no call yet</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Answers</dt>
          <dd>
            {h ? `${h.answers.ok} ok` : '—'}
            {failures.map(([k, n]) => `, ${n} ${k.replace(/_/g, ' ')}`).join('')}
          </dd>
        </div>
      </dl>
      {oauth && can(session.user.role, 'reauthorize') ? (
        <button type="button" onClick={reauthorize} disabled={busy} class={c.auth.state === 'needs_reauthorization' ? 'primary' : ''}>
          {busy ? 'Re-authorizing…' : `Re-authorize ${CATEGORY[c.category] ?? c.category}`}
        </button>
      ) : null}
      <ErrorNote error={error} />
      <StatusLine message={status} />
    </section>
  );
}
