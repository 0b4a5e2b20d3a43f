// The app's start and its screens. Hash routes (#/, #/households, #/h/<id>,
// #/h/<id>/plan, #/h/<id>/income, #/h/<id>/ledger[/<item>], #/v/new/<household>, #/v/<id>, #/i/<task>, #/outbox, #/me) keep every
// screen one URL under the service worker's shell. An inspector signs in to
// the same app: their home screen is their tasks (inspect.js).
import { openDB, wipe, kvGet, kvPut, getAll, DB_NAME } from "./db.js";
import { API, SignedOut, deviceId } from "./api.js";
import { Sync } from "./sync.js";
import { Store } from "./store.js";
import { visible, rfc3339 } from "./outbox.js";
import { timeFields, gpsField, photoField } from "./visit-parts.js";
import * as inspect from "./inspect.js";
import { Casework, progressField, INCOME_LINES } from "./casework.js";
import { Ledgers } from "./ledger.js";
import { h, mount, megabytes, shortTime } from "./dom.js";

const view = document.getElementById("view");
const meta = (n) => (document.querySelector('meta[name="' + n + '"]') || {}).content || "";
const app = { version: meta("app-version"), build: meta("app-build"), db: null, api: null, sync: null, store: null, vocab: {}, user: null, session: null };
const casework = new Casework(app, { view, setTitle, toast, syncSoon });
const ledgers = new Ledgers(app, { view, setTitle, toast, syncSoon });

// Labels of the visit form, as §13.1 gives them (the server's
// /vocabularies wins when the phone has it).
const KINDS = [["assist", "帮扶走访"], ["followup", "回访"], ["condolence", "慰问"]];
const CHECKLIST = [["food", "不愁吃"], ["clothing", "不愁穿"], ["education", "义务教育有保障"], ["medical", "基本医疗有保障"], ["housing", "住房安全有保障"], ["water", "饮水安全有保障"]];
const ANSWERS = [["met", "已保障"], ["problem", "存在问题"], ["not_applicable", "不适用"]];
const MEASURES = [["industry", "产业扶贫"], ["employment", "就业扶贫"], ["housing_renovation", "危房改造"], ["medical", "医疗救助"], ["education", "教育资助"], ["dibao", "低保兜底"], ["microcredit", "小额信贷"], ["solar_dividend", "光伏分红"], ["relocation", "易地搬迁"], ["condolence", "走访慰问"], ["policy_briefing", "政策宣讲"], ["other", "其他"]];
// RISKS are the risk triggers (vocabulary risk_triggers, version 1) when
// the server's list has not been pulled yet.
const RISKS = [["serious_illness", "大病"], ["disability", "残疾"], ["disaster", "灾祸"], ["income_drop", "收入骤减"], ["job_loss", "失业/务工中断"], ["education_costs", "子女就学支出骤增"], ["housing_unsafe", "住房出现安全隐患"]];
const STATES = { met: "已完成", on_track: "进行中", due_soon: "即将到期", overdue: "已逾期", missed: "未完成" };

function label(list, code) {
  const v = (app.vocab[list] || []).find((t) => t.code === code);
  return v ? v.label : code || "—";
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 3500);
}

function banner(text) {
  const b = document.getElementById("banner");
  b.textContent = text || "";
  b.hidden = !text;
}

// ---- start ----

async function start() {
  await startServiceWorker();
  app.db = await openDB();
  app.api = new API(app.db, { version: app.version });
  app.store = new Store(app.db);
  app.sync = new Sync(app.db, app.api, { onChange: () => { refreshStatus(); } });
  app.session = await app.api.session();
  app.vocab = (await kvGet(app.db, "vocab")) || {};
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => { setNet(); syncSoon(0); });
  window.addEventListener("offline", setNet);
  setNet();
  if (!app.session || !app.session.refresh_token) return showLogin(app.session && app.session.user);
  app.user = app.session.user;
  document.getElementById("tabs").hidden = false;
  await route();
  syncSoon(0);
  startSyncTimer();
}

// startSyncTimer syncs once a minute while the app is open (after a
// start signed in, or a sign-in).
function startSyncTimer() {
  if (!startSyncTimer.id) startSyncTimer.id = setInterval(() => syncSoon(0), 60000);
}

// startServiceWorker registers the worker. An update found earlier and
// waiting is activated now, at the start, before any screen is open —
// never in the middle of a visit; one found while the app runs waits for
// the next start.
async function startServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const reg = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/", updateViaCache: "none" });
    if (reg.waiting && navigator.serviceWorker.controller) {
      const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
      reg.waiting.postMessage({ type: "activate-update" });
      const how = await Promise.race([changed.then(() => "changed"), new Promise((r) => setTimeout(() => r("busy"), 3000))]);
      if (how === "changed") {
        location.reload();
        await new Promise(() => {}); // the reload takes over
      }
      // The old build still has work in flight: it goes on for now, and the
      // browser switches builds once the app is closed.
    }
    reg.addEventListener("updatefound", () => {
      const w = reg.installing;
      if (!w) return;
      w.addEventListener("statechange", () => {
        if (w.state === "installed" && navigator.serviceWorker.controller) {
          document.body.dataset.update = "waiting";
          banner("新版本已下载，下次打开时生效");
        }
      });
    });
    if (reg.waiting) {
      document.body.dataset.update = "waiting";
      banner("新版本已下载，下次打开时生效");
    }
  } catch (e) {
    console.warn("service worker:", e.message);
  }
}

