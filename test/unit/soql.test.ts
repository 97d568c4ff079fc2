import { executeSoql, SoqlError, type SObjectRow, type SoqlSource } from '../../sandbox/providers/soql';

/** A tiny org: three accounts (one without a website, one without an owner) and two users. */
const ava = { Id: 'u1', Email: 'ava@example.com', Name: 'Ava' };
const ben = { Id: 'u2', Email: 'ben@example.com', Name: 'Ben' };
const ACCOUNTS: SObjectRow[] = [
  { Id: 'a1', Name: 'Acme', Website: 'https://www.acme.com', OwnerId: 'u1', Tier__c: 'A', Owner: ava },
  { Id: 'a2', Name: 'acme labs', Website: 'https://acme-labs.io', OwnerId: 'u2', Tier__c: null, Owner: ben },
  { Id: 'a3', Name: 'Globex 100%', Website: null, OwnerId: 'u9', Tier__c: 'B', Owner: null },
];

const source: SoqlSource = {
  types: [
    { name: 'Account', fields: ['Id', 'Name', 'Website', 'OwnerId', 'Tier__c'], relationships: { Owner: 'User' } },
    { name: 'User', fields: ['Id', 'Email', 'Name'], relationships: {} },
  ],
  rows: (object) => (object === 'Account' ? ACCOUNTS : [ava, ben]),
  attributes: (type, row) => ({ type, url: `/sobjects/${type}/${String(row['Id'])}` }),
};

function ids(soql: string): unknown[] {
  return executeSoql(soql, source).map((r) => r['Id']);
}

function errorOf(soql: string): SoqlError {
  try {
    executeSoql(soql, source);
  } catch (err) {
    expect(err).toBeInstanceOf(SoqlError);
    return err as SoqlError;
  }
  throw new Error(`expected ${soql} to fail`);
}

