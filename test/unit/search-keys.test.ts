import { createHmac } from 'node:crypto';
import { companySearchValue, emailSearchHash, SEARCH_KEY_LABEL, searchKey } from '../../src/domain/searchKeys';

describe('the email search hash', () => {
  const secret = 'a-deployment-secret-of-some-length';

  it('is the same for every spelling of an address within a tenant, and not the address', () => {
    const a = emailSearchHash(secret, 'acme', 'Jane.Doe@Example.COM ');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(emailSearchHash(secret, 'acme', 'jane.doe@example.com')).toBe(a);
    expect(a).not.toContain('jane');
    expect(emailSearchHash(secret, 'acme', 'john.doe@example.com')).not.toBe(a);
  });

  it('differs between tenants, so one person cannot be linked across tenants in the visibility store', () => {
    expect(emailSearchHash(secret, 'acme', 'jane@example.com')).not.toBe(emailSearchHash(secret, 'globex', 'jane@example.com'));
    // The tenant and the address are separated: "ab" + "c@x" is not "a" + "bc@x".
    expect(emailSearchHash(secret, 'ab', 'c@x.example')).not.toBe(emailSearchHash(secret, 'a', 'bc@x.example'));
  });

  it('needs the deployment secret, and is never the dedupe hash of the same address under that secret', () => {
    expect(emailSearchHash('another-secret-entirely', 'acme', 'jane@example.com')).not.toBe(emailSearchHash(secret, 'acme', 'jane@example.com'));
    expect(searchKey(secret).equals(createHmac('sha256', secret).update(SEARCH_KEY_LABEL).digest())).toBe(true);
    expect(emailSearchHash(secret, 'acme', 'jane@example.com')).not.toBe(createHmac('sha256', secret).update('jane@example.com').digest('hex'));
  });

  it('keeps the company lower-cased with its spaces collapsed, and nothing for none', () => {
    expect(companySearchValue('  Acme   Corp ')).toBe('acme corp');
    expect(companySearchValue('   ')).toBeNull();
    expect(companySearchValue(undefined)).toBeNull();
  });
});
