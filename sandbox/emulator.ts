import type { RateRule, RateStatus, SandboxState, WorkspaceRuntime } from './state';
import type { SandboxSystem } from './types';
import type { HttpError, Reply } from './wire';

/**
 * One provider's emulator: the paths it owns, how it authenticates, its routes, and the shapes
 * of its errors, rate-limit headers and limit answer. The server's pipeline is shared: every
 * emulator gets faults, rate windows, latency, idempotent replay and the event log the same way.
 */
export interface EmulatorRequest {
  method: string;
  path: string;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body exactly as sent (signatures are computed over it). */
  rawBody: string;
  /** JSON or form body, parsed; null when there was none. */
  body: unknown;
  now: number;
}

export interface EmulatorAuth {
  workspace: WorkspaceRuntime | null;
  /** The workspace the request named or its credential resolved to, for the event log. */
  claimed: string | null;
  /** Set when authentication failed: thrown into the emulator's own error format. */
  error: HttpError | null;
}

export interface RouteContext {
  ws: WorkspaceRuntime;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  rawBody: string;
  /** Epoch ms of the request's arrival (the sandbox clock, which tests may fake). */
  now: number;
  state: SandboxState;
}

export interface EmulatorRoute {
  method: string;
  /** Segments; a `:name` segment captures. */
  pattern: string;
  /** Whether an Idempotency-Key header makes a repeat return the first reply. */
  idempotent?: boolean;
  handle(ctx: RouteContext): Reply;
}

export interface ProviderEmulator {
  /** The provider ID, as in connection configuration (e.g. `salesforce`). */
  provider: string;
  system: SandboxSystem;
  /** Path prefixes this emulator owns (the longest matching prefix wins across emulators). */
  prefixes: string[];
  authenticate(req: EmulatorRequest, state: SandboxState): EmulatorAuth;
  routes: EmulatorRoute[];
  /**
   * The windows a request counts against, in order (counting stops at the first one it exceeds).
   * Without this, every request counts against the workspace's own window only.
   */
  rateRules?(req: EmulatorRequest, workspace: WorkspaceRuntime | null): RateRule[];
  /**
   * Rate-limit headers on every answer, in the provider's own names and units. `rate` is the
   * window that refused the request, else the first one counted; `all` every window counted.
   */
  rateHeaders(rate: RateStatus, now: number, all: readonly RateStatus[]): Record<string, string>;
  /** The provider's own answer once a window is exhausted (its limit signal); `rate.window` says which. */
  rateLimited(rate: RateStatus, now: number): Reply;
  /** An error in the provider's own wire format. */
  errorReply(err: HttpError): Reply;
}

export function matchRoute(routes: EmulatorRoute[], method: string, path: string): { route: EmulatorRoute; params: Record<string, string> } | null {
  const segments = path.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchPattern(route.pattern.split('/'), segments);
    if (params) return { route, params };
  }
  return null;
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i] ?? '';
    if (part.startsWith(':')) {
      if (segment === '') return null;
      params[part.slice(1)] = safeDecode(segment);
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The `index`th segment of a path (0 is the empty one before the first slash), decoded; null when absent. */
export function pathSegment(path: string, index: number): string | null {
  const segment = path.split('/')[index];
  return segment ? safeDecode(segment) : null;
}

/** The emulator owning `path`: the one with the longest matching prefix. */
export function emulatorFor(emulators: readonly ProviderEmulator[], path: string): ProviderEmulator | null {
  let best: { emulator: ProviderEmulator; length: number } | null = null;
  for (const emulator of emulators) {
    for (const prefix of emulator.prefixes) {
      const owns = path === prefix.replace(/\/$/, '') || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
      if (owns && (!best || prefix.length > best.length)) best = { emulator, length: prefix.length };
    }
  }
  return best?.emulator ?? null;
}

// ------------------------------------------------------------------------------ credential helpers

export function bearerToken(headers: Record<string, string>): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers['authorization'] ?? '');
  return match?.[1] ?? null;
}

/** HTTP Basic credentials, or null. */
export function basicCredentials(headers: Record<string, string>): { user: string; password: string } | null {
  const match = /^Basic\s+(\S+)\s*$/i.exec(headers['authorization'] ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  return at < 0 ? null : { user: decoded.slice(0, at), password: decoded.slice(at + 1) };
}

/** Authenticates by a workspace's static token (API keys, bot tokens). */
export function byToken(state: SandboxState, token: string | null, error: () => HttpError): EmulatorAuth {
  const ws = token !== null ? (state.workspaceByToken(token) ?? null) : null;
  return { workspace: ws, claimed: ws?.seed.id ?? null, error: ws ? null : error() };
}

/** Authenticates by an OAuth access token this sandbox issued for `provider` (expired ones fail). */
export function byAccessToken(state: SandboxState, provider: string, token: string | null, now: number, error: (reason: string) => HttpError): EmulatorAuth {
  if (token === null) return { workspace: null, claimed: null, error: error('missing bearer token') };
  const issued = state.accessToken(token);
  if (!issued || issued.provider !== provider) return { workspace: null, claimed: null, error: error('unknown access token') };
  if (issued.expiresAt <= now) return { workspace: null, claimed: issued.workspaceId, error: error('access token expired') };
  const ws = state.workspaceById(issued.workspaceId) ?? null;
  return { workspace: ws, claimed: issued.workspaceId, error: ws ? null : error('workspace gone') };
}
