// The app's one local database (IndexedDB). Every step the protocol asks to
// be "one local transaction" (docs/sync-protocol.md §3) is one IndexedDB
// transaction here: a visit and its outbox entry and photos; a push answer
// and the outbox it clears; a pull page and its cursor.
//
// Stores:
//   kv         session, cursor, worklist, vocabularies, user, pairings_named
//   records    key "entity:id" → {entity, id, household_id, version, data, local, walk}
//              data is the last server copy, local the cadre's edits not yet acknowledged
//   outbox     seq → a change not yet in a batch, in the order made
//   inflight   "batch" → {key, body, seqs, entries, formed_at}
//   attention  id → a rejected change or a conflict notice (待处理)
//   photos     photo_id → {visit_id, blob, sha256, size, type, upload_id, offset, sent, refused}
export const DB_NAME = "fieldvisit-app";
const VERSION = 1;

export function openDB(name = DB_NAME) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name, VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      db.createObjectStore("kv");
      db.createObjectStore("records", { keyPath: "key" }).createIndex("household", "household_id");
      db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      db.createObjectStore("inflight");
      db.createObjectStore("attention", { keyPath: "id" });
      db.createObjectStore("photos", { keyPath: "photo_id" });
    };
    r.onsuccess = () => {
      const db = r.result;
      // Another tab deleting the database (logout) must not wait on us.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error("数据库被其他窗口占用"));
  });
}

// req turns an IDBRequest into a promise.
export function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

// tx runs fn(stores) in one transaction and resolves with fn's result once
// the transaction has committed (durably: the data is on disk before the
// cadre is told 已保存).
export function tx(db, names, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(names, mode, { durability: "strict" });
    const stores = {};
    for (const n of [].concat(names)) stores[n] = t.objectStore(n);
    let out;
    t.oncomplete = () => resolve(out);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error("事务已中止"));
    Promise.resolve()
      .then(() => fn(stores, t))
      .then((v) => { out = v; }, (e) => { try { t.abort(); } catch { /* already done */ } reject(e); });
  });
}

export const key = (entity, id) => entity + ":" + id;

export async function getAll(db, store) {
  return tx(db, store, "readonly", (s) => req(s[store].getAll()));
}

export async function kvGet(db, k) {
  return tx(db, "kv", "readonly", (s) => req(s.kv.get(k)));
}

export async function kvPut(db, k, v) {
  return tx(db, "kv", "readwrite", (s) => req(s.kv.put(v, k)));
}

// wipe deletes the database: after logout the phone holds nothing readable.
export function wipe(db, name = DB_NAME) {
  if (db) db.close();
  return new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
    r.onblocked = () => resolve(); // other tabs close on versionchange
  });
}
