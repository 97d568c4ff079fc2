import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PolicyTrace } from '../../src/domain/policy/engine';
import { formatCountdown, formatDuration, formatInstant, reasonWords, repLocalTime, statusWords, viaWords, weekdayWords } from '../../src/console/web/format';
import { checkDraft, lineOfPath, placeIssues, policyDiff, policyText } from '../../src/console/web/policyText';
import { bucketLeads, slaBucket } from '../../src/console/web/sla';
import { whyWords } from '../../src/console/web/why';
import type { LeadRow } from '../../src/console/web/api';

const demoPolicy = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', 'policies', 'demo.policy.json'), 'utf8')) as Record<string, unknown>;
const NOW = Date.parse('2026-01-14T15:00:00Z');
const UTC = { timeZone: 'UTC', nowMs: NOW };

describe('durations', () => {
  it.each([
    [null, '—'],
    [undefined, '—'],
    [250, '250 ms'],
    [45_000, '45 s'],
    [60_000, '1 min'],
    [200_000, '3 min 20 s'],
    [3_600_000, '1 h'],
    [7_500_000, '2 h 5 min'],
    [86_400_000, '1 day'],
    [3 * 86_400_000 + 4 * 3_600_000, '3 days 4 h'],
    [-90_000, '-1 min 30 s'],
  ])('%p ms reads %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('counts down to a time, then says how overdue it is', () => {
    expect(formatCountdown(NOW + 12 * 60_000 + 5_000, NOW)).toBe('12 min 5 s left');
    expect(formatCountdown(NOW - 3 * 60_000, NOW)).toBe('overdue by 3 min');
  });
});

describe('times', () => {
  it('shows an instant in the given zone, with the year only when it is another year', () => {
    expect(formatInstant('2026-01-14T15:04:00Z', UTC)).toBe('Wed 14 Jan, 15:04');
    expect(formatInstant('2026-01-14T15:04:00Z', { timeZone: 'America/New_York', nowMs: NOW })).toBe('Wed 14 Jan, 10:04');
    expect(formatInstant('2025-12-31T23:00:00Z', UTC)).toBe('Wed 31 Dec 2025, 23:00');
    expect(formatInstant('2026-01-14T15:04:09Z', { ...UTC, seconds: true })).toBe('Wed 14 Jan, 15:04:09');
    expect(formatInstant(null)).toBe('—');
    expect(formatInstant('not a time')).toBe('—');
  });

  it("gives a rep's local time with their city", () => {
    expect(repLocalTime('2026-01-14T15:00:00Z', 'Europe/Paris')).toBe('16:00 in Paris');
    expect(repLocalTime('2026-01-14T15:00:00Z', 'America/Argentina/Buenos_Aires')).toBe('12:00 in Buenos Aires');
  });

  it('says weekdays as ranges', () => {
    expect(weekdayWords([1, 2, 3, 4, 5])).toBe('Mon–Fri');
    expect(weekdayWords([1, 3])).toBe('Mon, Wed');
    expect(weekdayWords([1, 2, 6, 7])).toBe('Mon, Tue, Sat, Sun');
    expect(weekdayWords([])).toBe('no days');
  });
});

describe('routing words', () => {
  it('names how an owner was reached and what a status means', () => {
    expect(viaWords('account_owner')).toBe('Account owner');
    expect(viaWords('round_robin')).toBe('Round robin');
    expect(viaWords('manual')).toBe('Reassigned by hand');
    expect(viaWords(null)).toBe('—');
    expect(viaWords('something_new')).toBe('something new');
    expect(statusWords('routed')).toBe('Awaiting acceptance');
    expect(statusWords('deferred')).toBe('Waiting for an opening');
  });

  it('puts every skip reason the engine writes in plain words', () => {
    // The details exactly as src/domain/availability.ts and src/domain/pools.ts write them.
    expect(reasonWords({ code: 'on_leave', detail: 'PTO from 2026-01-12T00:00:00Z to 2026-01-17T00:00:00Z' }, UTC)).toBe('On leave (PTO) until Sat 17 Jan, 00:00');
    expect(reasonWords({ code: 'busy', detail: 'calendar busy from 2026-01-14T14:30:00Z to 2026-01-14T15:30:00Z' }, UTC)).toBe('In a meeting until Wed 14 Jan, 15:30');
    expect(reasonWords({ code: 'outside_hours', detail: '19:30 in Europe/Paris is outside 09:00-17:00 on days 1,2,3,4,5' })).toBe(
      'Outside working hours: 19:30 their time in Paris (works 09:00–17:00, Mon–Fri)',
    );
    expect(reasonWords({ code: 'outside_hours', detail: '07:00 in America/New_York is outside 08:00-16:00 on days 1,2,3,4 (working hours from the calendar)' })).toBe(
      'Outside working hours: 07:00 their time in New York (works 08:00–16:00, Mon–Thu)',
    );
    expect(reasonWords({ code: 'cap_reached', detail: 'cap 5/day reached (5 assigned today)' })).toBe('At their daily cap: 5 assigned today (cap 5)');
    expect(reasonWords({ code: 'paused', detail: 'paused by an operator' })).toBe('Paused by an operator');
    expect(reasonWords({ code: 'inactive', detail: 'HRIS employment status is TERMINATED' })).toBe('Not active in the HR system (terminated)');
    expect(reasonWords({ code: 'not_in_hris', detail: 'no HRIS employee has the email a@b.c' })).toBe('Not found in the HR system');
    expect(reasonWords({ code: 'sla_lapsed', detail: 'let this lead’s SLA lapse' })).toBe('Already let this lead’s acceptance time lapse');
  });

  it('keeps a detail it cannot read rather than inventing one', () => {
    expect(reasonWords({ code: 'on_leave', detail: 'on sabbatical' })).toBe('On leave (on sabbatical)');
    expect(reasonWords({ code: 'cap_reached', detail: 'weird' })).toBe('At their cap (weird)');
  });
});

