import type { RateRule } from './state';
import type { SandboxSystem } from './types';

/**
 * Emulated quotas that stand in for a provider's own limit: the size of the window a request
 * counts against, per emulated provider, system or method. Without quotas (the default of
 * `npm start` and the tests) every emulator keeps the workspace's window (its seed `rateLimit`,
 * else 1,000 requests per 60 s) and the windows it keeps for its provider (HubSpot's search,
 * Pipedrive's search and daily token budget).
 *
 * A table's keys, most specific first:
 *   `provider/system:/path`, `provider:/path`, `system:/path`, `*:/path` — requests whose path
 *       starts with `/path`, counted in a window of their own (Slack's per-method limits);
 *   `provider/system`, `provider`, `system`, `*`.
 * A setting is `{ limit, windowSeconds }` for the window that stands for the provider's own (its
 * `default` window), optionally kept apart per value of a request parameter (`per: 'channel'`:
 * Slack's chat.postMessage limit is per channel), or `off`: every window of that emulator lifted,
 * its provider-specific ones too.
 */
export interface QuotaWindow {
  limit: number;
  windowSeconds: number;
  /** A body or query parameter whose every value gets its own window (e.g. Slack's `channel`). */
  per?: string;
}

export type QuotaSetting = QuotaWindow | 'off';
export type SandboxQuotas = Record<string, QuotaSetting>;

/** A lifted window: it counts, and its headers still show a limit, but nothing comes near it. */
export const LIFTED_LIMIT = 1_000_000_000;

/** The setting that applies to a request, and the table key it came from. */
export interface ResolvedQuota {
  key: string;
  setting: QuotaSetting;
}

/** The most specific setting of `quotas` for a request to `provider`'s `system` emulator at `path`; null when none applies. */
export function quotaFor(quotas: SandboxQuotas, provider: string, system: SandboxSystem, path: string): ResolvedQuota | null {
  const bases = [`${provider}/${system}`, provider, system, '*'];
  for (const base of bases) {
    let best: ResolvedQuota | null = null;
    for (const [key, setting] of Object.entries(quotas)) {
      if (!key.startsWith(`${base}:`)) continue;
      const prefix = key.slice(base.length + 1);
      const matches = path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
      if (matches && (!best || key.length > best.key.length)) best = { key, setting };
    }
    if (best) return best;
  }
  for (const base of bases) {
    const setting = quotas[base];
    if (setting !== undefined) return { key: base, setting };
  }
  return null;
}

/**
 * A rule of the emulator's, as the quota has it: `off` lifts every window (a daily one stays
 * daily); a window setting resizes the `default` window only, and names what keeps it apart
 * (`keySuffix`, added to the window's key) when the setting is per path or per parameter.
 */
export function applyQuota(rule: RateRule, quota: ResolvedQuota | null, params: Record<string, unknown>): { rule: RateRule; keySuffix: string } {
  if (!quota) return { rule, keySuffix: '' };
  const { setting, key } = quota;
  if (setting === 'off') return { rule: { ...rule, limit: LIFTED_LIMIT }, keySuffix: '' };
  if (rule.name !== 'default') return { rule, keySuffix: '' };
  let keySuffix = key.includes(':') ? `|${key}` : '';
  if (setting.per !== undefined) {
    const value = params[setting.per];
    keySuffix += `|${setting.per}=${typeof value === 'string' || typeof value === 'number' ? String(value) : ''}`;
  }
  return { rule: { ...rule, limit: setting.limit, windowSeconds: setting.windowSeconds }, keySuffix };
}

/**
 * One `--quota` override: `key=limit/seconds`, `key=limit/seconds/per-parameter` or `key=off`,
 * e.g. `crm=500/60`, `hubspot=100/10`, `slack:/api/chat.postMessage=1/1/channel`, `slack=off`.
 * The key is everything before the last `=`.
 */
export function parseQuotaOverride(text: string): [string, QuotaSetting] {
  const at = text.lastIndexOf('=');
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  if (at <= 0 || key === '' || value === '') throw new Error(`--quota ${text}: expected key=limit/seconds or key=off (e.g. crm=500/60)`);
  if (/\s/.test(key)) throw new Error(`--quota ${text}: the key has a space in it`);
  if (value === 'off') return [key, 'off'];
  const match = /^(\d+)\/(\d+(?:\.\d+)?)(?:\/([A-Za-z_][\w.-]*))?$/.exec(value);
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(limit) || limit < 1 || !(windowSeconds > 0)) {
    throw new Error(`--quota ${text}: expected a limit of at least 1 and a window in seconds above 0, as limit/seconds (e.g. crm=500/60)`);
  }
  return [key, { limit, windowSeconds, ...(match[3] !== undefined ? { per: match[3] } : {}) }];
}

export const QUOTA_MODES = ['off', 'sandbox', 'real'] as const;
export type QuotaMode = (typeof QUOTA_MODES)[number];

/**
 * The sandbox's quotas for a benchmark mode, with overrides on top: `off` lifts every limit (the
 * engine's capacity, not the providers'), `sandbox` is the sandbox's own windows (undefined: no
 * table), `real` the providers' published limits (`presets`). An override replaces the key it names.
 */
export function quotasFor(mode: QuotaMode, overrides: readonly string[], presets: SandboxQuotas): SandboxQuotas | undefined {
  const base: SandboxQuotas | undefined = mode === 'off' ? { '*': 'off' } : mode === 'real' ? { ...presets } : undefined;
  if (overrides.length === 0) return base;
  const table: SandboxQuotas = { ...base };
  for (const text of overrides) {
    const [key, setting] = parseQuotaOverride(text);
    table[key] = setting;
  }
  return table;
}

/** One line per key, for the benchmark's header: `hubspot 190/10 s, slack:/api/chat.postMessage 1/1 s per channel, * off`. */
export function describeQuotas(quotas: SandboxQuotas | undefined): string {
  if (!quotas) return "the sandbox's own windows (1000 requests per 60 s per provider and system, unless a workspace sets its own)";
  return Object.entries(quotas)
    .map(([key, s]) => (s === 'off' ? `${key} off` : `${key} ${s.limit}/${s.windowSeconds} s${s.per ? ` per ${s.per}` : ''}`))
    .join(', ');
}
