/** The SLA queue: routed leads awaiting acceptance, due soon, overdue and escalated, and who has them. */
import { api, type LeadRow } from '../api';
import { bucketLeads, SLA_BUCKETS } from '../sla';
import { leadHref, nameOf, useTeam } from '../state';
import { Countdown, ErrorNote, Loading, PageHeader, Section, TableWrap, Time, useAsync, useNow } from '../components/ui';

/** How many routed leads the queue reads (pages of the routing log). */
const MAX_PAGES = 4;

async function routedLeads(): Promise<LeadRow[]> {
  const rows: LeadRow[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await api.leads({ status: 'routed', limit: 100, ...(pageToken ? { pageToken } : {}) });
    rows.push(...answer.leads);
    if (!answer.nextPageToken) break;
    pageToken = answer.nextPageToken;
  }
  return rows;
}

export function SlaPage() {
  const leads = useAsync(routedLeads, []);
  const team = useTeam();
  const now = useNow(5000);
  const buckets = leads.data ? bucketLeads(leads.data, now) : null;

  return (
    <>
      <PageHeader title="SLA queue">
        <button type="button" onClick={leads.reload} disabled={leads.loading}>
          {leads.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </PageHeader>
      <ErrorNote error={leads.error} title="Could not read the queue" />
      {leads.loading && !leads.data ? <Loading label="Loading leads awaiting acceptance…" /> : null}
      {buckets ? (
        <>
          <ul class="summary-tiles" aria-label="Queue summary">
            {SLA_BUCKETS.map((b) => (
              <li key={b.id} class={`tile tile-${b.id}`}>
                <a href={`#/sla`} onClick={(e) => {
                  e.preventDefault();
                  document.getElementById(`bucket-${b.id}`)?.scrollIntoView({ block: 'start' });
                }}>
                  <span class="tile-count">{buckets[b.id].length}</span>
                  <span class="tile-label">{b.title}</span>
                </a>
              </li>
            ))}
          </ul>
          {SLA_BUCKETS.map((b) => (
            <Section key={b.id} id={`bucket-${b.id}`} title={`${b.title} (${buckets[b.id].length})`}>
              <p class="muted small">{b.help}</p>
              {buckets[b.id].length === 0 ? (
                <p class="empty">None.</p>
              ) : (
                <TableWrap label={b.title}>
                  <table class="data stack-on-phone">
                    <thead>
                      <tr>
                        <th scope="col">Lead</th>
                        <th scope="col">With</th>
                        <th scope="col">Due</th>
                        <th scope="col">Moves on</th>
                        <th scope="col" class="num">
                          Escalations
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {buckets[b.id].map((row) => (
                        <tr key={row.workflowId}>
                          <td data-label="Lead">
                            <a href={leadHref(row.leadId)}>{row.name ?? row.email ?? row.leadId}</a>
                            {row.company ? <div class="muted small">{row.company}</div> : null}
                          </td>
                          <td data-label="With">{nameOf(team, row.sla?.ownerId ?? row.owner, row.ownerName)}</td>
                          <td data-label="Due">
                            {row.sla ? (
                              <>
                                <Time iso={row.sla.dueAt} /> <Countdown iso={row.sla.dueAt} now={now} />
                              </>
                            ) : (
                              '—'
                            )}
                          </td>
                          <td data-label="Moves on">{row.sla ? <Time iso={row.sla.escalateAt} /> : '—'}</td>
                          <td data-label="Escalations" class="num">
                            {row.escalations ?? 0}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
              )}
            </Section>
          ))}
        </>
      ) : null}
    </>
  );
}
