// An inspector's findings as the household form (入户核查表, GET
// /api/v1/inspection-forms) defines them, as pure functions so that they
// are tested without a page (internal/fieldapp/outbox_rules_test.go):
// the answers read from the form in the shape the server checks, one
// field per item kind (docs/sync-protocol.md §13.1), and what the server
// would refuse, found before the visit is saved — a form it would refuse
// never enters the outbox, where it could only come back rejected.

// answersOf reads the answers by item code; values(name) gives the form's
// values under an input name (FormData.getAll), each item's inputs being
// named by its code.
export function answersOf(form, values) {
  const answers = {};
  for (const it of form.items) {
    const v = values(it.code).map((x) => String(x).trim()).filter((x) => x !== "");
    if (v.length === 0) continue;
    switch (it.kind) {
      case "choice": answers[it.code] = { choice: v[0] }; break;
      case "choices": answers[it.code] = { choices: [...new Set(v)] }; break;
      case "count": answers[it.code] = { count: Number(v[0]) }; break;
      case "yes_no": answers[it.code] = { yes: v[0] === "yes" }; break;
      case "text": answers[it.code] = { text: v[0] }; break;
    }
  }
  return answers;
}

// problemsOf lists, in the form's order, the items the server would
// refuse: a required one left blank, a count that is no whole number in
// range, a text too long (characters, as the server counts them).
export function problemsOf(form, answers) {
  const out = [];
  for (const it of form.items) {
    const a = answers[it.code];
    if (!a) {
      if (it.required) out.push({ code: it.code, message: "请填写“" + it.label_zh + "”" });
    } else if (it.kind === "count" && !(Number.isInteger(a.count) && a.count >= 0 && a.count <= it.max)) {
      out.push({ code: it.code, message: it.label_zh + "应为0至" + it.max + "的整数" });
    } else if (it.kind === "text" && it.max > 0 && [...a.text].length > it.max) {
      out.push({ code: it.code, message: it.label_zh + "不能超过" + it.max + "字" });
    }
  }
  return out;
}

// taskState is what the inspector reads on a task: done on the server
// (已核查), recorded on the phone and not yet acknowledged (待上传), refused
// by the server (未能上传), or still to do (待核查). pending maps a visit's
// key to "waiting" or "refused" (Store.pending).
export function taskState(task, visits, pending) {
  if (task.done) return "done";
  let state = "todo";
  for (const v of visits) {
    if (v.kind !== "inspection" || !v.findings || (v.findings.campaign_id && v.findings.campaign_id !== task.campaign_id)) continue;
    const p = pending.get("visit:" + v.id);
    if (p === "waiting") return "waiting";
    if (p === "refused") state = "refused";
  }
  return state;
}
