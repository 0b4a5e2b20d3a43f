// The outbox's and the replica's rules, as pure functions over plain
// objects, so that they are tested without IndexedDB or a server
// (internal/fieldapp/outbox_rules_test.go runs them in Chromium). sync.js
// applies what they decide inside IndexedDB transactions.
//
// The rules are those of docs/sync-protocol.md §3; the numbers below are
// that section's.

// A batch holds at most 500 changes (the server's limit) and is cut near
// 1 MiB, the size the protocol recommends on rural links.
export const MAX_BATCH_CHANGES = 500;
export const MAX_BATCH_BYTES = 1 << 20;

// canonical is JSON with object keys sorted: two values are "the same"
// when their canonical forms are equal, whatever the key order.
export function canonical(v) {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }
  return JSON.stringify(v === undefined ? null : v);
}
export const same = (a, b) => canonical(a) === canonical(b);

// visible is a record as the cadre sees it: the last server copy with the
// edits not yet acknowledged on top.
export function visible(rec) {
  if (!rec) return null;
  return { ...(rec.data || {}), ...(rec.local || {}) };
}

// changedFields is what an edit changes: the fields of next whose value
// differs from the record as the cadre saw it.
export function changedFields(before, next) {
  const out = {};
  for (const [f, v] of Object.entries(next)) {
    if (!same(before ? before[f] : undefined, v)) out[f] = v;
  }
  return out;
}

// planEdit decides how an edit enters the outbox (rules 5 and 6):
//   - folded into the record's entry that is not yet in a batch (a create
//     takes the new values; an update keeps each field's oldest base);
//   - otherwise a new update, made from the server version the phone holds,
//     or — when an earlier change of the record is in flight — with its
//     base_version left empty, filled in when the batch is formed.
// before is the record as the cadre saw it when editing (visible()).
export function planEdit({ entity, id, householdId, rec, unsent, inFlight, before, changed }) {
  if (Object.keys(changed).length === 0) return { action: "none" };
  if (unsent) {
    const entry = structuredClone(unsent);
    entry.data = { ...entry.data, ...changed };
    if (entry.op === "update") {
      entry.base = { ...entry.base };
      for (const f of Object.keys(changed)) if (!(f in entry.base)) entry.base[f] = before[f] ?? null;
    }
    return { action: "fold", entry };
  }
  const base = {};
  for (const f of Object.keys(changed)) base[f] = before[f] ?? null;
  const version = !inFlight && rec && rec.version ? rec.version : null;
  return { action: "queue", entry: { entity, op: "update", id, household_id: householdId, base_version: version, data: changed, base } };
}

// planDelete: deleting a visit whose create never left the phone removes
// both; otherwise a delete is queued (replacing an unsent update, whose
// edit no longer matters).
export function planDelete({ id, householdId, rec, unsent, inFlight }) {
  if (unsent && unsent.op === "create") return { action: "forget", drop: unsent.seq };
  const version = !inFlight && rec && rec.version ? rec.version : null;
  return {
    action: "queue",
    drop: unsent ? unsent.seq : undefined,
    entry: { entity: "visit", op: "delete", id, household_id: householdId, base_version: version },
  };
}

// changeOf is the wire form of an outbox entry, in a fixed key order. An
// empty base_version is the one rule 5 leaves to batch time: the version
// the phone knows now (after the earlier change's acknowledgement).
export function changeOf(entry, versionOf) {
  const c = { entity: entry.entity, op: entry.op, id: entry.id };
  if (entry.household_id) c.household_id = entry.household_id;
  if (entry.op !== "create") {
    const v = entry.base_version || versionOf(entry.entity, entry.id);
    if (v) c.base_version = v;
  }
  if (entry.data) c.data = entry.data;
  if (entry.base && entry.op === "update") c.base = entry.base;
  return c;
}

// formBatch serialises the oldest entries once (rule 2): the returned body
// is what is stored with the key before the first send and resent byte for
// byte. At least one entry goes, however large.
export function formBatch(entries, { deviceId, deviceTime, key, versionOf }) {
  const changes = [];
  const seqs = [];
  let size = 0;
  for (const e of entries) {
    if (changes.length >= MAX_BATCH_CHANGES) break;
    // An entry of a batch refused as too large goes alone (Sync.setAside).
    if (changes.length > 0 && (e.alone || entries[0].alone)) break;
    const c = changeOf(e, versionOf);
    const n = JSON.stringify(c).length + 1;
    if (changes.length > 0 && size + n > MAX_BATCH_BYTES) break;
    changes.push(c);
    seqs.push(e.seq);
    size += n;
  }
  const body = JSON.stringify({ device_id: deviceId, device_time: deviceTime, changes });
  return { key, body, seqs, entries: entries.slice(0, seqs.length), formed_at: deviceTime };
}

// The statuses that mean the server holds the change (§7.4).
const STORED = new Set(["applied", "merged", "conflict", "duplicate"]);

// settle reads a push answer against the batch it answers (rule 4): for
// each entry, whether it is done, and what goes to the attention list — a
// rejected change (to fix and send again) or a conflict notice.
export function settle(batch, response) {
  const byIndex = new Map((response.results || []).map((r) => [r.index, r]));
  return batch.entries.map((entry, i) => {
    const result = byIndex.get(i) || { status: "rejected", errors: [{ field: "/changes/" + i, reason: "missing_result", message_zh: "服务器未返回该记录的结果" }] };
    let attention = null;
    if (result.status === "rejected") {
      attention = { kind: "rejected", entry, errors: result.errors || [] };
    } else if (result.status === "conflict") {
      attention = { kind: "conflict", entry, conflict_ids: result.conflict_ids || [] };
    } else if (!STORED.has(result.status)) {
      attention = { kind: "rejected", entry, errors: [{ field: "/changes/" + i, reason: result.status, message_zh: "未知的处理结果" }] };
    }
    return { entry, result, stored: STORED.has(result.status), attention };
  });
}