function setNet() {
  const n = document.getElementById("net");
  n.dataset.online = String(navigator.onLine);
  n.textContent = navigator.onLine ? "在线" : "离线";
}

// ---- sync ----

// How long after a push the server has judged its visits, about. A test
// sets localStorage "fieldvisit-repull-ms" to see the pull that follows a
// push without waiting ten seconds.
const JUDGED_AFTER_MS = 10000;
const judgedAfter = () => Number(localStorage.getItem("fieldvisit-repull-ms")) || JUDGED_AFTER_MS;

let syncTimer = null;
let repullTimer = null;
let syncing = null;
let syncRuns = 0;

function syncSoon(delay) {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(syncNow, delay);
}

// syncAsked is the 立即同步 button. With no signal there is nothing to
// try, and the tap must not go unanswered (it did: the cadre saw nothing
// happen): they are told why, and that what waits is kept on the phone
// and goes up by itself once there is a network.
async function syncAsked() {
  if (navigator.onLine) return syncNow();
  const b = await app.sync.backlog();
  toast("当前没有网络，无法同步" + (b.records || b.photos ? "；未上传的记录和照片已保存在本机，联网后会自动上传" : ""));
  return refreshStatus();
}

// syncNow runs one sync unless one is running. With the phone out of
// signal it does not try (the radio stays quiet): the online event starts
// the next one. body[data-syncs] counts the syncs done, so a person or a
// test can tell a sync has finished since they asked.
async function syncNow() {
  if (syncing) return syncing;
  if (!navigator.onLine) return refreshStatus();
  document.body.dataset.sync = "running";
  syncing = (async () => {
    try {
      const r = await app.sync.run();
      if (!r.error) await refreshInspectionForm(false);
      if (r.error) {
        console.info("sync stopped:", r.error.message);
        syncSoon(app.sync.retryDelay());
      } else if (r.pushed > 0) {
        // The server judges new visits a few seconds after they arrive
        // (§8.1): pull again soon for their flags and the worklist they
        // changed, so a household just visited leaves 待走访. A timer of
        // its own, so that a sync asked for meanwhile (the minute's, the
        // signal coming back) does not cancel it: that one would come
        // before the judgement.
        clearTimeout(repullTimer);
        repullTimer = setTimeout(() => syncSoon(0), judgedAfter());
      }
      return r;
    } catch (e) {
      if (e instanceof SignedOut) return showLogin(app.user, e.message);
      throw e;
    } finally {
      syncing = null;
      await refreshStatus();
      document.body.dataset.sync = "idle";
      document.body.dataset.syncs = String(++syncRuns);
    }
  })();
  return syncing;
}

