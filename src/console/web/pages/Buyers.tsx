/** Buyers (lead distribution): caps, budgets, breakers, pause and resume, and returns awaiting a decision. */
import { useState } from 'preact/hooks';
import { api, ApiError, type BuyerDetail, type BuyerView, type DistributedLead } from '../api';
import { can, useSession } from '../state';
import { Badge, ErrorNote, Loading, PageHeader, Section, StatusLine, TableWrap, Time, useAsync, type Tone } from '../components/ui';

const money = (cents: number | null) => (cents === null ? '—' : (cents / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' }));
const BREAKER: Record<string, { label: string; tone: Tone }> = {
  closed: { label: 'Closed (healthy)', tone: 'good' },
  half_open: { label: 'Half open (testing)', tone: 'warn' },
  open: { label: 'Open (not sending)', tone: 'bad' },
};

async function buyersWithDetails(): Promise<BuyerDetail[]> {
  const { buyers } = await api.buyers();
  return Promise.all(buyers.map((b: BuyerView) => api.buyer(b.id).catch((): BuyerDetail => ({ ...b, account: null }))));
}

export function BuyersPage() {
  const buyers = useAsync(buyersWithDetails, []);
  return (
    <>
      <PageHeader title="Buyers">
        <button type="button" onClick={buyers.reload} disabled={buyers.loading}>
          Refresh
        </button>
      </PageHeader>
      <ErrorNote error={buyers.error} title="Could not read the buyers" />
      {buyers.loading && !buyers.data ? <Loading label="Loading buyers…" /> : null}
      {buyers.data && buyers.data.length === 0 ? <p class="empty">This workspace has no buyers.</p> : null}
      <div class="cards-grid">
        {(buyers.data ?? []).map((b) => (
          <BuyerCard key={b.id} buyer={b} onChanged={buyers.reload} />
        ))}
      </div>
      <Returns names={Object.fromEntries((buyers.data ?? []).map((b) => [b.id, b.document.name]))} />
    </>
  );
}

function BuyerCard({ buyer, onChanged }: { buyer: BuyerDetail; onChanged: () => void }) {
  const { session } = useSession();
  const d = buyer.document;
  const a = buyer.account;
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const headingId = `buyer-${buyer.id}`;

  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await (d.paused ? api.resumeBuyer(buyer.id, reason) : api.pauseBuyer(buyer.id, reason));
      setStatus(d.paused ? `${d.name} resumed.` : `${d.name} paused.`);
      setReason('');
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const periods = a ? (['hour', 'day', 'week', 'month'] as const).map((k) => ({ kind: k, p: a.periods[k] })).filter(({ p }) => p.cap !== null || p.budgetCents !== null || p.sold > 0) : [];
  return (
    <section class="card buyer" aria-labelledby={headingId}>
      <div class="card-header">
        <h2 id={headingId}>{d.name}</h2>
        {d.paused ? <Badge tone="warn">Paused</Badge> : <Badge tone="good">Active</Badge>}
      </div>
      <p class="muted small">
        {d.pricing.type === 'fixed' ? `Fixed price ${money(Math.round(d.pricing.price * 100))}` : 'Price from bids'}; priority {d.priority}; hours in {d.timeZone}. Version {buyer.version}, changed <Time iso={buyer.updatedAt} /> by {buyer.actor}
        {buyer.note ? ` (“${buyer.note}”)` : ''}.
      </p>
      {a?.blocked ? <p class="note note-warn">Not taking leads now: {a.blocked.detail}</p> : null}
      {a ? (
        <>
          <TableWrap label={`${d.name} caps and budgets`}>
            <table class="data compact">
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col" class="num">
                    Sold
                  </th>
                  <th scope="col" class="num">
                    Cap
                  </th>
                  <th scope="col" class="num">
                    Spent
                  </th>
                  <th scope="col" class="num">
                    Budget
                  </th>
                </tr>
              </thead>
              <tbody>
                {periods.length === 0 ? (
                  <tr>
                    <td colSpan={5} class="muted">
                      No caps or budgets, nothing sold yet.
                    </td>
                  </tr>
                ) : (
                  periods.map(({ kind, p }) => (
                    <tr key={kind}>
                      <th scope="row">{kind}</th>
                      <td class="num">
                        {p.sold}
                        {p.held ? <span class="muted small"> +{p.held} held</span> : null}
                      </td>
                      <td class="num">{p.cap ?? '—'}</td>
                      <td class="num">{money(p.soldCents)}</td>
                      <td class="num">{money(p.budgetCents)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </TableWrap>
          <h3 class="small-heading">Breakers</h3>
          <ul class="plain-list breakers">
            {(Object.entries(a.breakers) as Array<[string, { state: string; consecutiveFailures: number }]>).map(([endpoint, b]) => (
              <li key={endpoint}>
                <span class="breaker-name">{endpoint}</span> <Badge tone={BREAKER[b.state]?.tone ?? 'neutral'}>{BREAKER[b.state]?.label ?? b.state}</Badge>
                {b.consecutiveFailures ? <span class="muted small"> {b.consecutiveFailures} failure{b.consecutiveFailures === 1 ? '' : 's'} in a row</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p class="muted">No account activity yet.</p>
      )}
      {can(session.user.role, 'buyer_pause') ? (
        <div class="stacked-form">
          <div class="field">
            <label for={`${headingId}-reason`}>Reason (optional)</label>
            <input id={`${headingId}-reason`} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </div>
          <button type="button" onClick={toggle} disabled={busy} class={d.paused ? 'primary' : 'danger'}>
            {busy ? 'Saving…' : d.paused ? `Resume ${d.name}` : `Pause ${d.name}`}
          </button>
        </div>
      ) : null}
      <ErrorNote error={error} />
      <StatusLine message={status} />
    </section>
  );
}

/** The API keeps returns per lead: look a sold lead up by its ID and decide its pending returns. */
function Returns({ names }: { names: Record<string, string> }) {
  const { session } = useSession();
  const [leadId, setLeadId] = useState('');
  const [lead, setLead] = useState<DistributedLead | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});

  const look = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setStatus(null);
    setLead(null);
    try {
      const found = await api.distributedLead(leadId.trim());
      if (!('sales' in found)) throw new ApiError(404, 'not_found', `${leadId.trim()} is a routed lead, not a distributed one`);
      setLead(found);
    } catch (err) {
      setError(err);
    }
  };

  const decide = async (buyerId: string, decision: 'approve' | 'deny') => {
    if (!lead) return;
    setBusy(true);
    setError(null);
    try {
      const note = notes[buyerId]?.trim();
      await api.decideReturn(lead.leadId, buyerId, { decision, ...(note ? { note } : {}) });
      setStatus(`Return from ${names[buyerId] ?? buyerId} ${decision === 'approve' ? 'approved' : 'denied'}.`);
      setLead(await api.distributedLead(lead.leadId));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const mayDecide = can(session.user.role, 'return_decision');
  return (
    <Section title="Returns awaiting a decision" id="returns">
      <p class="muted small">A buyer returns a lead with a reason; find the lead by its ID (dl_…, from the buyer’s request) to approve or deny.</p>
      <form onSubmit={look} class="inline-form">
        <div class="field">
          <label for="return-lead">Lead ID</label>
          <input id="return-lead" value={leadId} onInput={(e) => setLeadId(e.currentTarget.value)} placeholder="dl_…" required pattern="dl_.+" />
        </div>
        <button type="submit">Find lead</button>
      </form>
      <ErrorNote error={error} />
      {lead ? (
        lead.sales.length === 0 ? (
          <p class="muted">This lead was not sold ({lead.status}).</p>
        ) : (
          <TableWrap label="Sales of the lead">
            <table class="data stack-on-phone">
              <thead>
                <tr>
                  <th scope="col">Buyer</th>
                  <th scope="col" class="num">
                    Price
                  </th>
                  <th scope="col">Return</th>
                  <th scope="col">
                    <span class="visually-hidden">Decision</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {lead.sales.map((s) => (
                  <tr key={s.buyerId}>
                    <th scope="row" data-label="Buyer">
                      {names[s.buyerId] ?? s.buyerId}
                    </th>
                    <td class="num" data-label="Price">
                      {money(s.priceCents)}
                    </td>
                    <td data-label="Return">
                      {s.return ? (
                        <>
                          <Badge tone={s.return.status === 'pending' ? 'warn' : s.return.status === 'approved' ? 'good' : 'neutral'}>{s.return.status}</Badge> “{s.return.reason}” by {s.return.actor}, <Time iso={s.return.requestedAt} />
                        </>
                      ) : (
                        <span class="muted">none</span>
                      )}
                    </td>
                    <td data-label="">
                      {s.return?.status === 'pending' && mayDecide ? (
                        <div class="inline-form">
                          <label class="visually-hidden" for={`note-${s.buyerId}`}>
                            Note for {names[s.buyerId] ?? s.buyerId}
                          </label>
                          <input id={`note-${s.buyerId}`} placeholder="Note" value={notes[s.buyerId] ?? ''} onInput={(e) => setNotes({ ...notes, [s.buyerId]: e.currentTarget.value })} />
                          <button type="button" disabled={busy} onClick={() => decide(s.buyerId, 'approve')}>
                            Approve return
                          </button>
                          <button type="button" disabled={busy} onClick={() => decide(s.buyerId, 'deny')}>
                            Deny return
                          </button>
                        </div>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )
      ) : null}
      <StatusLine message={status} />
    </Section>
  );
}
