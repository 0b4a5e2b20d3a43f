// What the screens do to the phone's data: read the replica, and record
// the cadre's work — each save one IndexedDB transaction holding the
// record, its outbox entry and its photos (rule 1: outbox before 已保存).
import { tx, req, key, getAll } from "./db.js";
import { visible, changedFields, planEdit, planDelete, abandon, strayPhotos, corrects } from "./outbox.js";

export class Store {
  constructor(db) {
    this.db = db;
  }

  async records(entity) {
    return (await getAll(this.db, "records")).filter((r) => r.entity === entity);
  }

  async record(entity, id) {
    return tx(this.db, "records", "readonly", (s) => req(s.records.get(key(entity, id))));
  }

  async byHousehold(householdId) {
    return tx(this.db, "records", "readonly", (s) => req(s.records.index("household").getAll(householdId)));
  }

  // pending tells, per record key, whether it has changes not yet
  // acknowledged (待上传) and whether one was refused (未能上传).
  async pending() {
    return tx(this.db, ["outbox", "inflight", "attention"], "readonly", async (s) => {
      const out = new Map();
      for (const e of await req(s.outbox.getAll())) out.set(key(e.entity, e.id), "waiting");
      const b = await req(s.inflight.get("batch"));
      for (const e of b ? b.entries : []) out.set(key(e.entity, e.id), "waiting");
      for (const a of await req(s.attention.getAll())) if (a.kind === "rejected" && !out.has(a.key)) out.set(a.key, "refused");
      return out;
    });
  }

  // createVisit stores a new visit, its create and its photos at once.
  async createVisit(householdId, data, photos) {
    const id = crypto.randomUUID();
    await tx(this.db, ["records", "outbox", "photos"], "readwrite", (s) => {
      s.records.put({ key: key("visit", id), entity: "visit", id, household_id: householdId, version: 0, data: {}, local: data });
      s.outbox.add({ entity: "visit", op: "create", id, household_id: householdId, data, made_at: new Date().toISOString() });
      for (const p of photos) s.photos.put({ ...p, visit_id: id, created_at: new Date().toISOString(), upload_id: null, offset: 0, sent: false });
    });
    return id;
  }

  // createRecord stores a new record the phone made (a plan item, a
  // year's income account) and its create at once.
  async createRecord(entity, id, householdId, data) {
    await tx(this.db, ["records", "outbox"], "readwrite", (s) => {
      s.records.put({ key: key(entity, id), entity, id, household_id: householdId, version: 0, data: {}, local: data });
      s.outbox.add({ entity, op: "create", id, household_id: householdId, data, made_at: new Date().toISOString() });
    });
  }

  // correctCreate stores the cadre's correction of a record the phone made
  // whose create the server refused (or has not yet been sent): the record
  // takes the new values and its create goes again under the same id —
  // folded into the create still in the outbox, or queued anew, to go in a
  // new batch with a new key: a refused create stored nothing (§7.4, §7.8).
  // The refusal leaves 待处理 with it. false, and nothing changes, while
  // the create is in flight (its answer decides what the id holds).
  async correctCreate(entity, id, householdId, data) {
    return tx(this.db, ["records", "outbox", "inflight", "attention"], "readwrite", async (s) => {
      const batch = await req(s.inflight.get("batch"));
      if (batch && batch.entries.some((e) => e.entity === entity && e.id === id)) return false;
      const unsent = (await req(s.outbox.getAll())).find((e) => e.entity === entity && e.id === id);
      if (unsent) s.outbox.put({ ...unsent, data });
      else s.outbox.add({ entity, op: "create", id, household_id: householdId, data, made_at: new Date().toISOString() });
      s.records.put({ key: key(entity, id), entity, id, household_id: householdId, version: 0, data: {}, local: data });
      for (const a of await req(s.attention.getAll())) if (a.kind === "rejected" && a.key === key(entity, id)) s.attention.delete(a.id);
      return true;
    });
  }

  // refusals are the server's refusals of a record's changes still in
  // 待处理, newest first.
  async refusals(entity, id) {
    return (await this.attention()).filter((a) => a.kind === "rejected" && a.key === key(entity, id));
  }