// refreshStatus shows the outbox's numbers. Refreshes overlap (a sync
// ending while a screen is drawn): only the one begun last writes, so an
// older count read before a push was settled never overwrites a newer one.
let statusSeq = 0;
async function refreshStatus(redrawOutbox = true) {
  if (!app.sync) return;
  const seq = ++statusSeq;
  const b = await app.sync.backlog();
  const items = await app.store.attention();
  const att = items.length;
  const last = (await kvGet(app.db, "last_sync")) || {};
  if (seq !== statusSeq) return;
  Object.assign(document.body.dataset, { records: b.records, photos: b.photos, attention: att });
  const badge = document.getElementById("badge");
  badge.hidden = att === 0;
  badge.textContent = att;
  const el = document.getElementById("backlog");
  if (el) el.replaceWith(backlogLine(b, last, items));
  // A save online goes up within a second or two: its 已保存（待上传）
  // would go on saying it waits under 全部已上传.
  const t = document.getElementById("toast");
  if (b.records === 0 && b.photos === 0 && !t.hidden && t.textContent.includes("待上传")) {
    clearTimeout(toast.timer);
    t.hidden = true;
  }
  // 待处理 lists what a sync settles (photos waiting, refused changes):
  // drawn before the sync ended, it would go on showing photos that went
  // up and refusals already answered. It has no field to type in, so it
  // is simply drawn again.
  if (redrawOutbox && location.hash.replace(/^#/, "").split("?")[0] === "/outbox") route();
}

// backlogNow is backlogLine of the outbox as it stands.
async function backlogNow() {
  return backlogLine(await app.sync.backlog(), await kvGet(app.db, "last_sync"), await app.store.attention());
}

// backlogLine says what is still on the phone. What the server refused
// (待处理) is not uploaded either: "all uploaded" must not hide it. A
// conflict is different: the change was accepted and stands, the value
// it overwrote kept for the supervisor — it is told apart, not called
// refused.
function backlogLine(b, last, attention) {
  let text = b.records === 0 && b.photos === 0 ? "全部已上传" : "还有" + b.records + "条记录、" + b.photos + "张照片未上传，约" + megabytes(b.bytes);
  const conflicts = attention.filter((a) => a.kind === "conflict").length;
  const refused = attention.length - conflicts;
  const parts = [];
  if (refused) parts.push(refused + "条未被接受，请到“待处理”修改");
  if (conflicts) parts.push(conflicts + "条已接受但与他人的修改冲突，待督导核查");
  if (parts.length) text += "；" + attention.length + "条待处理（" + parts.join("；") + "）";
  if (last && last.at) text += " · 上次同步 " + shortTime(last.at) + (last.offline ? "（无网络）" : "");
  return h("p", { id: "backlog", class: "backlog" + (b.records || b.photos || attention.length ? " waiting" : "") }, text);
}

// ---- screens ----

// route shows the screen the hash names. Routes run one after another: a
// screen reads the phone's database before it is drawn, and one begun
// earlier (a hash set twice in a row, a tap before the last screen was
// drawn) must never be drawn over the one asked for last. At most one
// waits: it reads the hash when it starts, so it serves every change
// made meanwhile, and a screen is not drawn twice — a second drawing
// would replace the field the cadre has begun to type in.
let routing = Promise.resolve();
let routeWaiting = false;
function route() {
  if (routeWaiting) return routing;
  routeWaiting = true;
  const next = () => { routeWaiting = false; return showRoute(); };
  routing = routing.then(next, next);
  return routing;
}

async function showRoute() {
  if (!app.session || !app.session.refresh_token) return;
  const path = location.hash.replace(/^#/, "") || "/";
  const parts = path.split("?")[0].split("/").filter(Boolean);
  for (const a of document.querySelectorAll("#tabs a")) a.removeAttribute("aria-current");
  const tab = { households: "households", h: "households", v: "households", i: "home", outbox: "outbox", me: "me" }[parts[0]] || "home";
  document.querySelector('#tabs a[data-tab="' + tab + '"]').setAttribute("aria-current", "page");
  try {
    if (parts.length === 0) await showHome();
    else if (parts[0] === "households") await showHouseholds(new URLSearchParams(path.split("?")[1] || "").get("q") || "");
    else if (parts[0] === "h" && parts[2] === "edit") await showHouseholdEdit(parts[1]);
    else if (parts[0] === "h" && parts[2] === "plan" && !isInspector()) await casework.plan(parts[1]);
    else if (parts[0] === "h" && parts[2] === "ledger" && !isInspector()) await ledgers.form(parts[1], parts[3]);
    else if (parts[0] === "h" && parts[2] === "income" && !isInspector()) await casework.income(parts[1], new URLSearchParams(path.split("?")[1] || "").get("year"));
    else if (parts[0] === "h") await showHousehold(parts[1]);
    else if (parts[0] === "v" && parts[1] === "new") await showVisitForm(parts[2], null);
    else if (parts[0] === "v") await showVisitForm(null, parts[1]);
    else if (parts[0] === "i") await showInspectionForm(parts[1], null);
    else if (parts[0] === "outbox") await showOutbox();
    else if (parts[0] === "me") await showMe();
    else await showHome();
  } finally {
    // The screen was just drawn: drawing 待处理 again from here would
    // draw it again without end.
    await refreshStatus(false);
  }
  window.scrollTo(0, 0);
}

function setTitle(t) {
  document.getElementById("title").textContent = t;
}

async function showLogin(user, message) {
  document.getElementById("tabs").hidden = true;
  setTitle("精准扶贫走访");
  const err = h("p", { class: "error", role: "alert", hidden: !message }, message || "");
  const form = h("form", { class: "login", id: "login", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    err.hidden = true;
    form.querySelector("button").disabled = true;
    try {
      await signIn(String(f.get("username")).trim(), String(f.get("password")));
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    } finally {
      form.querySelector("button").disabled = false;
    }
  } },
  h("label", {}, "用户名", h("input", { name: "username", autocomplete: "username", required: true, value: user ? user.username : "", autocapitalize: "none" })),
  h("label", {}, "密码", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
  err,
  h("button", { type: "submit", class: "primary" }, "登录"),
  h("p", { class: "muted" }, "首次登录需联网，之后无网络也能记录走访。"));
  mount(view, form);
}

async function signIn(username, password) {
  if (!navigator.onLine) throw new Error("当前无网络，首次登录需要联网");
  const t = await app.api.login(username, password);
  const prev = await kvGet(app.db, "user");
  if (prev && prev.id !== t.user.id) {
    // One user per outbox (rule 12): another cadre's unsent work is never
    // sent with this login.
    const b = await app.sync.backlog();
    if (b.records || b.photos) throw new Error("本机还有" + prev.display_name + "未上传的记录，请先由其本人登录上传");
    await wipe(app.db);
    app.db = await openDB();
    app.api = new API(app.db, { version: app.version });
    app.store = new Store(app.db);
    app.sync = new Sync(app.db, app.api, { onChange: () => { refreshStatus(); } });
  }
  app.session = await app.api.saveSession(t, t.user);
  app.user = t.user;
  await kvPut(app.db, "user", t.user);
  mount(view, h("p", { class: "muted loading" }, "正在下载农户资料…"));
  try {
    app.vocab = await app.api.json("GET", "/vocabularies");
    await kvPut(app.db, "vocab", app.vocab);
  } catch { /* labels fall back to codes */ }
  await refreshInspectionForm(true);
  document.getElementById("tabs").hidden = false;
  await syncNow();
  location.hash = "#/";
  await route();
  startSyncTimer();
}

const isInspector = () => !!app.user && app.user.role === "inspector";

// refreshInspectionForm keeps the household form (入户核查表) on an
// inspector's phone, fetched at sign-in and again once a day: the form is
// filled in offline, and a county may change its questions.
async function refreshInspectionForm(force) {
  if (!isInspector() || !navigator.onLine) return;
  const held = await kvGet(app.db, "inspection_form");
  if (!force && held && Date.now() - held.fetched_at < 24 * 3600 * 1000) return;
  try {
    const { forms } = await app.api.json("GET", "/inspection-forms");
    const form = forms.find((f) => f.code === "household");
    if (form) await kvPut(app.db, "inspection_form", { fetched_at: Date.now(), form });
  } catch (e) {
    console.info("inspection form:", e.message);
  }
}

async function householdNames() {
  const m = new Map();
  for (const r of await app.store.records("household")) m.set(r.id, visible(r));
  return m;
}

async function showHome() {
  if (isInspector()) return showTasks();
  setTitle("走访工作");
  const due = (await kvGet(app.db, "due")) || [];
  const names = await householdNames();
  const items = due.filter((d) => d.state !== "met").sort((a, b) => (a.due_on || "").localeCompare(b.due_on || ""));
  mount(view,
    await backlogNow(),
    h("section", { class: "card" },
      h("h2", {}, "待走访（", String(items.length), "）"),
      items.length === 0 ? h("p", { class: "muted" }, "暂无到期的走访任务") : null,
      h("ul", { class: "list worklist" }, items.slice(0, 100).map((d) => {
        const hh = d.household_id ? names.get(d.household_id) : null;
        return h("li", { class: "due state-" + d.state },
          h("a", { href: d.household_id ? "#/h/" + d.household_id : "#/households" },
            h("strong", {}, hh ? hh.head_name : "（整体任务）"),
            h("span", { class: "tag" }, STATES[d.state] || d.state),
            h("small", {}, d.rule_name_zh, " · ", String(d.counted), "/", String(d.required), " 次 · 截止 ", d.due_on || ""),
            h("small", { class: "reason" }, d.reason_zh || "")));
      }))),
    h("a", { class: "button wide", href: "#/households" }, "全部农户（" + names.size + "户）"));
}

async function showTasks() {
  setTitle("督查核查");
  const names = await householdNames();
  mount(view,
    await backlogNow(),
    inspect.taskList(await inspect.tasks(app.store)),
    h("a", { class: "button wide", href: "#/households" }, "全部核查农户（" + names.size + "户）"));
}

async function showHouseholds(q) {
  setTitle("我的农户");
  const all = [...(await householdNames()).values()].sort((a, b) => (a.head_name || "").localeCompare(b.head_name || "", "zh-CN"));
  const list = h("ul", { class: "list households" });
  const draw = (text) => {
    const t = text.trim();
    const hits = all.filter((x) => !t || [x.head_name, x.number, x.address, x.phone].some((v) => (v || "").includes(t)));
    mount(list, hits.slice(0, 200).map((x) => h("li", {},
      h("a", { href: "#/h/" + x.id }, h("strong", {}, x.head_name), h("span", { class: "tag" }, x.status_label || label("statuses", x.status)),
        h("small", {}, [x.address, x.poverty_type_label].filter(Boolean).join(" · "))))));
    if (hits.length === 0) list.append(h("li", { class: "muted" }, "没有符合条件的农户"));
  };
  const input = h("input", { type: "search", id: "search", placeholder: "搜索户主姓名、户编号或住址", value: q, oninput: (e) => draw(e.target.value) });
  mount(view, h("div", { class: "search" }, input), list);
  draw(q);
}

async function showHousehold(id) {
  const rec = await app.store.record("household", id);
  if (!rec) {
    setTitle("农户");
    return mount(view, h("p", { class: "muted" }, "本机没有该农户（可能已调整结对）。"), h("a", { class: "button", href: "#/households" }, "返回农户列表"));
  }
  const x = visible(rec);
  setTitle(x.head_name);
  const related = await app.store.byHousehold(id);
  const pending = await app.store.pending();
  const members = related.filter((r) => r.entity === "member").map(visible);
  const pairings = related.filter((r) => r.entity === "pairing").map(visible).filter((p) => !p.end_on);
  const mine = (v) => !v.cadre_id || v.cadre_id === app.user.id;
  const visits = related.filter((r) => r.entity === "visit" && !(r.local && r.local._deleted))
    .map((r) => ({ ...visible(r), id: r.id, state: pending.get("visit:" + r.id) }))
    .sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));
  mount(view,
    h("section", { class: "card file" },
      h("p", {}, h("span", { class: "tag" }, x.status_label || label("statuses", x.status)), " ", x.poverty_type ? x.poverty_type_label || label("poverty_types", x.poverty_type) : null),
      h("dl", {},
        h("dt", {}, "户编号"), h("dd", {}, x.number || "—"),
        h("dt", {}, "住址"), h("dd", {}, x.address || "—"),
        h("dt", {}, "联系电话"), h("dd", { id: "hh-phone" }, x.phone || "—"),
        h("dt", {}, "致贫原因"), h("dd", {}, (x.causes || []).map((c) => label("causes", c)).join("、") || "—"),
        h("dt", {}, "帮扶责任人"), h("dd", { id: "hh-cadres" }, pairings.length ? pairings.map((p, i) => [i ? "、" : "", pairedCadre(p)]) : "—"),
        h("dt", {}, "经济状况"), h("dd", {}, x.income_notes || "—")),
      pending.get("household:" + id) ? h("p", { class: "waiting" }, "修改待上传") : null,
      // Inspectors check the register, they do not edit it (§8.5).
      isInspector() ? null : h("a", { class: "button", href: "#/h/" + id + "/edit", id: "edit-household" }, "修改联系信息")),
    h("section", { class: "card" }, h("h2", {}, "家庭成员（", String(members.length), "）"),
      h("ul", { class: "list members" }, members.map((m) => h("li", {},
        h("strong", {}, m.name), " ", label("relations", m.relation), " · ", m.birth_year ? m.birth_year + "年生" : "",
        h("small", {}, "身份证 ", m.id_number || "—", " · ", label("health_states", m.health)))))),
    h("section", { class: "card" }, h("h2", {}, "走访记录（", String(visits.length), "）"),
      h("ul", { class: "list visits" }, visits.slice(0, 20).map((v) => !mine(v) ? inspect.checkedVisit(v, label("visit_kinds", v.kind), shortTime(v.started_at)) : h("li", { class: "visit", dataset: { id: v.id } },
        h("a", { href: "#/v/" + v.id },
          h("strong", {}, shortTime(v.started_at)), " ", h("span", { class: "tag" }, label("visit_kinds", v.kind)),
          v.state === "waiting" ? h("span", { class: "tag waiting" }, "待上传") : null,
          v.state === "refused" ? h("span", { class: "tag bad" }, "未能上传") : null,
          h("small", {}, (v.notes || "").slice(0, 60)),
          (v.flags || []).map((f) => h("small", { class: "flag" }, "⚠ ", f.message_zh))))))),
    isInspector() ? null : await casework.links(id),
    isInspector() ? null : await ledgers.section(id),
    isInspector() ? inspect.householdActions((await inspect.tasks(app.store)).filter((x) => x.task.household_id === id))
      : h("div", { class: "actionbar" }, h("a", { class: "button primary wide", href: "#/v/new/" + id, id: "new-visit" }, "记录走访")));
}

// pairedCadre names a cadre paired with the household as its 明白卡 does
// (帮扶责任人及联系方式): the cadre themselves as 本人, a colleague by name
// with the phone to call. 其他干部 is left only for a pairing pulled without
// its cadre's name (the account is gone).
function pairedCadre(p) {
  const own = p.cadre_id === app.user.id;
  return h("span", { class: "cadre", dataset: { cadre: p.cadre_id } }, own ? "本人" : p.cadre_name || "其他干部",
    !own && p.cadre_phone ? [" ", h("a", { href: "tel:" + p.cadre_phone }, p.cadre_phone)] : null, "（" + p.start_on + "起）");
}

async function showHouseholdEdit(id) {
  const rec = await app.store.record("household", id);
  if (!rec) return showHousehold(id);
  const x = visible(rec);
  setTitle("修改 " + x.head_name);
  const form = h("form", { class: "form", id: "household-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const next = { phone: String(f.get("phone")).trim(), address: String(f.get("address")).trim(), income_notes: String(f.get("income_notes")) };
    const changed = await app.store.edit("household", id, id, next);
    toast(changed ? "已保存（待上传）" : "没有修改");
    location.hash = "#/h/" + id;
    syncSoon(100);
  } },
  h("label", {}, "联系电话", h("input", { name: "phone", inputmode: "tel", value: x.phone || "" })),
  h("label", {}, "住址", h("input", { name: "address", value: x.address || "", maxlength: 200 })),
  h("label", {}, "经济状况", h("textarea", { name: "income_notes", rows: 4, maxlength: 2000 }, x.income_notes || "")),
  h("div", { class: "actionbar" }, h("button", { type: "submit", class: "primary wide" }, "保存")));
  mount(view, form);
}

