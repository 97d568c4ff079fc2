/**
 * Validation of catalog documents beyond their schemas: every JSONata mapping compiles, filters
 * are sound conditions over `lead.<field>`, and references resolve. Each problem names its path.
 */
import { type z } from 'zod';
import type { FieldIssue } from '../api/errors';
import { fieldIssues } from '../api/errors';
import { checkCondition, walkConditions, type Path } from '../domain/policy/checks';
import { validateEndpoint } from './delivery';
import { privateAddressProblem, secretProblem } from './reach';
import { DOC_SCHEMAS, type Buyer, type Campaign, type DistributionDoc, type DocKind, type Supplier } from './model';
import type { TemplateMap } from './templates';

export type Validated<D> = { ok: true; doc: D } | { ok: false; issues: FieldIssue[] };

const pathText = (path: Path) => path.map(String).join('.');

/** Who the document is for, and what its endpoints may reach (see reach.ts). */
export interface DocScope {
  tenantId: string;
  /** Loopback and private addresses allowed (the sandbox and tests); off in production. */
  allowPrivateUrls: boolean;
}

/** The secrets and addresses of a buyer's endpoints, as the tenant may name them. */
function checkReach(buyer: Buyer, scope: DocScope): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, endpoint] of [['ping', buyer.ping], ['post', buyer.post]] as const) {
    if (!endpoint || endpoint.kind === 'email') continue;
    const urlProblem = scope.allowPrivateUrls ? null : privateAddressProblem(endpoint.url);
    if (urlProblem) issues.push({ field: `${name}.url`, message: urlProblem });
    const auth = endpoint.kind === 'http' ? endpoint.auth : undefined;
    if (!auth) continue;
    const [key, ref] = auth.type === 'basic' ? ['password', auth.password] : ['secret', auth.secret];
    const problem = secretProblem(scope.tenantId, ref.env);
    if (problem) issues.push({ field: `${name}.auth.${key}.env`, message: problem });
  }
  return issues;
}

function checkBuyer(buyer: Buyer, templates: TemplateMap | undefined, scope: DocScope | undefined): FieldIssue[] {
  const issues: FieldIssue[] = scope ? checkReach(buyer, scope) : [];
  if (buyer.filters) {
    walkConditions(buyer.filters, ['filters'], (node, path) => {
      checkCondition(node, path, [], (p, message) => issues.push({ field: pathText(p), message }));
      if ('field' in node && !/^lead\.[^.]+/.test(node.field)) issues.push({ field: pathText([...path, 'field']), message: 'must name a lead field as lead.<field>' });
    });
  }
  if (buyer.ping) issues.push(...validateEndpoint(buyer.ping, 'ping', templates));
  issues.push(...validateEndpoint(buyer.post, 'post', templates));
  if (buyer.post.kind === 'email') issues.push({ field: 'post.kind', message: 'email delivery needs an email connection, which no connector offers yet: use kind "http" or "webhook"' });
  if (buyer.hours && buyer.hours.open === buyer.hours.close) issues.push({ field: 'hours.close', message: 'must differ from hours.open' });
  return issues;
}

function checkCampaign(campaign: Campaign): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const names = Object.keys(campaign.fields);
  campaign.pingFields.forEach((f, i) => {
    if (!names.includes(f)) issues.push({ field: `pingFields.${i}`, message: `"${f}" is not a field of the campaign` });
    else if (campaign.fields[f]?.pii) issues.push({ field: `pingFields.${i}`, message: `"${f}" is contact details (pii) and never goes in a ping` });
  });
  campaign.dedupe?.fields.forEach((f, i) => {
    if (!names.includes(f)) issues.push({ field: `dedupe.fields.${i}`, message: `"${f}" is not a field of the campaign` });
  });
  if (campaign.consent?.trustedForm && !names.includes('trustedform_cert_url')) {
    issues.push({ field: 'consent.trustedForm', message: 'needs a field named trustedform_cert_url (type url)' });
  }
  for (const [name, spec] of Object.entries(campaign.fields)) {
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) issues.push({ field: `fields.${name}.min`, message: 'must not be above max' });
  }
  const seen = new Set<string>();
  campaign.buyers.forEach((id, i) => {
    if (seen.has(id)) issues.push({ field: `buyers.${i}`, message: `"${id}" is listed twice` });
    seen.add(id);
  });
  return issues;
}

/**
 * A document of a kind, validated: schema (defaults applied), then what only the whole document can say.
 * `exists` says whether a referenced document exists (buyers of a campaign, campaigns of a supplier).
 */
export function validateDoc(
  kind: DocKind,
  id: string,
  body: unknown,
  exists: (kind: DocKind, id: string) => boolean,
  templates?: TemplateMap,
  scope?: DocScope,
): Validated<DistributionDoc> {
  const withId = body && typeof body === 'object' && !Array.isArray(body) ? { id, ...(body as object) } : body;
  const parsed = (DOC_SCHEMAS[kind] as z.ZodType<DistributionDoc>).safeParse(withId);
  if (!parsed.success) return { ok: false, issues: fieldIssues(parsed.error) };
  const doc = parsed.data;
  if (doc.id !== id) return { ok: false, issues: [{ field: 'id', message: `must be "${id}" (the id in the path) or left out` }] };
  const issues: FieldIssue[] = [];
  if (kind === 'buyer') issues.push(...checkBuyer(doc as Buyer, templates, scope));
  if (kind === 'campaign') {
    issues.push(...checkCampaign(doc as Campaign));
    (doc as Campaign).buyers.forEach((b, i) => {
      if (!exists('buyer', b)) issues.push({ field: `buyers.${i}`, message: `"${b}" is not a buyer (PUT /v1/buyers/${b} first)` });
    });
  }
  if (kind === 'supplier') {
    (doc as Supplier).campaigns.forEach((c, i) => {
      if (!exists('campaign', c)) issues.push({ field: `campaigns.${i}`, message: `"${c}" is not a campaign` });
    });
  }
  return issues.length ? { ok: false, issues } : { ok: true, doc };
}
