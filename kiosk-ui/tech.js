/* The technician console (/tech): a page over the daemon's /api/tech/ JSON
 * API.  Plain JavaScript, no inline script or style (the server's CSP
 * forbids them); every value from the server is put in with textContent.
 * The session is an HttpOnly cookie the page never sees; the CSRF token
 * the login returns is kept in memory only and sent with every change. */
"use strict";

/* Every word the console shows, in one place (English: technicians). */
const S = {
    title: "dropkiosk technician console",
    tabs: "Console sections",
    loginHeading: "Technician login",
    badge: "Badge or technician id",
    pin: "PIN",
    login: "Log in",
    logout: "Log out",
    loggedInAs: "Logged in: {name} ({id})",
    loggingIn: "Checking the PIN…",
    wrongPin: "Wrong badge or PIN.",
    locked: "Too many wrong PINs: this account is locked for {minutes} more minutes.",
    sessionEnded: "Your session has ended. Log in again.",
    needBadgePin: "Give your badge and PIN.",
    networkDown: "The kiosk does not answer. Check the connection and try again.",
    failed: "Refused: {error}",
    loading: "Loading…",
    tabQueue: "Intake queue",
    tabDispose: "Disposition",
    tabCleanout: "Clean-out",
    tabManifest: "E-waste manifest",
    tabReports: "Reports",
    tabOutbox: "Outbox",
    tabAudit: "Audit trail",
    queueHeading: "Devices dropped, awaiting intake",
    site: "Site",
    allSites: "All sites",
    refresh: "Refresh",
    queueEmpty: "Nothing is waiting at this site.",
    colDropped: "Dropped",
    colSite: "Site",
    colTag: "Asset tag",
    colType: "Type",
    colAge: "Days waiting",
    colOverdue: "Overdue",
    colIntake: "Intake",
    receiveThis: "Receive {tag}",
    receiveHeading: "Receive a device",
    tag: "Asset tag, serial or IMEI",
    charger: "Charger",
    choose: "Choose…",
    chargerPresent: "Present",
    chargerMissing: "Missing",
    condition: "Condition",
    notAssessed: "Not assessed",
    condGood: "Good",
    condWorn: "Worn",
    condDamaged: "Damaged",
    condNotWorking: "Not working",
    note: "Note (optional)",
    receive: "Receive",
    needTagCharger: "Give the tag and whether the charger is there.",
    received: "Received {tag} ({model}), return {id}: charger {charger}.",
    walkIn: "Walk-in: {tag} had no open return. Recorded as return {id}, flagged.",
    mailQueued: " Confirmation email queued.",
    disposeHeading: "Disposition",
    showProposal: "Show the proposal",
    needTag: "Give the asset tag.",
    propAsset: "Asset",
    propReturn: "Return",
    propCondition: "Condition",
    propProposal: "Proposal",
    propRule: "Rule",
    propSource: "From",
    propHolder: "For",
    notRecorded: "not recorded",
    noRule: "none: no rule matched; you decide",
    notInInventory: "not in the inventory",
    wipeHeading: "1. Record the data wipe",
    method: "Method (e.g. powerwash, cryptographic erase)",
    tool: "Tool",
    recordWipe: "Record the wipe",
    needMethodTool: "Give the wipe's method and tool.",
    wiped: "Data wipe of {tag} recorded.",
    decideHeading: "2. Decide",
    reimage: "Reimage (back to stock)",
    reassignTo: "Reassign to staff id",
    reassign: "Reassign",
    level: "Recycle at level (NIST SP 800-88)",
    levelClear: "Clear",
    levelPurge: "Purge",
    levelDestroy: "Destroy",
    recycle: "Recycle",
    needTo: "Give the staff id.",
    needLevel: "Choose the level.",
    done: "{tag}: {disposition} done.",
    onManifest: " On e-waste manifest {manifest}.",
    cleanoutHeading: "Clean-out: a school's cart",
    cleanoutHelp: "Scan each device of the cart into the list, then submit the whole cart.",
    school: "School",
    scanTag: "Scan or type a tag",
    addTag: "Add",
    cartCount: "{n} devices in the cart.",
    alreadyInCart: "{tag} is already in the cart.",
    remove: "Remove {tag}",
    chargerCart: "Chargers (whole cart)",
    notChecked: "Not checked",
    submitCart: "Submit the cart",
    clearCart: "Empty the list",
    needSchoolTags: "Give the school and scan at least one tag.",
    cartDone: "{cleaned} returned and received, {received} from the drop bin, " +
        "{refused} refused, {unknown} not in the inventory.",
    colResult: "Result",
    colReturn: "Return",
    colReason: "Reason",
    manifestHeading: "Open e-waste manifest",
    noManifest: "No e-waste manifest is open.",
    manifestSummary: "Manifest {id}, open since {opened}: {n} devices.",
    manifestSummaryOne: "Manifest {id}, open since {opened}: 1 device.",
    downloadCsv: "Download CSV",
    colSerial: "Serial",
    colMake: "Make",
    colModel: "Model",
    colLevel: "Level",
    colTech: "Technician",
    colDate: "Date",
    closeHeading: "Close the manifest",
    vendor: "Recycling vendor",
    certificate: "Certificate number",
    closeManifest: "Close the manifest",
    needVendorCert: "Give the vendor and the certificate number.",
    closed: "Manifest {id} closed. ",
    closedHeading: "Closed manifests",
    closedItem: "Manifest {id}, closed {at}, {vendor}, certificate {certificate}",
    reportsHeading: "Reports",
    report: "Report",
    from: "From",
    until: "Until",
    show: "Show",
    reportNames: {
        returns: "Returns per day and site",
        awaiting: "Devices awaiting intake",
        chargers: "Missing chargers",
        dispositions: "Dispositions",
        flags: "Flags",
        leavers: "Leavers still holding devices",
    },
    noRows: "No rows.",
    outboxHeading: "Outbox",
    retrySelected: "Retry selected",
    retryFailed: "Retry every failed message",
    noneSelected: "Select failed messages first.",
    retried: "{n} messages queued again.",
    select: "Select message {id}",
    colId: "Id",
    colStatus: "Status",
    colAttempts: "Attempts",
    colNext: "Next attempt (UTC)",
    colTo: "Recipients",
    colSubject: "Subject",
    colError: "Last error",
    outboxEmpty: "The outbox is empty.",
    auditHeading: "Audit trail (newest first)",
    limit: "Rows",
    auditOk: "Chain verified: {rows} rows intact.",
    auditBroken: "Chain BROKEN at row {bad}: {reason}",
    colAt: "When (UTC)",
    colActor: "Who",
    colAction: "What",
    colSubjectA: "Subject",
    colDetails: "Details",
};

