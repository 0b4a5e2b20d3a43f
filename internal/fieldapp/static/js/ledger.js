// The cadre's ledgers on the phone (四本台账: 民生诉求, 困难群众 — DESIGN §6b):
// what a household asked for, or a hardship the cadre saw, recorded
// offline at the household as a ledger_item create with a phone-made id and
// sent through the outbox like a plan item (docs/sync-protocol.md §7.8).
// Ledger items are not in the pull: the phone holds an item only until the
// server has it (acknowledge drops it), and the ledger is worked on and
// closed (销号) through the ledger routes, not here. One the server refused
// opens in its form again, with what the cadre entered and the server's
// reason, and goes again under the same id once corrected (§7.8).
import { h, mount } from "./dom.js";
import { visible } from "./outbox.js";

// LEDGERS are the cadres' ledgers as internal/itemledger's specs have them:
// the kind, the ledger's name, the item's noun and its deadline's label
// (every one of them needs a deadline).
export const LEDGERS = [
  { kind: "livelihood_request", ledger: "民生诉求台账", noun: "民生诉求", deadline: "办理时限" },
  { kind: "hardship", ledger: "困难群众台账", noun: "困难群众事项", deadline: "解决时限" },
];

// MAX_PROBLEM is the server's limit on an item's problem, in characters.
const MAX_PROBLEM = 2000;

// today is the date in China (yyyy-mm-dd): the server judges a deadline
// on the day in Asia/Shanghai, whatever the phone's own zone.
export function today(now = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

// checkItem holds a new item to the server's rules (itemledger create and
// domain.CheckText), with its Chinese messages; [] when it may be saved.
export function checkItem({ kind, problem, deadline }, day) {
  const spec = LEDGERS.find((l) => l.kind === kind);
  if (!spec) return ["事项类别无效"];
  const out = [];
  const text = String(problem ?? "");
  if (text.trim() === "") out.push("问题描述不能为空");
  else if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) out.push("问题描述包含不可见控制字符");
  else if ([...text].length > MAX_PROBLEM) out.push("问题描述超过" + MAX_PROBLEM + "个字符的长度限制");
  if (!deadline) out.push(spec.deadline + "不能为空");
  else if (!/^\d{4}-\d{2}-\d{2}$/.test(deadline)) out.push(spec.deadline + "日期格式无效");
  else if (deadline < day) out.push(spec.deadline + "不能早于今天");
  return out;
}

// Ledgers holds what the screens need from the app (main.js).
export class Ledgers {
  constructor(app, { view, setTitle, toast, syncSoon }) {
    Object.assign(this, { app, view, setTitle, toast, syncSoon });
  }

  // items are the household's ledger items the phone holds: those not yet
  // on the server (待上传) and those it refused (未能上传).
  async items(householdId) {
    const pending = await this.app.store.pending();
    return (await this.app.store.byHousehold(householdId)).filter((r) => r.entity === "ledger_item")
      .map((r) => ({ ...visible(r), id: r.id, waiting: pending.get("ledger_item:" + r.id) }))
      .filter((it) => it.waiting)
      .sort((a, b) => (a.deadline || "").localeCompare(b.deadline || ""));
  }

  // section is the household screen's 民生诉求 / 困难群众: its items on the
  // phone, and the way to record one.
  async section(householdId) {
    const items = await this.items(householdId);
    const day = today();
    return h("section", { class: "card ledger" }, h("h2", {}, "民生诉求 / 困难群众"),
      items.length ? h("ul", { class: "list ledger-items" }, items.map((it) => {
        const spec = LEDGERS.find((l) => l.kind === it.kind) || { noun: it.kind, deadline: "时限" };
        const late = it.deadline && it.deadline < day;
        return h("li", { class: "ledger-item", dataset: { id: it.id, kind: it.kind, late: String(!!late) } },
          h("strong", {}, it.problem), " ", h("span", { class: "tag" }, spec.noun),
          h("small", {}, spec.deadline, " ", it.deadline || "—", late ? h("span", { class: "tag bad" }, "逾期") : null,
            " · 责任人 本人",
            it.waiting === "waiting" ? h("span", { class: "tag waiting" }, "待上传") : null,
            it.waiting === "refused" ? [h("span", { class: "tag bad" }, "未能上传"), " ",
              h("a", { class: "edit", href: "#/h/" + householdId + "/ledger/" + it.id }, "修改")] : null));
      })) : null,
      h("p", { class: "muted" }, "上传后的事项在台账中办理、销号。"),
      h("a", { class: "button", href: "#/h/" + householdId + "/ledger", id: "new-ledger-item" }, "登记诉求"));
  }