describe('SOQL subset', () => {
  it('answers the selected fields in select order, with canonical names, attributes and nested relationship records', () => {
    const [first, , third] = executeSoql('select name, OWNER.email, id from ACCOUNT', source);
    expect(first).toEqual({
      attributes: { type: 'Account', url: '/sobjects/Account/a1' },
      Name: 'Acme',
      Owner: { attributes: { type: 'User', url: '/sobjects/User/u1' }, Email: 'ava@example.com' },
      Id: 'a1',
    });
    expect(Object.keys(first ?? {})).toEqual(['attributes', 'Name', 'Owner', 'Id']);
    // A missing related record is null, not an object of nulls.
    expect(third?.['Owner']).toBeNull();
  });

  it('matches LIKE case-insensitively with % and _ as wildcards, and \\% \\_ and regex characters as literals', () => {
    expect(ids("SELECT Id FROM Account WHERE Website LIKE '%ACME%'")).toEqual(['a1', 'a2']);
    expect(ids("SELECT Id FROM Account WHERE Website LIKE '%acme_com'")).toEqual(['a1']);
    expect(ids("SELECT Id FROM Account WHERE Website LIKE '%acme\\_com'")).toEqual([]);
    // The dot is a literal, not "any character".
    expect(ids("SELECT Id FROM Account WHERE Website LIKE '%acme.labs%'")).toEqual([]);
    expect(ids("SELECT Id FROM Account WHERE Name LIKE '%100\\%'")).toEqual(['a3']);
    expect(ids("SELECT Id FROM Account WHERE Name LIKE '100\\%'")).toEqual([]);
  });

  it('compares text case-insensitively with =, != and <>, and null with = null', () => {
    expect(ids("SELECT Id FROM Account WHERE Name = 'ACME'")).toEqual(['a1']);
    expect(ids("SELECT Id FROM Account WHERE Name != 'acme'")).toEqual(['a2', 'a3']);
    expect(ids("SELECT Id FROM Account WHERE Name <> 'acme'")).toEqual(['a2', 'a3']);
    expect(ids('SELECT Id FROM Account WHERE Website = null')).toEqual(['a3']);
    expect(ids('SELECT Id FROM Account WHERE Website != NULL')).toEqual(['a1', 'a2']);
    expect(ids("SELECT Id FROM Account WHERE Owner.Email = 'BEN@example.com'")).toEqual(['a2']);
  });

  it('filters with IN, NOT IN, NOT, and AND/OR grouped by parentheses', () => {
    expect(ids("SELECT Id FROM Account WHERE Tier__c IN ('a', 'B')")).toEqual(['a1', 'a3']);
    expect(ids("SELECT Id FROM Account WHERE Tier__c NOT IN ('A')")).toEqual(['a2', 'a3']);
    expect(ids("SELECT Id FROM Account WHERE NOT Name = 'Acme'")).toEqual(['a2', 'a3']);
    expect(ids("SELECT Id FROM Account WHERE Name LIKE 'acme%' AND (Tier__c = 'A' OR Tier__c = null)")).toEqual(['a1', 'a2']);
    expect(ids("SELECT Id FROM Account WHERE (Name = 'Acme' AND Tier__c = 'B') OR Id = 'a3'")).toEqual(['a3']);
    expect(ids("SELECT Id FROM Account WHERE Id = 'a1' OR Id = 'a2' OR Id = 'zz'")).toEqual(['a1', 'a2']);
  });

  it('rejects AND and OR mixed at one level without parentheses, as Salesforce does', () => {
    const err = errorOf("SELECT Id FROM Account WHERE Id = 'a1' AND Name = 'Acme' OR Id = 'a2'");
    expect(err.errorCode).toBe('MALFORMED_QUERY');
    expect(err.message).toContain("unexpected token: 'OR'");
  });

  it('orders case-insensitively, nulls first unless NULLS LAST, over several keys, and applies LIMIT after ordering', () => {
    expect(ids('SELECT Id FROM Account ORDER BY Name')).toEqual(['a1', 'a2', 'a3']);
    expect(ids('SELECT Id FROM Account ORDER BY Name DESC')).toEqual(['a3', 'a2', 'a1']);
    expect(ids('SELECT Id FROM Account ORDER BY Tier__c')).toEqual(['a2', 'a1', 'a3']);
    expect(ids('SELECT Id FROM Account ORDER BY Tier__c DESC NULLS LAST')).toEqual(['a3', 'a1', 'a2']);
    expect(ids('SELECT Id FROM Account ORDER BY Owner.Name NULLS LAST, Id DESC LIMIT 2')).toEqual(['a1', 'a2']);
    expect(ids('SELECT Id FROM Account ORDER BY Id DESC LIMIT 1')).toEqual(['a3']);
  });

  it('decodes string escapes in literals', () => {
    const quoted: SoqlSource = { ...source, rows: () => [{ Id: 'q1', Name: "O'Neil\\Co", Website: null, OwnerId: 'u1', Tier__c: null, Owner: ava }] };
    expect(executeSoql("SELECT Id FROM Account WHERE Name = 'o\\'neil\\\\co'", quoted).map((r) => r['Id'])).toEqual(['q1']);
  });

  it('answers an unknown field with INVALID_FIELD pointing at its row and column', () => {
    const err = errorOf('SELECT Id, Territory__c FROM Account');
    expect(err.errorCode).toBe('INVALID_FIELD');
    expect(err.message).toBe(
      "\nSELECT Id, Territory__c FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Territory__c' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    expect(errorOf("SELECT Id FROM Account WHERE Owner.Phone = '1'").message).toContain("No such column 'Phone' on entity 'User'");
    expect(errorOf('SELECT Parent.Name FROM Account').message).toContain("Didn't understand relationship 'Parent' in field path");
    // Names in conditions are checked even when no row would reach them.
    expect(errorOf("SELECT Id FROM Account WHERE Id = 'none' AND Nope__c = 'x'").errorCode).toBe('INVALID_FIELD');
  });

  it('answers an unknown object with INVALID_TYPE', () => {
    const err = errorOf('SELECT Id FROM Opportunity');
    expect(err.errorCode).toBe('INVALID_TYPE');
    expect(err.message).toContain("sObject type 'Opportunity' is not supported.");
    expect(err.message).toContain('ERROR at Row:1:Column:16');
  });

  it('answers what it cannot parse with MALFORMED_QUERY at the offending token', () => {
    const cases: Array<[string, string]> = [
      ['SELECT Id FROM Account WHERE', "unexpected token: '<EOF>'"],
      ['SELECT Id Account', "unexpected token: 'Account'"],
      ['SELECT COUNT(Id) FROM Account', "unexpected token: '('"],
      ["SELECT Id FROM Account WHERE Name = 'open", 'unterminated string literal'],
      ["SELECT Id FROM Account WHERE Name = 'a\\qb'", "Illegal character sequence '\\q' in string literal."],
      ['SELECT Id FROM Account WHERE Name LIKE 5', "unexpected token: '5'"],
      ['SELECT Id FROM Account LIMIT -1', "unexpected token: '-1'"],
      ['SELECT Id FROM Account ORDER BY Id LIMIT 5 extra', "unexpected token: 'extra'"],
      ['SELECT Id, Name, id FROM Account', 'duplicate field selected: Id'],
      ['SELECT Id FROM Account WHERE Name > 5', "unexpected token: '>'"],
    ];
    for (const [soql, message] of cases) {
      const err = errorOf(soql);
      expect({ soql, code: err.errorCode }).toEqual({ soql, code: 'MALFORMED_QUERY' });
      expect(err.message).toContain(message);
    }
    expect(errorOf('SELECT Id FROM Account WHERE').message).toContain('ERROR at Row:1:Column:29');
  });
});