const CONDITIONS = [["", "notAssessed"], ["good", "condGood"], ["worn", "condWorn"],
    ["damaged", "condDamaged"], ["not_working", "condNotWorking"]];
const TABS = ["queue", "dispose", "cleanout", "manifest", "reports", "outbox", "audit"];

const state = { csrf: null, cart: [], loaders: {} };

/* ---- small helpers ------------------------------------------------------ */

const $ = (id) => document.getElementById(id);

/* S[key] with {name} placeholders filled from vars. */
function t(key, vars) {
    let text = S[key] !== undefined ? S[key] : key;
    for (const [k, v] of Object.entries(vars || {}))
        text = text.split("{" + k + "}").join(String(v));
    return text;
}

function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null)
        e.textContent = String(text);
    if (cls)
        e.className = cls;
    return e;
}

function say(text, bad) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("bad", !!bad);
}

function result(id, text, bad) {
    const r = $(id);
    r.textContent = text;
    r.classList.toggle("bad", !!bad);
}

/* A table of rows (objects) by columns [[key, label key], ...]; extra(row)
 * may return a cell element for one more column. */
function table(columns, rows, extra, extraLabel) {
    const tbl = el("table");
    const head = tbl.createTHead().insertRow();
    for (const [, label] of columns) {
        const th = el("th", t(label));
        th.scope = "col";
        head.appendChild(th);
    }
    if (extra)
        head.appendChild(el("th", extraLabel ? t(extraLabel) : ""));
    const body = tbl.createTBody();
    for (const row of rows) {
        const tr = body.insertRow();
        for (const [key] of columns) {
            const v = row[key];
            tr.insertCell().textContent = v === null || v === undefined ? "" : String(v);
        }
        if (extra)
            tr.insertCell().appendChild(extra(row));
    }
    return tbl;
}

