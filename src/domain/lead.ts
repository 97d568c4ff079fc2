import type { LeadInput } from './leadSchema';

/** Pure lead normalization: no dependencies, so workflow code can run it. */

/** Mailbox providers whose domain says nothing about the lead's company. */
const FREE_MAIL_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'live.com', 'msn.com',
  'icloud.com', 'me.com', 'aol.com', 'proton.me', 'protonmail.com', 'gmx.com', 'gmx.de', 'mail.com',
  'yandex.com', 'zoho.com', 'fastmail.com', 'hey.com', 'web.de',
]);

export interface NormalizedLead {
  email: string;
  emailDomain: string;
  freeEmail: boolean;
  /** Host of the lead's website (lower case, no `www.`), when one was given and parses. */
  websiteDomain: string | null;
  /** The domain that best identifies the lead's company: website, else a business email domain. */
  companyDomain: string | null;
  firstName: string | null;
  lastName: string | null;
  fullName: string;
  company: string | null;
  phone: string | null;
  title: string | null;
  country: string | null;
  source: LeadInput['source'];
  externalId: string | null;
  attributes: Record<string, string | number | boolean | null>;
}

/** Host of a URL or bare domain, lower case, without a leading `www.`; null when it is not one. */
export function hostOf(urlOrDomain: string): string | null {
  const trimmed = urlOrDomain.trim().toLowerCase();
  if (!trimmed) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`;
  let host: string;
  try {
    host = new URL(withScheme).hostname;
  } catch {
    return null;
  }
  host = host.replace(/^www\./, '').replace(/\.$/, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : null;
}

/** The comparable form of an email address, as a normalized lead carries it. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Pure: the same input always gives the same normalized lead (safe inside workflow code). */
export function normalizeLead(input: LeadInput): NormalizedLead {
  const email = normalizeEmail(input.email);
  const emailDomain = email.slice(email.lastIndexOf('@') + 1);
  const freeEmail = FREE_MAIL_DOMAINS.has(emailDomain);
  const websiteDomain = input.website ? hostOf(input.website) : null;
  const firstName = input.firstName?.trim() || null;
  const lastName = input.lastName?.trim() || null;
  const fullName = [firstName, lastName].filter(Boolean).join(' ') || email;
  return {
    email,
    emailDomain,
    freeEmail,
    websiteDomain,
    companyDomain: websiteDomain ?? (freeEmail ? null : emailDomain),
    firstName,
    lastName,
    fullName,
    company: input.company?.trim() || null,
    phone: input.phone?.trim() || null,
    title: input.title?.trim() || null,
    country: input.country?.trim() || null,
    source: input.source,
    externalId: input.externalId ?? null,
    attributes: input.attributes ?? {},
  };
}

/** The domains to look an account up by, most specific first, without repeats. */
export function matchDomains(lead: NormalizedLead): string[] {
  const domains = [lead.websiteDomain, lead.freeEmail ? null : lead.emailDomain].filter(
    (d): d is string => d !== null,
  );
  return [...new Set(domains)];
}
