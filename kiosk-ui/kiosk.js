/* The staff screens of the drop-off kiosk.
 *
 * The daemon owns the visit: this page shows its view (the "state" events of
 * GET /api/events, see src/session.h) and sends touches and keys to
 * POST /api/input.  It never guesses where the visit is: after an input it
 * waits for the next state.  Every value from the server or a catalog is
 * put in the page with textContent, never as HTML. */
'use strict';

(function () {
    /* Keys of a keyboard-wedge scanner arrive closer together than this;
     * a person's typing does not. */
    const BURST_GAP_MS = 35;
    /* How long a lone key waits to see whether a burst follows it. */
    const LONE_KEY_MS = 60;
    /* The idle warning shows this long before the server's reset. */
    const IDLE_WARN_S = 15;
    /* A stream down this long shows the out-of-service screen (an
     * EventSource reconnects on its own after a blip). */
    const STREAM_GRACE_MS = 4000;
    const RTL = new Set(['ar', 'fa', 'he', 'ur', 'ps', 'yi']);

    /* Line keys with a panel of their own: kind (the icon's shape), the
     * title's key and what happens next. */
    const OUTCOMES = {
        'kiosk.desktop': ['info', 'ui.outcome.desktop', 'ui.then.desktop'],
        'kiosk.unknown_asset': ['warn', 'ui.outcome.unknown_asset', 'ui.then.charger'],
        'kiosk.already_dropped': ['info', 'ui.outcome.already_returned', 'ui.then.keep_scanning'],
        'kiosk.not_yours': ['info', 'ui.outcome.not_yours', 'ui.then.not_yours'],
        'kiosk.already_received': ['info', 'ui.outcome.already_received', 'ui.then.keep_scanning'],
        'kiosk.already_in_visit': ['info', 'ui.outcome.already_in_visit', 'ui.then.keep_scanning'],
        'kiosk.recycled': ['stop', 'ui.outcome.recycled', 'ui.then.service_desk'],
        'kiosk.unknown_code': ['stop', 'ui.outcome.not_recognised', 'ui.then.scan_again'],
        'kiosk.unknown_serial': ['stop', 'ui.outcome.not_recognised', 'ui.then.scan_again'],
        'kiosk.scan_refused': ['stop', 'ui.outcome.scan_refused', 'ui.then.scan_again'],
        'kiosk.scan_too_long': ['stop', 'ui.outcome.scan_refused', 'ui.then.scan_again'],
        'kiosk.lookup_failed': ['stop', 'ui.outcome.lookup_failed', 'ui.then.scan_again'],
        'kiosk.badge_too_early': ['warn', 'ui.outcome.badge_too_early', 'ui.then.keep_scanning'],
        'kiosk.nothing_scanned': ['warn', 'ui.outcome.nothing_scanned', 'ui.then.scan_first'],
        'kiosk.visit_full': ['warn', 'ui.outcome.visit_full', 'ui.then.visit_full'],
        'kiosk.cancelled': ['info', 'ui.outcome.cancelled', 'ui.then.start_again'],
        'kiosk.printer_unavailable': ['warn', 'ui.outcome.printer_unavailable', 'ui.then.use_screen'],
        'kiosk.print_failed': ['warn', 'ui.outcome.printer_unavailable', 'ui.then.use_screen'],
        'kiosk.print_failed_email': ['warn', 'ui.outcome.printer_unavailable', 'ui.then.use_screen'],
        'kiosk.ticket_failed': ['warn', 'ui.outcome.ticket_failed', 'ui.then.tell_desk'],
        'kiosk.email_failed': ['warn', 'ui.outcome.email_failed', 'ui.then.tell_desk'],
        'kiosk.record_failed': ['stop', 'ui.outcome.record_failed', 'ui.then.tell_desk'],
        'kiosk.identity_not_found': ['stop', 'ui.outcome.identity_not_found', 'ui.then.identity'],
        'kiosk.identity_not_device': ['warn', 'ui.outcome.identity_not_device', 'ui.then.identity'],
        'kiosk.identity_email_shared': ['warn', 'ui.outcome.identity_email_shared', 'ui.then.identity'],
        'kiosk.idle': ['info', 'ui.outcome.idle', 'ui.then.start_again'],
    };
    const ICONS = {ok: 'icons/ok.svg', info: 'icons/info.svg', warn: 'icons/warn.svg',
                   stop: 'icons/stop.svg'};
    /* Results that sound like success. */
    const GOOD = /^kiosk\.(device_found|added\.|received\.|language_set)/;
    /* Lines the screen already says in its own words (the questions and
     * prompts of the terminal, which name the printed cards). */
    const QUIET = new Set(['kiosk.ready', 'kiosk.language_prompt', 'kiosk.scan_device',
        'kiosk.scan_device_or_done', 'kiosk.charger_question', 'kiosk.next',
        'kiosk.identity_question', 'kiosk.email_question', 'kiosk.leader_question',
        'kiosk.print_question', 'kiosk.receipt_image', 'kiosk.device_found',
        'kiosk.check.sim', 'kiosk.check.signed_out', 'kiosk.check.lock_off']);
    /* The phone and tablet checklist's questions (a "checklist" screen),
     * asked one at a time by the server in its own words. */
    const CHECK_QUESTION = /^kiosk\.check\.(sim|signed_out|lock_off)$/;
    const CHARGERS = {laptop: ['charger-laptop', 'ui.charger.laptop'],
        chromebook: ['charger-chromebook', 'ui.charger.chromebook'],
        tablet: ['charger-usb', 'ui.charger.usb'], phone: ['charger-usb', 'ui.charger.usb'],
        hotspot: ['charger-usb', 'ui.charger.usb']};
    const QUESTIONS = {email: ['ui.email.heading', 'ui.email.text'],
        leader: ['ui.leader.heading', 'ui.leader.text'],
        print: ['ui.print.heading', 'ui.print.text']};
    const SHORTCUTS = {y: 'yes', n: 'no', d: 'done'};

    const $ = (id) => document.getElementById(id);

    let view = null;            /* the last state */
    let health = null;          /* the last health */
    let lang = null;            /* the catalog shown */
    let words = {};             /* its texts, English beneath */
    let english = {};
    const catalogs = {};
    let languages = [];
    let streamUp = false;
    let streamDownTimer = 0;
    let lastActivity = Date.now();
    let idleTimer = 0;
    let entryKind = 'tag';
    let audio = null;

    /* ---- catalogs -------------------------------------------------------- */

    async function catalog(code) {
        if (!catalogs[code]) {
            catalogs[code] = fetch('/i18n/' + encodeURIComponent(code) + '.json')
                .then((r) => (r.ok ? r.json() : {}))
                .catch(() => ({}));
        }
        return catalogs[code];
    }

    /* The text of key with {name} placeholders filled ({{ is a brace). */
    function t(key, params) {
        let text = words[key];
        if (typeof text !== 'string')
            text = typeof english[key] === 'string' ? english[key] : key;
        return text.replace(/\{\{|\{([a-z_]+)\}/g, (m, name) =>
            (m === '{{' ? '{' : params && name in params ? String(params[name]) : m));
    }

    async function useLanguage(code) {
        if (code === lang)
            return;
        english = await catalog('en');
        words = code === 'en' ? english : await catalog(code);
        lang = code;
        const base = code.split('-')[0].toLowerCase();
        document.documentElement.lang = code;
        document.documentElement.dir = RTL.has(base) ? 'rtl' : 'ltr';
        for (const el of document.querySelectorAll('[data-i18n]'))
            el.textContent = t(el.dataset.i18n);
        for (const el of document.querySelectorAll('[data-i18n-label]'))
            el.setAttribute('aria-label', t(el.dataset.i18nLabel));
        renderLanguages();
        renderHealth();
    }

    /* ---- input ----------------------------------------------------------- */

    function send(body) {
        lastActivity = Date.now();
        hideIdle();
        return fetch('/api/input', {
            method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify(body),
        }).catch(() => { /* the stream's state says whether the kiosk is there */ });
    }

    function onClick(ev) {
        unlockAudio();
        const btn = ev.target.closest('button');
        if (!btn)
            return;
        if (btn.dataset.answer)
            send({answer: btn.dataset.answer});
        else if (btn.dataset.action === 'entry')
            openEntry(btn.dataset.entry);
        else if (btn.dataset.language)
            send({language: btn.dataset.language});
    }

    /* ---- scanner bursts and keys ------------------------------------------
     * A keyboard-wedge scanner types its text in a burst of keys a few
     * milliseconds apart, then Enter (or Tab).  That Enter must not press
     * the focused button, and the text must not answer a question by its
     * first letter, so every printable key is held for LONE_KEY_MS: a key
     * that another follows within BURST_GAP_MS is part of a scan; a key
     * left alone is a person's (a shortcut, or typing in the entry). */

    const burst = {text: '', last: 0, active: false, timer: 0};

    function printable(ev) {
        return ev.key.length === 1 && !ev.ctrlKey && !ev.altKey && !ev.metaKey;
    }

    function onKeyDown(ev) {
        unlockAudio();
        const now = performance.now();
        const gap = now - burst.last;

        if (burst.text !== '' && (ev.key === 'Enter' || ev.key === 'Tab')) {
            ev.preventDefault();
            ev.stopPropagation();
            clearTimeout(burst.timer);
            if (burst.active || gap < BURST_GAP_MS)
                endBurst(true);
            else
                lonelyKeys();
            return;
        }
        if (!printable(ev)) {
            if (burst.active) {
                ev.preventDefault();
                return;
            }
            if (ev.key === 'Escape' && !$('entry').hidden)
                closeEntry();
            return;
        }
        /* A space is a person pressing a focused button, unless a scan
         * is under way. */
        if (ev.key === ' ' && !burst.active && burst.text === '')
            return;
        ev.preventDefault();
        ev.stopPropagation();
        if (burst.text !== '' && gap < BURST_GAP_MS)
            burst.active = true;
        else if (burst.text !== '')
            lonelyKeys();
        burst.text += ev.key;
        burst.last = now;
        clearTimeout(burst.timer);
        burst.timer = setTimeout(onBurstPause, burst.active ? 150 : LONE_KEY_MS);
    }

    /* A burst's Space or Enter must not reach a focused button on keyup. */
    function onKeyUp(ev) {
        if (burst.active && (ev.key === ' ' || ev.key === 'Enter'))
            ev.preventDefault();
    }

    function onBurstPause() {
        if (burst.active)
            endBurst(false);
        else
            lonelyKeys();
    }

    /* A scan: send what the scanner typed.  One that ended without Enter
     * (a scanner set up with no terminator) counts when it is long enough
     * to be a label. */
    function endBurst(terminated) {
        const text = burst.text.trim();

        burst.text = '';
        burst.active = false;
        if (text !== '' && (terminated || text.length >= 3)) {
            closeEntry();
            send({text: text});
        }
    }

    /* Keys a person typed, one at a time. */
    function lonelyKeys() {
        const text = burst.text;

        burst.text = '';
        burst.active = false;
        if (text === '')
            return;
        if (!$('entry').hidden) {
            typeInEntry(text);
            return;
        }
        if (!$('idle').hidden) {
            send({still_here: true});
            return;
        }
        const answer = text.length === 1 ? SHORTCUTS[text.toLowerCase()] : undefined;
        if (answer && shortcutAllowed(answer)) {
            send({answer: answer});
            return;
        }
        /* Anything else starts typing a tag or an id. */
        const screen = view ? view.screen : 'start';
        if (screen === 'start' || screen === 'next' || screen === 'receipt') {
            openEntry('tag');
            typeInEntry(text);
        } else if (screen === 'identity') {
            openEntry('id');
            typeInEntry(text);
        }
    }

    function shortcutAllowed(answer) {
        const screen = view ? view.screen : 'start';
        if (answer === 'done')
            return screen === 'next';
        return screen === 'charger' || screen === 'checklist' || screen in QUESTIONS;
    }

    /* ---- the on-screen entry --------------------------------------------- */

    const KEYS = ['1234567890', 'QWERTYUIOP', 'ASDFGHJKL@', 'ZXCVBNM.-_'];

    function buildKeypad() {
        const pad = $('keypad');
        for (const row of KEYS) {
            for (const ch of row) {
                const b = document.createElement('button');
                b.type = 'button';
                b.className = 'key';
                b.dataset.key = ch;
                b.textContent = ch;
                pad.appendChild(b);
            }
        }
        const back = document.createElement('button');
        back.type = 'button';
        back.className = 'key key-wide';
        back.dataset.key = 'back';
        back.dataset.i18nLabel = 'ui.entry.delete';
        back.textContent = '⌫';
        pad.appendChild(back);
        const clear = document.createElement('button');
        clear.type = 'button';
        clear.className = 'key key-wide';
        clear.dataset.key = 'clear';
        clear.dataset.i18n = 'ui.entry.clear';
        clear.textContent = 'Clear';
        pad.appendChild(clear);
        pad.addEventListener('click', (ev) => {
            const b = ev.target.closest('button');
            if (!b)
                return;
            ev.stopPropagation();
            const input = $('entry-input');
            if (b.dataset.key === 'back')
                input.value = input.value.slice(0, -1);
            else if (b.dataset.key === 'clear')
                input.value = '';
            else
                typeInEntry(b.dataset.key);
            lastActivity = Date.now();
        });
    }

    function typeInEntry(text) {
        const input = $('entry-input');
        input.value = (input.value + text).slice(0, input.maxLength);
        lastActivity = Date.now();
    }

    function openEntry(kind) {
        entryKind = kind === 'id' ? 'id' : 'tag';
        $('entry-label').textContent = t(entryKind === 'id' ? 'ui.entry.id' : 'ui.entry.tag');
        if ($('entry').hidden) {
            $('entry-input').value = '';
            $('entry').hidden = false;
            setInert(true);
        }
        $('entry-input').focus();
    }

    function closeEntry() {
        if ($('entry').hidden)
            return;
        $('entry').hidden = true;
        setInert(false);
        focusHeading();
    }

    function onEntrySubmit(ev) {
        ev.preventDefault();
        const text = $('entry-input').value.trim();
        if (text === '')
            return;
        closeEntry();
        send({text: text});
    }

    /* While a dialog is open, the screen behind it takes no focus. */
    function setInert(on) {
        for (const id of ['status', 'main'])
            $(id).inert = on;
    }

    /* ---- idle warning ---------------------------------------------------- */

    /* No warning on the start screen, nor on the receipt: the visit is
     * recorded, and the receipt leaving at the idle time loses nothing
     * (render hides the overlay there too). */
    function idleTick() {
        const overlayShown = !$('idle').hidden;
        if (!view || view.screen === 'start' || view.screen === 'receipt' ||
            !view.idle_timeout) {
            if (overlayShown)
                hideIdle();
            return;
        }
        const left = Math.ceil(view.idle_timeout - (Date.now() - lastActivity) / 1000);
        if (left > IDLE_WARN_S) {
            if (overlayShown)
                hideIdle();
            return;
        }
        $('idle-count').textContent = t('ui.idle.countdown', {seconds: Math.max(left, 0)});
        if (!overlayShown) {
            closeEntry();
            $('idle').hidden = false;
            setInert(true);
            $('still-here').focus();
        }
    }

    function hideIdle() {
        if ($('idle').hidden)
            return;
        $('idle').hidden = true;
        setInert(false);
        focusHeading();
    }

    /* ---- sound ------------------------------------------------------------
     * Two short tones, rising for success, falling and buzzing for a
     * refusal: told apart without looking and without colour. */

    function unlockAudio() {
        if (!audio && window.AudioContext)
            audio = new AudioContext();
        if (audio && audio.state === 'suspended')
            audio.resume().catch(() => {});
    }

    function tones(good) {
        if (!audio && window.AudioContext) {
            try {
                audio = new AudioContext();
            } catch (e) {
                return;
            }
        }
        if (!audio || audio.state !== 'running')
            return;
        const notes = good ? [660, 880] : [392, 262];
        const start = audio.currentTime + 0.02;
        notes.forEach((freq, i) => {
            const osc = audio.createOscillator();
            const gain = audio.createGain();
            const at = start + i * 0.16;
            osc.type = good ? 'sine' : 'square';
            osc.frequency.value = freq;
            gain.gain.setValueAtTime(0.0001, at);
            gain.gain.exponentialRampToValueAtTime(good ? 0.3 : 0.12, at + 0.01);
            gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
            osc.connect(gain).connect(audio.destination);
            osc.start(at);
            osc.stop(at + 0.15);
        });
    }

    /* ---- rendering ------------------------------------------------------- */

    function el(tag, cls, text) {
        const e = document.createElement(tag);
        if (cls)
            e.className = cls;
        if (text !== undefined)
            e.textContent = text;
        return e;
    }

    function focusHeading() {
        const screen = document.querySelector('.screen:not([hidden]) h1');
        if (screen)
            screen.focus({preventScroll: false});
    }

    function renderLanguages() {
        const box = $('languages');
        box.replaceChildren();
        for (const l of languages) {
            const b = el('button', 'lang-btn', l.name);
            b.type = 'button';
            b.lang = l.code;
            b.dataset.language = l.code;
            b.setAttribute('aria-pressed', String(l.code === lang));
            box.appendChild(b);
        }
    }

    function renderHealth() {
        if (!health || !lang)
            return;
        setStatus('st-scanner', health.scanner ? 'ok' : 'bad',
            t(health.scanner ? 'ui.status.scanner_ok' : 'ui.status.scanner_missing'));
        const printer = {ready: ['ok', 'ui.status.printer_ready'],
            none: ['none', 'ui.status.printer_none']}[health.printer] ||
            ['bad', 'ui.status.printer_out'];
        setStatus('st-printer', printer[0], t(printer[1]));
        const mail = Number(health.mail_queue) || 0;
        setStatus('st-mail', mail > 0 ? 'none' : 'ok', t('ui.status.mail', {count: mail}));
        updateOutOfService();
    }

    function setStatus(id, kind, text) {
        const item = $(id);
        item.className = 'st st-' + kind;
        item.querySelector('.st-text').textContent = text;
    }

    function updateOutOfService() {
        const down = !streamUp || (health && health.database === false);
        const oos = $('oos');
        if (down && oos.hidden) {
            closeEntry();
            hideIdle();
            oos.hidden = false;
            setInert(true);
        } else if (!down && !oos.hidden) {
            oos.hidden = true;
            setInert(false);
            focusHeading();
        }
    }

    function deviceName(d) {
        if (!d.known)
            return t('ui.device.unknown');
        return d.model ? d.type_name + ' ' + d.model : d.type_name;
    }

    function renderCharger(p) {
        $('charger-type').textContent = p.known ? p.type_name : t('ui.device.unknown');
        $('charger-model').textContent = p.known ? p.model : '';
        $('charger-tag').textContent = p.tag;
        const c = CHARGERS[p.type] || ['charger-other', 'ui.charger.other'];
        $('charger-icon').src = 'icons/' + c[0] + '.svg';
        $('charger-desc').textContent = t(c[1]);
    }

    function renderDevices(devices) {
        const list = $('devices');
        list.replaceChildren();
        for (const d of devices) {
            const li = el('li');
            li.appendChild(el('span', 'd-name', deviceName(d)));
            const tag = el('span', 'd-tag', t('ui.device.tag') + ' ');
            tag.appendChild(el('bdi', '', d.tag));
            li.appendChild(tag);
            if (d.desktop)
                li.appendChild(el('span', 'd-desktop', t('ui.device.desktop')));
            else
                li.appendChild(el('span', 'd-charger',
                    t(d.charger ? 'ui.device.charger_yes' : 'ui.device.charger_no')));
            list.appendChild(li);
        }
    }

    function renderReceipt(v) {
        const r = v.receipt || {};
        const img = $('receipt-qr');
        img.src = typeof r.qr === 'string' && r.qr.startsWith('data:image/png;base64,')
            ? r.qr : 'icons/qr-missing.svg';
        img.alt = t('ui.receipt.qr_alt', {id: r.id || ''});
        $('receipt-id').textContent = r.id || '';
        const list = $('receipt-lines');
        list.replaceChildren();
        for (const line of v.lines) {
            if (!QUIET.has(line.key) && !OUTCOMES[line.key])
                list.appendChild(el('li', '', line.text));
        }
    }

    function renderChecklist(v) {
        const q = v.lines.find((l) => CHECK_QUESTION.test(l.key));
        const name = v.pending ? deviceName(v.pending) : '';
        $('question-h').textContent = t('ui.check.heading') + (name ? ': ' + name : '');
        $('question-text').textContent = q ? q.text : '';
    }

    /* The first special outcome among the lines gets the panel; other
     * lines worth reading go in the list below it. */
    function renderLines(v) {
        const panel = $('outcome');
        const said = $('said');
        let shown = null;

        said.replaceChildren();
        for (const line of v.lines) {
            if (OUTCOMES[line.key] && !shown) {
                shown = line;
                continue;
            }
            if (v.screen === 'receipt' || QUIET.has(line.key))
                continue;
            said.appendChild(el('li', '', line.text));
        }
        said.hidden = said.childElementCount === 0;
        panel.hidden = !shown;
        if (!shown)
            return null;
        const [kind, title, then] = OUTCOMES[shown.key];
        panel.className = 'outcome k-' + kind;
        $('outcome-icon').src = ICONS[kind];
        $('outcome-title').textContent = t(title);
        $('outcome-text').textContent = shown.text;
        $('outcome-next').textContent = t(then);
        return kind;
    }

    function sameLines(a, b) {
        return a && b && JSON.stringify(a.lines) === JSON.stringify(b.lines) &&
            a.screen === b.screen;
    }

    async function render(v) {
        const previous = view;
        view = v;
        lastActivity = Date.now();
        await useLanguage(v.lang || 'en');
        if (view !== v)
            return;     /* a newer state came while the catalog loaded */

        const screen = v.screen in QUESTIONS || v.screen === 'checklist' ? 'question'
            : v.screen;
        const changed = !previous || previous.screen !== v.screen;
        for (const s of document.querySelectorAll('.screen'))
            s.hidden = s.id !== 'screen-' + screen;
        if ($('screen-' + screen) === null)
            $('screen-start').hidden = false;

        const kind = renderLines(v);
        if (v.screen === 'charger' && v.pending)
            renderCharger(v.pending);
        if (v.screen === 'next')
            renderDevices(v.devices || []);
        if (v.screen in QUESTIONS) {
            $('question-h').textContent = t(QUESTIONS[v.screen][0]);
            $('question-text').textContent = t(QUESTIONS[v.screen][1]);
        }
        if (v.screen === 'checklist')
            renderChecklist(v);
        if (v.screen === 'receipt')
            renderReceipt(v);
        for (const b of document.querySelectorAll('.lang-btn'))
            b.setAttribute('aria-pressed', String(b.dataset.language === lang));
        $('cancel-bar').hidden = v.screen === 'start' || v.screen === 'receipt';
        $('keys-hint').hidden = !(v.screen === 'charger' || v.screen === 'next' ||
                                  v.screen === 'checklist' ||
                                  v.screen in QUESTIONS);
        document.title = t('ui.title');

        if (v.screen === 'start' || v.screen === 'receipt')
            hideIdle();
        if (changed && $('entry').hidden && $('idle').hidden)
            focusHeading();

        if (!sameLines(previous, v) && v.lines.length > 0) {
            const first = v.lines[0];
            $('live').textContent = first.text;
            if (GOOD.test(first.key) || v.screen === 'receipt')
                tones(true);
            else if (kind === 'stop' || kind === 'warn')
                tones(false);
        }
    }

    /* ---- the event stream ------------------------------------------------ */

    function connect() {
        const es = new EventSource('/api/events');
        es.addEventListener('open', () => {
            streamUp = true;
            clearTimeout(streamDownTimer);
            streamDownTimer = 0;
            loadHealth();
            updateOutOfService();
        });
        es.addEventListener('state', (ev) => {
            try {
                render(JSON.parse(ev.data));
            } catch (e) {
                console.error('bad state event', e);
            }
        });
        es.addEventListener('health', (ev) => {
            try {
                health = JSON.parse(ev.data);
                renderHealth();
            } catch (e) {
                console.error('bad health event', e);
            }
        });
        es.addEventListener('error', () => {
            if (!streamDownTimer) {
                streamDownTimer = setTimeout(() => {
                    streamUp = false;
                    updateOutOfService();
                }, STREAM_GRACE_MS);
            }
            if (es.readyState === EventSource.CLOSED) {
                es.close();
                setTimeout(connect, 3000);
            }
        });
    }

    function loadHealth() {
        fetch('/api/health').then((r) => r.json()).then((h) => {
            health = h;
            renderHealth();
        }).catch(() => {});
    }

    async function start() {
        buildKeypad();
        try {
            const r = await fetch('/api/languages');
            languages = r.ok ? await r.json() : [];
        } catch (e) {
            languages = [];
        }
        await useLanguage('en');
        document.addEventListener('click', onClick);
        document.addEventListener('keydown', onKeyDown, true);
        document.addEventListener('keyup', onKeyUp, true);
        document.addEventListener('pointerdown', () => {
            unlockAudio();
        });
        $('entry-form').addEventListener('submit', onEntrySubmit);
        $('entry-close').addEventListener('click', (ev) => {
            ev.stopPropagation();
            closeEntry();
        });
        $('still-here').addEventListener('click', (ev) => {
            ev.stopPropagation();
            send({still_here: true});
        });
        idleTimer = setInterval(idleTick, 250);
        streamUp = true;    /* until the stream says otherwise */
        connect();
    }

    document.addEventListener('DOMContentLoaded', start);
})();