  // form records an item heard or seen at the household: a ledger_item
  // create in the outbox, answered for by the cadre (the server's default
  // when responsible_user_id is left out). With itemId it is that item
  // again, as the cadre entered it and with the server's reasons for
  // refusing it, to be corrected and sent again under its id.
  async form(householdId, itemId) {
    const rec = await this.app.store.record("household", householdId);
    if (!rec) return mount(this.view, h("p", { class: "muted" }, "本机没有该农户。"));
    const itemRec = itemId ? await this.app.store.record("ledger_item", itemId) : null;
    if (itemId && !itemRec) {
      this.setTitle("诉求台账");
      return mount(this.view, h("p", { class: "muted" }, "本机没有这条诉求（可能已上传）。"), h("a", { class: "button", href: "#/h/" + householdId }, "返回农户"));
    }
    const refusals = itemId ? await this.app.store.refusals("ledger_item", itemId) : [];
    const entered = itemRec ? visible(itemRec) : (refusals[0] && refusals[0].entry && refusals[0].entry.data) || {};
    const spec0 = LEDGERS.find((l) => l.kind === entered.kind) || LEDGERS[0];
    this.setTitle((itemId ? "修改诉求 " : "登记诉求 ") + visible(rec).head_name);
    const day = today();
    const deadlineLabel = h("span", {}, spec0.deadline);
    // novalidate: the date's min would stop the form with the browser's
    // own words; the server's rules and messages are checked below.
    const form = h("form", { class: "form", id: "ledger-form", novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const err = form.querySelector(".error");
      const item = { kind: String(f.get("kind")), problem: String(f.get("problem") || "").trim(), deadline: String(f.get("deadline") || "") };
      const wrong = checkItem(item, today());
      if (wrong.length) { err.textContent = wrong.join("；"); err.hidden = false; return; }
      if (!itemId) await this.app.store.createRecord("ledger_item", crypto.randomUUID(), householdId, item);
      else if (!(await this.app.store.correctCreate("ledger_item", itemId, householdId, item))) {
        err.textContent = "这条诉求正在上传，请稍后再修改";
        err.hidden = false;
        return;
      }
      this.toast("已保存（待上传）");
      this.syncSoon(100);
      location.hash = "#/h/" + householdId;
    } },
    h("label", {}, "台账", h("select", { name: "kind", onchange: (e) => {
      deadlineLabel.textContent = (LEDGERS.find((l) => l.kind === e.target.value) || LEDGERS[0]).deadline;
    } }, LEDGERS.map((l) => h("option", { value: l.kind, selected: l.kind === spec0.kind }, l.ledger)))),
    h("label", {}, "问题描述", h("textarea", { name: "problem", rows: 4, maxlength: MAX_PROBLEM, placeholder: "群众反映的诉求，或看到的困难" }, entered.problem || "")),
    h("p", { class: "muted" }, "责任人：本人（", this.app.user.display_name || this.app.user.username, "）"),
    h("label", {}, deadlineLabel, h("input", { name: "deadline", type: "date", min: day, max: "2100-12-31", value: entered.deadline || "" })),
    h("p", { class: "error", role: "alert", hidden: true }),
    h("div", { class: "actionbar" }, h("button", { type: "submit", class: "primary wide", id: "save-ledger-item" }, "保存")));
    mount(this.view, refusals.length ? refusalNote(refusals, spec0) : null, form, h("a", { class: "button", href: "#/h/" + householdId }, "返回农户"));
  }
}

// FIELD_NAMES name an item's fields in the server's refusals (pointers
// such as /changes/0/data/deadline); the deadline by its ledger's word.
const FIELD_NAMES = { kind: "台账", problem: "问题描述", household_id: "农户", responsible_user_id: "责任人" };

// refusalNote says why the server refused the item, in its words, each
// under the field it names.
function refusalNote(refusals, spec) {
  const reasons = refusals.flatMap((a) => a.errors || []).map((e) => {
    const field = String(e.field || "").split("/").pop();
    const name = field === "deadline" ? spec.deadline : FIELD_NAMES[field];
    const text = e.message_zh || e.message || e.reason || "";
    return h("li", { dataset: { field: e.field || "" } }, name && !text.includes(name) ? name + "：" + text : text);
  });
  return h("section", { class: "card refusal", id: "ledger-refusal", role: "alert" },
    h("strong", {}, "服务器未接受这条诉求，请修改后重新提交"), h("ul", {}, reasons));
}