describe('why this owner', () => {
  const trace: PolicyTrace = {
    policyVersion: 'v3',
    evaluatedAt: '2026-01-14T15:00:00Z',
    rule: { id: 'emea-enterprise', name: 'EMEA enterprise' },
    rules: [
      { ruleId: 'named-accounts', matched: false, detail: 'account.tier equals "strategic": no' },
      { ruleId: 'emea-enterprise', matched: true, detail: 'segment emea: yes' },
    ],
    urgency: 'normal',
    notify: [],
    reason: 'rule emea-enterprise: round robin over 1 of 3 available in pool emea',
    account: { status: 'none', domains: ['acme.de'] },
    candidates: [
      { repId: 'usr_ana', name: 'Ana', eligible: false, reasons: [{ code: 'on_leave', detail: 'PTO from 2026-01-12T00:00:00Z to 2026-01-17T00:00:00Z' }], assumptions: [], timezone: 'Europe/Berlin' },
      { repId: 'usr_ben', name: 'Ben', eligible: true, reasons: [], assumptions: [], timezone: 'Europe/London' },
      { repId: 'usr_cy', name: 'Cy', eligible: false, reasons: [{ code: 'paused', detail: 'paused by an operator' }], assumptions: ['calendar unavailable (timeout); assumed free'] },
    ],
    flagged: null,
    ownerId: null,
    via: 'round_robin',
    slaSeconds: 3600,
    escalationPool: 'emea',
  };

  it('says who got the lead, by which rule and how, and why each other rep did not', () => {
    const words = whyWords(trace, { id: 'usr_ben', name: null }, UTC);
    expect(words.headline).toBe('Ben got this lead: rule “EMEA enterprise (emea-enterprise)” matched, owner reached by round robin.');
    expect(words.account).toBe('No account matched acme.de.');
    expect(words.candidates.map((c) => [c.name, c.chosen, c.reasons])).toEqual([
      ['Ana', false, ['On leave (PTO) until Sat 17 Jan, 00:00']],
      ['Ben', true, ['Available']],
      ['Cy', false, ['Paused by an operator']],
    ]);
    expect(words.candidates[0]!.localTime).toBe('16:00 in Berlin');
    expect(words.candidates[2]!.localTime).toBeNull();
    expect(words.candidates[2]!.assumptions).toEqual(['calendar unavailable (timeout); assumed free']);
  });

  it('says when no rule matched and the fallback took the lead', () => {
    const words = whyWords({ ...trace, rule: null, via: 'fallback', candidates: [] }, { id: 'queue', name: 'Sales queue', via: 'fallback' });
    expect(words.headline).toBe('No rule matched this lead, so it went to the fallback (Sales queue).');
  });

  it('follows a reassignment: the owner now and how they got it', () => {
    const words = whyWords(trace, { id: 'usr_ana', name: 'Ana', via: 'manual' });
    expect(words.headline).toContain('Ana got this lead');
    expect(words.headline).toContain('reassigned by hand');
  });
});