// acknowledge is a record after the server stored one of its changes: its
// version is the answer's, and the edits it carried move from the local
// layer to the server copy — unless the cadre changed a field again since,
// which stays local (and is in the outbox). A stored delete removes the
// record (null), and so does a stored ledger item: the pull never brings
// ledger items (§7.8), so the phone holds one only until the server has it.
export function acknowledge(rec, entry, result) {
  if (entry.op === "delete" || entry.entity === "ledger_item") return null;
  const out = rec ? structuredClone(rec) : { entity: entry.entity, id: entry.id, household_id: entry.household_id, data: {}, local: {} };
  out.data = out.data || {};
  out.local = out.local || {};
  for (const [f, v] of Object.entries(entry.data || {})) {
    if (f in out.local && same(out.local[f], v)) {
      out.data[f] = v;
      delete out.local[f];
    }
  }
  if (result.version && result.version >= (out.version || 0)) out.version = result.version;
  return out;
}

// abandon is a record once the cadre gives up a change the server
// refused (放弃, §7.4): a record the server never had — its create was
// refused, so it holds no version — goes (null), as the pull will never
// bring it; a record the server has shows the server's copy again: each
// field the change carried leaves the local layer while it still holds
// the refused value (an edit made since stays), and a refused delete no
// longer hides it.
export function abandon(rec, entry) {
  if (!rec || !rec.version) return null;
  const out = structuredClone(rec);
  const local = { ...(out.local || {}) };
  if (entry.op === "delete") delete local._deleted;
  for (const [f, v] of Object.entries(entry.data || {})) if (f in local && same(local[f], v)) delete local[f];
  if (Object.keys(local).length) out.local = local;
  else delete out.local;
  return out;
}

// corrects says whether changed, an edit of a record, puts right the
// edit the server refused (refused, its outbox entry): it changes again
// every field the refused one carried, always (fields every change of
// the record carries, §18) aside. Such a refusal leaves 待处理 — the new
// change goes up in its place and comes back, should it be refused too;
// it stayed saying 未能上传 after the correction had gone up. A refused
// create is put right as a create (Store.correctCreate), not here.
export function corrects(refused, changed, always = {}) {
  if (!refused || refused.op !== "update") return false;
  const fields = Object.keys(refused.data || {}).filter((f) => !(f in always));
  return fields.length > 0 && fields.every((f) => f in changed);
}

// strayPhotos are the photos waiting on the phone for visit id that rec,
// the visit as the phone shows it after 放弃 or a delete (null: gone),
// does not list: the given-up change brought them, or the visit left the
// phone, and they have no visit to join.
export function strayPhotos(id, rec, photos) {
  const kept = new Set(((visible(rec) || {}).photos || []).map((p) => p.photo_id));
  return photos.filter((p) => p.visit_id === id && !kept.has(p.photo_id)).map((p) => p.photo_id);
}

// applyPulled applies one pulled change by version (rule 9): a copy with a
// higher version is kept; an equal or lower one is replaced (pairings and
// re-judged visits come again at the same version); a tombstone removes the
// record. The cadre's unacknowledged edits stay on top of the new copy.
export function applyPulled(rec, change, walk) {
  if (rec && (rec.version || 0) > change.version) {
    if (walk) return { put: { ...rec, walk } };
    return { skip: true };
  }
  if (change.op === "delete") return { del: true };
  const next = {
    key: change.entity + ":" + change.id,
    entity: change.entity,
    id: change.id,
    household_id: change.household_id || (change.data && change.data.household_id) || null,
    version: change.version,
    data: change.data,
    local: rec && rec.local && Object.keys(rec.local).length ? rec.local : undefined,
  };
  if (walk) next.walk = walk;
  else if (rec && rec.walk) next.walk = rec.walk;
  return { put: next };
}

// backlog is what the device-report headers say (§17): changes not yet
// acknowledged (the batch in flight and the queue), photos not yet stored,
// and the bytes of both still to go up.
export function backlog(outbox, inflight, photos) {
  let bytes = inflight ? new TextEncoder().encode(inflight.body).length : 0;
  for (const e of outbox) bytes += JSON.stringify(changeOf(e, () => 1)).length + 1;
  const waiting = photos.filter((p) => !p.refused);
  for (const p of waiting) bytes += Math.max(0, p.size - (p.offset || 0));
  return {
    records: outbox.length + (inflight ? inflight.seqs.length : 0),
    photos: waiting.length,
    bytes,
  };
}

// rfc3339 writes a time with the phone's own offset
// (2026-11-22T09:30:00+08:00), as the protocol's device times are.
export function rfc3339(d) {
  const pad = (n, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" +
    pad(d.getSeconds()) + sign + pad(off / 60) + ":" + pad(off % 60);
}

// nextChunkSize follows §15.4: after a chunk of at least half the size,
// what the measured pace moves in 10 s, at most twofold up or down; halve
// after a failure; always between 16 KiB and the upload's chunk_max.
export function nextChunkSize(size, { sentBytes, seconds, failed, chunkMax }) {
  const min = 16 << 10;
  const max = chunkMax || 4 << 20;
  let next = size;
  if (failed) next = size / 2;
  else if (sentBytes >= size / 2 && seconds > 0) next = Math.min(size * 2, Math.max(size / 2, (sentBytes / seconds) * 10));
  return Math.floor(Math.min(max, Math.max(min, next)));
}
