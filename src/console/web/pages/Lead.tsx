/** One lead: who has it and why, its SLA clock, what happened (timeline), upstream answers, and the ops actions. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText, type LeadDetail } from '../api';
import { formatDuration, formatInstant, statusWords, viaWords } from '../format';
import { can, nameOf, useSession, useTeam, type TeamMember } from '../state';
import { Badge, Countdown, ErrorNote, Loading, PageHeader, Section, StatusLine, TableWrap, Time, useAsync, useNow } from '../components/ui';
import { Why } from '../components/Why';
import { statusTone } from './Leads';

const POLL_MS = 1500;
const POLL_LIMIT_MS = 60_000;

export function LeadPage({ leadId }: { leadId: string }) {
  const { session } = useSession();
  const lead = useAsync(() => api.lead(leadId), [leadId]);
  const audit = useAsync(() => api.leadAudit(leadId), [leadId]);
  const team = useTeam();
  const data = lead.data;

  if (lead.error && !data) {
    const notFound = lead.error instanceof ApiError && lead.error.status === 404;
    return (
      <>
        <PageHeader title="Lead" />
        {notFound ? <p class="note note-warn" role="alert">No lead {leadId} in this workspace.</p> : <ErrorNote error={lead.error} title="Could not load the lead" />}
        <p>
          <a href="#/leads">Back to the routing log</a>
        </p>
      </>
    );
  }
  if (!data) return <Loading label="Loading the lead…" />;

  const person = data.lead;
  const title = person ? person.fullName : leadId;
  const ownerName = data.owner ? nameOf(team, data.owner.id, data.owner.name) : null;
  // Who the decision gave the lead to: the owner before the first escalation or reassignment.
  const moves = [...data.reassignments.filter((r) => !r.error), ...data.escalations].sort((a, b) => a.at.localeCompare(b.at));
  const decidedId = moves.length > 0 ? (moves[0]!.from ?? null) : (data.owner?.id ?? null);
  const decided = {
    id: decidedId,
    // Unknown to the team list: the trace's own candidate names take over.
    name: decidedId === data.owner?.id ? ownerName : (team?.find((m) => m.id === decidedId)?.name ?? null),
    via: moves.length > 0 ? (data.decision?.via ?? null) : (data.owner?.via ?? null),
  };
  const reload = () => {
    lead.reload();
    audit.reload();
  };

  return (
    <>
      <PageHeader title={title}>
        <a href="#/leads" class="button-link">
          Back to the log
        </a>
        <button type="button" onClick={reload} disabled={lead.loading}>
          Refresh
        </button>
        {data.webUiUrl ? (
          <a href={data.webUiUrl} target="_blank" rel="noopener noreferrer" class="button-link">
            Open in Temporal Web UI
          </a>
        ) : null}
      </PageHeader>
      <ErrorNote error={lead.error} title="Could not refresh the lead" />

      <div class="grid-2">
        <Section title="Lead">
          <dl class="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <Badge tone={statusTone(data.status)}>{statusWords(data.status)}</Badge>
                {data.deferredUntil ? <span> until {formatInstant(data.deferredUntil)}</span> : null}
              </dd>
            </div>
            <div>
              <dt>Owner</dt>
              <dd data-testid="lead-owner">{ownerName ?? 'Nobody yet'}</dd>
            </div>
            {data.owner ? (
              <div>
                <dt>Reached by</dt>
                <dd>
                  {viaWords(data.owner.via)}, <Time iso={data.owner.assignedAt} />
                </dd>
              </div>
            ) : null}
            <div>
              <dt>Email</dt>
              <dd>{person?.email ?? '—'}</dd>
            </div>
            <div>
              <dt>Company</dt>
              <dd>
                {person?.company ?? '—'}
                {person?.companyDomain ? <span class="muted"> ({person.companyDomain})</span> : null}
              </dd>
            </div>
            {person?.title ? (
              <div>
                <dt>Title</dt>
                <dd>{person.title}</dd>
              </div>
            ) : null}
            {person?.country ? (
              <div>
                <dt>Country</dt>
                <dd>{person.country}</dd>
              </div>
            ) : null}
            <div>
              <dt>Source</dt>
              <dd>{person?.source ?? '—'}</dd>
            </div>
            <div>
              <dt>Received</dt>
              <dd>
                <Time iso={data.receivedAt} seconds />
              </dd>
            </div>
            <div>
              <dt>Routed</dt>
              <dd>
                <Time iso={data.routedAt} seconds />
                {data.routedAt ? <span class="muted"> ({formatDuration(Date.parse(data.routedAt) - Date.parse(data.receivedAt))} after it came in)</span> : null}
              </dd>
            </div>
            {data.accepted ? (
              <div>
                <dt>Accepted</dt>
                <dd>
                  <Time iso={data.accepted.at} /> by {data.accepted.actor} ({data.accepted.via})
                </dd>
              </div>
            ) : null}
          </dl>
        </Section>
        <SlaClock lead={data} team={team} />
      </div>

      <Section title="Why this owner" id="why">
        {data.decision ? (
          <Why trace={data.decision} owner={decided} now={decided.id !== (data.owner?.id ?? null) && data.owner ? { name: ownerName ?? data.owner.id, via: data.owner.via } : null} />
        ) : (
          <p class="muted">The lead has not been decided yet{data.status === 'failed' ? ': routing failed' : ''}.</p>
        )}
        {data.reassignments.length > 0 || data.escalations.length > 0 ? (
          <>
            <h3>Since then</h3>
            <ul class="plain-list">
              {data.escalations.map((e) => (
                <li key={`e${e.n}`}>
                  <Time iso={e.at} />: escalated from {nameOf(team, e.from)} to {nameOf(team, e.to)} ({e.reason})
                </li>
              ))}
              {data.reassignments.map((r) => (
                <li key={r.requestId}>
                  <Time iso={r.at} />: reassigned {r.from ? `from ${nameOf(team, r.from)} ` : ''}to {nameOf(team, r.to)} by {r.actor}: “{r.reason}”
                  {r.error ? <span class="text-bad"> (CRM: {r.error})</span> : null}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {data.failures.length > 0 ? (
          <div class="note note-error">
            <strong>Failures:</strong>
            <ul>
              {data.failures.map((f, i) => (
                <li key={i}>
                  {f.step}: {f.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </Section>

      {can(session.user.role, 'reassign') ? <Actions lead={data} team={team} onChanged={reload} /> : null}

      <Section title="Timeline" id="timeline">
        <ErrorNote error={audit.error} title="Could not load the timeline" />
        {audit.loading && !audit.data ? <Loading label="Loading the timeline…" /> : null}
        {audit.data ? (
          <>
            <p class="muted small">
              End to end: {formatDuration(audit.data.durations.endToEndMs)} from receipt to the owner’s notification.
            </p>
            <ol class="timeline">
              {audit.data.timeline.map((entry, i) => (
                <li key={i} class={`tl tl-${entry.kind}`}>
                  <Time iso={entry.at} seconds />
                  <span class="tl-kind">{entry.kind.replace(/_/g, ' ')}</span>
                  <span class="tl-summary">
                    {entry.summary}
                    {entry.actor ? <span class="muted"> — {entry.actor}</span> : null}
                  </span>
                </li>
              ))}
            </ol>
          </>
        ) : null}
      </Section>

      <Section title="Upstream answers" id="upstream">
        {data.upstream.length === 0 ? (
          <p class="muted">No upstream calls recorded.</p>
        ) : (
          <TableWrap label="Upstream answers">
            <table class="data stack-on-phone">
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">System</th>
                  <th scope="col">Operation</th>
                  <th scope="col">Answer</th>
                  <th scope="col">Took</th>
                  <th scope="col">Rate limit left</th>
                </tr>
              </thead>
              <tbody>
                {data.upstream.map((u, i) => (
                  <tr key={i}>
                    <td data-label="Step">{u.step}</td>
                    <td data-label="System">{u.provider}</td>
                    <td data-label="Operation">{u.operation}</td>
                    <td data-label="Answer">
                      <Badge tone={u.status < 300 ? 'good' : u.status === 429 ? 'warn' : 'bad'}>{u.status}</Badge>
                      {u.replayed ? <span class="muted small"> replayed</span> : null}
                    </td>
                    <td data-label="Took">{formatDuration(u.durationMs)}</td>
                    <td data-label="Rate limit left">
                      {u.rateLimit.remaining !== null ? `${u.rateLimit.remaining}${u.rateLimit.limit !== null ? ` of ${u.rateLimit.limit}` : ''}` : '—'}
                      {u.rateLimit.retryAfterSeconds !== null ? <span class="muted small"> retry after {u.rateLimit.retryAfterSeconds} s</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Section>
    </>
  );
}

function SlaClock({ lead, team }: { lead: LeadDetail; team: TeamMember[] | null }) {
  const now = useNow(1000);
  const sla = lead.sla;
  return (
    <Section title="Time to accept" id="sla">
      {sla ? (
        <dl class="facts">
          <div>
            <dt>With</dt>
            <dd>{nameOf(team, sla.ownerId, lead.owner?.id === sla.ownerId ? lead.owner.name : null)}</dd>
          </div>
          <div>
            <dt>Due</dt>
            <dd>
              <Time iso={sla.dueAt} /> — <Countdown iso={sla.dueAt} now={now} />
              {sla.reminded ? <span class="muted"> (reminded)</span> : null}
            </dd>
          </div>
          <div>
            <dt>Moves on</dt>
            <dd>
              <Time iso={sla.escalateAt} /> — <Countdown iso={sla.escalateAt} now={now} />
            </dd>
          </div>
          <div>
            <dt>Allowed</dt>
            <dd>{formatDuration(sla.seconds * 1000)}</dd>
          </div>
        </dl>
      ) : lead.accepted ? (
        <p>
          Accepted <Time iso={lead.accepted.at} />, {formatDuration(Date.parse(lead.accepted.at) - Date.parse(lead.routedAt ?? lead.receivedAt))} after routing.
        </p>
      ) : (
        <p class="muted">No clock is running{lead.owner?.via === 'fallback' ? ': the lead is with the fallback' : ''}.</p>
      )}
    </Section>
  );
}

function Actions({ lead, team, onChanged }: { lead: LeadDetail; team: TeamMember[] | null; onChanged: () => void }) {
  const [ownerId, setOwnerId] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<null | 'reassign' | 'accept'>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const choices = (team ?? []).filter((m) => m.id !== lead.owner?.id);
  const canAccept = (lead.status === 'routed' || lead.status === 'notifying') && !lead.accepted && lead.owner !== null;

  const reassign = async (e: Event) => {
    e.preventDefault();
    if (!ownerId || !reason.trim()) return;
    const to = nameOf(team, ownerId);
    setBusy('reassign');
    setError(null);
    setStatus(`Reassigning to ${to}…`);
    try {
      const answer = await api.reassign(lead.leadId, { ownerId, reason: reason.trim() });
      const started = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (!alive.current) return;
        const fresh = await api.lead(lead.leadId).catch(() => null);
        if (fresh?.owner?.id === ownerId) {
          setStatus(`Reassigned: the lead is now with ${to}.`);
          break;
        }
        // The lead's run took the request but could not carry it out (the CRM refused, say).
        const record = fresh?.reassignments.find((r) => r.requestId === answer.requestId);
        if (record?.error) {
          setError(new Error(`The reassignment to ${to} failed: ${record.error}`));
          setStatus(null);
          break;
        }
        if (Date.now() - started > POLL_LIMIT_MS) {
          setStatus(`The reassignment to ${to} was accepted and is still being applied; refresh in a moment.`);
          break;
        }
      }
      setOwnerId('');
      setReason('');
      onChanged();
    } catch (err) {
      setError(err);
      setStatus(null);
    } finally {
      if (alive.current) setBusy(null);
    }
  };

  const accept = async () => {
    setBusy('accept');
    setError(null);
    try {
      await api.accept(lead.leadId);
      setStatus('Accepted.');
      setTimeout(onChanged, POLL_MS);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Section title="Actions" id="actions">
      <div class="actions-grid">
        <form onSubmit={reassign} class="reassign" aria-label="Reassign the lead">
          <h3>Reassign</h3>
          <div class="field">
            <label for="reassign-owner">New owner</label>
            <select id="reassign-owner" required value={ownerId} onChange={(e) => setOwnerId(e.currentTarget.value)} disabled={!team}>
              <option value="">{team ? 'Choose a rep' : 'Loading the team…'}</option>
              {choices.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="reassign-reason">Reason</label>
            <input id="reassign-reason" required maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="e.g. existing relationship" />
          </div>
          <button type="submit" class="primary" disabled={busy !== null || !ownerId || !reason.trim()}>
            {busy === 'reassign' ? 'Reassigning…' : 'Reassign'}
          </button>
        </form>
        <div class="accept">
          <h3>Accept</h3>
          <p class="muted small">Marks the lead as taken by its owner and stops the clock.</p>
          <button type="button" onClick={accept} disabled={busy !== null || !canAccept}>
            {busy === 'accept' ? 'Accepting…' : 'Accept'}
          </button>
          {!canAccept ? <p class="muted small">{lead.accepted ? 'Already accepted.' : 'Only a routed lead can be accepted.'}</p> : null}
        </div>
      </div>
      {error ? (
        <p class={`note ${error instanceof ApiError && error.status === 403 ? 'note-warn' : 'note-error'}`} role="alert">
          {errorText(error)}
        </p>
      ) : null}
      <StatusLine message={status} />
    </Section>
  );
}