describe('SLA buckets', () => {
  const row = (over: Partial<LeadRow>): LeadRow => ({
    leadId: 'ld_1',
    workflowId: 'lead:t:ld_1',
    runStatus: 'RUNNING',
    status: 'routed',
    owner: 'usr_ana',
    rule: null,
    domain: null,
    startedAt: '2026-01-14T14:00:00Z',
    closedAt: null,
    name: null,
    email: null,
    company: null,
    source: null,
    ownerName: null,
    via: null,
    ruleId: null,
    receivedAt: null,
    routedAt: null,
    acceptedAt: null,
    timeToRouteMs: null,
    timeToAcceptMs: null,
    sla: null,
    escalations: 0,
    ...over,
  });
  const sla = (dueInMin: number) => ({ ownerId: 'usr_ana', dueAt: new Date(NOW + dueInMin * 60_000).toISOString(), escalateAt: new Date(NOW + (dueInMin + 30) * 60_000).toISOString(), reminded: false });

  it('puts a routed lead in awaiting, due soon (under 15 minutes), overdue or escalated', () => {
    expect(slaBucket(row({ sla: sla(40) }), NOW)).toBe('awaiting');
    expect(slaBucket(row({ sla: sla(14) }), NOW)).toBe('due_soon');
    expect(slaBucket(row({ sla: sla(15) }), NOW)).toBe('awaiting');
    expect(slaBucket(row({ sla: sla(-1) }), NOW)).toBe('overdue');
    expect(slaBucket(row({ sla: sla(40), escalations: 1 }), NOW)).toBe('escalated');
    // Overdue again after an escalation: overdue is what needs doing.
    expect(slaBucket(row({ sla: sla(-1), escalations: 1 }), NOW)).toBe('overdue');
  });

  it('leaves out accepted and unrouted leads', () => {
    expect(slaBucket(row({ status: 'accepted', sla: null }), NOW)).toBeNull();
    expect(slaBucket(row({ acceptedAt: '2026-01-14T14:10:00Z', sla: sla(-5) }), NOW)).toBeNull();
    expect(slaBucket(row({ status: 'deferred' }), NOW)).toBeNull();
  });

  it('orders each bucket soonest due first', () => {
    const b = bucketLeads([row({ leadId: 'a', sla: sla(50) }), row({ leadId: 'b', sla: sla(20) }), row({ leadId: 'c', sla: sla(-10) })], NOW);
    expect(b.awaiting.map((r) => r.leadId)).toEqual(['b', 'a']);
    expect(b.overdue.map((r) => r.leadId)).toEqual(['c']);
  });
});

describe('policy editor', () => {
  const yaml = policyText(demoPolicy, 'yaml');
  const json = policyText(demoPolicy, 'json');

  it('accepts the demo policy in YAML and in JSON, with the API schema', () => {
    expect(checkDraft(yaml, 'yaml').ok).toBe(true);
    expect(checkDraft(json, 'json').ok).toBe(true);
  });

  it('names the path and line of a bad field, as the server would', () => {
    const bad = yaml.replace('strategy: round_robin', 'strategy: round_robbin');
    const check = checkDraft(bad, 'yaml');
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.syntax).toBe(false);
    const issue = check.issues[0]!;
    expect(issue.path).toBe('pools.0.strategy');
    expect(issue.message).toMatch(/^must be one of round_robin/);
    expect(bad.split('\n')[issue.line! - 1]).toContain('round_robbin');
  });

  it('suggests the key that was meant for a misspelt one', () => {
    const { timezone, ...rest } = demoPolicy;
    const bad = JSON.stringify({ timezon: timezone, ...rest }, null, 2);
    const check = checkDraft(bad, 'json');
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.issues.map((i) => `${i.path} ${i.message}`)).toEqual(expect.arrayContaining(['timezon is not a recognized field (did you mean "timezone"?)']));
    const line = check.issues.find((i) => i.path === 'timezon')!.line!;
    expect(bad.split('\n')[line - 1]).toContain('"timezon"');
  });

  it('reports a syntax error at its line', () => {
    const check = checkDraft('timezone: UTC\npools: [\nrules: []\n', 'yaml');
    expect(check).toMatchObject({ ok: false, syntax: true });
    if (check.ok) return;
    expect(check.issues[0]!.message).toMatch(/^is not valid YAML/);
    expect(check.issues[0]!.line).toBeGreaterThan(0);
    const jsonCheck = checkDraft('{\n  "timezone": "UTC",\n}', 'json');
    expect(jsonCheck).toMatchObject({ ok: false, syntax: true });
  });

  it("places the API's 400 details on lines too, in text order", () => {
    const placed = placeIssues(yaml, [
      { field: 'rules.0.id', message: 'x' },
      { field: 'pools.0.members.1.repId', message: 'usr_zed is not on the routing team' },
    ].map((d) => ({ path: d.field, message: d.message })));
    expect(placed[0]!.path).toBe('pools.0.members.1.repId');
    expect(yaml.split('\n')[placed[0]!.line! - 1]).toContain('repId');
    expect(lineOfPath(yaml, '(root)')).toBe(1);
    expect(lineOfPath(yaml, 'nowhere.at.all')).toBe(1);
  });

  it('diffs the draft against the published version line by line, folding what did not change', () => {
    const draft = yaml.replace('strategy: round_robin', 'strategy: weighted');
    const diff = policyDiff(yaml, draft);
    expect(diff.added).toBe(1);
    expect(diff.removed).toBe(1);
    expect(diff.lines.filter((l) => l.kind === 'removed')).toEqual([{ kind: 'removed', text: expect.stringContaining('round_robin') }]);
    expect(diff.lines.some((l) => l.kind === 'fold')).toBe(true);
    expect(policyDiff(yaml, yaml)).toMatchObject({ added: 0, removed: 0 });
  });
});
