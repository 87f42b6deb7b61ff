// The technician console (/tech: kiosk-ui/tech.html, tech.js, tech.css) in
// Debian's chromium against the real daemon: a technician added with
// dropkioskctl (fixture.py's tech command) logs in through the form, takes
// a laptop dropped at the kiosk (pty scans) from the intake queue, receives
// it with its charger, sees the disposition rules' proposal, records the
// wipe and reimages it; the reports and the audit trail; a wrong PIN and
// the logout.  axe (WCAG 2.2 A/AA) finds nothing on the login form, the
// queue, the disposition view, the reports and the audit trail, each saved
// as tests/ui/screenshots/tech-*.png; the page logs no script error and no
// Content-Security-Policy violation.
//
// The tests run in order on one page: each starts where the one before it
// left the console.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { axe, describeViolations, openKiosk, shot } from './lib.mjs';

const NAME = 'Pat Okafor';
const BADGE = 'B-7';
const PIN = '4821';
const RULES = ['condition is damaged, not_working -> recycle', 'always -> reimage'];

let k;
let techId;
/* The API's refusals as the page's console tells them: chromium logs each
 * 4xx answer to a fetch as a console error ("Failed to load resource"),
 * which is no script error: they are kept here by method and path, apart
 * from k.errors, and checked to be exactly the refusals the tests cause. */
const refusals = [];
const NETWORK_REFUSAL = /^Failed to load resource: the server responded with a status of (\d+) /;

before(async () => {
    k = await openKiosk({ path: '/tech', goto: false, rules: RULES,
                          viewport: { width: 1280, height: 900 } });
    k.page.on('console', (m) => {
        const refused = m.type() === 'error' && NETWORK_REFUSAL.exec(m.text());
        if (refused) {
            const url = new URL(m.location().url);
            refusals.push(`${refused[1]} ${url.pathname}${url.search}`);
        }
    });
    techId = await k.kiosk.tech(NAME, BADGE, PIN);
    await k.page.goto(k.url);
});

after(async () => {
    await k?.close();
});

/* axe finds nothing, then a screenshot. */
async function check(name) {
    const violations = await axe(k.page);
    assert.deepEqual(violations, [], `${name}: ${describeViolations(violations)}`);
    await shot(k.page, `tech-${name}`);
}

/* The console's own status line (#status) says text. */
async function status(text) {
    await k.page.locator('#status').getByText(text, { exact: true }).waitFor();
}

async function tab(name) {
    const page = k.page;
    await page.getByRole('tab', { name }).click();
    assert.equal(await page.getByRole('tab', { name }).getAttribute('aria-selected'), 'true');
    await page.getByRole('tabpanel', { name }).waitFor();
}

/* The login form, filled and sent. */
async function logIn(badge, pin) {
    const page = k.page;
    await page.locator('#login-form').getByLabel('Badge or technician id').fill(badge);
    await page.locator('#login-form').getByLabel('PIN', { exact: true }).fill(pin);
    await page.getByRole('button', { name: 'Log in' }).click();
}

test('the login form is what a page with no session shows', async () => {
    const page = k.page;
    assert.equal(techId, 'T0001');
    await page.getByRole('heading', { name: 'Technician login' }).waitFor();
    assert.equal(await page.title(), 'dropkiosk technician console');
    assert.ok(await page.locator('#console-view').isHidden());
    assert.ok(await page.getByRole('button', { name: 'Log out' }).isHidden());
    // The badge field has the focus, the PIN field is a password field.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'login-badge');
    assert.equal(await page.getByLabel('PIN', { exact: true }).getAttribute('type'),
                 'password');
    await check('login');
});

test('a wrong PIN is refused on the form and opens nothing', async () => {
    const page = k.page;
    await logIn(BADGE, '0000');
    await status('Wrong badge or PIN.');
    assert.ok(await page.locator('#status').evaluate((e) => e.classList.contains('bad')));
    assert.ok(await page.locator('#console-view').isHidden());
    // The PIN is cleared and has the focus for the next try.
    assert.equal(await page.getByLabel('PIN', { exact: true }).inputValue(), '');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'login-pin');
    assert.deepEqual(await k.sql('SELECT failed_logins FROM technicians'), [[1]]);
    assert.deepEqual(await k.sql("SELECT actor, action, subject FROM audit " +
                                 "WHERE action LIKE 'tech login%'"),
                     [[`tech:${techId}`, 'tech login failed', techId]]);
    const session = await page.request.get(new URL('/api/tech/session', k.url).href);
    assert.equal(session.status(), 401);
});