function show(containerId, node) {
    $(containerId).replaceChildren(node);
}

/* ---- the API ------------------------------------------------------------ */

/* One request: {status, data}.  A 401 outside the login shows the login
 * again; a network failure is said and gives status 0. */
async function api(method, path, body) {
    const opts = { method, headers: {}, credentials: "same-origin", cache: "no-store" };
    if (method === "POST") {
        opts.headers["Content-Type"] = "application/json";
        // Before the login there is no token yet: the login itself is
        // marked, so that no other site's form can post one.
        opts.headers["X-CSRF-Token"] = state.csrf || "login";
        opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
        res = await fetch(path, opts);
    } catch (e) {
        say(S.networkDown, true);
        return { status: 0, data: {} };
    }
    let data = {};
    try {
        data = await res.json();
    } catch (e) {
        data = {};
    }
    if (res.status === 401 && path !== "/api/tech/login") {
        showLogin();
        say(S.sessionEnded, true);
    }
    return { status: res.status, data };
}

function refused(r) {
    return t("failed", { error: r.data.error || r.status });
}

/* ---- login -------------------------------------------------------------- */

function showLogin() {
    state.csrf = null;
    $("console-view").hidden = true;
    $("logout").hidden = true;
    $("who").hidden = true;
    $("login-view").hidden = false;
    $("login-pin").value = "";
    $("login-badge").focus();
}

function showConsole(me) {
    state.csrf = me.csrf;
    $("login-view").hidden = true;
    $("console-view").hidden = false;
    $("logout").hidden = false;
    $("who").hidden = false;
    $("who").textContent = t("loggedInAs", { name: me.name, id: me.id });
    selectTab("queue");
}

async function onLogin(ev) {
    ev.preventDefault();
    const badge = $("login-badge").value.trim();
    const pinField = $("login-pin");
    const pin = pinField.value;
    pinField.value = "";
    if (!badge || !pin) {
        say(S.needBadgePin, true);
        return;
    }
    say(S.loggingIn);
    const r = await api("POST", "/api/tech/login", { badge, pin });
    if (r.status === 200) {
        say("");
        showConsole(r.data);
    } else if (r.status === 423) {
        say(t("locked", { minutes: r.data.minutes }), true);
    } else if (r.status === 401) {
        say(S.wrongPin, true);
    } else if (r.status !== 0) {
        say(refused(r), true);
    }
    if (r.status !== 200)
        pinField.focus();
}

async function onLogout() {
    await api("POST", "/api/tech/logout", {});
    showLogin();
    say("");
}

/* ---- tabs --------------------------------------------------------------- */

function selectTab(name) {
    for (const tab of TABS) {
        const on = tab === name;
        const button = $("tab-" + tab);
        button.setAttribute("aria-selected", on ? "true" : "false");
        button.tabIndex = on ? 0 : -1;
        $("panel-" + tab).hidden = !on;
    }
    if (state.loaders[name])
        state.loaders[name]();
}

/* Arrow keys move between tabs, as the ARIA tabs pattern has it. */
function onTabKey(ev) {
    const i = TABS.indexOf(ev.target.id.slice(4));
    let next = -1;
    if (ev.key === "ArrowRight")
        next = (i + 1) % TABS.length;
    else if (ev.key === "ArrowLeft")
        next = (i + TABS.length - 1) % TABS.length;
    else if (ev.key === "Home")
        next = 0;
    else if (ev.key === "End")
        next = TABS.length - 1;
    if (next < 0)
        return;
    ev.preventDefault();
    selectTab(TABS[next]);
    $("tab-" + TABS[next]).focus();
}

/* ---- intake queue and receive ------------------------------------------- */

