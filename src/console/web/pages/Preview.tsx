/** Preview: who would get a lead now, and why, with the published policy or the editor's draft. Writes nothing. */
import { useState } from 'preact/hooks';
import type { LeadInput } from '../../../domain/leadSchema';
import { api, ApiError, type SimulateAnswer } from '../api';
import { formatInstant, viaWords } from '../format';
import { checkDraft, placeIssues, type DraftIssue } from '../policyText';
import { nameOf, useDraft, useTeam } from '../state';
import { ErrorNote, PageHeader, Section, Time, useAsync } from '../components/ui';
import { Why } from '../components/Why';
import { LEAD_SOURCES } from './Leads';

interface LeadForm {
  email: string;
  firstName: string;
  lastName: string;
  company: string;
  website: string;
  country: string;
  title: string;
  source: LeadInput['source'];
}

const EMPTY: LeadForm = { email: '', firstName: '', lastName: '', company: '', website: '', country: '', title: '', source: 'form' };

function leadInput(f: LeadForm): LeadInput {
  const input: LeadInput = { email: f.email.trim(), source: f.source };
  const opt = (k: 'firstName' | 'lastName' | 'company' | 'website' | 'country' | 'title') => {
    const v = f[k].trim();
    if (v) input[k] = v;
  };
  (['firstName', 'lastName', 'company', 'website', 'country', 'title'] as const).forEach(opt);
  return input;
}