async function showVisitForm(householdId, visitId) {
  let existing = null;
  if (visitId) {
    const rec = await app.store.record("visit", visitId);
    if (!rec) {
      // A stale link (a bookmark, a visit given up on this phone) leads
      // back, as an unknown household's does.
      setTitle("走访");
      return mount(view, h("p", { class: "muted" }, "本机没有这条走访记录。"), h("a", { class: "button", id: "back-to-households", href: "#/households" }, "返回农户列表"));
    }
    existing = visible(rec);
    householdId = rec.household_id;
    if (existing.kind === "inspection") return showInspectionForm(null, visitId);
  }
  const hhRec = await app.store.record("household", householdId);
  const hh = visible(hhRec) || {};
  const members = (await app.store.byHousehold(householdId)).filter((r) => r.entity === "member").map(visible);
  setTitle((existing ? "修改走访 " : "走访 ") + (hh.head_name || ""));
  const v = existing || { kind: "assist", started_at: rfc3339(new Date()), checklist: {}, measures: [], met_with: [], gps: [], photos: [], household_confirmed: null, notes: "" };
  const gps = [...(v.gps || [])];
  const kinds = (app.vocab.visit_kinds || []).filter((k) => k.code !== "inspection").map((k) => [k.code, k.label]);
  const when = timeFields(v);
  const where = gpsField(gps);
  const photos = photoField(v.photos, where.lastFix);
  const progress = await progressField(app.store, householdId, v.plan_progress || []);

  const form = h("form", { class: "form visit-form", id: "visit-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const times = when.read();
    const err = form.querySelector(".error");
    if (times.error) { err.textContent = times.error; err.hidden = false; return; }
    const checklist = {};
    for (const [code] of CHECKLIST) {
      const answer = f.get("cl-" + code);
      if (!answer) continue;
      const note = String(f.get("cl-note-" + code) || "").trim();
      checklist[code] = note ? { answer, note } : { answer };
    }
    const metText = String(f.get("met_free") || "").split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean);
    const data = {
      kind: String(f.get("kind")),
      started_at: times.started_at,
      ended_at: times.ended_at,
      notes: String(f.get("notes") || ""),
      checklist,
      measures: f.getAll("measures").map(String),
      met_with: [...new Set([...f.getAll("met").map(String), ...metText])],
      household_confirmed: f.get("confirmed") ? true : null,
      gps,
      photos: photos.refs(),
      risk_triggers: f.getAll("risk").map((code) => ({ code: String(code), note: String(f.get("risk_note") || "").trim() })),
    };
    // Sent when it says something, or takes back what the visit said.
    const noted = progress.read(form);
    // A visit counts toward the visit rules: one saved by a slip of the
    // thumb, with nothing found or done, would count as the household's
    // visit of the quarter.
    if (!Object.keys(checklist).length && !data.notes.trim() && !data.measures.length && !data.photos.length && !noted.length && !data.risk_triggers.length) {
      err.textContent = "请至少填写两不愁三保障情况、帮扶措施、民情日记、计划进展或照片中的一项";
      err.hidden = false;
      return;
    }
    if (noted.length || (existing && (existing.plan_progress || []).length)) data.plan_progress = noted;
    const rows = photos.rows();
    if (existing) {
      const { kind, started_at, ended_at, notes, checklist: c, measures, met_with, household_confirmed, gps: g, photos, risk_triggers, plan_progress } = existing;
      const before = { kind, started_at, ended_at, notes, checklist: c, measures, met_with, household_confirmed, gps: g, photos, risk_triggers: risk_triggers || [], plan_progress: plan_progress || [] };
      const next = {};
      for (const [k2, val] of Object.entries(data)) if (JSON.stringify(before[k2] ?? null) !== JSON.stringify(val ?? null)) next[k2] = val;
      await app.store.edit("visit", visitId, householdId, next, rows);
    } else {
      await app.store.createVisit(householdId, data, rows);
    }
    toast("已保存（待上传）");
    location.hash = "#/h/" + householdId;
    syncSoon(100);
  } },
  h("label", {}, "走访类型", h("select", { name: "kind" }, (kinds.length ? kinds : KINDS).map(([c, l]) => h("option", { value: c, selected: c === v.kind }, l)))),
  when.node,
  h("fieldset", { class: "checklist" }, h("legend", {}, "两不愁三保障及饮水安全"),
    CHECKLIST.map(([code, l]) => {
      const cur = (v.checklist || {})[code] || {};
      return h("div", { class: "check-item" }, h("span", { class: "check-label" }, l),
        h("div", { class: "seg" }, ANSWERS.map(([a, al]) => h("label", {}, h("input", { type: "radio", name: "cl-" + code, value: a, checked: cur.answer === a }), h("span", {}, al)))),
        h("input", { name: "cl-note-" + code, placeholder: "说明（选填）", maxlength: 500, value: cur.note || "" }));
    })),
  h("fieldset", { class: "measures" }, h("legend", {}, "帮扶措施"),
    h("div", { class: "chips" }, MEASURES.map(([c, l]) => h("label", {}, h("input", { type: "checkbox", name: "measures", value: c, checked: (v.measures || []).includes(c) }), h("span", {}, l))))),
  h("fieldset", { class: "risks" }, h("legend", {}, "风险情形（监测预警）"),
    h("div", { class: "chips" }, ((app.vocab.risk_triggers || []).length ? app.vocab.risk_triggers.map((t) => [t.code, t.label]) : RISKS).map(([c, l]) =>
      h("label", {}, h("input", { type: "checkbox", name: "risk", value: c, checked: (v.risk_triggers || []).some((t) => t.code === c) }), h("span", {}, l)))),
    h("input", { name: "risk_note", placeholder: "风险情况说明（选填）", maxlength: 500, value: ((v.risk_triggers || [])[0] || {}).note || "" })),
  h("fieldset", {}, h("legend", {}, "见到的人"),
    h("div", { class: "chips" }, members.map((m) => h("label", {}, h("input", { type: "checkbox", name: "met", value: m.name, checked: (v.met_with || []).includes(m.name) }), h("span", {}, m.name)))),
    h("input", { name: "met_free", placeholder: "其他人（用顿号分隔）", value: (v.met_with || []).filter((n) => !members.some((m) => m.name === n)).join("、") })),
  h("label", { class: "inline" }, h("input", { type: "checkbox", name: "confirmed", id: "confirmed", checked: v.household_confirmed === true }), "农户确认本次走访"),
  h("label", {}, "民情日记", h("textarea", { name: "notes", rows: 5, maxlength: 10000, placeholder: "走访了解的情况、群众诉求、下一步打算" }, v.notes || "")),
  progress.node,
  where.node,
  photos.node,
  h("p", { class: "error", role: "alert", hidden: true }),
  h("div", { class: "actionbar" },
    existing ? h("button", { type: "button", class: "danger", id: "delete-visit", onclick: async (e) => {
      if (e.target.dataset.armed !== "true") { e.target.dataset.armed = "true"; e.target.textContent = "再点一次确认删除"; return; }
      await app.store.deleteVisit(visitId, householdId);
      toast("已删除（待上传）");
      location.hash = "#/h/" + householdId;
      syncSoon(100);
    } }, "删除") : null,
    h("button", { type: "submit", class: "primary wide", id: "save-visit" }, "保存")));
  mount(view, form);
  if (!existing) where.locate();
}

