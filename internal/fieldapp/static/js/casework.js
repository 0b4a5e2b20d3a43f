// The household's casework on the phone: its plan (一户一案) and its
// income account (收入测算), kept and edited offline like visits and sent
// through the same outbox (docs/sync-protocol.md §7.7 and §18).
import { h, mount } from "./dom.js";
import { visible } from "./outbox.js";

// PLAN_ROUTES and PLAN_STATES are the vocabularies' codes when the phone
// has not yet read GET /vocabularies.
const PLAN_ROUTES = [["industry", "产业扶贫"], ["employment", "就业扶贫"], ["education", "教育扶贫"], ["medical", "健康扶贫"],
  ["housing_renovation", "危房改造"], ["relocation", "易地扶贫搬迁"], ["dibao", "低保兜底"], ["ecological_compensation", "生态补偿"],
  ["microcredit", "小额信贷"], ["asset_income", "资产收益（光伏分红等）"], ["other", "其他"]];
const PLAN_STATES = [["planned", "未开始"], ["in_progress", "推进中"], ["done", "已完成"], ["dropped", "已取消"]];

// INCOME_LINES are an account's amounts in the form's order (the server's
// casework.Amounts): the five sources of income, then production costs.
export const INCOME_LINES = [["wages_fen", "工资性收入"], ["business_fen", "生产经营性收入"], ["transfers_fen", "转移性收入"],
  ["pensions_fen", "养老金和补贴"], ["property_fen", "财产性收入"], ["costs_fen", "生产经营费用"]];
const MAX_FEN = 10000000000;

// The namespace of income accounts' derived ids (§18): two phones that
// start the same household's year offline write one record.
const INCOME_NAMESPACE = "6f1c2b8e-2d0a-4c55-9a59-3a1d4e7c0b11";

// incomeAccountID is the UUID v5 of "<household_id>/<year>" (Go:
// casework.IncomeAccountID).
export async function incomeAccountID(householdId, year) {
  const ns = Uint8Array.from(INCOME_NAMESPACE.replace(/-/g, "").match(/../g).map((b) => parseInt(b, 16)));
  const name = new TextEncoder().encode(householdId + "/" + year);
  const buf = new Uint8Array(16 + name.length);
  buf.set(ns);
  buf.set(name, 16);
  const b = new Uint8Array(await crypto.subtle.digest("SHA-1", buf)).slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
}

// yuan writes fen as yuan with two decimals; fen reads a yuan amount typed
// by the cadre (at most two decimals), or null when it is not one.
export const yuan = (fen) => (Number(fen || 0) / 100).toFixed(2);
export function fen(text) {
  const s = String(text ?? "").trim().replace(/[,，]/g, "");
  if (s === "") return 0;
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return null;
  const [whole, part = ""] = s.split(".");
  const v = Number(whole) * 100 + Number((part + "00").slice(0, 2));
  return v <= MAX_FEN ? v : null;
}

// netPerCapita is the account's net income per person, in fen, over the
// members it counts (the register's when 0), rounded half away from zero
// as the server rounds it (domain/income.go divRound: cutting the fraction
// showed a fen less, and near the exit line a household as below it), or
// null with no account yet or nobody counted.
export function netPerCapita(acc, registered) {
  if (!acc || !INCOME_LINES.some(([f]) => acc[f] !== undefined && acc[f] !== null)) return null;
  let net = 0;
  for (const [f] of INCOME_LINES) net += (f === "costs_fen" ? -1 : 1) * Number(acc[f] || 0);
  const people = Number(acc.members_counted || 0) || registered;
  if (!(people > 0)) return null;
  return Math.sign(net) * Math.round(Math.abs(net) / people);
}

// Casework holds what the screens need from the app (main.js).
export class Casework {
  constructor(app, { view, setTitle, toast, syncSoon }) {
    Object.assign(this, { app, view, setTitle, toast, syncSoon });
  }

  vocab(list, fallback) {
    const v = this.app.vocab[list];
    return v && v.length ? v.map((t) => [t.code, t.label]) : fallback;
  }

  // links are the household screen's ways into its plan and income.
  async links(householdId) {
    const related = await this.app.store.byHousehold(householdId);
    const live = related.filter((r) => r.entity === "plan_item").map(visible).filter((p) => !p._deleted && p.state !== "dropped");
    return h("section", { class: "card casework" }, h("h2", {}, "帮扶计划与收入"),
      h("div", { class: "row-actions" },
        h("a", { class: "button", href: "#/h/" + householdId + "/plan", id: "open-plan" }, "帮扶计划（" + live.length + "项）"),
        h("a", { class: "button", href: "#/h/" + householdId + "/income", id: "open-income" }, "收入测算")));
  }

