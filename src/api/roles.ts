import type { RequestHandler } from 'express';
import { CONSOLE_ROLES, type ConsoleRole } from '../console/users';
import { principalOf } from './auth';
import { ApiError } from './errors';

/**
 * Who may do what in the console: one table of method + path → the least role, read top to
 * bottom (first match wins). Reading is for everyone; what is not listed and changes state needs
 * an admin, so a new write route is safe until someone decides otherwise here. API keys act as
 * admins (they are the tenant's own integrations).
 */

export interface RoleRule {
  methods: readonly string[];
  /** `/v1/leads/:leadId/reassign`: each `:name` is one path segment; `*` is any path. */
  path: string;
  role: ConsoleRole;
  /** What the rule allows, for the refusal: "Your role (viewer) cannot <action>". */
  action: string;
}

export const ROLE_RULES: readonly RoleRule[] = [
  { methods: ['GET', 'HEAD'], path: '*', role: 'viewer', action: 'read' },
  { methods: ['DELETE'], path: '/v1/session', role: 'viewer', action: 'sign out' },
  { methods: ['POST'], path: '/v1/policy/simulate', role: 'viewer', action: 'preview leads against a policy' },
  { methods: ['POST'], path: '/v1/leads/:leadId/reassign', role: 'ops', action: 'reassign leads' },
  { methods: ['POST'], path: '/v1/leads/:leadId/accept', role: 'ops', action: 'accept leads' },
  { methods: ['POST'], path: '/v1/buyers/:id/pause', role: 'ops', action: 'pause buyers' },
  { methods: ['POST'], path: '/v1/buyers/:id/resume', role: 'ops', action: 'resume buyers' },
  { methods: ['POST'], path: '/v1/leads/:leadId/returns', role: 'ops', action: 'return leads' },
  { methods: ['POST'], path: '/v1/leads/:leadId/returns/:buyerId/decision', role: 'ops', action: 'decide returns' },
  { methods: ['POST'], path: '/v1/quarantine/:id/replay', role: 'ops', action: 'replay quarantined events' },
  { methods: ['POST'], path: '/v1/quarantine/:id/discard', role: 'ops', action: 'discard quarantined events' },
  { methods: ['DELETE'], path: '/v1/leads/:leadId', role: 'admin', action: 'erase leads' },
  { methods: ['PUT'], path: '/v1/policy', role: 'admin', action: 'publish policies' },
  { methods: ['POST'], path: '/v1/policy/rollback', role: 'admin', action: 'roll back policies' },
  { methods: ['PUT'], path: '/v1/:catalog/:id', role: 'admin', action: 'change the distribution catalog' },
  { methods: ['POST'], path: '/v1/connections/:category/reauthorize', role: 'admin', action: 're-authorize connections' },
];

/** Anything that changes state and is not in the table. */
const DEFAULT_RULE: RoleRule = { methods: ['*'], path: '*', role: 'admin', action: 'make this change' };

function pattern(path: string): RegExp {
  if (path === '*') return /^/;
  const body = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  // As Express matches routes: case-insensitive, a trailing slash allowed.
  return new RegExp(`^${body}/?$`, 'i');
}

const COMPILED = ROLE_RULES.map((rule) => ({ rule, regex: pattern(rule.path) }));

export function rank(role: ConsoleRole): number {
  return CONSOLE_ROLES.indexOf(role);
}

/** The rule that decides a request. */
export function ruleFor(method: string, path: string): RoleRule {
  const m = method.toUpperCase();
  return COMPILED.find(({ rule, regex }) => rule.methods.includes(m) && regex.test(path))?.rule ?? DEFAULT_RULE;
}

/** Whether `role` may make the request. */
export function allows(role: ConsoleRole, method: string, path: string): boolean {
  return rank(role) >= rank(ruleFor(method, path).role);
}

function whoCan(role: ConsoleRole): string {
  const roles = CONSOLE_ROLES.slice(rank(role));
  return roles.length > 1 ? `${roles.slice(0, -1).join(', ')} or ${roles.at(-1)!}` : roles[0]!;
}

/** Applies the table to signed-in console users (after authenticate); API keys pass. */
export const authorize: RequestHandler = (req, _res, next) => {
  const principal = principalOf(req);
  if (principal.via !== 'session') return next();
  const rule = ruleFor(req.method, req.path);
  if (rank(principal.role) >= rank(rule.role)) return next();
  next(new ApiError(403, 'forbidden', `Your role (${principal.role}) cannot ${rule.action}: ${whoCan(rule.role)} can`));
};