// showInspectionForm opens the inspection form for a task (new) or for
// the inspector's own inspection visit (edit).
async function showInspectionForm(taskId, visitId) {
  const rec = visitId ? await app.store.record("visit", visitId) : null;
  const existing = rec ? { ...visible(rec), id: rec.id } : null;
  const all = (await app.store.records("task")).map((r) => ({ ...visible(r), id: r.id }));
  const task = taskId ? all.find((t) => t.id === taskId) : !rec ? null
    : all.find((t) => t.household_id === rec.household_id && (!existing.findings || !existing.findings.campaign_id || t.campaign_id === existing.findings.campaign_id));
  const householdId = rec ? rec.household_id : task && task.household_id;
  const household = householdId ? visible(await app.store.record("household", householdId)) : null;
  setTitle("入户核查 " + (household ? household.head_name : ""));
  const held = await kvGet(app.db, "inspection_form");
  if (!householdId || (!existing && !(task && held))) {
    return mount(view, h("p", { class: "muted" }, !householdId ? "本机没有这项督查任务。" : "督查表尚未下载，请联网后点“立即同步”。"),
      h("a", { class: "button", href: "#/" }, "返回督查任务"));
  }
  mount(view, inspect.inspectionForm({ form: held && held.form, task, household, existing, save: async (data, photos) => {
    if (existing) await app.store.edit("visit", existing.id, householdId, data, photos);
    else await app.store.createVisit(householdId, data, photos);
    toast("已保存（待上传）");
    location.hash = "#/h/" + householdId;
    syncSoon(100);
  } }));
}