function fillSites(sites, chosen) {
    const sel = $("queue-site");
    if (sel.options.length > 0)
        return;
    sel.appendChild(new Option(S.allSites, ""));
    for (const s of sites)
        sel.appendChild(new Option(s.name + " (" + s.id + ")", s.id));
    sel.value = chosen;
}

async function loadQueue() {
    const site = $("queue-site").value;
    const path = "/api/tech/queue" + (site ? "?site=" + encodeURIComponent(site) : "");
    const r = await api("GET", path);
    if (r.status !== 200) {
        if (r.status !== 401)
            result("receive-result", refused(r), true);
        return;
    }
    const first = $("queue-site").options.length === 0;
    fillSites(r.data.sites, r.data.kiosk_site);
    if (first && r.data.kiosk_site && !site)
        return loadQueue();
    if (r.data.devices.length === 0) {
        show("queue-table", el("p", S.queueEmpty));
        return;
    }
    const cols = [["dropped", "colDropped"], ["site", "colSite"], ["tag", "colTag"],
        ["type", "colType"], ["age_days", "colAge"], ["overdue", "colOverdue"]];
    show("queue-table", table(cols, r.data.devices, (row) => {
        const b = el("button", S.receive);
        b.type = "button";
        b.setAttribute("aria-label", t("receiveThis", { tag: row.tag }));
        b.addEventListener("click", () => {
            $("receive-tag").value = row.tag;
            $("receive-charger").focus();
        });
        return b;
    }, "colIntake"));
}

async function onReceive(ev) {
    ev.preventDefault();
    const body = {
        tag: $("receive-tag").value.trim(),
        charger: $("receive-charger").value,
        condition: $("receive-condition").value,
        note: $("receive-note").value.trim(),
    };
    if (!body.tag || !body.charger) {
        result("receive-result", S.needTagCharger, true);
        return;
    }
    if (!body.condition)
        delete body.condition;
    if (!body.note)
        delete body.note;
    const r = await api("POST", "/api/tech/receive", body);
    if (r.status !== 200) {
        if (r.status !== 401)
            result("receive-result", refused(r), true);
        return;
    }
    const d = r.data;
    const key = d.outcome === "walk-in" ? "walkIn" : "received";
    const charger = d.charger === "present" ? S.chargerPresent : S.chargerMissing;
    result("receive-result", t(key, { tag: d.tag, model: d.model || S.notInInventory,
        id: d.return_id, charger: charger.toLowerCase() }) +
        (d.mail_queued ? S.mailQueued : ""));
    $("receive-form").reset();
    $("receive-tag").focus();
    loadQueue();
}

/* ---- disposition -------------------------------------------------------- */

function currentTag() {
    return $("dispose-tag").value.trim();
}

function showProposal(p) {
    const dl = $("proposal");
    const rows = [
        ["propAsset", p.tag + (p.type ? "  " + p.type + "  " + p.model
            : "  (" + S.notInInventory + ")")],
        ["propReturn", "#" + p.return_id],
        ["propCondition", p.condition || S.notRecorded],
        ["propProposal", p.proposal === "none" ? S.noRule : p.proposal],
    ];
    if (p.proposal !== "none") {
        rows.push(["propRule", p.rule]);
        rows.push(["propSource", p.source]);
    }
    if (p.holder)
        rows.push(["propHolder", p.holder.staff_id + " (" + p.holder.name + ")"]);
    dl.replaceChildren();
    for (const [k, v] of rows) {
        dl.appendChild(el("dt", S[k]));
        dl.appendChild(el("dd", v));
    }
    dl.hidden = false;
    if (p.holder)
        $("reassign-to").value = p.holder.staff_id;
}

async function onPropose(ev) {
    ev.preventDefault();
    const tag = currentTag();
    if (!tag) {
        result("dispose-result", S.needTag, true);
        return;
    }
    const r = await api("GET", "/api/tech/dispose?tag=" + encodeURIComponent(tag));
    $("proposal").hidden = true;
    $("acts").hidden = true;
    if (r.status !== 200) {
        if (r.status !== 401)
            result("dispose-result", refused(r), true);
        return;
    }
    result("dispose-result", "");
    showProposal(r.data);
    $("acts").hidden = false;
}

