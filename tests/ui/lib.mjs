// Helpers for the browser tests (node --test, run by tests/run-ui): Debian's
// chromium driven by playwright-core, the real daemon on a scratch site
// (tests/ui/fixture.py), axe-core for accessibility and screenshots.
//
//   import { test, before, after } from 'node:test';
//   import { openKiosk } from './lib.mjs';
//   let k;
//   before(async () => { k = await openKiosk(); });
//   after(async () => { await k?.close(); });
//   test('a scan shows the charger question', async () => {
//       await k.scan('104233');
//       await k.page.getByRole('heading', { name: /charger/i }).waitFor();
//   });
//
// Nothing here reaches past 127.0.0.1: the daemon listens on loopback and
// chromium runs with its background networking off.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const HERE = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const UI_DIR = join(ROOT, 'kiosk-ui');
export const SCREENSHOTS = join(HERE, 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
const PYTHON = '/usr/bin/python3';
const FIXTURE = join(HERE, 'fixture.py');
const AXE = join(HERE, 'node_modules', 'axe-core', 'axe.min.js');

// Debian's chromium, no downloaded browser build.  The network flags keep
// chromium from calling out at all (this machine's network is closed, and
// a kiosk's browser has no business calling Google either).
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

// A portrait lobby screen; openKiosk({ viewport }) for another.
export const KIOSK_VIEWPORT = { width: 1080, height: 1920 };

let playwright = null;

async function chromiumType() {
    if (playwright === null) {
        if (!existsSync(join(HERE, 'node_modules', 'playwright-core')))
            throw new Error('tests/ui/node_modules is missing: run tools/install-deps');
        playwright = await import('playwright-core');
    }
    return playwright.chromium;
}

/* A browser of its own: Debian's chromium with a new, empty profile in a
 * temporary folder, removed by close().  Returns { context, close }: one
 * persistent context (playwright-core takes the profile folder this way;
 * it refuses --user-data-dir among the args), open new pages with
 * context.newPage(). */
export async function launchBrowser({ viewport = KIOSK_VIEWPORT, locale = 'en-US' } = {}) {
    if (!existsSync(CHROMIUM))
        throw new Error(`${CHROMIUM} is missing: run tools/install-deps (Debian's chromium)`);
    const chromium = await chromiumType();
    const profile = mkdtempSync(join(tmpdir(), 'dk-chromium-'));
    let context;
    try {
        context = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM,
            headless: true,
            args: CHROMIUM_ARGS,
            viewport,
            locale,
            timeout: 30000,
        });
    } catch (e) {
        rmSync(profile, { recursive: true, force: true });
        throw e;
    }
    return {
        context,
        async close() {
            await context.close().catch(() => {});
            rmSync(profile, { recursive: true, force: true });
        },
    };
}

/* The real daemon on a scratch site (tests/ui/fixture.py).  Options:
 * idleTimeout (seconds, at least 5), printer (a file printer; slips land in
 * .printed), ui (another UI folder), checklist (true: [kiosk] checklist =
 * yes, the phone and tablet checklist), rules (a list of [disposition]
 * rule lines, e.g. 'always -> reimage').  Resolves to an object with url,
 * db, dir, config, printed and the methods scan, type, sql, tech, log and
 * stop. */
export async function startFixture({ idleTimeout, printer = false, ui, checklist = false,
                                     rules = [] } = {}) {
    const args = [FIXTURE];
    if (idleTimeout !== undefined)
        args.push('--idle-timeout', String(idleTimeout));
    if (printer)
        args.push('--printer');
    if (ui !== undefined)
        args.push('--ui', ui);
    if (checklist)
        args.push('--checklist');
    for (const rule of rules)
        args.push('--rule', rule);
    const proc = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (s) => { stderr += s; });
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));

    // Replies come back one JSON line each, in the order asked.
    const waiting = [];
    let closed = false;
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
        const w = waiting.shift();
        if (w === undefined)
            return;
        let msg;
        try {
            msg = JSON.parse(line);
        } catch {
            w.reject(new Error(`fixture said something that is not JSON: ${line}`));
            return;
        }
        if (msg.error !== undefined)
            w.reject(new Error(`fixture: ${msg.error}`));
        else
            w.resolve(msg);
    });
    lines.on('close', () => {
        closed = true;
        for (const w of waiting.splice(0))
            w.reject(new Error(`fixture ended before answering; stderr:\n${stderr}`));
    });
    const next = () => new Promise((resolve, reject) => {
        if (closed)
            reject(new Error(`fixture has ended; stderr:\n${stderr}`));
        else
            waiting.push({ resolve, reject });
    });

    const command = (line) => {
        if (/[\r\n]/.test(line))
            return Promise.reject(new Error('a fixture command is one line'));
        const answer = next();
        proc.stdin.write(line + '\n');
        return answer;
    };

    const info = await next();
    let stopped = false;
    return {
        url: info.url,
        db: info.db,
        dir: info.dir,
        config: info.config,
        printed: info.printed,
        /* TEXT + CR on the scanner's pty.  Resolves once written; the page
         * shows the answer shortly after (wait for it there). */
        scan: (text) => command(`scan ${text}`),
        /* A line typed at the daemon's terminal (e.g. YES, DONE). */
        type: (text) => command(`type ${text}`),
        /* Rows of a query on the kiosk's database, as arrays. */
        sql: async (query) => (await command(`sql ${query}`)).rows,
        /* A technician added with dropkioskctl tech add (name, badge and
         * PIN: no spaces in badge or PIN); resolves to the id given, e.g.
         * 'T0001'. */
        tech: async (name, badge, pin) => {
            if (/\s/.test(badge) || /\s/.test(pin))
                throw new Error('a technician\'s badge and PIN have no spaces');
            return (await command(`tech ${name} ${badge} ${pin}`)).id;
        },
        /* The daemon's stderr so far. */
        log: async () => (await command('log')).log,
        /* Stop the daemon and remove the site. */
        async stop() {
            if (stopped)
                return;
            stopped = true;
            proc.stdin.end('quit\n');
            const timer = setTimeout(() => proc.kill('SIGTERM'), 20000);
            await exited;
            clearTimeout(timer);
        },
    };
}

