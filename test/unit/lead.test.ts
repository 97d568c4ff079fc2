import { hostOf, matchDomains, normalizeLead } from '../../src/domain/lead';
import { LeadInputSchema } from '../../src/domain/leadSchema';

const parse = (body: unknown) => LeadInputSchema.safeParse(body);

describe('the lead input schema', () => {
  it('accepts a minimal lead and defaults the source', () => {
    const result = parse({ email: 'Jane@Acme.com' });
    expect(result.success && result.data).toEqual({ email: 'jane@acme.com', source: 'api' });
  });

  it('names an invalid email and an unknown field', () => {
    const result = parse({ email: 'jane', favouriteColour: 'blue' });
    expect(result.success).toBe(false);
    const issues = result.error!.issues;
    expect(issues.find((i) => i.path[0] === 'email')?.message).toBe('must be a valid email address');
    expect(issues.find((i) => i.code === 'unrecognized_keys')).toMatchObject({ keys: ['favouriteColour'] });
  });

  it('requires an email', () => {
    const result = parse({ firstName: 'Jane' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]?.path).toEqual(['email']);
  });

  it('rejects an unknown source and nested objects in attributes', () => {
    expect(parse({ email: 'a@b.co', source: 'fax' }).success).toBe(false);
    expect(parse({ email: 'a@b.co', attributes: { tier: { nested: true } } }).success).toBe(false);
    expect(parse({ email: 'a@b.co', attributes: { tier: 'A', seats: 40, trial: true, note: null } }).success).toBe(true);
  });
});

describe('lead normalization', () => {
  it('takes the company domain from the website over the email', () => {
    const lead = normalizeLead({ email: 'jane@acme-mail.com', website: 'https://www.Acme.com/pricing', source: 'form' });
    expect(lead).toMatchObject({ emailDomain: 'acme-mail.com', websiteDomain: 'acme.com', companyDomain: 'acme.com', freeEmail: false });
    expect(matchDomains(lead)).toEqual(['acme.com', 'acme-mail.com']);
  });

  it('does not treat a free mailbox domain as a company', () => {
    const lead = normalizeLead({ email: 'jane@gmail.com', source: 'form' });
    expect(lead.companyDomain).toBeNull();
    expect(matchDomains(lead)).toEqual([]);
  });

  it('builds a display name, falling back to the email', () => {
    expect(normalizeLead({ email: 'j@a.io', firstName: ' Jane ', lastName: 'Doe', source: 'api' }).fullName).toBe('Jane Doe');
    expect(normalizeLead({ email: 'j@a.io', source: 'api' }).fullName).toBe('j@a.io');
  });

  it('parses hosts from URLs and bare domains, and refuses what is not one', () => {
    expect(hostOf('acme.com')).toBe('acme.com');
    expect(hostOf('http://WWW.acme.co.uk:8080/x?y')).toBe('acme.co.uk');
    expect(hostOf('not a url')).toBeNull();
    expect(hostOf('localhost')).toBeNull();
  });
});