// What a cadre calls the records and fields they change, for the 待处理
// list: a visit's and a household's fields by FIELD_LABELS, a plan item's
// and an income account's by their own (the names of the plan and
// income screens: the same JSON name means another thing there).
const ENTITY_LABELS = { visit: "走访记录", household: "农户信息", member: "家庭成员", plan_item: "帮扶措施", income_account: "收入测算", ledger_item: "诉求台账" };
const FIELD_LABELS = { phone: "联系电话", address: "住址", income_notes: "经济状况", notes: "民情日记", kind: "走访类型", started_at: "开始时间",
  ended_at: "结束时间", checklist: "两不愁三保障", measures: "帮扶措施", risk_triggers: "风险情形", met_with: "见到的人", household_confirmed: "农户确认", gps: "定位", photos: "照片",
  findings: "核查结果", plan_progress: "帮扶措施进展",
  plan_item: { route: "脱贫路径", measure: "措施内容", responsible_cadre_id: "责任人", target_on: "目标日期", state: "措施状态", notes: "备注" },
  income_account: { ...Object.fromEntries(INCOME_LINES), members_counted: "计算人数", notes: "说明" } };

function fieldLabel(entity, field) {
  const own = FIELD_LABELS[entity];
  if (own && typeof own === "object") return own[field];
  const l = FIELD_LABELS[field];
  return typeof l === "string" ? l : undefined;
}

