// The staff screens (kiosk-ui/) in Debian's chromium against the real
// daemon: the whole visit in English and in Arabic, the special outcomes,
// a keyboard-wedge scan that must not press the focused button, the idle
// warning and reset, axe (WCAG 2.2 A/AA) with no violation on every screen,
// and a screenshot of each in tests/ui/screenshots/kiosk-*.png.
//
// The receipt screen is the real daemon's: a finished visit stays on it
// until the next input, a Cancel or the idle time.  The phone checklist
// ([kiosk] checklist = yes) runs on a second daemon (openKiosk({ checklist:
// true })).  Outcomes the fixture's data cannot reach (a recycled
// asset, a full visit, a printer out of paper...) and the out-of-service
// screen are shown from a view served by the test itself in place of
// /api/events.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { UI_DIR, axe, describeViolations, openKiosk, shot, watchEvents } from './lib.mjs';

const EN = JSON.parse(readFileSync(join(UI_DIR, 'i18n', 'en.json'), 'utf8'));
const HAS_AR = existsSync(join(UI_DIR, 'i18n', 'ar.json'));
const OTHER = HAS_AR ? 'ar' : 'es';
const OTHER_WORDS = JSON.parse(readFileSync(join(UI_DIR, 'i18n', `${OTHER}.json`), 'utf8'));

let k;
let ev;
let posts;

before(async () => {
    k = await openKiosk({ printer: true, viewport: { width: 1280, height: 800 } });
    posts = [];
    k.page.on('request', (r) => {
        if (r.url().endsWith('/api/input'))
            posts.push(JSON.parse(r.postData()));
    });
    ev = await watchEvents(k.page);
});

after(async () => {
    await k?.close();
});

/* Wait until the page shows screen (the section's id without "screen-"). */
async function onScreen(page, id) {
    await page.locator(`#screen-${id}`).waitFor({ state: 'visible', timeout: 10000 });
}

/* axe finds nothing, then a screenshot. */
async function check(page, name) {
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${name}: ${describeViolations(violations)}`);
    await shot(page, `kiosk-${name}`);
}

async function post(data) {
    const resp = await k.page.request.post(new URL('/api/input', k.url).href, { data });
    assert.equal(resp.status(), 202);
}

/* The first state at index since or later of watch (ev by default) for
 * which pred(view) is true. */
async function lastState(pred, since, watch = ev) {
    return (await watch.waitFor((e) => e.name === 'state' && pred(e.data), { since })).data;
}

/* The receipt the English visit ended with, as the daemon pushed it. */
let receiptView = null;

test('the whole visit in English: touch, on-screen entry, keys and the scanner', async () => {
    const page = k.page;
    await onScreen(page, 'start');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.locator('html').getAttribute('dir'), 'ltr');
    await page.locator('#st-scanner').getByText(EN['ui.status.scanner_ok']).waitFor();
    await check(page, 'en-start');

    // The on-screen entry: tap the digits of the tag.
    await page.getByRole('button', { name: EN['ui.button.type_tag'] }).click();
    await page.locator('#entry').waitFor({ state: 'visible' });
    for (const ch of '104233')
        await page.locator(`#keypad [data-key="${ch}"]`).click();
    assert.equal(await page.locator('#entry-input').inputValue(), '104233');
    await check(page, 'en-entry');
    await page.getByRole('button', { name: EN['ui.button.enter'] }).click();

    await onScreen(page, 'charger');
    await page.locator('#charger-model').getByText('ProBook 450 G8').waitFor();
    assert.equal(await page.locator('#charger-tag').textContent(), '104233');
    assert.equal(await page.locator('#charger-icon').getAttribute('src'),
                 'icons/charger-laptop.svg');
    // Yes is not focused for the person: the heading is.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'charger-h');
    await check(page, 'en-charger');
    await page.getByRole('button', { name: EN['ui.button.yes'] }).click();

    await onScreen(page, 'next');
    await page.locator('#devices li').first().getByText('ProBook 450 G8').waitFor();
    assert.match(await page.locator('#live').textContent(), /Added asset 104233/);
    await check(page, 'en-next');

    // A desktop from the scanner: its own panel, and it stays in the visit.
    await k.scan('104300');
    await page.locator('#outcome-title').getByText(EN['ui.outcome.desktop']).waitFor();
    assert.equal(await page.locator('#outcome-icon').getAttribute('src'), 'icons/info.svg');
    await check(page, 'en-desktop');

    // D on the keyboard is Done.
    await page.keyboard.press('d');
    await onScreen(page, 'identity');
    await check(page, 'en-identity');

    // A staff id typed on a physical keyboard, slowly (a person).
    await page.getByRole('button', { name: EN['ui.button.type_id'] }).click();
    await page.locator('#entry').waitFor({ state: 'visible' });
    await page.keyboard.type('S100002', { delay: 90 });
    await page.waitForTimeout(150);
    assert.equal(await page.locator('#entry-input').inputValue(), 'S100002');
    await page.keyboard.press('Enter');

    await onScreen(page, 'question');
    await page.locator('#question-h').getByText(EN['ui.email.heading']).waitFor();
    await check(page, 'en-email');
    await page.keyboard.press('y');
    await page.locator('#question-h').getByText(EN['ui.leader.heading']).waitFor();
    await check(page, 'en-leader');
    await page.getByRole('button', { name: EN['ui.button.no'] }).click();
    await page.locator('#question-h').getByText(EN['ui.print.heading']).waitFor();
    await check(page, 'en-print');

    const since = ev.events.length;
    await page.getByRole('button', { name: EN['ui.button.yes'] }).click();
    // The visit is recorded: its receipt is on the screen.
    receiptView = await lastState((v) => v.screen === 'receipt', since);
    await onScreen(page, 'receipt');
    assert.deepEqual(posts.filter((p) => p.answer).map((p) => p.answer),
                     ['yes', 'done', 'yes', 'no', 'yes']);
    const rows = await k.sql('SELECT asset_tag, charger_declared FROM returns ORDER BY asset_tag');
    assert.deepEqual(rows, [['104233', 1]]);
});

