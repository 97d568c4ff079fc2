/** "Why this owner": the decision trace in plain words (used by the Lead and Preview pages). */
import type { PolicyTrace } from '../../../domain/policy/engine';
import { formatInstant, viaWords } from '../format';
import { whyWords } from '../why';
import { Badge } from './ui';

/**
 * `owner` is who the decision gave the lead to; `now`, when set, who has it since (an escalation or
 * a reassignment moved it on).
 */
export function Why({
  trace,
  owner,
  now = null,
  headingLevel = 2,
  preview = false,
}: {
  trace: PolicyTrace;
  owner: { id: string | null; name: string | null; via?: string | null };
  now?: { name: string; via: string | null } | null;
  headingLevel?: 2 | 3;
  preview?: boolean;
}) {
  const words = whyWords(trace, owner, { preview });
  const H = headingLevel === 2 ? 'h3' : 'h4';
  return (
    <div class="why">
      <p class="why-headline">{words.headline}</p>
      {now ? (
        <p class="note note-info">
          Since then the lead has moved on: it is now with <strong>{now.name}</strong>
          {now.via ? ` (${viaWords(now.via).toLowerCase()})` : ''}. See “Since then” below.
        </p>
      ) : null}
      {words.flagged ? (
        <p class="note note-warn">
          <strong>Flagged: </strong>
          {words.flagged}
        </p>
      ) : null}
      <dl class="facts">
        <div>
          <dt>Rule</dt>
          <dd>{words.rule ?? 'none matched'}</dd>
        </div>
        <div>
          <dt>How</dt>
          <dd>{words.via}</dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd>{words.account}</dd>
        </div>
        <div>
          <dt>Decided</dt>
          <dd>
            {formatInstant(trace.evaluatedAt, { seconds: true })} with policy {trace.policyVersion}
          </dd>
        </div>
        <div>
          <dt>Engine’s note</dt>
          <dd>{words.engineReason}</dd>
        </div>
      </dl>

      <H>Reps considered</H>
      {words.candidates.length === 0 ? (
        <p class="muted">No rep was considered: the rule names its owner directly, or no rule matched.</p>
      ) : (
        <ul class="candidates" aria-label="Reps considered">
          {words.candidates.map((c) => (
            <li key={c.repId} class={c.chosen ? 'candidate chosen' : 'candidate'}>
              <div class="candidate-head">
                <strong>{c.name}</strong>
                {c.chosen ? <Badge tone="info">{preview ? 'Would get it' : 'Got the lead'}</Badge> : null}
                {c.eligible ? <Badge tone="good">Eligible</Badge> : <Badge tone="bad">Skipped</Badge>}
                {c.localTime ? <span class="muted small">their time {preview ? 'now' : 'then'}: {c.localTime}</span> : null}
              </div>
              <ul class="reasons">
                {c.reasons.map((r, i) => (
                  <li key={i}>{r}</li>
                ))}
                {c.assumptions.map((a, i) => (
                  <li key={`a${i}`} class="muted">
                    Assumed: {a}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}

      <details class="rules-tried">
        <summary>Rules tried ({words.rulesTried.length})</summary>
        <ol>
          {words.rulesTried.map((r) => (
            <li key={r.ruleId}>
              <code>{r.ruleId}</code> {r.matched ? <Badge tone="good">matched</Badge> : <Badge>no match</Badge>} <span class="muted">{r.detail}</span>
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}
