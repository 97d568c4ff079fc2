/**
 * App-wide state: the signed-in session (in memory only; the cookie is HttpOnly), what each role
 * may do, the hash route, the team's names, and the policy draft shared by the Policy and Preview
 * pages (kept in sessionStorage, per tenant and user, so a reload keeps it and sign-out drops it).
 */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, type RepAvailability, type Role, type Session } from './api';
import type { PolicyFormat } from './policyText';

// ---------------------------------------------------------------------------------------------
// Session and roles

export interface SessionState {
  session: Session;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in console');
  return s;
}

const RANK: Record<Role, number> = { viewer: 0, ops: 1, admin: 2 };

/** What a role may do (the API's table in src/api/roles.ts decides; this only hides buttons). */
export type Action = 'reassign' | 'accept' | 'buyer_pause' | 'return_decision' | 'publish_policy' | 'reauthorize';
const NEEDS: Record<Action, Role> = {
  reassign: 'ops',
  accept: 'ops',
  buyer_pause: 'ops',
  return_decision: 'ops',
  publish_policy: 'admin',
  reauthorize: 'admin',
};

export function can(role: Role, action: Action): boolean {
  return RANK[role] >= RANK[NEEDS[action]];
}

// ---------------------------------------------------------------------------------------------
// Routing (hash)

export type Route =
  | { page: 'leads'; query: URLSearchParams }
  | { page: 'lead'; leadId: string }
  | { page: 'policy' }
  | { page: 'preview'; query: URLSearchParams }
  | { page: 'fairness'; query: URLSearchParams }
  | { page: 'availability' }
  | { page: 'sla' }
  | { page: 'connections' }
  | { page: 'buyers' };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/leads';
  const [pathPart = '', queryPart = ''] = raw.split('?');
  const query = new URLSearchParams(queryPart);
  const parts = pathPart.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  switch (parts[0]) {
    case 'leads':
      return parts[1] ? { page: 'lead', leadId: parts[1] } : { page: 'leads', query };
    case 'policy':
      return { page: 'policy' };
    case 'preview':
      return { page: 'preview', query };
    case 'fairness':
      return { page: 'fairness', query };
    case 'availability':
      return { page: 'availability' };
    case 'sla':
      return { page: 'sla' };
    case 'connections':
      return { page: 'connections' };
    case 'buyers':
      return { page: 'buyers' };
    default:
      return { page: 'leads', query };
  }
}

export function hrefOf(path: string, query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) params.set(k, v);
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export const leadHref = (leadId: string) => `#/leads/${encodeURIComponent(leadId)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(href: string): void {
  if (location.hash === href) dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = href;
}

// ---------------------------------------------------------------------------------------------
// The team (names for IDs), read from the availability board once a minute at most

export interface TeamMember {
  id: string;
  name: string;
  timezone: string | null;
}

let teamCache: { at: number; promise: Promise<TeamMember[]> } | null = null;

export function loadTeam(force = false): Promise<TeamMember[]> {
  if (!force && teamCache && Date.now() - teamCache.at < 60_000) return teamCache.promise;
  const promise = api.availability().then((board) => board.reps.map((r: RepAvailability) => ({ id: r.repId, name: r.name, timezone: r.timezone })));
  teamCache = { at: Date.now(), promise };
  promise.catch(() => {
    if (teamCache?.promise === promise) teamCache = null;
  });
  return promise;
}

export function forgetTeam(): void {
  teamCache = null;
}

/** The team, or null while loading or when the board cannot be read (pages then show IDs). */
export function useTeam(): TeamMember[] | null {
  const [team, setTeam] = useState<TeamMember[] | null>(null);
  useEffect(() => {
    let live = true;
    loadTeam().then(
      (t) => live && setTeam(t),
      () => live && setTeam(null),
    );
    return () => {
      live = false;
    };
  }, []);
  return team;
}

export function nameOf(team: TeamMember[] | null, id: string | null | undefined, known?: string | null): string {
  if (known) return known;
  if (!id) return '—';
  return team?.find((m) => m.id === id)?.name ?? id;
}

// ---------------------------------------------------------------------------------------------
// The policy draft (Policy ⇄ Preview)

export interface PolicyDraft {
  text: string;
  format: PolicyFormat;
  /** The published version the draft started from. */
  basedOn: string;
  savedAt: string;
}

const listeners = new Set<() => void>();
let draftScope = 'anonymous';

export function setDraftScope(session: Session | null): void {
  draftScope = session ? `${session.tenant.id}:${session.user.email}` : 'anonymous';
  listeners.forEach((l) => l());
}

const draftKey = () => `leadrelay.policyDraft:${draftScope}`;

export function readDraft(): PolicyDraft | null {
  try {
    const raw = sessionStorage.getItem(draftKey());
    if (!raw) return null;
    const d = JSON.parse(raw) as Partial<PolicyDraft>;
    if (typeof d.text !== 'string' || (d.format !== 'yaml' && d.format !== 'json')) return null;
    return { text: d.text, format: d.format, basedOn: String(d.basedOn ?? ''), savedAt: String(d.savedAt ?? '') };
  } catch {
    return null;
  }
}

export function writeDraft(draft: PolicyDraft | null): void {
  try {
    if (draft) sessionStorage.setItem(draftKey(), JSON.stringify(draft));
    else sessionStorage.removeItem(draftKey());
  } catch {
    // Storage full or disabled: the draft lives as long as the page.
  }
  listeners.forEach((l) => l());
}

export function clearAllDrafts(): void {
  try {
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const key = sessionStorage.key(i);
      if (key?.startsWith('leadrelay.policyDraft:')) sessionStorage.removeItem(key);
    }
  } catch {
    // nothing stored
  }
}

export function useDraft(): PolicyDraft | null {
  const [draft, setDraft] = useState(readDraft);
  useEffect(() => {
    const l = () => setDraft(readDraft());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return draft;
}
