import { createHmac } from 'node:crypto';
import { signAcceptToken, verifyAcceptToken } from '../../src/accept/tokens';
import { parseSlackInteraction, slackSignature, verifySlackSignature } from '../../src/api/signatures';

/** Slack's documented signing example (api.slack.com/authentication/verifying-requests-from-slack). */
const SLACK_EXAMPLE = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
    '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
    '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
    '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const EXAMPLE_NOW_MS = Number(SLACK_EXAMPLE.timestamp) * 1000;

function verifyExample(overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) {
  return verifySlackSignature({
    signingSecret: SLACK_EXAMPLE.secret,
    timestamp: SLACK_EXAMPLE.timestamp,
    signature: SLACK_EXAMPLE.signature,
    rawBody: SLACK_EXAMPLE.body,
    nowMs: EXAMPLE_NOW_MS,
    ...overrides,
  });
}

describe('Slack request signing', () => {
  it("computes exactly the signature in Slack's documented example", () => {
    expect(slackSignature(SLACK_EXAMPLE.secret, SLACK_EXAMPLE.timestamp, SLACK_EXAMPLE.body)).toBe(SLACK_EXAMPLE.signature);
  });

  it("accepts Slack's documented example request, as a string or as the raw Buffer", () => {
    expect(verifyExample()).toEqual({ ok: true });
    expect(verifyExample({ rawBody: Buffer.from(SLACK_EXAMPLE.body, 'utf8') })).toEqual({ ok: true });
  });

  it('rejects a body changed by one byte', () => {
    const tampered = SLACK_EXAMPLE.body.replace('user_name=roadrunner', 'user_name=roadrunnes');
    expect(tampered).toHaveLength(SLACK_EXAMPLE.body.length);
    expect(verifyExample({ rawBody: tampered })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature made with another secret or for another timestamp', () => {
    expect(verifyExample({ signingSecret: 'another-secret' })).toEqual({ ok: false, reason: 'bad_signature' });
    const otherTs = String(Number(SLACK_EXAMPLE.timestamp) + 1);
    expect(verifyExample({ timestamp: otherTs })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('treats a correctly signed request 301 s in the past as stale (replay)', () => {
    expect(verifyExample({ nowMs: EXAMPLE_NOW_MS + 301_000 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('treats a correctly signed request 301 s in the future as stale (clock skew either way)', () => {
    expect(verifyExample({ nowMs: EXAMPLE_NOW_MS - 301_000 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('accepts a request exactly at the 300 s edge of the window', () => {
    expect(verifyExample({ nowMs: EXAMPLE_NOW_MS + 300_000 })).toEqual({ ok: true });
    expect(verifyExample({ nowMs: EXAMPLE_NOW_MS - 300_000 })).toEqual({ ok: true });
  });

  it('treats a non-numeric timestamp as stale, since it cannot be shown to be fresh', () => {
    expect(verifyExample({ timestamp: 'yesterday' })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyExample({ timestamp: '1531420618.5' })).toEqual({ ok: false, reason: 'stale' });
  });

  it('reports missing (or empty) timestamp and signature headers', () => {
    expect(verifyExample({ timestamp: undefined })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyExample({ signature: undefined })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyExample({ timestamp: '', signature: '' })).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('rejects a signature of a different length without throwing', () => {
    for (const signature of ['v0=', 'v0=abc', `${SLACK_EXAMPLE.signature}00`, SLACK_EXAMPLE.signature.slice(3), 'v0=é']) {
      expect(() => verifyExample({ signature })).not.toThrow();
      expect(verifyExample({ signature })).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuses to verify with an empty signing secret (misconfiguration fails closed)', () => {
    expect(() => verifyExample({ signingSecret: '' })).toThrow(/must not be empty/);
  });
});

/** A block_actions payload as Slack posts it when a button in a message is clicked (trimmed). */
function blockActionsPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: 'U2CERLKJA', username: 'roadrunner', name: 'roadrunner', team_id: 'T1DC2JH3J' },
    api_app_id: 'A0KRD7HC3',
    token: 'Shh_its_a_seekrit',
    container: { type: 'message', message_ts: '1548261231.000200', channel_id: 'C0LAN2Q65', is_ephemeral: false },
    trigger_id: '12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3',
    team: { id: 'T1DC2JH3J', domain: 'testteamnow' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: 'C0LAN2Q65', name: 'leads' },
    response_url: 'https://hooks.slack.com/actions/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
    actions: [
      {
        type: 'button',
        block_id: 'lead_actions',
        action_id: 'lead.accept',
        text: { type: 'plain_text', text: 'Accept', emoji: true },
        value: 'lead_01HZX3K8Y7',
        style: 'primary',
        action_ts: '1548426417.840180',
      },
    ],
    ...overrides,
  };
}

function formEncode(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

describe('parseSlackInteraction', () => {
  it('extracts the action id/value, user, team and response_url from a form-encoded block_actions payload', () => {
    expect(parseSlackInteraction(formEncode(blockActionsPayload()))).toEqual({
      ok: true,
      type: 'block_actions',
      user: { id: 'U2CERLKJA', username: 'roadrunner', name: 'roadrunner' },
      teamId: 'T1DC2JH3J',
      responseUrl: 'https://hooks.slack.com/actions/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
      actions: [{ actionId: 'lead.accept', value: 'lead_01HZX3K8Y7' }],
    });
  });

  it('gives null for absent team, response_url (modal actions) and value (select elements)', () => {
    const payload = blockActionsPayload({
      team: null,
      response_url: undefined,
      user: { id: 'U2CERLKJA' },
      actions: [{ type: 'static_select', action_id: 'lead.snooze', selected_option: { value: '15m' } }],
    });
    expect(parseSlackInteraction(formEncode(payload))).toEqual({
      ok: true,
      type: 'block_actions',
      user: { id: 'U2CERLKJA' },
      teamId: null,
      responseUrl: null,
      actions: [{ actionId: 'lead.snooze', value: null }],
    });
  });

  it('rejects a view_submission (a real interaction, but not one we handle)', () => {
    const body = formEncode({ type: 'view_submission', user: { id: 'U2CERLKJA' }, view: { id: 'V0PKB1ZFV' } });
    expect(parseSlackInteraction(body)).toEqual({ ok: false, reason: 'unsupported_type' });
  });

  it('rejects a body without a (non-empty) payload field, including garbage', () => {
    expect(parseSlackInteraction('')).toEqual({ ok: false, reason: 'missing_payload' });
    expect(parseSlackInteraction('\u0000garbage=%%%&payload=')).toEqual({ ok: false, reason: 'missing_payload' });
    expect(parseSlackInteraction('token=abc&team_id=T1')).toEqual({ ok: false, reason: 'missing_payload' });
  });

  it('rejects a payload that is not JSON', () => {
    expect(parseSlackInteraction('payload=%7Bnot-json')).toEqual({ ok: false, reason: 'bad_json' });
  });

  it('rejects JSON that is not a Slack interaction or a block_actions payload missing required fields', () => {
    expect(parseSlackInteraction(formEncode([1, 2, 3]))).toEqual({ ok: false, reason: 'invalid_payload' });
    expect(parseSlackInteraction(formEncode('block_actions'))).toEqual({ ok: false, reason: 'invalid_payload' });
    expect(parseSlackInteraction(formEncode(blockActionsPayload({ user: undefined })))).toEqual({ ok: false, reason: 'invalid_payload' });
    expect(parseSlackInteraction(formEncode(blockActionsPayload({ actions: [] })))).toEqual({ ok: false, reason: 'invalid_payload' });
    expect(parseSlackInteraction(formEncode(blockActionsPayload({ actions: [{ value: 'x' }] })))).toEqual({ ok: false, reason: 'invalid_payload' });
  });
});

describe('signed accept tokens', () => {
  const SECRET = 'accept-link-secret-for-tests';
  const NOW_MS = Date.parse('2030-01-07T15:00:00.000Z');
  const CLAIMS = { leadId: 'lead_01HZX3K8Y7', ownerId: 'owner_ana', tenantId: 'acme', expiresAtMs: NOW_MS + 15 * 60_000 };

  /** Replaces the claims part of a token with re-encoded JSON, keeping the original MAC. */
  function withClaims(token: string, claims: Record<string, unknown>): string {
    const mac = token.split('.')[1] ?? '';
    return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
  }

  it('round-trips: a freshly signed token verifies to its lead, owner and tenant', () => {
    const token = signAcceptToken(SECRET, CLAIMS);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyAcceptToken(SECRET, token, NOW_MS)).toEqual({ ok: true, leadId: 'lead_01HZX3K8Y7', ownerId: 'owner_ana', tenantId: 'acme' });
  });

  it('encodes the documented claims {l, o, t, e} with e in epoch seconds', () => {
    const [first] = signAcceptToken(SECRET, CLAIMS).split('.');
    expect(JSON.parse(Buffer.from(first ?? '', 'base64url').toString('utf8'))).toEqual({
      l: 'lead_01HZX3K8Y7',
      o: 'owner_ana',
      t: 'acme',
      e: Math.floor(CLAIMS.expiresAtMs / 1000),
    });
  });

  it('rejects a token whose claims were changed (another owner, later expiry) as bad_signature', () => {
    const token = signAcceptToken(SECRET, CLAIMS);
    const e = Math.floor(CLAIMS.expiresAtMs / 1000);
    const stolen = withClaims(token, { l: 'lead_01HZX3K8Y7', o: 'owner_mallory', t: 'acme', e });
    const extended = withClaims(token, { l: 'lead_01HZX3K8Y7', o: 'owner_ana', t: 'acme', e: e + 86_400 });
    expect(verifyAcceptToken(SECRET, stolen, NOW_MS)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAcceptToken(SECRET, extended, NOW_MS)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a token whose signature was altered, truncated or made with another secret', () => {
    const token = signAcceptToken(SECRET, CLAIMS);
    const [first, mac] = token.split('.') as [string, string];
    const flipped = `${first}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    expect(verifyAcceptToken(SECRET, flipped, NOW_MS)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAcceptToken(SECRET, `${first}.${mac.slice(0, -4)}`, NOW_MS)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAcceptToken('another-secret', token, NOW_MS)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects an expired token, and accepts it up to the second before expiry', () => {
    const token = signAcceptToken(SECRET, CLAIMS);
    expect(verifyAcceptToken(SECRET, token, CLAIMS.expiresAtMs - 1000)).toMatchObject({ ok: true });
    expect(verifyAcceptToken(SECRET, token, CLAIMS.expiresAtMs)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyAcceptToken(SECRET, token, CLAIMS.expiresAtMs + 3_600_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects malformed strings', () => {
    const token = signAcceptToken(SECRET, CLAIMS);
    for (const bad of ['', '.', 'abc', `${token}.extra`, token.replace('.', '!'), `${token.split('.')[0]}.`, 'a b.c d', 'eyJ=.abc=']) {
      expect(verifyAcceptToken(SECRET, bad, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('rejects a correctly signed token whose claims are not the expected shape as malformed', () => {
    // Signed with the real secret, so only the claims check can refuse it.
    const encoded = Buffer.from(JSON.stringify({ l: 'lead_1', o: 'owner_ana' })).toString('base64url');
    const mac = createHmac('sha256', SECRET).update(encoded).digest('base64url');
    expect(verifyAcceptToken(SECRET, `${encoded}.${mac}`, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to sign with an empty secret or empty claims', () => {
    expect(() => signAcceptToken('', CLAIMS)).toThrow(/must not be empty/);
    expect(() => signAcceptToken(SECRET, { ...CLAIMS, ownerId: '' })).toThrow();
  });
});
