import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_REP_ON_PTO, DEMO_REPS } from '../../sandbox/seed';
import { launchBrowser } from '../support/browser';
import { demoScenario } from '../support/scenario';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * The operations console in Debian's Chromium against the real stack (dev server, worker, API,
 * sandbox): each test does what an operations person does, by the labels and names on screen.
 * Reps work around the clock in test scenarios; Chloe's PTO and Dieter's meeting are placed
 * around the business clock's now, so nothing here depends on the hour it runs.
 */

const users = {
  admin: { email: 'admin@browser-a.example', password: 'admin-password-a', role: 'admin' as const, name: 'Ada Admin' },
  ops: { email: 'ops@browser-a.example', password: 'ops-password-a', role: 'ops' as const, name: 'Oscar Ops' },
  viewer: { email: 'viewer@browser-a.example', password: 'viewer-password-a', role: 'viewer' as const, name: 'Vera Viewer' },
  otherAdmin: { email: 'admin@browser-b.example', password: 'admin-password-b', role: 'admin' as const, name: 'Bea Admin' },
};

let t: TestStack;
let browser: Browser;
let apiKeyB: string;

beforeAll(async () => {
  t = await startTestStack(demoScenario({ consoleUsers: [users.admin, users.ops, users.viewer] }), demoScenario({ consoleUsers: [users.otherAdmin] }));
  apiKeyB = t.scenarios[1]!.apiKey;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const contexts: BrowserContext[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

/** A fresh browser profile signed in as `user`, on the console's start page. */
async function signedIn(user: { email: string; password: string }, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${t.api}/console/`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // At a phone's width the menu is folded away: the navigation is there but hidden.
  await page.getByRole('navigation', { name: 'Console', includeHidden: true }).waitFor({ state: 'attached' });
  return page;
}

async function go(page: Page, hash: string): Promise<void> {
  await page.goto(`${t.api}/console/${hash}`);
}

/** Retries an assertion until it holds or `ms` pass (the page and the engine catch up). */
async function eventually(check: () => Promise<unknown>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let n = 0;
/** A lead posted with the API and routed; its email is unique to this run. */
async function routedLead(tag: string, apiKey = t.apiKey): Promise<{ leadId: string; email: string; owner: string }> {
  const email = `${tag}-${Date.now().toString(36)}-${++n}@browser-${tag}.example`;
  const posted = await t.request('POST', '/v1/leads', { email, firstName: 'Robin', lastName: `Browser${n}`, company: `Browser ${tag} Inc`, source: 'form' }, { authorization: `Bearer ${apiKey}` });
  expect(posted.status).toBe(202);
  const state = await t.routed(posted.body.leadId, apiKey);
  expect(state.status).toBe('routed');
  return { leadId: posted.body.leadId, email, owner: state.owner!.id };
}

const nameOf = (id: string) => DEMO_REPS.find((r) => t.scenarios[0]!.id(r.id) === id)?.name ?? id;

describe('the console in a real browser', () => {
  it('signs in with the keyboard alone', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${t.api}/console/`);
    await page.getByLabel('Email').focus();
    await page.keyboard.type(users.viewer.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(users.viewer.password);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    // Every page of the menu is a link the keyboard reaches.
    const links = await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents();
    expect(links.join(' ')).toMatch(/Routing log.*SLA queue.*Availability.*Fairness.*Policy.*Preview.*Connections/s);
    await page.getByRole('link', { name: 'Routing log' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await eventually(async () => expect(await page.getByRole('heading', { level: 1 }).textContent()).toMatch(/Availability/), 10_000);
  });

  it('finds a lead by email, says why it went to its owner, and reassigns it to the new owner', async () => {
    const lead = await routedLead('find');
    const page = await signedIn(users.ops);
    await go(page, '#/leads');
    await page.getByLabel('Email (exact)').fill(lead.email.toUpperCase());
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByRole('region', { name: /leads/i }).getByRole('row');
    // The header and exactly this lead: the address is matched through its keyed hash.
    await eventually(async () => expect(await rows.count()).toBe(2), 20_000);
    await page.getByRole('link', { name: /Robin/ }).click();

    const owner = nameOf(lead.owner);
    await eventually(async () => expect(await page.getByTestId('lead-owner').textContent()).toBe(owner), 20_000);
    const why = page.locator('#why');
    await eventually(async () => expect(await why.locator('.why-headline').textContent()).toContain(owner), 20_000);
    // Every rep considered, in words: Chloe is on PTO until a date.
    const chloe = why.getByRole('listitem').filter({ hasText: DEMO_REP_ON_PTO.name }).first();
    await eventually(async () => expect(await chloe.textContent()).toMatch(/On leave.*until/), 10_000);

    const to = DEMO_REPS.map((r) => t.scenarios[0]!.id(r.id)).find((id) => id !== lead.owner && id !== t.scenarios[0]!.id(DEMO_REP_ON_PTO.id))!;
    await page.getByLabel('New owner').selectOption({ label: nameOf(to) });
    await page.getByLabel('Reason').fill('Territory change');
    await page.getByRole('button', { name: 'Reassign', exact: true }).click();
    await eventually(async () => expect(await page.getByTestId('lead-owner').textContent()).toBe(nameOf(to)), 30_000);
    // The engine agrees, and the action is the signed-in person's.
    const state = await t.leadState(lead.leadId);
    expect(state.owner?.id).toBe(to);
    expect(state.reassignments.at(-1)).toMatchObject({ to, actor: users.ops.email, reason: 'Territory change' });
  });

  it('lets a viewer read a lead but not reassign it, on screen or through the API', async () => {
    const lead = await routedLead('viewer');
    const page = await signedIn(users.viewer);
    await go(page, `#/leads/${lead.leadId}`);
    await eventually(async () => expect(await page.getByTestId('lead-owner').textContent()).toBe(nameOf(lead.owner)), 20_000);
    expect(await page.getByRole('form', { name: 'Reassign the lead' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reassign', exact: true }).count()).toBe(0);
    // Even a hand-made request with the session's CSRF token is refused for the role.
    const answer = await page.evaluate(async (leadId) => {
      const session = (await (await fetch('/v1/session')).json()) as { csrfToken: string };
      const res = await fetch(`/v1/leads/${leadId}/reassign`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ ownerId: 'anyone', reason: 'viewer tries' }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }, lead.leadId);
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('forbidden');
    expect((await t.leadState(lead.leadId)).reassignments).toHaveLength(0);
  });

  it('shows a user of one tenant nothing of another tenant', async () => {
    const lead = await routedLead('tenant-a');
    const page = await signedIn(users.otherAdmin);
    await go(page, `#/leads/${lead.leadId}`);
    await eventually(async () => expect(await page.locator('main').textContent()).toMatch(/No lead .+ in this workspace/), 20_000);
    expect(await page.getByTestId('lead-owner').count()).toBe(0);
    await go(page, '#/leads');
    await page.getByLabel('Email (exact)').fill(lead.email);
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(async () => expect(await page.locator('main').textContent()).toContain('No leads match these filters.'), 20_000);
    // Tenant B's own lead is there for B.
    const own = await routedLead('tenant-b', apiKeyB);
    await page.getByLabel('Email (exact)').fill(own.email);
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(async () => expect(await page.getByRole('link', { name: /Robin/ }).count()).toBe(1), 20_000);
  });

  it('edits the policy: shows the error naming a bad field, publishes with a note, and rolls back', async () => {
    // A published version to come back to (a tenant starts on the built-in default).
    const baseline = await t.request('PUT', '/v1/policy?note=baseline', (await t.request('GET', '/v1/policy')).body.policy);
    expect(baseline.status).toBe(200);
    const before = (await t.request('GET', '/v1/policy')).body;
    const page = await signedIn(users.admin);
    await go(page, '#/policy');
    const editor = page.getByLabel(/^Policy \(/);
    await editor.waitFor();
    await page.getByLabel('JSON', { exact: true }).check();
    await eventually(async () => expect((await editor.inputValue()).trim()).toMatch(/^\{/), 10_000);
    const published = JSON.parse(await editor.inputValue());

    // A bad field is named as you type, and Publish stays off.
    await editor.fill(JSON.stringify({ ...published, timezone: 'Mars/Olympus_Mons' }, null, 2));
    const alert = page.locator('#policy-issues').getByRole('alert');
    await eventually(async () => expect(await alert.textContent()).toContain('timezone'), 10_000);
    expect(await page.getByRole('button', { name: 'Publish' }).isDisabled()).toBe(true);

    const zone = published.timezone === 'Europe/Paris' ? 'Europe/Lisbon' : 'Europe/Paris';
    await editor.fill(JSON.stringify({ ...published, timezone: zone }, null, 2));
    await eventually(async () => expect(await page.locator('#policy-issues').textContent()).toContain('The policy is valid.'), 10_000);
    await page.getByLabel('Note (why this change)').fill('Move the calendar to Paris');
    await page.getByRole('button', { name: 'Publish' }).click();
    const versions = page.getByRole('region', { name: 'Policy versions' });
    const next = `v${Number(String(before.version).slice(1)) + 1}`;
    await eventually(async () => expect(await versions.textContent()).toContain('Move the calendar to Paris'), 20_000);
    const afterPublish = (await t.request('GET', '/v1/policy')).body;
    expect(afterPublish).toMatchObject({ version: next, policy: { timezone: zone } });

    await page.getByRole('button', { name: `Roll back to ${before.version}` }).click();
    await page.getByLabel('Note', { exact: true }).fill('Paris was a mistake');
    await page.getByRole('button', { name: `Confirm roll back to ${before.version}` }).click();
    await eventually(async () => expect((await t.request('GET', '/v1/policy')).body.version).toBe(`v${Number(next.slice(1)) + 1}`), 20_000);
    const rolledBack = (await t.request('GET', '/v1/policy')).body;
    expect(rolledBack.policy).toEqual(before.policy);
    const history = (await t.request('GET', '/v1/policy/versions')).body.versions;
    expect(history.slice(-2)).toMatchObject([
      { actor: users.admin.email, note: 'Move the calendar to Paris' },
      { actor: users.admin.email, note: 'Paris was a mistake' },
    ]);
  });

  it('previews a lead against the draft in the editor without writing anything', async () => {
    const page = await signedIn(users.admin);
    await go(page, '#/policy');
    const editor = page.getByLabel(/^Policy \(/);
    await editor.waitFor();
    await page.getByLabel('JSON', { exact: true }).check();
    await eventually(async () => expect((await editor.inputValue()).trim()).toMatch(/^\{/), 10_000);
    const published = JSON.parse(await editor.inputValue());
    // The draft sends every lead to Mei by name; the published policy does not.
    const mei = t.scenarios[0]!.id('usr_mei');
    const draft = { ...published, rules: [{ id: 'all-to-mei', when: { all: [] }, action: { type: 'owner', ownerId: mei } }, ...published.rules] };
    await editor.fill(JSON.stringify(draft, null, 2));
    await eventually(async () => expect(await page.locator('#policy-issues').textContent()).toContain('The policy is valid.'), 10_000);

    const before = { crm: t.events('crm').length, versions: (await t.request('GET', '/v1/policy/versions')).body.versions.length };
    await go(page, '#/preview');
    await page.getByLabel('Email').fill(`preview-${Date.now()}@preview.example`);
    await page.getByLabel('My draft from the Policy page').check();
    await page.getByRole('button', { name: 'Preview routing' }).click();
    const result = page.locator('#preview-result');
    await eventually(async () => expect(await result.textContent()).toContain('Would go to Mei Tan'), 30_000);
    expect(await result.textContent()).toContain('all-to-mei');
    // Nothing written: no CRM call beyond reads, no policy version.
    expect(t.events('crm').slice(before.crm).filter((e) => e.method !== 'GET')).toEqual([]);
    expect((await t.request('GET', '/v1/policy/versions')).body.versions).toHaveLength(before.versions);
  });

  it("reads a pool's fairness: each member's assignments against their share", async () => {
    await routedLead('fair');
    const page = await signedIn(users.viewer);
    await go(page, '#/fairness');
    const table = page.getByRole('table').first();
    await eventually(async () => expect(await table.textContent()).toContain('Ava Chen'), 20_000);
    const text = (await table.textContent())!;
    for (const rep of DEMO_REPS) expect(text).toContain(rep.name);
    expect(await page.locator('canvas[role=img]').count()).toBeGreaterThan(0);
    // The table's counts are the pool's own.
    const stats = (await t.request('GET', '/v1/pools/inbound/stats?period=day')).body;
    const assigned = stats.members.reduce((sum: number, m: { assigned: number }) => sum + m.assigned, 0);
    expect(assigned).toBeGreaterThan(0);
  });

  it('shows a rep on PTO on the availability board, with when it ends, at a phone’s width', async () => {
    const page = await signedIn(users.viewer, { width: 375, height: 812 });
    await go(page, '#/availability');
    const chloe = page.locator('main').getByRole('row').filter({ hasText: DEMO_REP_ON_PTO.name });
    await eventually(async () => expect(await chloe.first().textContent({ timeout: 1_000 })).toMatch(/On leave/), 30_000);
    expect(await chloe.first().textContent()).toMatch(/until/i);
    const ava = page.locator('main').getByRole('row').filter({ hasText: 'Ava Chen' }).first();
    expect(await ava.textContent()).toMatch(/Available/);
  });
});
