/**
 * The policy editor's pure part: a policy as YAML or JSON text, the draft read back and validated
 * with the same schema the API uses (parsePolicy), each issue placed on the line it is about, and
 * a line diff against the published version. No DOM: unit tests run it under Node.
 */
import { diffLines } from 'diff';
import { isMap, isSeq, LineCounter, parseDocument, stringify, type Node as YamlNode } from 'yaml';
import { parsePolicy, type PolicyIssue } from '../../domain/policy/parse';
import type { Policy } from '../../domain/policy/types';

export type PolicyFormat = 'yaml' | 'json';

/** What the editor shows next to the text: each problem with its path and line. */
export interface DraftIssue extends PolicyIssue {
  /** 1-based line in the text, when the path (or its nearest parent) can be found there. */
  line: number | null;
}

export type DraftCheck =
  | { ok: true; policy: Policy }
  /** The text is not YAML/JSON at all: one issue at the syntax error. */
  | { ok: false; syntax: true; issues: DraftIssue[] }
  | { ok: false; syntax: false; issues: DraftIssue[]; value: unknown };

export function policyText(policy: unknown, format: PolicyFormat): string {
  if (format === 'json') return `${JSON.stringify(policy, null, 2)}\n`;
  return stringify(policy, { lineWidth: 0 });
}

/** Splits "rules.2.when.any.0" into keys, numbers for indexes; "(root)" is the whole document. */
export function pathKeys(path: string): Array<string | number> {
  if (!path || path === '(root)' || path === '(policy)' || path === '(body)') return [];
  return path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/**
 * The 1-based line where the value at `path` (or the nearest parent the text has) starts; for a
 * key that is there but should not be, the line of the key. Null when nothing can be placed.
 */
export function lineOfPath(text: string, path: string): number | null {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false, uniqueKeys: false });
  if (doc.errors.length > 0 || !doc.contents) return null;
  let node: unknown = doc.contents;
  let line: number | null = lineOf(node as YamlNode, counter);
  for (const key of pathKeys(path)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return k !== null && typeof k === 'object' && String(k.value) === String(key);
      });
      if (!pair) break;
      const keyLine = lineOf(pair.key as YamlNode, counter);
      node = pair.value;
      line = (node ? lineOf(node as YamlNode, counter) : null) ?? keyLine ?? line;
      // A block value starts on the line after its key: point at the key, where people look.
      if (keyLine !== null && (isMap(node) || isSeq(node))) line = keyLine;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (item === undefined) break;
      node = item;
      line = lineOf(item as YamlNode, counter) ?? line;
    } else break;
  }
  return line;
}

function lineOf(node: YamlNode | null | undefined, counter: LineCounter): number | null {
  const start = node?.range?.[0];
  return start === undefined ? null : counter.linePos(start).line;
}

/** Reads the editor's text (YAML or JSON) and validates it as the API would. */
export function checkDraft(text: string, format: PolicyFormat): DraftCheck {
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, syntax: true, issues: [{ path: '(root)', message: `is not valid JSON: ${message}`, line: jsonErrorLine(text, message) }] };
    }
  } else {
    const counter = new LineCounter();
    const doc = parseDocument(text, { lineCounter: counter });
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line ?? counter.linePos(error.pos[0]).line;
      return { ok: false, syntax: true, issues: [{ path: '(root)', message: `is not valid YAML: ${error.message.split('\n')[0]}`, line }] };
    }
    value = doc.toJS();
  }
  const parsed = parsePolicy(value ?? {});
  if (parsed.ok) return { ok: true, policy: parsed.policy };
  return { ok: false, syntax: false, value, issues: placeIssues(text, parsed.issues) };
}

/** Issues (the client's or the API's 400 details) with the line each is about, in text order. */
export function placeIssues(text: string, issues: ReadonlyArray<{ path: string; message: string }>): DraftIssue[] {
  return issues
    .map((i) => ({ path: i.path, message: i.message, line: lineOfPath(text, i.path) }))
    .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

/** One issue as a sentence: "rules.2.when.field: is required (line 14)". */
export function issueText(issue: DraftIssue): string {
  return `${issue.path} ${issue.message}${issue.line !== null ? ` (line ${issue.line})` : ''}`;
}

function jsonErrorLine(text: string, message: string): number | null {
  const lineCol = /line (\d+)/i.exec(message);
  if (lineCol) return Number(lineCol[1]);
  const position = /position (\d+)/i.exec(message);
  if (!position) return null;
  return text.slice(0, Number(position[1])).split('\n').length;
}

export interface DiffLine {
  kind: 'added' | 'removed' | 'same';
  text: string;
}

/**
 * The draft against the published version, line by line, both written in the same format (so a
 * YAML/JSON switch is not a change). Unchanged runs longer than `context * 2` lines are folded.
 */
export function policyDiff(published: string, draft: string, context = 3): { lines: Array<DiffLine | { kind: 'fold'; count: number }>; added: number; removed: number } {
  const parts = diffLines(published, draft);
  const all: DiffLine[] = [];
  let added = 0;
  let removed = 0;
  for (const part of parts) {
    const kind = part.added ? 'added' : part.removed ? 'removed' : 'same';
    const lines = part.value.replace(/\n$/, '').split('\n');
    if (kind === 'added') added += lines.length;
    if (kind === 'removed') removed += lines.length;
    for (const text of lines) all.push({ kind, text });
  }
  const out: Array<DiffLine | { kind: 'fold'; count: number }> = [];
  let i = 0;
  while (i < all.length) {
    if (all[i]!.kind !== 'same') {
      out.push(all[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < all.length && all[j]!.kind === 'same') j++;
    const run = all.slice(i, j);
    const head = i === 0 ? 0 : context;
    const tail = j === all.length ? 0 : context;
    if (run.length > head + tail + 1) {
      out.push(...run.slice(0, head), { kind: 'fold', count: run.length - head - tail }, ...run.slice(run.length - tail));
    } else out.push(...run);
    i = j;
  }
  return { lines: out, added, removed };
}