async function act(path, body, done) {
    const r = await api("POST", path, Object.assign({ tag: currentTag() }, body));
    if (r.status !== 200) {
        if (r.status !== 401)
            result("dispose-result", refused(r), true);
        return;
    }
    result("dispose-result", done(r.data));
}

function onWipe(ev) {
    ev.preventDefault();
    const method = $("wipe-method").value.trim();
    const tool = $("wipe-tool").value.trim();
    if (!method || !tool) {
        result("dispose-result", S.needMethodTool, true);
        return;
    }
    act("/api/tech/wipe", { method, tool }, (d) => t("wiped", { tag: d.tag }));
}

function actDone(d) {
    let text = t("done", { tag: d.tag, disposition: d.disposition });
    if (d.manifest)
        text += t("onManifest", { manifest: d.manifest });
    if (d.warning)
        text += " " + d.warning;
    $("acts").hidden = true;
    return text;
}

function onReimage(ev) {
    ev.preventDefault();
    act("/api/tech/reimage", {}, actDone);
}

function onReassign(ev) {
    ev.preventDefault();
    const to = $("reassign-to").value.trim();
    if (!to) {
        result("dispose-result", S.needTo, true);
        return;
    }
    act("/api/tech/reassign", { to }, actDone);
}

function onRecycle(ev) {
    ev.preventDefault();
    const level = $("recycle-level").value;
    if (!level) {
        result("dispose-result", S.needLevel, true);
        return;
    }
    act("/api/tech/recycle", { level }, actDone);
}

/* ---- clean-out ---------------------------------------------------------- */

function drawCart() {
    const list = $("cleanout-list");
    list.replaceChildren();
    state.cart.forEach((tag, i) => {
        const li = el("li", tag + " ");
        const b = el("button", "×", "secondary");
        b.type = "button";
        b.setAttribute("aria-label", t("remove", { tag }));
        b.addEventListener("click", () => {
            state.cart.splice(i, 1);
            drawCart();
            $("cleanout-scan").focus();
        });
        li.appendChild(b);
        list.appendChild(li);
    });
    $("cleanout-count").textContent = t("cartCount", { n: state.cart.length });
}

/* A scanner types the tag and presses Enter, which submits this form. */
function onScan(ev) {
    ev.preventDefault();
    const field = $("cleanout-scan");
    const tag = field.value.trim();
    field.value = "";
    field.focus();
    if (!tag)
        return;
    if (state.cart.includes(tag)) {
        say(t("alreadyInCart", { tag }), true);
        return;
    }
    say("");
    state.cart.push(tag);
    drawCart();
}

async function onCart(ev) {
    ev.preventDefault();
    const body = { school: $("cleanout-school").value.trim(), tags: state.cart.slice() };
    if (!body.school || body.tags.length === 0) {
        say(S.needSchoolTags, true);
        return;
    }
    if ($("cleanout-charger").value)
        body.charger = $("cleanout-charger").value;
    if ($("cleanout-condition").value)
        body.condition = $("cleanout-condition").value;
    const r = await api("POST", "/api/tech/cleanout", body);
    if (r.status !== 200) {
        if (r.status !== 401)
            show("cleanout-result", el("p", refused(r), "result bad"));
        return;
    }
    const d = r.data;
    const box = document.createDocumentFragment();
    box.appendChild(el("p", t("cartDone", { cleaned: d.cleaned_out, received: d.received,
        refused: d.refused, unknown: d.unknown }), "result"));
    box.appendChild(table([["tag", "colTag"], ["result", "colResult"],
        ["return_id", "colReturn"], ["reason", "colReason"]], d.items));
    $("cleanout-result").replaceChildren(box);
    state.cart = [];
    drawCart();
}

/* ---- manifest ----------------------------------------------------------- */

const MANIFEST_COLS = [["asset_tag", "colTag"], ["serial", "colSerial"], ["type", "colType"],
    ["make", "colMake"], ["model", "colModel"], ["level", "colLevel"],
    ["technician", "colTech"], ["date", "colDate"]];