  async household(id) {
    const rec = await this.app.store.record("household", id);
    return rec ? visible(rec) : null;
  }

  // plan shows the household's measures and records new ones and their
  // progress, each a plan_item change in the outbox.
  async plan(householdId) {
    const hh = await this.household(householdId);
    if (!hh) return mount(this.view, h("p", { class: "muted" }, "本机没有该农户。"));
    this.setTitle("帮扶计划 " + hh.head_name);
    const routes = this.vocab("plan_routes", PLAN_ROUTES);
    const pending = await this.app.store.pending();
    const items = (await this.app.store.byHousehold(householdId)).filter((r) => r.entity === "plan_item")
      .map((r) => ({ ...visible(r), id: r.id, waiting: pending.get("plan_item:" + r.id) }))
      .sort((a, b) => (a.target_on || "").localeCompare(b.target_on || ""));
    const setState = (item, state) => async () => {
      await this.app.store.edit("plan_item", item.id, householdId, { state });
      this.toast("已保存（待上传）");
      this.syncSoon(100);
      await this.plan(householdId);
    };
    const form = h("form", { class: "form", id: "plan-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const err = form.querySelector(".error");
      const measure = String(f.get("measure") || "").trim();
      const target = String(f.get("target_on") || "");
      const missing = [!measure && "帮扶措施", !target && "目标日期"].filter(Boolean);
      if (missing.length) { err.textContent = "请填写：" + missing.join("、"); err.hidden = false; return; }
      await this.app.store.createRecord("plan_item", crypto.randomUUID(), householdId, {
        route: String(f.get("route")), measure, responsible_cadre_id: this.app.user.id, target_on: target, state: "planned", notes: String(f.get("notes") || "").trim(),
      });
      this.toast("已保存（待上传）");
      this.syncSoon(100);
      await this.plan(householdId);
    } },
    h("h2", {}, "新增帮扶措施"),
    h("label", {}, "脱贫路径", h("select", { name: "route" }, routes.map(([c, l]) => h("option", { value: c }, l)))),
    h("label", {}, "帮扶措施", h("input", { name: "measure", maxlength: 500, placeholder: "如：种植油茶3亩" })),
    h("label", {}, "目标日期", h("input", { name: "target_on", type: "date", min: "2013-01-01", max: "2100-12-31" })),
    h("label", {}, "备注", h("textarea", { name: "notes", rows: 2, maxlength: 2000 })),
    h("p", { class: "error", role: "alert", hidden: true }),
    h("div", { class: "actionbar" }, h("button", { type: "submit", class: "primary wide", id: "save-plan-item" }, "保存措施")));
    mount(this.view,
      h("section", { class: "card" }, h("h2", {}, "帮扶措施（", String(items.length), "）"),
        items.length ? null : h("p", { class: "muted" }, "还没有帮扶措施：至少设计一条脱贫门路。"),
        h("ul", { class: "list plan" }, items.map((p) => h("li", { class: "plan-item", dataset: { id: p.id, state: p.state } },
          h("strong", {}, p.measure), " ", h("span", { class: "tag" }, routes.find(([c]) => c === p.route)?.[1] || p.route),
          h("small", {}, "目标 ", p.target_on || "—", " · ", PLAN_STATES.find(([c]) => c === p.state)?.[1] || p.state,
            p.waiting === "waiting" ? h("span", { class: "tag waiting" }, "待上传") : null,
            p.waiting === "refused" ? h("span", { class: "tag bad" }, "未能上传") : null),
          h("div", { class: "seg small" }, PLAN_STATES.filter(([c]) => c !== p.state).map(([c, l]) =>
            h("button", { type: "button", class: "small", dataset: { to: c }, onclick: setState(p, c) }, l))))))),
      form,
      h("a", { class: "button", href: "#/h/" + householdId }, "返回农户"));
  }

  // income shows a year's income account and records the cadre's edits:
  // the year's first record is a create under the derived id, later ones
  // updates (always with the year, §18).
  async income(householdId, year) {
    const hh = await this.household(householdId);
    if (!hh) return mount(this.view, h("p", { class: "muted" }, "本机没有该农户。"));
    const thisYear = new Date().getFullYear();
    year = Number(year) || thisYear;
    this.setTitle("收入测算 " + hh.head_name);
    const id = await incomeAccountID(householdId, year);
    const rec = await this.app.store.record("income_account", id);
    const acc = rec ? visible(rec) : { year };
    const pending = (await this.app.store.pending()).get("income_account:" + id);
    const registered = (await this.app.store.byHousehold(householdId)).filter((r) => r.entity === "member").length;
    const per = netPerCapita(acc, registered);
    const form = h("form", { class: "form", id: "income-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const err = form.querySelector(".error");
      const next = {};
      const bad = [];
      for (const [field, l] of INCOME_LINES) {
        const v = fen(f.get(field));
        if (v === null) bad.push(l);
        else next[field] = v;
      }
      // A count of people is no amount of money: it has a rule of its own
      // (it was named under the amounts' rule), and the amounts' rule says
      // they cannot be negative (a "-500" was refused unexplained).
      const problems = bad.length ? ["金额应为0至1亿元的数字，不能为负，最多两位小数：" + bad.join("、")] : [];
      const counted = String(f.get("members_counted") || "").trim();
      if (counted !== "" && !(/^\d+$/.test(counted) && Number(counted) <= 30)) problems.push("计算人数应为0至30的整数（填0按家庭成员计）");
      if (problems.length) { err.textContent = problems.join("；"); err.hidden = false; return; }
      next.members_counted = counted === "" ? 0 : Number(counted);
      next.notes = String(f.get("notes") || "").trim();
      const saved = rec ? await this.app.store.edit("income_account", id, householdId, next, [], { year })
        : (await this.app.store.createRecord("income_account", id, householdId, { year, ...next }), true);
      this.toast(saved ? "已保存（待上传）" : "没有修改");
      this.syncSoon(100);
      await this.income(householdId, year);
    } },
    h("label", {}, "年度", h("select", { name: "year", onchange: (e) => this.income(householdId, e.target.value) },
      [thisYear, thisYear - 1].map((y) => h("option", { value: y, selected: y === year }, y + "年")))),
    INCOME_LINES.map(([field, l]) => h("label", {}, l + "（元）",
      h("input", { name: field, inputmode: "decimal", value: acc[field] ? yuan(acc[field]) : "", placeholder: "0.00" }))),
    h("label", {}, "计算人数", h("input", { name: "members_counted", inputmode: "numeric", value: acc.members_counted || "", placeholder: "按家庭成员（" + registered + "人）" })),
    h("label", {}, "说明", h("textarea", { name: "notes", rows: 2, maxlength: 2000 }, acc.notes || "")),
    h("p", { class: "muted", id: "per-capita" }, "人均纯收入（估算）：", per === null ? "—" : yuan(per) + " 元",
      pending === "waiting" ? h("span", { class: "tag waiting" }, "待上传") : null,
      pending === "refused" ? h("span", { class: "tag bad" }, "未能上传") : null),
    h("p", { class: "error", role: "alert", hidden: true }),
    h("div", { class: "actionbar" }, h("button", { type: "submit", class: "primary wide", id: "save-income" }, "保存")));
    mount(this.view, form, h("a", { class: "button", href: "#/h/" + householdId }, "返回农户"));
  }
}

// progressField is the visit form's 帮扶计划进展: a note against each live
// measure of the household's plan (plan_progress, §7.7). read() gives the
// notes written, each measure at most once; measures done or dropped are
// left out unless the visit already noted them.
export async function progressField(store, householdId, noted = []) {
  const items = (await store.byHousehold(householdId)).filter((r) => r.entity === "plan_item")
    .map((r) => ({ ...visible(r), id: r.id }))
    .filter((p) => !p._deleted && ((p.state !== "done" && p.state !== "dropped") || noted.some((n) => n.plan_item_id === p.id)));
  const note = (id) => (noted.find((n) => n.plan_item_id === id) || {}).note || "";
  const node = items.length === 0 ? null : h("fieldset", { class: "plan-progress" }, h("legend", {}, "帮扶计划进展"),
    items.map((p) => h("label", {}, p.measure,
      h("textarea", { name: "progress-" + p.id, rows: 2, maxlength: 1000, placeholder: "本次推进情况（选填）" }, note(p.id)))));
  return {
    node,
    read(form) {
      const f = new FormData(form);
      return items.map((p) => ({ plan_item_id: p.id, note: String(f.get("progress-" + p.id) || "").trim() })).filter((x) => x.note);
    },
  };
}
