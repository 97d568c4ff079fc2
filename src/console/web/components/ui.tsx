/** Small shared pieces: async loading, errors, times, badges, page headers. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from '../api';
import { formatCountdown, formatInstant, viewerTimeZone } from '../format';

export interface Async<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` on mount and whenever `deps` change; `reload()` runs it again. Late answers of older runs are dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  useEffect(() => {
    const id = ++run.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => id === run.current && setState({ data, error: null, loading: false }),
      (error: unknown) => id === run.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** The current time, ticking every `everyMs` (for countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <div class={`note ${forbidden ? 'note-warn' : 'note-error'}`} role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errorText(error)}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" role="status">
      {label}
    </p>
  );
}

/** An instant in the viewer's zone, with the exact ISO time as a tooltip. */
export function Time({ iso, seconds }: { iso: string | null | undefined; seconds?: boolean }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={`${iso} (${viewerTimeZone()})`}>
      {formatInstant(iso, seconds ? { seconds: true } : {})}
    </time>
  );
}

export function Countdown({ iso, now }: { iso: string; now: number }) {
  const target = Date.parse(iso);
  const over = target < now;
  return <span class={over ? 'countdown over' : 'countdown'}>{formatCountdown(target, now)}</span>;
}

export type Tone = 'good' | 'warn' | 'bad' | 'info' | 'neutral';

export function Badge({ tone = 'neutral', children }: { tone?: Tone; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children ? <div class="page-actions">{children}</div> : null}
    </div>
  );
}

export function Section({ title, id, children, actions }: { title: string; id?: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section class="card" {...(id ? { id, 'aria-labelledby': headingId } : {})}>
      <div class="card-header">
        <h2 {...(headingId ? { id: headingId } : {})}>{title}</h2>
        {actions ? <div class="card-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** A wide table that scrolls sideways on small screens; focusable so the keyboard can scroll it. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A polite status line for results of actions ("Published v4"). */
export function StatusLine({ message }: { message: string | null }) {
  return (
    <p class="status-line" role="status" aria-live="polite">
      {message ?? ''}
    </p>
  );
}
