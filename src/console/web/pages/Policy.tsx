/**
 * The routing policy: an editor (YAML or JSON) validated as you type with the API's own schema, a
 * diff against the published version, publish with a note, version history and roll back.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type PolicyVersionDetail, type PolicyVersionRow, type PublishAnswer, type PublishedPolicy } from '../api';
import { checkDraft, issueText, placeIssues, policyDiff, policyText, type DraftIssue, type PolicyFormat } from '../policyText';
import { can, readDraft, useSession, writeDraft } from '../state';
import { ErrorNote, Loading, PageHeader, Section, StatusLine, TableWrap, Time, useAsync, type Async } from '../components/ui';

const CHECK_DELAY_MS = 200;

export function PolicyPage() {
  const published = useAsync(() => api.policy(), []);
  const versions = useAsync(() => api.policyVersions(), []);

  return (
    <>
      <PageHeader title="Routing policy">
        <a href="#/preview?policy=draft" class="button-link">
          Preview a lead with the draft
        </a>
      </PageHeader>
      <ErrorNote error={published.error} title="Could not load the published policy" />
      {published.data ? (
        <Editor
          published={published.data}
          onPublished={() => {
            published.reload();
            versions.reload();
          }}
        />
      ) : published.loading ? (
        <Loading label="Loading the policy…" />
      ) : null}
      <Versions versions={versions} current={published.data?.version ?? null} onRolledBack={() => {
        published.reload();
        versions.reload();
      }} />
    </>
  );
}

/** Caret to the start of a 1-based line of a textarea, scrolled into view. */
function goToLine(textarea: HTMLTextAreaElement | null, line: number): void {
  if (!textarea) return;
  const lines = textarea.value.split('\n');
  const offset = lines.slice(0, Math.max(0, line - 1)).reduce((n, l) => n + l.length + 1, 0);
  textarea.focus();
  textarea.setSelectionRange(offset, offset + (lines[line - 1]?.length ?? 0));
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
  textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
}

