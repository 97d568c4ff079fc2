import type { Policy } from './types';

/** One published version of a tenant's policy. */
export interface PolicyVersion {
  version: number;
  /** Content hash: the same policy published twice keeps its version. */
  hash: string;
  policy: Policy;
  publishedAt: string;
  actor: string;
  note: string | null;
}

export type PolicyVersionSummary = Omit<PolicyVersion, 'policy'>;

export interface PublishPolicyRequest {
  policy: Policy;
  hash: string;
  actor: string;
  note: string | null;
}

/** The policy a lead was routed with: a published version, or the tenant's built-in default. */
export interface EffectivePolicy {
  /** `v3`, or `default-<hash>` when nothing has been published. */
  version: string;
  policy: Policy;
}
