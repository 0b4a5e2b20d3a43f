// An inspector's screens (docs/sync-protocol.md §8.5): the tasks their
// campaigns drew, on the home screen; on a task's household, what the
// cadre recorded there to re-check and the way into the form; and the
// inspection form — the household form's findings (入户核查表) recorded
// offline on an inspection visit, which goes up through the same outbox,
// with photos and GPS, as a cadre's visit does (§7.5).
import { h } from "./dom.js";
import { visible, rfc3339 } from "./outbox.js";
import { answersOf, problemsOf, taskState } from "./findings.js";
import { timeFields, gpsField, photoField } from "./visit-parts.js";

const MODES = { announced: "明查", unannounced: "暗访", cross: "交叉互检" };
const STRATA = { poor: "贫困户", other: "非贫困户" };
const TASK_STATES = { todo: "待核查", waiting: "待上传", refused: "未能上传", done: "已核查" };
const GROUPS = { two_no_worries: "两不愁三保障及饮水安全", precision: "精准识别与精准退出", effect: "帮扶成效", opinion: "群众满意度与政策知晓", cadre_visits: "农户所述帮扶情况" };
const CHECK = { food: "不愁吃", clothing: "不愁穿", education: "义务教育", medical: "基本医疗", housing: "住房安全", water: "饮水安全" };

// tasks reads the inspector's tasks with their household and state, the
// ones still to do first.
export async function tasks(store) {
  const pending = await store.pending();
  const byHousehold = new Map();
  for (const r of await store.records("visit")) {
    if (r.local && r.local._deleted) continue;
    if (!byHousehold.has(r.household_id)) byHousehold.set(r.household_id, []);
    byHousehold.get(r.household_id).push({ ...visible(r), id: r.id });
  }
  const households = new Map((await store.records("household")).map((r) => [r.id, visible(r)]));
  const order = { refused: 0, todo: 1, waiting: 2, done: 3 };
  return (await store.records("task")).map((r) => {
    const t = { ...visible(r), id: r.id };
    return { task: t, household: households.get(t.household_id) || null, state: taskState(t, byHousehold.get(t.household_id) || [], pending) };
  }).sort((a, b) => order[a.state] - order[b.state] || (a.task.village_name || "").localeCompare(b.task.village_name || "", "zh-CN") ||
    ((a.household || {}).head_name || "").localeCompare((b.household || {}).head_name || "", "zh-CN"));
}

function campaignLine(t) {
  return [t.campaign_name, MODES[t.mode] || t.mode, t.village_name, STRATA[t.stratum] || t.stratum].filter(Boolean).join(" · ");
}

// taskList is the inspector's home screen: the tasks under their
// campaign (its name, mode and period said once), each household with
// its village, stratum and state.
export function taskList(items) {
  const open = items.filter((x) => x.state !== "done").length;
  const campaigns = [];
  for (const x of items) {
    let c = campaigns.find((y) => y.id === x.task.campaign_id);
    if (!c) campaigns.push(c = { id: x.task.campaign_id, task: x.task, items: [] });
    c.items.push(x);
  }
  return [
    h("h2", { class: "tasks-total" }, "督查任务（待核查 ", String(open), " / 共 ", String(items.length), "）"),
    items.length === 0 ? h("p", { class: "card muted" }, "暂无督查任务。任务由督查组抽样后下发，同步后显示。") : null,
    campaigns.map(({ task: c, items: list }) => h("section", { class: "card" },
      h("h2", {}, c.campaign_name || "督查", " ", h("span", { class: "tag" }, MODES[c.mode] || c.mode)),
      h("small", { class: "muted" }, "督查期 ", c.period_from || "", " 至 ", c.period_to || ""),
      h("ul", { class: "list tasks" }, list.map(({ task, household, state }) => h("li", { class: "task task-" + state, dataset: { id: task.id, state } },
        h("a", { href: "#/h/" + task.household_id },
          h("strong", {}, household ? household.head_name : "（农户资料未同步）"),
          h("span", { class: "tag" + (state === "done" ? " ok" : state === "refused" ? " bad" : state === "waiting" ? " waiting" : "") }, TASK_STATES[state]),
          h("small", {}, [task.village_name, STRATA[task.stratum] || task.stratum].filter(Boolean).join(" · ")))))))),
  ];
}

// householdActions is the bar under a task's household: one way into the
// form per campaign that still waits for it.
export function householdActions(items) {
  const open = items.filter((x) => x.state === "todo" || x.state === "refused");
  if (open.length === 0) {
    return h("p", { class: "muted", id: "inspection-state" }, items.length ? "本户核查" + (items.some((x) => x.state === "waiting") ? "已记录，待上传" : "已完成") : "本户不在督查任务中");
  }
  return h("div", { class: "actionbar" }, open.map(({ task }) => h("a", { class: "button primary wide", href: "#/i/" + task.id, dataset: { task: task.id }, id: open.length === 1 ? "new-inspection" : null },
    open.length === 1 ? "入户核查" : "入户核查（" + task.campaign_name + "）")));
}

// checkedVisit is a visit someone else recorded at the household, as the
// inspector re-checks it: when, what kind, what the cadre found and what
// the server flagged. Read only.
export function checkedVisit(v, kindLabel, when) {
  const problems = Object.entries(v.checklist || {}).filter(([, a]) => a && a.answer === "problem").map(([c]) => CHECK[c] || c);
  return h("li", { class: "visit others", dataset: { id: v.id } },
    h("strong", {}, when), " ", h("span", { class: "tag" }, kindLabel),
    v.household_confirmed ? h("span", { class: "tag" }, "农户已确认") : null,
    h("small", {}, (v.notes || "").slice(0, 80)),
    problems.length ? h("small", { class: "reason" }, "存在问题：", problems.join("、")) : null,
    (v.flags || []).map((f) => h("small", { class: "flag" }, "⚠ ", f.message_zh)));
}