function csvLink(id) {
    return "/api/tech/manifest?id=" + encodeURIComponent(id) + "&format=csv";
}

async function loadManifest() {
    const r = await api("GET", "/api/tech/manifest");
    if (r.status !== 200) {
        if (r.status !== 401)
            result("close-result", refused(r), true);
        return;
    }
    const m = r.data;
    const link = $("manifest-download");
    if (m.id === null) {
        $("manifest-summary").textContent = S.noManifest;
        link.hidden = true;
        $("manifest-table").replaceChildren();
    } else {
        $("manifest-summary").textContent = t(
            m.devices.length === 1 ? "manifestSummaryOne" : "manifestSummary",
            { id: m.id, opened: m.opened_at, n: m.devices.length });
        link.href = csvLink(m.id);
        link.hidden = false;
        show("manifest-table", table(MANIFEST_COLS, m.devices));
    }
    const list = $("closed-list");
    list.replaceChildren();
    for (const c of m.closed) {
        const li = el("li", t("closedItem", { id: c.id, at: c.closed_at, vendor: c.vendor,
            certificate: c.certificate }) + " ");
        const a = el("a", S.downloadCsv);
        a.href = csvLink(c.id);
        li.appendChild(a);
        list.appendChild(li);
    }
}

async function onClose(ev) {
    ev.preventDefault();
    const vendor = $("close-vendor").value.trim();
    const certificate = $("close-certificate").value.trim();
    if (!vendor || !certificate) {
        result("close-result", S.needVendorCert, true);
        return;
    }
    const r = await api("POST", "/api/tech/manifest/close", { vendor, certificate });
    if (r.status !== 200) {
        if (r.status !== 401)
            result("close-result", refused(r), true);
        return;
    }
    const out = $("close-result");
    out.classList.remove("bad");
    out.replaceChildren(el("span", t("closed", { id: r.data.id })));
    const a = el("a", S.downloadCsv);
    a.href = r.data.download;
    out.appendChild(a);
    $("close-form").reset();
    loadManifest();
}

/* ---- reports ------------------------------------------------------------ */

function reportQuery() {
    const q = new URLSearchParams();
    if ($("report-from").value)
        q.set("from", $("report-from").value);
    if ($("report-until").value)
        q.set("until", $("report-until").value);
    return q;
}

async function onReport(ev) {
    if (ev)
        ev.preventDefault();
    const name = $("report-name").value;
    const q = reportQuery();
    const base = "/api/tech/report/" + encodeURIComponent(name);
    const r = await api("GET", base + (q.toString() ? "?" + q : ""));
    const link = $("report-download");
    if (r.status !== 200) {
        link.hidden = true;
        if (r.status !== 401)
            show("report-table", el("p", refused(r), "result bad"));
        return;
    }
    q.set("format", "csv");
    link.href = base + "?" + q;
    link.hidden = false;
    if (r.data.rows.length === 0) {
        show("report-table", el("p", S.noRows));
        return;
    }
    /* Column names are the CSV header's; shown as the server gives them. */
    for (const c of r.data.columns)
        S["col:" + c] = c.replace(/_/g, " ");
    show("report-table", table(r.data.columns.map((c) => [c, "col:" + c]), r.data.rows));
}

/* ---- outbox ------------------------------------------------------------- */

async function loadOutbox() {
    const r = await api("GET", "/api/tech/outbox");
    if (r.status !== 200) {
        if (r.status !== 401)
            say(refused(r), true);
        return;
    }
    if (r.data.messages.length === 0) {
        show("outbox-table", el("p", S.outboxEmpty));
        return;
    }
    const cols = [["id", "colId"], ["status", "colStatus"], ["attempts", "colAttempts"],
        ["next_attempt", "colNext"], ["recipients", "colTo"], ["subject", "colSubject"],
        ["last_error", "colError"]];
    show("outbox-table", table(cols, r.data.messages, (row) => {
        const box = el("input");
        box.type = "checkbox";
        box.value = row.id;
        box.className = "retry-pick";
        box.disabled = row.status !== "failed";
        box.setAttribute("aria-label", t("select", { id: row.id }));
        return box;
    }, "retrySelected"));
}