/* The id of the receipt recorded last, and the QR image the kiosk saved
 * beside the database for it. */
async function lastReceipt() {
    const [[id]] = await k.sql('SELECT id FROM receipts ORDER BY rowid DESC LIMIT 1');
    const png = readFileSync(join(k.kiosk.dir, 'receipts', `${id}.png`));
    return { id, qr: `data:image/png;base64,${png.toString('base64')}` };
}

test('the receipt screen: QR image with its alt text, the id, the lines, the bin', async () => {
    assert.ok(receiptView, 'the English visit ended with a receipt state');
    const page = k.page;
    await onScreen(page, 'receipt');
    // The receipt on the screen is the one recorded, its QR the saved image.
    assert.deepEqual(receiptView.receipt, await lastReceipt());
    assert.equal(receiptView.lang, 'en');
    const img = page.locator('#receipt-qr');
    assert.equal(await img.getAttribute('src'), receiptView.receipt.qr);
    assert.equal(await img.getAttribute('alt'),
                 EN['ui.receipt.qr_alt'].replace('{id}', receiptView.receipt.id));
    assert.equal(await page.locator('#receipt-id').textContent(), receiptView.receipt.id);
    // What the daemon said of the visit, in its order; the prompts of the
    // start screen behind it and the image's file path are not shown.
    const said = ['kiosk.received.one', 'kiosk.receipt_id', 'kiosk.email_copy',
                  'kiosk.printing', 'kiosk.drop_bin'];
    const keys = receiptView.lines.map((l) => l.key);
    for (const key of said)
        assert.ok(keys.includes(key), `the receipt's lines have ${key}: ${keys.join(', ')}`);
    // The receipt image's path on the kiosk is not even in the view.
    assert.ok(!keys.includes('kiosk.receipt_image'), `no receipt_image line: ${keys.join(', ')}`);
    assert.doesNotMatch(JSON.stringify(receiptView), /\.png"/);
    assert.deepEqual(await page.locator('#receipt-lines li').allTextContents(),
                     receiptView.lines.filter((l) => said.includes(l.key)).map((l) => l.text));
    await page.locator('#receipt-lines').getByText(/put the devices in the drop bin/i).waitFor();
    const shown = await page.locator('main').textContent();
    assert.doesNotMatch(shown, /\.png/);
    assert.ok(!shown.includes(k.kiosk.dir), 'the receipt image\'s path is not shown');
    assert.ok(await page.locator('#cancel-bar').isHidden());
    assert.ok(await page.locator('#outcome').isHidden());
    assert.ok(await page.locator('#idle').isHidden());
    await check(page, 'en-receipt');
});

test('the receipt stays until the next input; the next visit\'s stays until a Cancel',
     async () => {
    const page = k.page;
    await onScreen(page, 'receipt');
    // The next input (a scan) ends the receipt and starts a visit.
    let since = ev.events.length;
    await k.scan('104500');
    const charger = await lastState((v) => v.screen !== 'receipt', since);
    assert.equal(charger.screen, 'charger');
    assert.equal(charger.receipt, null);
    await onScreen(page, 'charger');
    assert.ok(await page.locator('#screen-receipt').isHidden());

    since = ev.events.length;
    for (const answer of ['no', 'done', 'skip', 'no'])
        await post({ answer });
    const view = await lastState((v) => v.screen === 'receipt', since);
    assert.deepEqual(view.receipt, await lastReceipt());
    assert.notEqual(view.receipt.id, receiptView.receipt.id);
    await onScreen(page, 'receipt');
    await page.locator('#receipt-id').getByText(view.receipt.id).waitFor();

    // Nothing takes it away on its own before the idle time (the daemon
    // ticks every second).
    since = ev.events.length;
    await page.waitForTimeout(2500);
    assert.deepEqual(ev.events.slice(since).filter((e) => e.name === 'state')
        .map((e) => e.data.screen).filter((s) => s !== 'receipt'), []);
    assert.ok(await page.locator('#screen-receipt').isVisible());
    assert.equal(await page.locator('#receipt-id').textContent(), view.receipt.id);

    // A Cancel clears it.  There is no visit left to cancel, so it only
    // starts over: no "Cancelled. Nothing from this visit was recorded."
    // under a visit that was recorded.
    since = ev.events.length;
    await post({ answer: 'cancel' });
    const start = await lastState((v) => v.screen !== 'receipt', since);
    assert.equal(start.screen, 'start');
    assert.equal(start.receipt, null);
    assert.deepEqual(start.lines.filter((l) => l.key === 'kiosk.cancelled'), []);
    await onScreen(page, 'start');
    assert.ok(!(await page.getByText(EN['kiosk.cancelled']).isVisible()));
    assert.ok(!(await page.locator('#outcome-title').getByText(EN['ui.outcome.cancelled'])
        .isVisible()));
    const rows = await k.sql('SELECT asset_tag, charger_declared FROM returns ORDER BY asset_tag');
    assert.deepEqual(rows, [['104233', 1], ['104500', 0]]);
});

test('special outcomes from the real daemon: already returned, not in inventory, ' +
     'not recognised, cancelled', async () => {
    const page = k.page;
    await onScreen(page, 'start');
    await k.scan('104233');
    await page.locator('#outcome-title').getByText(EN['ui.outcome.already_returned']).waitFor();
    await check(page, 'en-already-dropped');

    await k.scan('999999');
    await onScreen(page, 'charger');
    await page.locator('#outcome-title').getByText(EN['ui.outcome.unknown_asset']).waitFor();
    assert.equal(await page.locator('#outcome-icon').getAttribute('src'), 'icons/warn.svg');
    await check(page, 'en-unknown-asset');
    await page.getByRole('button', { name: EN['ui.button.no'] }).click();
    await onScreen(page, 'next');

    await k.scan('QQ-NOT-A-TAG');
    await page.locator('#outcome-title').getByText(EN['ui.outcome.not_recognised']).waitFor();
    assert.equal(await page.locator('#outcome-icon').getAttribute('src'), 'icons/stop.svg');
    await check(page, 'en-unknown-code');

    await page.getByRole('button', { name: EN['ui.button.cancel'] }).click();
    await onScreen(page, 'start');
    await page.locator('#outcome-title').getByText(EN['ui.outcome.cancelled']).waitFor();
    await check(page, 'en-cancelled');
});

test('a scanner burst ending in Enter is a scan, never the focused Yes', async () => {
    const page = k.page;
    await k.scan('999997');
    await onScreen(page, 'charger');
    await page.locator('#screen-charger .btn-yes').focus();
    const before = posts.length;
    const since = ev.events.length;
    await page.keyboard.type('999998', { delay: 4 });
    await page.keyboard.press('Enter');
    await lastState((v) => v.lines.some((l) => l.key === 'kiosk.charger_reminder'), since);
    assert.deepEqual(posts.slice(before), [{ text: '999998' }]);
    await post({ answer: 'cancel' });
    await onScreen(page, 'start');
});

test(`the whole visit in ${OTHER}: lang and dir follow the view`, async () => {
    const page = k.page;
    await onScreen(page, 'start');
    await page.getByRole('button', { name: OTHER_WORDS['language.name'] }).click();
    await page.waitForFunction((code) => document.documentElement.lang === code, OTHER);
    assert.equal(await page.locator('html').getAttribute('dir'), OTHER === 'ar' ? 'rtl' : 'ltr');
    await page.getByRole('heading', { name: OTHER_WORDS['ui.start.heading'] }).waitFor();
    await check(page, `${OTHER}-start`);

    await k.scan('104400');
    await onScreen(page, 'charger');
    await check(page, `${OTHER}-charger`);
    let since = ev.events.length;
    await page.getByRole('button', { name: OTHER_WORDS['ui.button.yes'] }).click();
    // A phone, but this site says checklist = no (the checklist has a test
    // of its own below): straight to the list.
    assert.equal((await lastState((v) => v.screen !== 'charger', since)).screen, 'next');
    await onScreen(page, 'next');
    await check(page, `${OTHER}-next`);
    await page.getByRole('button', { name: OTHER_WORDS['ui.button.done'] }).click();
    await onScreen(page, 'identity');
    await check(page, `${OTHER}-identity`);
    await page.getByRole('button', { name: OTHER_WORDS['ui.button.skip'] }).click();
    await onScreen(page, 'question');
    await page.locator('#question-h').getByText(OTHER_WORDS['ui.print.heading']).waitFor();
    await check(page, `${OTHER}-print`);
    since = ev.events.length;
    await page.getByRole('button', { name: OTHER_WORDS['ui.button.no'] }).click();
    otherReceipt = await lastState((v) => v.screen === 'receipt', since);
    assert.deepEqual(otherReceipt.receipt, await lastReceipt());
    await onScreen(page, 'receipt');
    await page.locator('#receipt-id').getByText(otherReceipt.receipt.id).waitFor();
    await page.locator('#receipt-lines')
        .getByText(OTHER_WORDS['kiosk.drop_bin'], { exact: true }).waitFor();
    await check(page, `${OTHER}-receipt`);
});

let otherReceipt = null;

test(`the receipt of a visit in ${OTHER} is shown in ${OTHER}`, async () => {
    assert.ok(otherReceipt, `the ${OTHER} visit ended with a receipt state`);
    assert.equal(otherReceipt.lang, OTHER);
    const page = k.page;
    await onScreen(page, 'receipt');
    assert.equal(await page.locator('html').getAttribute('lang'), OTHER);
    assert.equal(await page.locator('html').getAttribute('dir'), OTHER === 'ar' ? 'rtl' : 'ltr');
    await page.getByRole('heading', { name: OTHER_WORDS['ui.receipt.heading'] })
        .waitFor({ timeout: 2000 });
});

/* Each special line key the fixture cannot reach, in a view of our own. */
const CANNED = [
    ['kiosk.recycled', 'next', 'ui.outcome.recycled', 'stop'],
    ['kiosk.already_received', 'start', 'ui.outcome.already_received', 'info'],
    ['kiosk.unknown_serial', 'start', 'ui.outcome.not_recognised', 'stop'],
    ['kiosk.scan_refused', 'next', 'ui.outcome.scan_refused', 'stop'],
    ['kiosk.visit_full', 'next', 'ui.outcome.visit_full', 'warn'],
    ['kiosk.printer_unavailable', 'receipt', 'ui.outcome.printer_unavailable', 'warn'],
    ['kiosk.ticket_failed', 'receipt', 'ui.outcome.ticket_failed', 'warn'],
];

for (const [key, screen, title, kind] of CANNED) {
    test(`the ${key} panel: title, ${kind} icon, the server's sentence, what next`, async () => {
        const text = EN[key].replace(/\{[a-z_]+\}/g, '104233');
        const view = {
            screen, lang: 'en', pending: null, email_offered: false, leader_offered: false,
            idle_timeout: 300, lines: [{ key, text }],
            devices: screen === 'next' ? [{ tag: '104233', type: 'laptop', type_name: 'Laptop',
                                            model: 'ProBook 450 G8', known: true,
                                            charger: true, desktop: false }] : [],
            receipt: screen === 'receipt' ? receiptView.receipt : null,
        };
        const { page, close } = await cannedPage(view);
        try {
            await page.locator('#outcome-title').getByText(EN[title]).waitFor();
            assert.equal(await page.locator('#outcome-text').textContent(), text);
            assert.equal(await page.locator('#outcome-icon').getAttribute('src'),
                         `icons/${kind}.svg`);
            assert.notEqual(await page.locator('#outcome-next').textContent(), '');
            await check(page, `en-${key.slice(6).replace(/_/g, '-')}`);
        } finally {
            await close();
        }
    });
}

test('out of service when the event stream is gone', async () => {
    const page = await k.context.newPage();
    try {
        await page.route('**/api/events', (route) => route.fulfill({ status: 503, body: '' }));
        await page.goto(k.url);
        await page.locator('#oos').waitFor({ state: 'visible', timeout: 15000 });
        await page.getByRole('heading', { name: EN['ui.oos.heading'] }).waitFor();
        await check(page, 'en-out-of-service');
    } finally {
        await page.close();
    }
});

test('the idle warning counts down, "still here" keeps the visit, then the reset; ' +
     'a receipt leaves at the idle time without a warning', async () => {
    const idle = await openKiosk({ idleTimeout: 17, viewport: { width: 1280, height: 800 } });
    try {
        const page = idle.page;
        await onScreen(page, 'start');
        await idle.scan('104233');
        await onScreen(page, 'charger');
        await page.locator('#idle').waitFor({ state: 'visible', timeout: 10000 });
        assert.match(await page.locator('#idle-count').textContent(), /start over in \d+ seconds/);
        await check(page, 'en-idle-warning');
        await page.getByRole('button', { name: EN['ui.button.still_here'] }).click();
        await page.locator('#idle').waitFor({ state: 'hidden' });
        assert.ok(await page.locator('#screen-charger').isVisible());
        // Nobody answers: the server clears the visit, the page follows.
        await page.locator('#screen-start').waitFor({ state: 'visible', timeout: 30000 });
        await page.locator('#outcome-title').getByText(EN['ui.outcome.idle']).waitFor();
        assert.ok(await page.locator('#idle').isHidden());
        await check(page, 'en-idle-reset');

        // A visit to its receipt (no printer here: Skip is the last answer).
        await idle.scan('104233');
        await onScreen(page, 'charger');
        await page.getByRole('button', { name: EN['ui.button.yes'] }).click();
        await onScreen(page, 'next');
        await page.getByRole('button', { name: EN['ui.button.done'] }).click();
        await onScreen(page, 'identity');
        await page.getByRole('button', { name: EN['ui.button.skip'] }).click();
        await onScreen(page, 'receipt');
        const shownAt = Date.now();
        // It stays until the idle time, with no "still there?" before it.
        let warned = false;
        while (!(await page.locator('#screen-start').isVisible())) {
            warned = warned || await page.locator('#idle').isVisible();
            assert.ok(Date.now() - shownAt < 30000, 'the receipt left within 30 s');
            await page.waitForTimeout(200);
        }
        assert.ok(!warned, 'no idle warning over the receipt');
        assert.ok(Date.now() - shownAt > 10000,
                  `the receipt stayed ${Date.now() - shownAt} ms of the 17 s idle time`);
        await page.locator('#outcome-title').getByText(EN['ui.outcome.idle']).waitFor();
        assert.deepEqual(await idle.sql('SELECT asset_tag, charger_declared FROM returns'),
                         [['104233', 1]]);
        assert.deepEqual(idle.errors, []);
    } finally {
        await idle.close();
    }
});

test('the phone checklist ([kiosk] checklist = yes): three questions by touch, ' +
     'the answers kept with the return', async () => {
    // A second daemon whose site says [kiosk] checklist = yes, in a
    // browser of its own.
    const phone = await openKiosk({ checklist: true, viewport: { width: 1280, height: 800 } });
    try {
        const page = phone.page;
        const watch = await watchEvents(page);
        await onScreen(page, 'start');

        // The phone's tag on the on-screen keypad, then its charger.
        await page.getByRole('button', { name: EN['ui.button.type_tag'] }).click();
        for (const ch of '104400')
            await page.locator(`#keypad [data-key="${ch}"]`).click();
        await page.getByRole('button', { name: EN['ui.button.enter'] }).click();
        await onScreen(page, 'charger');
        let since = watch.events.length;
        await page.getByRole('button', { name: EN['ui.button.yes'] }).click();

        const asked = [['kiosk.check.sim', 'yes'], ['kiosk.check.signed_out', 'no'],
                       ['kiosk.check.lock_off', 'yes']];
        for (const [i, [key, answer]] of asked.entries()) {
            const view = await lastState((v) => v.lines.some((l) => l.key === key), since,
                                         watch);
            assert.equal(view.screen, 'checklist');
            assert.equal(view.pending?.tag, '104400');
            assert.equal(view.pending?.type, 'phone');
            assert.deepEqual(view.lines.map((l) => l.key),
                             i === 0 ? ['kiosk.check.intro', key] : [key]);
            await onScreen(page, 'question');
            await page.locator('#question-text')
                .getByText(view.lines.at(-1).text, { exact: true }).waitFor();
            assert.equal(await page.locator('#question-h').textContent(),
                         `${EN['ui.check.heading']}: ${view.pending.type_name} Galaxy A54`);
            if (i === 0) {
                await page.locator('#said').getByText(view.lines[0].text, { exact: true })
                    .waitFor();
                assert.ok(await page.locator('#keys-hint').isVisible());
                assert.ok(await page.locator('#cancel-bar').isVisible());
                await check(page, 'en-checklist');
            }
            since = watch.events.length;
            await page.getByRole('button', { name: EN[`ui.button.${answer}`] }).click();
        }

        // A "no" among the answers: a technician finishes the rest.
        const next = await lastState((v) => v.screen !== 'checklist', since, watch);
        assert.equal(next.screen, 'next');
        assert.deepEqual(next.lines.map((l) => l.key).slice(0, 2),
                         ['kiosk.check.not_done', 'kiosk.added.one']);
        await onScreen(page, 'next');
        await page.locator('#said').getByText(EN['kiosk.check.not_done'], { exact: true })
            .waitFor();
        await page.locator('#devices li').first().getByText('Galaxy A54').waitFor();

        await page.getByRole('button', { name: EN['ui.button.done'] }).click();
        await onScreen(page, 'identity');
        await page.getByRole('button', { name: EN['ui.button.skip'] }).click();
        await onScreen(page, 'receipt');
        assert.deepEqual(await phone.sql('SELECT asset_tag, checklist FROM returns'),
                         [['104400', 'sim_removed=yes signed_out=no lock_off=yes']]);
        assert.deepEqual(phone.errors, []);
    } finally {
        await phone.close();
    }
});

test('no script error or policy violation on the page', async () => {
    const log = await k.kiosk.log().catch((e) => String(e));
    assert.deepEqual(k.errors, [], log.slice(-3000));
});

/* A page at the kiosk's origin whose /api/events gives one state, view. */
async function cannedPage(view) {
    const page = await k.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/api/events', (route) => route.fulfill({
        status: 200,
        headers: { 'Content-Type': 'text/event-stream; charset=utf-8' },
        body: `retry: 60000\nevent: state\ndata: ${JSON.stringify(view)}\n\n`,
    }));
    await page.goto(k.url);
    return {
        page,
        async close() {
            await page.close();
            assert.deepEqual(errors, []);
        },
    };
}
