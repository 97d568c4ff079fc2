/**
 * Hot leads behind a bulk import: form leads arrive at a steady rate, first on an idle stack, then
 * while an import of thousands of leads (`source: import`, the bulk lane) is posted as fast as the
 * API takes them. The importer honours the API's push-back (429 → Retry-After, the same
 * Idempotency-Key again), so nothing is lost and nothing starts twice.
 *
 * Prints the form leads' end-to-end p50/p99 idle and under the import, and their ratio; the
 * import's throughput (leads notified ÷ (last notification − first POST)), its push-backs, and
 * lost or failed leads of either kind.
 */
import type { RunningSandbox } from '../sandbox/server';
import type { RunningStack } from '../src/stack';
import { DOMAINS, Notifications, sleep, waitAllNotified as waitAll } from './curve';
import { postLead } from './poster';
import { fmt, percentile } from './stats';

export interface PriorityOptions {
  stack: RunningStack;
  sandbox: RunningSandbox;
  apiKey: string;
  /** Import leads to post. */
  imports: number;
  /** Concurrent POSTs of the importer. */
  importConcurrency: number;
  /** Form leads per second, idle and during the import. */
  formRate: number;
  /** Form leads of the idle phase. */
  idleForms: number;
  /** A lead not notified this long after the last POST of its phase is lost. */
  leadTimeoutMs: number;
  out: (line: string) => void;
}

interface Sent {
  leadId: string;
  t0: number;
}

function e2eOf(sent: Sent[], notifications: Notifications): { e2e: number[]; lost: number } {
  const e2e: number[] = [];
  let lost = 0;
  for (const s of sent) {
    const at = notifications.at.get(s.leadId);
    if (at === undefined) lost++;
    else e2e.push(at - s.t0);
  }
  return { e2e: e2e.sort((a, b) => a - b), lost };
}

/** Form leads at `rate` until `until()` says stop (or `count` are sent). */
async function postForms(opts: PriorityOptions, run: string, tag: string, until: { count?: number; stop?: () => boolean }): Promise<Sent[]> {
  const sent: Sent[] = [];
  const posts: Array<Promise<void>> = [];
  const began = Date.now();
  for (let i = 0; until.count === undefined || i < until.count; i++) {
    if (until.stop?.()) break;
    const wait = began + (i * 1000) / opts.formRate - Date.now();
    if (wait > 0) await sleep(wait);
    const t0 = Date.now();
    const body = { email: `form${run}${tag}n${i}@${DOMAINS[i % DOMAINS.length]}`, firstName: 'Hot', source: 'form' };
    posts.push(postLead(opts.stack.apiUrl, opts.apiKey, body, `prio-${run}-${tag}-${i}`).then((p) => void sent.push({ leadId: p.leadId, t0 })));
  }
  await Promise.all(posts);
  return sent;
}

export async function runPriority(opts: PriorityOptions): Promise<void> {
  const { out, sandbox } = opts;
  const run = Math.random().toString(36).slice(2, 8);
  const notifications = new Notifications(sandbox);

  // Warm-up, left out of the figures.
  await waitAll(notifications, (await postForms(opts, run, 'warm', { count: 5 })).map((s) => s.leadId), opts.leadTimeoutMs);

  out(`idle: ${opts.idleForms} form leads at ${opts.formRate}/s`);
  const idle = await postForms(opts, run, 'idle', { count: opts.idleForms });
  await waitAll(notifications, idle.map((s) => s.leadId), opts.leadTimeoutMs);

  out(`loaded: ${opts.imports} import leads posted by ${opts.importConcurrency} clients as fast as the API takes them, form leads at ${opts.formRate}/s meanwhile`);
  const imported: Sent[] = [];
  let next = 0;
  let pushbacks = 0;
  let importDone = false;
  const importStart = Date.now();
  const importer = Promise.all(
    Array.from({ length: opts.importConcurrency }, async () => {
      for (let i = next++; i < opts.imports; i = next++) {
        const t0 = Date.now();
        const body = { email: `imp${run}n${i}@${DOMAINS[i % DOMAINS.length]}`, firstName: 'Listed', source: 'import' };
        const posted = await postLead(opts.stack.apiUrl, opts.apiKey, body, `imp-${run}-${i}`);
        pushbacks += posted.pushbacks;
        imported.push({ leadId: posted.leadId, t0 });
      }
    }),
  ).then(() => {
    importDone = true;
  });
  // The import is accepted over time (push-back): forms arrive until all of it has been routed.
  const importNotified = () => {
    notifications.poll();
    return importDone && imported.every((s) => notifications.at.has(s.leadId));
  };
  const loaded = await postForms(opts, run, 'loaded', { stop: importNotified });
  await importer;
  await waitAll(notifications, [...imported, ...loaded].map((s) => s.leadId), opts.leadTimeoutMs);
  const postedIn = (Math.max(...imported.map((s) => s.t0)) - importStart) / 1000;

  const idleFig = e2eOf(idle, notifications);
  const loadedFig = e2eOf(loaded, notifications);
  const importFig = e2eOf(imported, notifications);
  const importLast = Math.max(...imported.map((s) => notifications.at.get(s.leadId) ?? 0));
  const importSeconds = (importLast - importStart) / 1000;
  const row = (name: string, v: number[]) => `  ${name.padEnd(34)}${fmt(percentile(v, 50))}${fmt(percentile(v, 99)).padStart(10)}${fmt(v[v.length - 1] ?? NaN).padStart(10)}`;
  out(`\n  ${'end to end (POST → notified)'.padEnd(34)}${'p50'.padStart(9)}${'p99'.padStart(10)}${'max'.padStart(10)}`);
  out(row(`form leads, idle (${idle.length})`, idleFig.e2e));
  out(row(`form leads, during import (${loaded.length})`, loadedFig.e2e));
  out(row(`import leads (${imported.length})`, importFig.e2e));
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '—');
  out(`\nform p99 during import ÷ idle: ${ratio(percentile(loadedFig.e2e, 99), percentile(idleFig.e2e, 99))} (p50 ${ratio(percentile(loadedFig.e2e, 50), percentile(idleFig.e2e, 50))})`);
  out(`import: ${importFig.e2e.length}/${opts.imports} routed in ${importSeconds.toFixed(1)} s → throughput ${(importFig.e2e.length / importSeconds).toFixed(1)} leads/s; all accepted after ${postedIn.toFixed(1)} s; POSTs pushed back ${pushbacks} times`);
  out(`lost or not notified: form ${idleFig.lost + loadedFig.lost}, import ${importFig.lost}`);
}