test('log in through the form with badge and PIN', async () => {
    const page = k.page;
    await logIn(BADGE, PIN);
    await page.locator('#who').getByText(`Logged in: ${NAME} (${techId})`).waitFor();
    assert.ok(await page.locator('#login-view').isHidden());
    assert.equal(await page.getByLabel('PIN', { exact: true }).inputValue(), '');
    assert.equal(await page.getByRole('tab', { name: 'Intake queue' })
        .getAttribute('aria-selected'), 'true');
    await page.getByRole('heading', { name: 'Devices dropped, awaiting intake' }).waitFor();
    // The session cookie is HttpOnly: the page's script never sees it.
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.deepEqual(await k.sql('SELECT failed_logins FROM technicians'), [[0]]);
});

test('intake: a laptop dropped at the kiosk appears in the queue', async () => {
    const page = k.page;
    await page.locator('#queue-table').getByText('Nothing is waiting at this site.').waitFor();
    // At the kiosk, by the scanner: the laptop, its charger, Done, no id.
    // No printer on this site, so Skip ends the visit.
    for (const code of ['104233', 'YES', 'DONE', 'SKIP'])
        await k.scan(code);
    const deadline = Date.now() + 10000;
    while ((await k.sql("SELECT count(*) FROM returns WHERE state = 'dropped'"))[0][0] !== 1) {
        assert.ok(Date.now() < deadline, `no dropped return; log:\n${await k.kiosk.log()}`);
        await page.waitForTimeout(100);
    }
    assert.deepEqual(await k.sql('SELECT asset_tag, charger_declared FROM returns'),
                     [['104233', 1]]);

    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator('#queue-table tbody tr');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    assert.deepEqual(await page.locator('#queue-table thead th').allTextContents(),
                     ['Dropped', 'Site', 'Asset tag', 'Type', 'Days waiting', 'Overdue',
                      'Intake']);
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(1, 6), ['bolling', '104233', 'laptop', '0', 'no']);
    assert.equal(await page.locator('#queue-site').inputValue(), 'bolling');
    await check('queue');
});

test('receive it from the queue: charger present, condition good', async () => {
    const page = k.page;
    await page.getByRole('button', { name: 'Receive 104233' }).click();
    const form = page.locator('#receive-form');
    assert.equal(await form.getByLabel('Asset tag, serial or IMEI').inputValue(), '104233');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'receive-charger');
    await form.getByLabel('Charger').selectOption({ label: 'Present' });
    await form.getByLabel('Condition').selectOption({ label: 'Good' });
    await form.getByRole('button', { name: 'Receive' }).click();
    await page.locator('#receive-result').getByText(
        'Received 104233 (ProBook 450 G8), return 1: charger present.').waitFor();
    assert.ok(!(await page.locator('#receive-result').evaluate(
        (e) => e.classList.contains('bad'))));
    // The queue is empty again, the form ready for the next device.
    await page.locator('#queue-table').getByText('Nothing is waiting at this site.').waitFor();
    assert.equal(await form.getByLabel('Asset tag, serial or IMEI').inputValue(), '');
    assert.deepEqual(await k.sql('SELECT state, charger_verified, condition, technician ' +
                                 'FROM returns'),
                     [['received', 1, 'good', techId]]);
});

