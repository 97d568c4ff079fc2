/** The routing log: every lead, newest first, with filters and paging. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type LeadListQuery, type LeadRow } from '../api';
import { formatDuration, LEAD_STATUSES, statusWords, viaWords } from '../format';
import { hrefOf, leadHref, nameOf, navigate, useTeam } from '../state';
import { Badge, ErrorNote, Loading, PageHeader, TableWrap, Time, useAsync, type Tone } from '../components/ui';

export const LEAD_SOURCES = ['form', 'webhook', 'product', 'import', 'api', 'chat', 'event'] as const;
type LeadSource = (typeof LEAD_SOURCES)[number];
const isSource = (s: string): s is LeadSource => (LEAD_SOURCES as readonly string[]).includes(s);

const FILTERS = ['email', 'company', 'domain', 'owner', 'status', 'rule', 'source', 'from', 'to'] as const;
type FilterKey = (typeof FILTERS)[number];
type Filters = Record<FilterKey, string>;

export function statusTone(status: string | null | undefined): Tone {
  switch (status) {
    case 'accepted':
      return 'good';
    case 'routed':
      return 'info';
    case 'failed':
      return 'bad';
    case 'deferred':
      return 'warn';
    default:
      return 'neutral';
  }
}

/** `datetime-local` values are the viewer's wall-clock time; the API wants instants. */
function toInstant(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function filtersFrom(query: URLSearchParams): Filters {
  const f = {} as Filters;
  for (const k of FILTERS) f[k] = query.get(k) ?? '';
  return f;
}

export function LeadsPage({ query }: { query: URLSearchParams }) {
  const applied = useMemo(() => filtersFrom(query), [query.toString()]);
  const [form, setForm] = useState<Filters>(applied);
  useEffect(() => setForm(applied), [applied]);
  const [pages, setPages] = useState<string[]>([]);
  const pageToken = pages[pages.length - 1];
  useEffect(() => setPages([]), [query.toString()]);
  const team = useTeam();
  const rules = useAsync(() => api.policy().then((p) => p.policy.rules.map((r) => ({ id: r.id, name: r.name ?? r.id }))), []);

  const request: LeadListQuery = {
    limit: 25,
    ...(applied.email ? { email: applied.email } : {}),
    ...(applied.company ? { company: applied.company } : {}),
    ...(applied.domain ? { domain: applied.domain } : {}),
    ...(applied.owner ? { owner: applied.owner } : {}),
    ...(applied.status ? { status: applied.status } : {}),
    ...(applied.rule ? { rule: applied.rule } : {}),
    ...(isSource(applied.source) ? { source: applied.source } : {}),
    ...(toInstant(applied.from) ? { from: toInstant(applied.from)! } : {}),
    ...(toInstant(applied.to) ? { to: toInstant(applied.to)! } : {}),
    ...(pageToken ? { pageToken } : {}),
  };
  const list = useAsync(() => api.leads(request), [JSON.stringify(request)]);

  const submit = (e: Event) => {
    e.preventDefault();
    const q: Record<string, string> = {};
    for (const k of FILTERS) if (form[k].trim()) q[k] = form[k].trim();
    navigate(hrefOf('/leads', q));
  };
  const set = (k: FilterKey) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const active = FILTERS.filter((k) => applied[k]).length;
  const [narrow] = useState(() => matchMedia('(max-width: 700px)').matches);
  const ruleName = (id: string | null | undefined) => (id ? (rules.data?.find((r) => r.id === id)?.name ?? id) : '—');

  return (
    <>
      <PageHeader title="Routing log">
        <button type="button" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </PageHeader>
      <form class="card filters" onSubmit={submit} aria-label="Filter leads">
        {/* On a phone the filters fold away (unless some are set), so the leads come first. */}
        <details open={!narrow || active > 0}>
          <summary>Filters{active > 0 ? ` (${active} set)` : ''}</summary>
        <div class="filter-grid">
          <div class="field">
            <label for="f-email">Email (exact)</label>
            <input id="f-email" type="email" value={form.email} onInput={set('email')} autoComplete="off" />
          </div>
          <div class="field">
            <label for="f-company">Company</label>
            <input id="f-company" value={form.company} onInput={set('company')} />
          </div>
          <div class="field">
            <label for="f-domain">Domain</label>
            <input id="f-domain" value={form.domain} onInput={set('domain')} placeholder="acme.com" />
          </div>
          <div class="field">
            <label for="f-owner">Owner</label>
            {team ? (
              <select id="f-owner" value={form.owner} onChange={set('owner')}>
                <option value="">Anyone</option>
                {team.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name}
                  </option>
                ))}
              </select>
            ) : (
              <input id="f-owner" value={form.owner} onInput={set('owner')} placeholder="Owner ID" />
            )}
          </div>
          <div class="field">
            <label for="f-status">Status</label>
            <select id="f-status" value={form.status} onChange={set('status')}>
              <option value="">Any</option>
              {LEAD_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {statusWords(s)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-rule">Rule</label>
            {rules.data ? (
              <select id="f-rule" value={form.rule} onChange={set('rule')}>
                <option value="">Any</option>
                {rules.data.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            ) : (
              <input id="f-rule" value={form.rule} onInput={set('rule')} />
            )}
          </div>
          <div class="field">
            <label for="f-source">Source</label>
            <select id="f-source" value={form.source} onChange={set('source')}>
              <option value="">Any</option>
              {LEAD_SOURCES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-from">Received from</label>
            <input id="f-from" type="datetime-local" value={form.from} onInput={set('from')} />
          </div>
          <div class="field">
            <label for="f-to">Received before</label>
            <input id="f-to" type="datetime-local" value={form.to} onInput={set('to')} />
          </div>
        </div>
        <div class="button-row">
          <button type="submit" class="primary">
            Search
          </button>
          {active > 0 ? (
            <button type="button" onClick={() => navigate('#/leads')}>
              Clear filters ({active})
            </button>
          ) : null}
        </div>
        </details>
      </form>

      <ErrorNote error={list.error} title="Could not list leads" />
      {list.loading && !list.data ? <Loading label="Loading leads…" /> : null}
      {list.data ? (
        <section class="card" aria-labelledby="log-title" aria-busy={list.loading}>
          <div class="card-header">
            <h2 id="log-title">
              Leads {pages.length > 0 ? `(page ${pages.length + 1})` : ''}
            </h2>
            <span class="muted small">Newest first. New leads can take a few seconds to appear.</span>
          </div>
          {list.data.leads.length === 0 ? (
            <p class="empty">No leads match these filters.</p>
          ) : (
            <TableWrap label="Leads">
              <table class="data stack-on-phone">
                <thead>
                  <tr>
                    <th scope="col">Lead</th>
                    <th scope="col">Company</th>
                    <th scope="col">Status</th>
                    <th scope="col">Owner</th>
                    <th scope="col">Rule</th>
                    <th scope="col">Via</th>
                    <th scope="col">Time to route</th>
                    <th scope="col">Time to accept</th>
                    <th scope="col">Received</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.leads.map((row) => (
                    <LeadRowView key={row.workflowId} row={row} ownerName={nameOf(team, row.owner, row.ownerName)} ruleName={ruleName(row.ruleId ?? row.rule)} />
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <div class="button-row">
            {pages.length > 0 ? (
              <button type="button" onClick={() => setPages(pages.slice(0, -1))}>
                Previous page
              </button>
            ) : null}
            {list.data.nextPageToken ? (
              <button type="button" onClick={() => setPages([...pages, list.data!.nextPageToken!])}>
                Next page
              </button>
            ) : null}
          </div>
        </section>
      ) : null}
    </>
  );
}

function LeadRowView({ row, ownerName, ruleName }: { row: LeadRow; ownerName: string; ruleName: string }) {
  const title = row.name && row.name !== row.email ? row.name : (row.email ?? row.leadId);
  return (
    <tr>
      <td data-label="Lead">
        <a href={leadHref(row.leadId)} class="row-link">
          {title}
        </a>
        {row.email && row.email !== title ? <div class="muted small">{row.email}</div> : null}
      </td>
      <td data-label="Company">{row.company ?? '—'}</td>
      <td data-label="Status">
        <Badge tone={statusTone(row.status)}>{statusWords(row.status)}</Badge>
      </td>
      <td data-label="Owner">{ownerName}</td>
      <td data-label="Rule">{ruleName}</td>
      <td data-label="Via">{viaWords(row.via)}</td>
      <td data-label="Time to route">{formatDuration(row.timeToRouteMs)}</td>
      <td data-label="Time to accept">{formatDuration(row.timeToAcceptMs)}</td>
      <td data-label="Received">
        <Time iso={row.receivedAt ?? row.startedAt} />
      </td>
    </tr>
  );
}
