import { canonicalJson } from '../../src/canonicalJson';
import { compileProvider } from '../../src/connectors/definition';
import { PLATFORM_PROVIDERS } from '../../src/connectors/registry';

describe('canonical JSON', () => {
  it('writes the same text for equal values whatever the order of their keys, at any depth', () => {
    const a = { b: 1, a: { y: [1, { q: true, p: null }], x: 'é' } };
    const b = { a: { x: 'é', y: [1, { p: null, q: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":"é","y":[1,{"p":null,"q":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('leaves out undefined members, as JSON does, and keeps array order', () => {
    expect(canonicalJson({ z: undefined, a: [3, 1, 2] })).toBe('{"a":[3,1,2]}');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
  });

  it('gives a provider definition the same digest whatever the order its keys were written in', () => {
    const base = PLATFORM_PROVIDERS.webhook;
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as typeof base;
    expect(compileProvider(reordered).digest).toBe(compileProvider(base).digest);
    expect(compileProvider(base).digest).toMatch(/^[0-9a-f]{12}$/);
  });
});