export function PreviewPage({ query }: { query: URLSearchParams }) {
  const draft = useDraft();
  const team = useTeam();
  const [form, setForm] = useState<LeadForm>(EMPTY);
  const [useDraftPolicy, setUseDraftPolicy] = useState(query.get('policy') === 'draft');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [issues, setIssues] = useState<DraftIssue[] | null>(null);
  const [answer, setAnswer] = useState<{ result: SimulateAnswer; policy: string; email: string } | null>(null);
  const [picking, setPicking] = useState(false);
  const recent = useAsync(() => api.leads({ limit: 20 }), []);

  const draftCheck = draft ? checkDraft(draft.text, draft.format) : null;
  const draftUsable = draftCheck?.ok === true;

  const pick = async (leadId: string) => {
    if (!leadId) return;
    setPicking(true);
    setError(null);
    try {
      const state = await api.lead(leadId);
      const l = state.lead;
      if (l) {
        setForm({
          email: l.email,
          firstName: l.firstName ?? '',
          lastName: l.lastName ?? '',
          company: l.company ?? '',
          website: l.websiteDomain ?? '',
          country: l.country ?? '',
          title: l.title ?? '',
          source: l.source,
        });
      }
    } catch (err) {
      setError(err);
    } finally {
      setPicking(false);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setIssues(null);
    const withDraft = useDraftPolicy && draftCheck?.ok === true;
    try {
      const result = await api.simulate({ lead: leadInput(form), ...(withDraft ? { policy: draftCheck.policy } : {}) });
      setAnswer({ result, policy: withDraft ? 'your draft' : 'the published policy', email: form.email.trim() });
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.details.length > 0 && withDraft && draft) {
        setIssues(placeIssues(draft.text, err.details.map((d) => ({ path: d.field, message: d.message }))));
      }
      setError(err);
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  };

  const set = (k: keyof LeadForm) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <>
      <PageHeader title="Preview routing" />
      <p class="lede">See who would get a lead right now and why. Nothing is written: no claim, no CRM change, no notification.</p>
      <div class="grid-2 preview-layout">
        <Section title="Lead" id="preview-lead">
          <form onSubmit={submit} aria-label="Lead to preview">
            <div class="field">
              <label for="pick-recent">Pick a recent lead</label>
              <select id="pick-recent" onChange={(e) => void pick(e.currentTarget.value)} disabled={picking || !recent.data}>
                <option value="">{recent.data ? 'Choose one to fill the form' : recent.error ? 'Recent leads unavailable' : 'Loading…'}</option>
                {(recent.data?.leads ?? []).map((r) => (
                  <option key={r.workflowId} value={r.leadId}>
                    {[r.name, r.email, r.company].filter(Boolean).join(' · ') || r.leadId}
                  </option>
                ))}
              </select>
            </div>
            <div class="form-grid">
              <div class="field wide">
                <label for="p-email">Email</label>
                <input id="p-email" type="email" required value={form.email} onInput={set('email')} />
              </div>
              <div class="field">
                <label for="p-first">First name</label>
                <input id="p-first" value={form.firstName} onInput={set('firstName')} />
              </div>
              <div class="field">
                <label for="p-last">Last name</label>
                <input id="p-last" value={form.lastName} onInput={set('lastName')} />
              </div>
              <div class="field">
                <label for="p-company">Company</label>
                <input id="p-company" value={form.company} onInput={set('company')} />
              </div>
              <div class="field">
                <label for="p-website">Website</label>
                <input id="p-website" value={form.website} onInput={set('website')} placeholder="acme.com" />
              </div>
              <div class="field">
                <label for="p-country">Country</label>
                <input id="p-country" value={form.country} onInput={set('country')} placeholder="US" />
              </div>
              <div class="field">
                <label for="p-title">Job title</label>
                <input id="p-title" value={form.title} onInput={set('title')} />
              </div>
              <div class="field">
                <label for="p-source">Source</label>
                <select id="p-source" value={form.source} onChange={set('source')}>
                  {LEAD_SOURCES.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <fieldset class="choice">
              <legend>Policy</legend>
              <label>
                <input type="radio" name="preview-policy" checked={!useDraftPolicy || !draftUsable} onChange={() => setUseDraftPolicy(false)} /> Published policy
              </label>
              <label>
                <input type="radio" name="preview-policy" checked={useDraftPolicy && draftUsable} disabled={!draftUsable} onChange={() => setUseDraftPolicy(true)} /> My draft from the Policy page
              </label>
              <p class="muted small">
                {!draft ? (
                  <>
                    No draft: edit the policy on the <a href="#/policy">Policy page</a> first.
                  </>
                ) : draftUsable ? (
                  <>Draft based on {draft.basedOn}, edited {formatInstant(draft.savedAt)}.</>
                ) : (
                  <>
                    The draft has problems; fix them on the <a href="#/policy">Policy page</a>.
                  </>
                )}
              </p>
            </fieldset>
            <button type="submit" class="primary" disabled={busy || !form.email.trim()}>
              {busy ? 'Asking the engine…' : 'Preview routing'}
            </button>
          </form>
        </Section>

        <Section title="Result" id="preview-result">
          <div aria-live="polite" aria-busy={busy}>
            <ErrorNote error={error} title="Could not preview" />
            {issues ? (
              <ul class="issue-box" role="alert">
                {issues.map((i, n) => (
                  <li key={n}>
                    <code>{i.path}</code> {i.message}
                    {i.line !== null ? ` (line ${i.line})` : ''}
                  </li>
                ))}
              </ul>
            ) : null}
            {!answer && !error ? <p class="muted">Fill in a lead and choose Preview routing.</p> : null}
            {answer ? <PreviewResult answer={answer} teamName={(id) => nameOf(team, id)} /> : null}
          </div>
        </Section>
      </div>
    </>
  );
}

function PreviewResult({ answer, teamName }: { answer: { result: SimulateAnswer; policy: string; email: string }; teamName: (id: string) => string }) {
  const { result } = answer;
  const would = result.wouldAssign;
  const ownerId = 'ownerId' in would ? would.ownerId : null;
  const ownerName = ownerId ? (result.decision.candidates.find((c) => c.repId === ownerId)?.name ?? teamName(ownerId)) : null;
  return (
    <div class="preview-answer">
      <p class="big-answer">
        {'deferredUntil' in would ? (
          <>
            Nobody can take it now: it would wait until <Time iso={would.deferredUntil} />.
          </>
        ) : (
          <>
            Would go to <strong>{ownerName}</strong> ({viaWords(would.via).toLowerCase()}).
          </>
        )}
      </p>
      <p class="muted small">
        {answer.email}, with {answer.policy} ({result.decision.policyVersion}).
      </p>
      {result.warnings && result.warnings.length > 0 ? (
        <div class="note note-warn">
          <strong>Draft warnings:</strong>
          <ul>
            {result.warnings.map((w) => (
              <li key={w.path}>
                <code>{w.path}</code> {w.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <h3>Why</h3>
      <Why trace={result.decision} owner={{ id: ownerId, name: ownerName, via: 'via' in would ? would.via : null }} headingLevel={3} preview />
    </div>
  );
}