// entityLabel names a record: an income account with its year.
function entityLabel(entry) {
  const what = ENTITY_LABELS[entry.entity] || entry.entity;
  return entry.entity === "income_account" && entry.data && entry.data.year ? what + "（" + entry.data.year + "年度）" : what;
}

// attentionSubject names the record an attention item is about: whose
// household, and which fields the change carried.
function attentionSubject(a, names) {
  if (!a.entry) return null;
  const hh = names.get(a.entry.household_id || a.entry.id);
  const fields = Object.keys(a.entry.data || {}).map((f) => fieldLabel(a.entry.entity, f)).filter(Boolean);
  return h("small", { class: "subject" }, (hh ? hh.head_name + "户 · " : "") + entityLabel(a.entry) + (a.entry.op === "update" && fields.length ? "（" + fields.join("、") + "）" : ""));
}

// editLink is where a refused change is put right: the visit, the plan or
// the income screen of its household and year, the ledger request's own
// form, else the contact edit.
function editLink(entry) {
  switch (entry.entity) {
  case "visit": return "#/v/" + entry.id;
  case "plan_item": return "#/h/" + entry.household_id + "/plan";
  case "income_account": return "#/h/" + entry.household_id + "/income" + (entry.data && entry.data.year ? "?year=" + entry.data.year : "");
  case "ledger_item": return "#/h/" + entry.household_id + "/ledger/" + entry.id;
  }
  return "#/h/" + entry.household_id + "/edit";
}