  // edit records an edit of a record the cadre may change — a visit, the
  // household's editable fields, a plan item, an income account — (rules 5
  // and 6), returning false when nothing changed. always are fields every
  // change of the record carries whether changed or not (an income
  // account's year, §18).
  async edit(entity, id, householdId, next, photos = [], always = {}) {
    return tx(this.db, ["records", "outbox", "inflight", "photos", "attention"], "readwrite", async (s) => {
      const k = key(entity, id);
      const rec = await req(s.records.get(k));
      const before = visible(rec) || {};
      const changed = changedFields(before, next);
      const entries = await req(s.outbox.getAll());
      const unsent = entries.find((e) => e.entity === entity && e.id === id);
      const batch = await req(s.inflight.get("batch"));
      const inFlight = !!(batch && batch.entries.some((e) => e.entity === entity && e.id === id));
      let plan;
      if (entity === "visit" && !unsent && !inFlight && !(rec && rec.version)) {
        // Its create was refused: the visit is sent again whole, as a new change.
        plan = { action: "queue", entry: { entity, op: "create", id, household_id: householdId, data: { ...before, ...changed } } };
      } else {
        plan = planEdit({ entity, id, householdId, rec, unsent, inFlight, before, changed });
      }
      if (plan.action === "none") return false;
      plan.entry.data = { ...always, ...plan.entry.data };
      if (plan.action === "fold") s.outbox.put(plan.entry);
      else s.outbox.add({ ...plan.entry, made_at: new Date().toISOString() });
      const r = rec || { key: k, entity, id, household_id: householdId, version: 0, data: {} };
      r.local = { ...(r.local || {}), ...changed };
      s.records.put(r);
      for (const p of photos) s.photos.put({ ...p, visit_id: id, created_at: new Date().toISOString(), upload_id: null, offset: 0, sent: false });
      for (const a of await req(s.attention.getAll())) if (a.kind === "rejected" && a.key === k && corrects(a.entry, changed, always)) s.attention.delete(a.id);
      return true;
    });
  }

  async deleteVisit(id, householdId) {
    await tx(this.db, ["records", "outbox", "inflight", "photos"], "readwrite", async (s) => {
      const k = key("visit", id);
      const rec = await req(s.records.get(k));
      const unsent = (await req(s.outbox.getAll())).find((e) => e.entity === "visit" && e.id === id);
      const batch = await req(s.inflight.get("batch"));
      const inFlight = !!(batch && batch.entries.some((e) => e.entity === "visit" && e.id === id));
      const plan = planDelete({ id, householdId, rec, unsent, inFlight });
      if (plan.drop !== undefined) s.outbox.delete(plan.drop);
      if (plan.action === "forget") {
        s.records.delete(k);
        for (const p of strayPhotos(id, null, await req(s.photos.getAll()))) s.photos.delete(p);
        return;
      }
      s.outbox.add({ ...plan.entry, made_at: new Date().toISOString() });
      if (rec) {
        rec.local = { ...(rec.local || {}), _deleted: true };
        s.records.put(rec);
      }
    });
  }

  async attention() {
    return (await getAll(this.db, "attention")).sort((a, b) => b.at.localeCompare(a.at));
  }

  // dismiss takes an item off 待处理 (知道了, or 放弃 for a refused
  // change). A refused change given up is given up for real (§7.4): the
  // phone shows what the server has, never a change it will not get. A
  // record the server never had (its create refused: a visit, a plan
  // item, a ledger request …) leaves the phone — with every refusal of it,
  // and a visit's photos, which have nothing to join; an edit of a record
  // the server has leaves the record's local layer (abandon), and a
  // visit's edit the photos it added (strayPhotos). Unless a
  // change of the record waits to be sent (corrected or sent again
  // meanwhile): the record, as the cadre left it, stays for that change.
  async dismiss(id) {
    await tx(this.db, ["attention", "photos", "records", "outbox", "inflight"], "readwrite", async (s) => {
      const a = await req(s.attention.get(id));
      if (a && a.kind === "photo") s.photos.delete(a.photo_id);
      s.attention.delete(id);
      if (!(a && a.kind === "rejected" && a.entry)) return;
      const { entity, id: recordId } = a.entry;
      const batch = await req(s.inflight.get("batch"));
      const waits = (batch && batch.entries.some((e) => e.entity === entity && e.id === recordId)) ||
        (await req(s.outbox.getAll())).some((e) => e.entity === entity && e.id === recordId);
      if (waits) return;
      const k = key(entity, recordId);
      const next = abandon(await req(s.records.get(k)), a.entry);
      if (next) s.records.put(next);
      else s.records.delete(k);
      const stray = new Set(entity === "visit" ? strayPhotos(recordId, next, await req(s.photos.getAll())) : []);
      for (const p of stray) s.photos.delete(p);
      for (const other of await req(s.attention.getAll())) {
        if ((!next && other.key === k) || (other.kind === "photo" && stray.has(other.photo_id))) s.attention.delete(other.id);
      }
    });
  }

  // resend sends a refused change again, as a new change in a new batch.
  async resend(id) {
    await tx(this.db, ["attention", "outbox"], "readwrite", async (s) => {
      const a = await req(s.attention.get(id));
      if (!a || !a.entry) return;
      const { seq, ...entry } = a.entry;
      s.outbox.add({ ...entry, made_at: new Date().toISOString() });
      s.attention.delete(id);
    });
  }
}