async function retry(body) {
    const r = await api("POST", "/api/tech/outbox/retry", body);
    if (r.status === 200)
        say(t("retried", { n: r.data.retried }));
    else if (r.status !== 401)
        say(refused(r), true);
    loadOutbox();
}

function onRetrySelected() {
    const ids = [...document.querySelectorAll(".retry-pick:checked")]
        .map((b) => Number(b.value));
    if (ids.length === 0) {
        say(S.noneSelected, true);
        return;
    }
    retry({ ids });
}

/* ---- audit -------------------------------------------------------------- */

async function loadAudit(ev) {
    if (ev)
        ev.preventDefault();
    const limit = $("audit-limit").value || "100";
    const r = await api("GET", "/api/tech/audit?limit=" + encodeURIComponent(limit));
    const verdict = $("audit-verdict");
    if (r.status !== 200) {
        if (r.status !== 401) {
            verdict.textContent = refused(r);
            verdict.className = "bad";
        }
        return;
    }
    const v = r.data.verdict;
    verdict.textContent = v.ok ? t("auditOk", { rows: v.rows })
        : t("auditBroken", { bad: v.first_bad, reason: v.reason });
    verdict.className = v.ok ? "good" : "bad";
    const cols = [["id", "colId"], ["at", "colAt"], ["actor", "colActor"],
        ["action", "colAction"], ["subject", "colSubjectA"], ["details", "colDetails"]];
    show("audit-table", table(cols, r.data.entries));
}

/* ---- start -------------------------------------------------------------- */

function fillText() {
    for (const e of document.querySelectorAll("[data-s]"))
        e.textContent = t(e.dataset.s);
    for (const e of document.querySelectorAll("[data-s-aria]"))
        e.setAttribute("aria-label", t(e.dataset.sAria));
    for (const sel of document.querySelectorAll("select.conditions"))
        for (const [value, key] of CONDITIONS)
            sel.appendChild(new Option(S[key], value));
    for (const [name, label] of Object.entries(S.reportNames))
        $("report-name").appendChild(new Option(label, name));
}

function wire() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    for (const tab of TABS) {
        $("tab-" + tab).addEventListener("click", () => selectTab(tab));
        $("tab-" + tab).addEventListener("keydown", onTabKey);
    }
    $("queue-site").addEventListener("change", loadQueue);
    $("queue-refresh").addEventListener("click", loadQueue);
    $("receive-form").addEventListener("submit", onReceive);
    $("propose-form").addEventListener("submit", onPropose);
    $("wipe-form").addEventListener("submit", onWipe);
    $("reimage-form").addEventListener("submit", onReimage);
    $("reassign-form").addEventListener("submit", onReassign);
    $("recycle-form").addEventListener("submit", onRecycle);
    $("cleanout-scan-form").addEventListener("submit", onScan);
    $("cleanout-form").addEventListener("submit", onCart);
    $("cleanout-clear").addEventListener("click", () => {
        state.cart = [];
        drawCart();
    });
    $("close-form").addEventListener("submit", onClose);
    $("report-form").addEventListener("submit", onReport);
    $("outbox-refresh").addEventListener("click", loadOutbox);
    $("outbox-retry-selected").addEventListener("click", onRetrySelected);
    $("outbox-retry-failed").addEventListener("click", () => retry({ failed: true }));
    $("audit-form").addEventListener("submit", loadAudit);
    state.loaders = {
        queue: loadQueue,
        manifest: loadManifest,
        outbox: loadOutbox,
        audit: loadAudit,
        reports: onReport,
        cleanout: drawCart,
    };
}

async function start() {
    document.title = S.title;
    fillText();
    wire();
    /* A page opened again within the session carries on without a login. */
    const r = await api("GET", "/api/tech/session");
    if (r.status === 200)
        showConsole(r.data);
    else
        showLogin();
    if (r.status === 401)
        say("");
}

document.addEventListener("DOMContentLoaded", start);