/* The fixture and a browser with one page open at the kiosk's address
 * (path, '/' by default; goto false leaves the page blank).  The other
 * options are startFixture's (checklist, printer, idleTimeout, rules...).
 * Returns { kiosk, context, page, url, scan, type, sql, errors, close }.
 * errors collects the page's uncaught exceptions and console errors
 * (a Content-Security-Policy violation is one): assert it stays empty. */
export async function openKiosk({ path = '/', viewport, locale, goto = true,
                                  ...fixtureOptions } = {}) {
    const kiosk = await startFixture(fixtureOptions);
    let browser;
    try {
        browser = await launchBrowser({ viewport, locale });
    } catch (e) {
        await kiosk.stop();
        throw e;
    }
    const page = browser.context.pages()[0] ?? await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
        if (m.type() === 'error')
            errors.push(`console: ${m.text()}`);
    });
    const url = new URL(path, kiosk.url).href;
    if (goto)
        await page.goto(url);
    return {
        kiosk,
        context: browser.context,
        page,
        url,
        errors,
        scan: kiosk.scan,
        type: kiosk.type,
        sql: kiosk.sql,
        async close() {
            await browser.close();
            await kiosk.stop();
        },
    };
}

/* Run axe-core on the page (or on the part `include` selects) with the
 * WCAG 2.0, 2.1 and 2.2 A and AA rules; resolves to axe's violations
 * (empty when none).
 *
 * Why evaluate, not addScriptTag: the daemon's Content-Security-Policy
 * (script-src 'self') blocks the inline <script> that addScriptTag makes,
 * and bypassCSP would switch the policy off for the whole page under test.
 * page.evaluate runs through the DevTools protocol, which the policy does
 * not govern, so axe runs while the page keeps its real policy. */
let axeSource = null;
export async function axe(page, { include, tags } = {}) {
    if (axeSource === null)
        axeSource = readFileSync(AXE, 'utf8');
    const loaded = await page.evaluate(() => typeof window.axe === 'object');
    if (!loaded)
        await page.evaluate(axeSource);
    const runTags = tags ?? ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
    const results = await page.evaluate(
        ([context, t]) => window.axe.run(context ?? document,
                                         { runOnly: { type: 'tag', values: t } }),
        [include ?? null, runTags]);
    return results.violations;
}

/* axe violations as readable lines, for an assertion's message. */
export function describeViolations(violations) {
    return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary}`).join('\n'))
        .join('\n');
}

/* Save a screenshot of the whole page as tests/ui/screenshots/NAME.png and
 * return its path. */
export async function shot(page, name) {
    if (!/^[A-Za-z0-9._-]+$/.test(name))
        throw new Error(`screenshot name ${JSON.stringify(name)}: letters, digits, . _ - only`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

/* Watch the daemon's event stream from inside the page: a second
 * EventSource on /api/events beside whatever the UI opens (the page must
 * be at the kiosk's origin).  Each event is handed to Node the moment the
 * page receives it, stamped with Node's clock (performance.now()).
 * Returns { events, waitFor(pred, {since, timeout}), close() }: events is
 * every {name, data, at} so far; waitFor resolves to the first event at
 * index since or later (already received or still to come) for which
 * pred(event) is true, and rejects after timeout ms. */
export async function watchEvents(page) {
    const events = [];
    const waiters = [];
    const binding = `__dkEvent${Math.random().toString(36).slice(2)}`;
    await page.exposeFunction(binding, (name, json) => {
        const ev = { name, data: JSON.parse(json), at: performance.now() };
        events.push(ev);
        for (const w of [...waiters]) {
            if (w.pred(ev)) {
                waiters.splice(waiters.indexOf(w), 1);
                clearTimeout(w.timer);
                w.resolve(ev);
            }
        }
    });
    await page.evaluate((b) => new Promise((resolve, reject) => {
        const es = new EventSource('/api/events');
        window[`${b}Source`] = es;
        for (const name of ['state', 'health'])
            es.addEventListener(name, (e) => window[b](name, e.data));
        es.onopen = () => resolve();
        es.onerror = () => reject(new Error('the event stream /api/events did not open'));
    }), binding);
    return {
        events,
        waitFor(pred, { since = 0, timeout = 10000 } = {}) {
            const seen = events.slice(since).find(pred);
            if (seen !== undefined)
                return Promise.resolve(seen);
            return new Promise((resolve, reject) => {
                const w = { pred, resolve };
                w.timer = setTimeout(() => {
                    waiters.splice(waiters.indexOf(w), 1);
                    reject(new Error(`no matching event within ${timeout} ms; last: ` +
                                     JSON.stringify(events.at(-1)?.data ?? null)));
                }, timeout);
                waiters.push(w);
            });
        },
        close: () => page.evaluate((b) => window[`${b}Source`].close(), binding),
    };
}

/* The median and 99th percentile (nearest rank) of a list of numbers. */
export function percentiles(values) {
    const s = [...values].sort((a, b) => a - b);
    const rank = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
    return { median: rank(0.5), p99: rank(0.99), max: s.at(-1) };
}