function itemInput(it, answer) {
  const name = it.code;
  const a = answer || {};
  switch (it.kind) {
    case "choice":
    case "yes_no": {
      const choices = it.kind === "yes_no" ? [{ code: "yes", label_zh: "是" }, { code: "no", label_zh: "否" }] : it.choices;
      const current = it.kind === "yes_no" ? (a.yes === true ? "yes" : a.yes === false ? "no" : "") : a.choice;
      const long = choices.some((c) => c.label_zh.length > 6);
      return h("div", { class: "seg" + (long ? " stack" : choices.length === 2 ? " two" : "") },
        choices.map((c) => h("label", {}, h("input", { type: "radio", name, value: c.code, checked: c.code === current }), h("span", {}, c.label_zh))));
    }
    case "choices":
      return h("div", { class: "chips" }, it.choices.map((c) => h("label", {}, h("input", { type: "checkbox", name, value: c.code, checked: (a.choices || []).includes(c.code) }), h("span", {}, c.label_zh))));
    case "count":
      return h("input", { type: "number", name, inputmode: "numeric", min: 0, max: it.max, step: 1, value: a.count ?? "", "aria-label": it.label_zh });
    default:
      return h("textarea", { name, rows: 3, maxlength: it.max || null, "aria-label": it.label_zh }, a.text || "");
  }
}

// findingsFields is the household form, item by item under its groups.
function findingsFields(form, answers) {
  const groups = [];
  for (const it of form.items) {
    let g = groups.find((x) => x.code === it.group);
    if (!g) groups.push(g = { code: it.group, items: [] });
    g.items.push(it);
  }
  return groups.map((g) => h("fieldset", { class: "findings" }, h("legend", {}, GROUPS[g.code] || g.code),
    g.items.map((it) => h("div", { class: "check-item", dataset: { item: it.code } },
      h("span", { class: "check-label" }, it.label_zh, it.required ? h("span", { class: "required", title: "必填" }, " *") : null),
      itemInput(it, answers[it.code])))));
}

// inspectionForm is the form for a task's household. existing is the
// inspector's own visit being edited: its findings can be corrected here
// while the phone still holds them (they are never pulled back, §7.5);
// after that only the visit's own fields are. save(data, photoRows) stores
// the visit.
export function inspectionForm({ form, task, household, existing, save }) {
  const v = existing || { kind: "inspection", started_at: rfc3339(new Date()), notes: "", gps: [], photos: [] };
  const withFindings = !!form && !!task && (!existing || !!v.findings);
  const when = timeFields(v);
  const gps = [...(v.gps || [])];
  const where = gpsField(gps);
  const photos = photoField(v.photos, where.lastFix);
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const el = h("form", { class: "form visit-form inspection-form", id: "inspection-form", onsubmit: async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    for (const x of el.querySelectorAll(".check-item.missing")) x.classList.remove("missing");
    const times = when.read();
    if (times.error) return fail(times.error);
    const f = new FormData(el);
    const data = { kind: "inspection", started_at: times.started_at, ended_at: times.ended_at, notes: String(f.get("visit_notes") || ""), gps, photos: photos.refs() };
    if (withFindings) {
      const answers = answersOf(form, (code) => f.getAll(code));
      const problems = problemsOf(form, answers);
      if (problems.length) {
        for (const p of problems) el.querySelector('.check-item[data-item="' + p.code + '"]').classList.add("missing");
        el.querySelector(".check-item.missing").scrollIntoView({ block: "center" });
        return fail(problems.length === 1 ? problems[0].message : "还有" + problems.length + "项未填写或有误，已标红。第一项：" + problems[0].message);
      }
      data.findings = { campaign_id: task.campaign_id, answers };
    }
    await save(data, photos.rows());
  } },
  h("section", { class: "card task-head" },
    h("strong", {}, household ? household.head_name + "户" : ""), " ", task ? h("span", { class: "tag" }, MODES[task.mode] || task.mode) : null,
    h("small", {}, task ? campaignLine(task) : "督查任务已结束"),
    household ? h("small", {}, household.address || "") : null),
  when.node,
  withFindings ? findingsFields(form, (v.findings && v.findings.answers) || {})
    : h("p", { class: "muted" }, !form ? "督查表尚未下载，请联网同步一次后再填写核查结果。" : "核查结果已上传；如需更正，请在督查系统中修改。"),
  h("label", {}, "核查记录", h("textarea", { name: "visit_notes", rows: 4, maxlength: 10000, placeholder: "入户核查情况、农户反映的问题" }, v.notes || "")),
  where.node,
  photos.node,
  err,
  h("div", { class: "actionbar" }, h("button", { type: "submit", class: "primary wide", id: "save-inspection" }, "保存核查")));
  // An item answered loses its red mark at once.
  el.addEventListener("input", (e) => {
    const item = e.target.closest(".check-item.missing");
    if (item) item.classList.remove("missing");
    if (item && !el.querySelector(".check-item.missing")) err.hidden = true;
  });
  function fail(text) {
    err.textContent = text;
    err.hidden = false;
  }
  if (!existing) where.locate();
  return el;
}
