import {
  ACCEPT_LINK_TTL_MS,
  acceptLinkUrl,
  decodeAcceptButtonValue,
  encodeAcceptButtonValue,
  unverifiedTokenTenant,
  verifyAcceptToken,
} from '../../src/accept/tokens';

const SECRET = 'accept-secret';
const NOW = Date.parse('2031-05-05T10:00:00.000Z');
const claims = { tenantId: 'acme', leadId: 'ld_0123456789abcdef01234567', ownerId: 'usr_ben' };

describe('accept links', () => {
  it('point at /v1/accept on the public URL (with or without a trailing slash) with a token valid for seven days', () => {
    for (const base of ['https://leadrelay.example', 'https://leadrelay.example/']) {
      const url = new URL(acceptLinkUrl(base, SECRET, claims, NOW));
      expect(`${url.origin}${url.pathname}`).toBe('https://leadrelay.example/v1/accept');
      const token = url.searchParams.get('token')!;
      expect(verifyAcceptToken(SECRET, token, NOW + ACCEPT_LINK_TTL_MS - 1000)).toEqual({ ok: true, ...claims });
      expect(verifyAcceptToken(SECRET, token, NOW + ACCEPT_LINK_TTL_MS)).toEqual({ ok: false, reason: 'expired' });
    }
    expect(ACCEPT_LINK_TTL_MS).toBe(7 * 86_400_000);
  });

  it('name their tenant before verification (to find its secret), and nothing for what is not a token', () => {
    const token = new URL(acceptLinkUrl('https://leadrelay.example', SECRET, claims, NOW)).searchParams.get('token')!;
    expect(unverifiedTokenTenant(token)).toBe('acme');
    expect(unverifiedTokenTenant('')).toBeNull();
    expect(unverifiedTokenTenant('not-base64-json.x')).toBeNull();
    expect(unverifiedTokenTenant(`${Buffer.from(JSON.stringify({ t: 7 })).toString('base64url')}.x`)).toBeNull();
  });
});

describe("Slack's Accept button value", () => {
  it('is tenant|lead|owner and decodes back to them', () => {
    const value = encodeAcceptButtonValue(claims);
    expect(value).toBe('acme|ld_0123456789abcdef01234567|usr_ben');
    expect(decodeAcceptButtonValue(value)).toEqual(claims);
  });

  it('decodes a value without an owner to a null owner, and missing parts to empty ones the route refuses', () => {
    expect(decodeAcceptButtonValue('acme|ld_0123456789abcdef01234567')).toEqual({ tenantId: 'acme', leadId: 'ld_0123456789abcdef01234567', ownerId: null });
    expect(decodeAcceptButtonValue('acme|ld_0123456789abcdef01234567|')).toEqual({ tenantId: 'acme', leadId: 'ld_0123456789abcdef01234567', ownerId: null });
    expect(decodeAcceptButtonValue('x')).toEqual({ tenantId: 'x', leadId: '', ownerId: null });
    expect(decodeAcceptButtonValue('')).toEqual({ tenantId: '', leadId: '', ownerId: null });
  });

  it('is nothing for a button without a value', () => {
    expect(decodeAcceptButtonValue(null)).toBeNull();
  });
});
