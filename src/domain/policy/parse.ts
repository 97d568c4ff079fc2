/**
 * Validating a policy: the zod schema (./schema.ts) with its cross-field checks (./checks.ts),
 * its issues made readable (./explain.ts).
 */
import { explain } from './explain';
import { PolicySchema } from './schema';
import type { Policy } from './types';

export interface PolicyIssue {
  /** Dotted path, array indexes as numbers (`rules.2.when.any.0.regex`); `(root)` for the whole. */
  path: string;
  message: string;
}

export type ParsePolicyResult = { ok: true; policy: Policy } | { ok: false; issues: PolicyIssue[] };

/** Validate a policy. On failure, one issue per problem, each naming the exact path. */
export function parsePolicy(input: unknown): ParsePolicyResult {
  const result = PolicySchema.safeParse(input);
  if (result.success) return { ok: true, policy: result.data };
  const issues: PolicyIssue[] = [];
  const seen = new Set<string>();
  for (const { path, message } of explain(result.error.issues, [], input)) {
    const dotted = path.map(String).join('.') || '(root)';
    const key = `${dotted}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: dotted, message });
  }
  return { ok: false, issues };
}