function Editor({ published, onPublished }: { published: PublishedPolicy; onPublished: () => void }) {
  const { session } = useSession();
  const mayPublish = can(session.user.role, 'publish_policy');
  const stored = readDraft();
  const [format, setFormat] = useState<PolicyFormat>(stored?.format ?? 'yaml');
  const [text, setText] = useState<string>(() => stored?.text ?? policyText(published.policy, stored?.format ?? 'yaml'));
  const [checkedText, setCheckedText] = useState(text);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [serverIssues, setServerIssues] = useState<DraftIssue[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<PublishAnswer | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);

  const publishedText = useMemo(() => policyText(published.policy, format), [published, format]);

  // Validate shortly after typing stops; remember the draft for the Preview page.
  useEffect(() => {
    const timer = setTimeout(() => setCheckedText(text), CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);
  useEffect(() => {
    if (text === publishedText) writeDraft(null);
    else writeDraft({ text, format, basedOn: published.version, savedAt: new Date().toISOString() });
  }, [text, format, publishedText]);

  const check = useMemo(() => checkDraft(checkedText, format), [checkedText, format]);
  const issues = serverIssues ?? (check.ok ? [] : check.issues);
  const diff = useMemo(() => {
    // Compare structure written the same way, so spacing or key quoting is not a change.
    const normalized = check.ok ? policyText(check.policy, format) : !check.syntax ? policyText(check.value, format) : checkedText;
    return policyDiff(publishedText, normalized);
  }, [check, publishedText, checkedText, format]);
  const changed = diff.added + diff.removed > 0;

  const switchFormat = (next: PolicyFormat) => {
    if (next === format) return;
    const current = checkDraft(text, format);
    if (!current.ok && current.syntax) {
      setStatus(`Fix the ${format.toUpperCase()} syntax error before switching to ${next.toUpperCase()}.`);
      return;
    }
    const value = current.ok ? current.policy : current.value;
    const converted = policyText(value, next);
    setFormat(next);
    setText(converted);
    setCheckedText(converted);
    setServerIssues(null);
    setStatus(null);
  };

  const discard = () => {
    const fresh = policyText(published.policy, format);
    setText(fresh);
    setCheckedText(fresh);
    setServerIssues(null);
    setResult(null);
    setStatus('Draft discarded: the editor shows the published policy.');
  };

  const publish = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setServerIssues(null);
    setResult(null);
    try {
      const answer = await api.publishPolicy(text, format, note);
      setResult(answer);
      setStatus(`Published ${answer.version}.`);
      setNote('');
      writeDraft(null);
      onPublished();
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.details.length > 0) {
        setServerIssues(placeIssues(text, err.details.map((d) => ({ path: d.field, message: d.message }))));
      } else setError(err);
      setStatus(null);
    } finally {
      setBusy(false);
    }
  };

  const invalid = issues.length > 0;
  return (
    <>
      <Section
        title={`Editor — published ${published.version}`}
        id="editor"
        actions={
          <fieldset class="segmented">
            <legend class="visually-hidden">Format</legend>
            {(['yaml', 'json'] as const).map((f) => (
              <label key={f} class={format === f ? 'active' : ''}>
                <input type="radio" name="policy-format" value={f} checked={format === f} onChange={() => switchFormat(f)} />
                {f.toUpperCase()}
              </label>
            ))}
          </fieldset>
        }
      >
        <p class="muted small">
          {published.publishedAt ? (
            <>
              Published <Time iso={published.publishedAt} /> by {published.actor}.{' '}
            </>
          ) : (
            'Nothing published yet: this is the built-in default. '
          )}
          Changes are checked as you type with the same rules the server applies.
        </p>
        <div class="editor-layout">
          <div class="field editor-field">
            <label for="policy-text">Policy ({format.toUpperCase()})</label>
            <textarea
              id="policy-text"
              ref={textarea}
              class="code"
              spellcheck={false}
              autoCapitalize="off"
              autoComplete="off"
              rows={24}
              value={text}
              aria-invalid={invalid}
              aria-describedby="policy-issues"
              onInput={(e) => {
                setText(e.currentTarget.value);
                setServerIssues(null);
              }}
            />
          </div>
          <div class="issues" id="policy-issues">
            {invalid ? (
              <div role="alert" class="issue-box">
                <h3>
                  {serverIssues ? 'The server refused this policy' : `${issues.length} problem${issues.length === 1 ? '' : 's'}`}
                </h3>
                <ul>
                  {issues.map((issue, i) => (
                    <li key={`${issue.path}:${i}`}>
                      <code>{issue.path}</code> {issue.message}
                      {issue.line !== null ? (
                        <>
                          {' '}
                          <button type="button" class="link" onClick={() => goToLine(textarea.current, issue.line!)} aria-label={`Go to line ${issue.line}: ${issueText(issue)}`}>
                            line {issue.line}
                          </button>
                        </>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </div>
            ) : (
              <p class="note note-good" role="status">
                The policy is valid.
              </p>
            )}
          </div>
        </div>
        <div class="button-row">
          <button type="button" onClick={discard} disabled={!changed && text === publishedText}>
            Discard draft
          </button>
        </div>
      </Section>

      <Section title={changed ? `Changes against ${published.version}: ${diff.added} added, ${diff.removed} removed` : `No changes against ${published.version}`} id="diff">
        {changed ? (
          <pre class="diff" aria-label="Line changes">
            {diff.lines.map((l, i) =>
              l.kind === 'fold' ? (
                <span key={i} class="diff-fold">
                  {`  … ${l.count} unchanged line${l.count === 1 ? '' : 's'}\n`}
                </span>
              ) : l.kind === 'added' ? (
                <ins key={i} class="diff-add">{`+ ${l.text}\n`}</ins>
              ) : l.kind === 'removed' ? (
                <del key={i} class="diff-del">{`- ${l.text}\n`}</del>
              ) : (
                <span key={i}>{`  ${l.text}\n`}</span>
              ),
            )}
          </pre>
        ) : (
          <p class="muted">Edit the policy above to see what would change.</p>
        )}
      </Section>

      <Section title="Publish" id="publish">
        {mayPublish ? (
          <form onSubmit={publish} class="publish-form">
            <div class="field">
              <label for="publish-note">Note (why this change)</label>
              <input id="publish-note" maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} placeholder="e.g. Route EMEA enterprise to the new pool" />
            </div>
            <button type="submit" class="primary" disabled={busy || invalid || !changed}>
              {busy ? 'Publishing…' : 'Publish'}
            </button>
            {!changed ? <span class="muted small"> Nothing to publish.</span> : invalid ? <span class="muted small"> Fix the problems first.</span> : null}
          </form>
        ) : (
          <p class="muted">Your role ({session.user.role}) cannot publish policies; an admin can.</p>
        )}
        <ErrorNote error={error} title="Could not publish" />
        {result && result.warnings.length > 0 ? (
          <div class="note note-warn" role="status">
            <strong>Published with warnings:</strong>
            <ul>
              {result.warnings.map((w) => (
                <li key={w.path}>
                  <code>{w.path}</code> {w.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <StatusLine message={status} />
      </Section>
    </>
  );
}

function Versions({ versions, current, onRolledBack }: { versions: Async<{ versions: PolicyVersionRow[] }>; current: string | null; onRolledBack: () => void }) {
  const { session } = useSession();
  const mayRollBack = can(session.user.role, 'publish_policy');
  const [viewing, setViewing] = useState<PolicyVersionDetail | null>(null);
  const [viewError, setViewError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);

  const view = async (version: string) => {
    setViewError(null);
    try {
      setViewing(await api.policyVersion(version));
    } catch (err) {
      setViewError(err);
    }
  };

  const rollBack = async (version: string) => {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.rollbackPolicy({ version, ...(note.trim() ? { note: note.trim() } : {}) });
      setStatus(`Rolled back: ${version}'s policy is now published as ${answer.version}.`);
      setConfirming(null);
      setNote('');
      writeDraft(null);
      onRolledBack();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const rows = [...(versions.data?.versions ?? [])].sort((a, b) => Number(b.version.slice(1)) - Number(a.version.slice(1)));
  return (
    <Section title="Version history" id="versions">
      <ErrorNote error={versions.error} title="Could not load the versions" />
      {versions.loading && !versions.data ? <Loading label="Loading versions…" /> : null}
      {versions.data && rows.length === 0 ? <p class="muted">No version has been published yet.</p> : null}
      {rows.length > 0 ? (
        <TableWrap label="Policy versions">
          <table class="data stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Published</th>
                <th scope="col">By</th>
                <th scope="col">Note</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((v) => (
                <tr key={v.version}>
                  <th scope="row" data-label="Version">
                    {v.version} {v.version === current ? <span class="badge badge-info">current</span> : null}
                  </th>
                  <td data-label="Published">
                    <Time iso={v.publishedAt} />
                  </td>
                  <td data-label="By">{v.actor}</td>
                  <td data-label="Note">{v.note ?? <span class="muted">—</span>}</td>
                  <td class="row-actions" data-label="">
                    <button type="button" onClick={() => view(v.version)} aria-label={`View ${v.version}`}>
                      View
                    </button>
                    {mayRollBack && v.version !== current ? (
                      <button type="button" onClick={() => setConfirming(v.version)} aria-label={`Roll back to ${v.version}`}>
                        Roll back to this version
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      {confirming ? (
        <form
          class="confirm"
          onSubmit={(e) => {
            e.preventDefault();
            void rollBack(confirming);
          }}
          aria-label={`Confirm roll back to ${confirming}`}
        >
          <p>
            Publish {confirming}’s policy again as a new version? Leads routed from now on use it.
          </p>
          <div class="field">
            <label for="rollback-note">Note</label>
            <input id="rollback-note" maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} placeholder={`Roll back to ${confirming}`} />
          </div>
          <div class="button-row">
            <button type="submit" class="primary danger" disabled={busy}>
              {busy ? 'Rolling back…' : `Confirm roll back to ${confirming}`}
            </button>
            <button type="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      <ErrorNote error={error} title="Could not roll back" />
      <ErrorNote error={viewError} title="Could not load that version" />
      <StatusLine message={status} />
      {viewing ? (
        <div class="version-view">
          <div class="card-header">
            <h3>
              {viewing.version}, published <Time iso={viewing.publishedAt} /> by {viewing.actor}
            </h3>
            <button type="button" onClick={() => setViewing(null)}>
              Close
            </button>
          </div>
          {viewing.note ? <p>Note: {viewing.note}</p> : null}
          <pre class="code-view" tabIndex={0} aria-label={`Policy ${viewing.version}`}>
            {policyText(viewing.policy, 'yaml')}
          </pre>
        </div>
      ) : null}
    </Section>
  );
}