test('the disposition tab shows the rules\' proposal; record the wipe, then reimage',
     async () => {
    const page = k.page;
    await tab('Disposition');
    await page.getByRole('heading', { name: 'Disposition', exact: true }).waitFor();
    await page.locator('#propose-form').getByLabel('Asset tag, serial or IMEI').fill('104233');
    await page.getByRole('button', { name: 'Show the proposal' }).click();
    const proposal = page.locator('#proposal');
    await proposal.waitFor();
    const terms = await proposal.locator('dt').allTextContents();
    const values = await proposal.locator('dd').allTextContents();
    const shown = Object.fromEntries(terms.map((term, i) => [term, values[i]]));
    // The second rule matched: the first is for damaged or broken devices.
    const line = readFileSync(k.kiosk.config, 'utf8').split('\n')
        .indexOf(`rule = ${RULES[1]}`) + 1;
    assert.ok(line > 0);
    assert.deepEqual(shown, {
        Asset: '104233  laptop  ProBook 450 G8',
        Return: '#1',
        Condition: 'good',
        Proposal: 'reimage',
        Rule: RULES[1],
        From: `${k.kiosk.config}:${line}`,
    });
    await page.getByRole('heading', { name: '1. Record the data wipe' }).waitFor();
    await check('dispose');

    await page.getByLabel('Method (e.g. powerwash, cryptographic erase)').fill('Windows reset');
    await page.getByLabel('Tool', { exact: true }).fill('Settings');
    await page.getByRole('button', { name: 'Record the wipe' }).click();
    await page.locator('#dispose-result').getByText('Data wipe of 104233 recorded.').waitFor();

    await page.getByRole('button', { name: 'Reimage (back to stock)' }).click();
    await page.locator('#dispose-result').getByText('104233: reimage done.').waitFor();
    assert.ok(await page.locator('#acts').isHidden());
    assert.deepEqual(await k.sql('SELECT state, disposition FROM returns'),
                     [['dispositioned', 'reimage']]);
    const actions = (await k.sql(`SELECT action, subject FROM audit WHERE actor = 'tech:${techId}' ` +
                                 'ORDER BY id')).map(([a, s]) => `${a} ${s}`);
    assert.deepEqual(actions, [`tech login failed ${techId}`, `tech login ${techId}`,
                               'return received 104233', 'wipe recorded 104233',
                               'return dispositioned 104233']);
});

test('the reports: dispositions counts the reimage', async () => {
    const page = k.page;
    await tab('Reports');
    await page.getByRole('heading', { name: 'Reports', exact: true }).waitFor();
    await page.getByLabel('Report', { exact: true }).selectOption('dispositions');
    await page.getByRole('button', { name: 'Show' }).click();
    const table = page.locator('#report-table table');
    await table.locator('tbody tr').first().waitFor();
    await page.locator('#report-table').getByRole('columnheader', { name: 'disposition' })
        .waitFor();
    const rows = await table.locator('tbody tr').evaluateAll(
        (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.deepEqual(rows, [['reimage', '1'], ['reassign', '0'], ['recycle', '0']]);
    const link = page.getByRole('link', { name: 'Download CSV' });
    assert.equal(await link.getAttribute('href'),
                 '/api/tech/report/dispositions?format=csv');
    await check('reports');
});

test('the audit trail: the chain verified, the technician\'s rows newest first', async () => {
    const page = k.page;
    await tab('Audit trail');
    const [[rows]] = await k.sql('SELECT count(*) FROM audit');
    await page.locator('#audit-verdict')
        .getByText(`Chain verified: ${rows} rows intact.`).waitFor();
    const table = page.locator('#audit-table table');
    await table.locator('tbody tr').first().waitFor();
    const shown = await table.locator('tbody tr').evaluateAll(
        (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.equal(shown.length, Math.min(rows, 100));
    const ids = shown.map((r) => Number(r[0]));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    const expected = await k.sql('SELECT id, actor, action, subject FROM audit ' +
                                 'ORDER BY id DESC LIMIT 100');
    assert.deepEqual(shown.map((r) => [Number(r[0]), r[2], r[3], r[4]]), expected);
    assert.ok(shown.some((r) => r[2] === `tech:${techId}`));
    await check('audit');
});

test('logout returns to the login form and ends the session', async () => {
    const page = k.page;
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Technician login' }).waitFor();
    assert.ok(await page.locator('#console-view').isHidden());
    assert.ok(await page.locator('#who').isHidden());
    assert.equal(await page.evaluate(() => document.activeElement.id), 'login-badge');
    const session = await page.request.get(new URL('/api/tech/session', k.url).href);
    assert.equal(session.status(), 401);
    // A page opened again shows the login, not the console.
    await page.reload();
    await page.getByRole('heading', { name: 'Technician login' }).waitFor();
    assert.ok(await page.locator('#console-view').isHidden());
});

test('no script error or policy violation on the console', async () => {
    const log = await k.kiosk.log().catch((e) => String(e));
    // The refusals the tests caused, and no other: no session at the first
    // load, the wrong PIN, no session after the logout.
    assert.deepEqual(refusals, ['401 /api/tech/session', '401 /api/tech/login',
                                '401 /api/tech/session']);
    const others = k.errors.filter((e) => !NETWORK_REFUSAL.test(e.replace(/^console: /, '')));
    assert.deepEqual(others, [], log.slice(-3000));
    assert.equal(k.errors.length, refusals.length);
});