async function showOutbox() {
  setTitle("待处理");
  const items = await app.store.attention();
  const names = await householdNames();
  const photos = (await getAll(app.db, "photos")).filter((p) => !p.refused);
  mount(view,
    await backlogNow(),
    h("button", { class: "primary wide", id: "sync-now", onclick: () => syncAsked() }, "立即同步"),
    photos.length ? h("p", { class: "muted", id: "photos-waiting" }, photos.length + "张照片等待上传") : null,
    h("ul", { class: "list attention" }, items.length === 0 ? h("li", { class: "muted" }, "没有需要处理的事项") : items.map((a) => h("li", { class: "attention-item kind-" + a.kind, dataset: { kind: a.kind }, title: a.kind === "batch" ? "HTTP " + a.status : null },
      h("strong", {}, {
        rejected: "未能上传：" + (a.entry ? ENTITY_LABELS[a.entry.entity] || a.entry.entity : ""),
        conflict: "已保存，覆盖了他人的修改，待督导核查",
        // In words; the status is the help desk's (the item's title).
        batch: a.status === 413 ? "一批记录超出服务器的接收上限，已改为逐条上传" : "一批记录未被服务器接受，已放回待上传，下次同步时再试",
        photo: "照片未能上传",
      }[a.kind] || a.kind),
      attentionSubject(a, names),
      h("small", {}, shortTime(a.at)),
      // The server's own words; the field's pointer is for the help desk.
      (a.errors || []).map((e) => h("small", { class: "reason", title: e.field || "" }, e.message_zh || e.message || e.reason)),
      a.message && !(a.errors || []).length ? h("small", {}, a.message) : null,
      h("div", { class: "buttons" },
        a.kind === "rejected" && a.entry ? h("a", { class: "button small edit", href: editLink(a.entry) }, "修改") : null,
        a.kind === "rejected" ? h("button", { class: "small resend", onclick: async () => {
          if (!confirm(resendQuestion(a, names))) return;
          await app.store.resend(a.id);
          syncSoon(0);
          route();
        } }, "重新提交") : null,
        h("button", { class: "small", onclick: async () => {
          const q = dismissQuestion(a);
          if (q && !confirm(q)) return;
          await app.store.dismiss(a.id);
          route();
        } }, { rejected: "放弃", photo: "删除照片" }[a.kind] || "知道了"))))));
}

// dismissQuestion asks before an answer deletes the cadre's work, and is
// "" for one that only takes a notice away: 放弃 of a refused change, and
// a photo the server refused, whose phone copy is the only one (it was
// a 知道了 that deleted it unasked).
function dismissQuestion(a) {
  if (a.kind === "rejected") return giveUpQuestion(a);
  if (a.kind === "photo") return "删除后，这张未能上传的照片将从本机删除，不能恢复。确定删除？";
  return "";
}

// resendQuestion asks before 重新提交 sends a refused change again as it
// stands: the cadre sees whose record and which fields go up unchanged,
// and that a change the server refused for its content is put right with
// 修改 first (it was sent unasked, and refused again).
function resendQuestion(a, names) {
  const ask = "若是内容有误被拒绝，请先点“修改”改正。确定重新提交？";
  if (!a.entry) return "重新提交后，这条记录将按原样再次上传，内容不作改动。" + ask;
  const hh = names.get(a.entry.household_id || a.entry.id);
  const fields = Object.keys(a.entry.data || {}).map((f) => fieldLabel(a.entry.entity, f)).filter(Boolean);
  const change = { create: "新增", update: "修改", delete: "删除" }[a.entry.op] || "";
  const what = (hh ? hh.head_name + "户 · " : "") + entityLabel(a.entry) + change + (a.entry.op === "update" && fields.length ? "（" + fields.join("、") + "）" : "");
  return "重新提交后，这条记录将按原样再次上传，内容不作改动：\n" + what + "\n" + ask;
}

// giveUpQuestion asks before 放弃 deletes the cadre's work: a record the
// phone made goes altogether, an edit leaves the server's copy showing.
function giveUpQuestion(a) {
  if (a.entry && a.entry.op === "create") return "放弃后，这条" + entityLabel(a.entry) + "将从本机删除，不再上传。确定放弃？";
  return "放弃后，本机的这条修改将被删除，恢复为服务器上的内容。确定放弃？";
}

async function showMe() {
  setTitle("我的");
  const b = await app.sync.backlog();
  const out = h("button", { class: "danger wide", id: "logout", onclick: async (e) => {
    if ((b.records || b.photos) && e.target.dataset.armed !== "true") {
      e.target.dataset.armed = "true";
      e.target.textContent = "还有未上传的记录，退出将删除。再点一次确认退出";
      return;
    }
    await signOut();
  } }, "退出登录");
  mount(view, h("section", { class: "card" },
    h("dl", {},
      h("dt", {}, "姓名"), h("dd", {}, app.user.display_name || app.user.username),
      h("dt", {}, "用户名"), h("dd", {}, app.user.username),
      h("dt", {}, "设备编号"), h("dd", { class: "mono" }, deviceId()),
      h("dt", {}, "版本"), h("dd", { id: "app-version" }, app.version))),
  backlogLine(b, await kvGet(app.db, "last_sync"), await app.store.attention()),
  h("button", { class: "wide", id: "sync-now", onclick: () => syncAsked() }, "立即同步"),
  out);
}

// signOut ends the login on the server and leaves nothing readable on the
// phone: the database is deleted (the app's files stay cached, they hold
// no data).
async function signOut() {
  if (navigator.onLine) await app.api.logout();
  await wipe(app.db, DB_NAME);
  app.session = null;
  app.user = null;
  document.body.dataset.signedOut = "true";
  location.hash = "";
  location.reload();
}

start().catch((e) => {
  console.error(e);
  mount(view, h("p", { class: "error" }, "应用启动失败：" + e.message));
});
