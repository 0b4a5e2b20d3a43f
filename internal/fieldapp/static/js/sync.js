// The sync engine: push the outbox (one batch in flight, its key and bytes
// stored before the first send), pull by cursor, then upload photos — in
// that order, as docs/sync-protocol.md §15.2 says. One sync at a time per
// phone, across tabs (a Web Lock).
import { tx, req, key, kvGet } from "./db.js";
import { NetworkError, Problem, SignedOut, retryable, problemOf, deviceId } from "./api.js";
import { formBatch, settle, acknowledge, applyPulled, backlog, rfc3339, nextChunkSize } from "./outbox.js";

const PULL_LIMIT = 500;

// PAIRINGS_NAMED (kv) marks a replica whose pairings all carry their
// cadre's name: pulled by this build, which the server always sends
// names to (unnamedPairings).
export const PAIRINGS_NAMED = "pairings_named";

export class Sync {
  constructor(db, api, { onChange = () => {} } = {}) {
    this.db = db;
    this.api = api;
    this.onChange = onChange;
    this.chunk = 64 << 10; // §15.4: start at 64 KiB
    this.failures = 0;
    this.timer = null;
  }

  async backlog() {
    return tx(this.db, ["outbox", "inflight", "photos"], "readonly", async (s) =>
      backlog(await req(s.outbox.getAll()), await req(s.inflight.get("batch")), await req(s.photos.getAll())));
  }

  // run is one whole sync; it reports what it did and never throws for a
  // missing link (the next sync goes on where this one stopped).
  async run() {
    const work = async () => {
      const report = { pushed: 0, pulled: 0, photos: 0, offline: false, error: null };
      try {
        await this.pushAll(report);
        await this.pullAll(report);
        await this.uploadPhotos(report);
        this.failures = 0;
      } catch (e) {
        if (e instanceof SignedOut) throw e;
        report.offline = e instanceof NetworkError;
        report.error = e;
        if (retryable(e)) this.failures++;
      }
      await kvPutLastSync(this.db, report);
      this.onChange(report);
      return report;
    };
    if (navigator.locks) return navigator.locks.request("fieldvisit-sync", work);
    return work();
  }

  // retryDelay is the backoff of §11: from about a second, doubling, up to
  // five minutes, a random time between half and all of the step.
  retryDelay() {
    const step = Math.min(300000, 1000 * 2 ** Math.min(this.failures, 9));
    return step / 2 + Math.random() * (step / 2);
  }

  // pushAll sends batches until the outbox is empty. The in-flight batch
  // left by a killed tab goes first, byte for byte.
  async pushAll(report) {
    for (;;) {
      let batch = await tx(this.db, "inflight", "readonly", (s) => req(s.inflight.get("batch")));
      if (!batch) batch = await this.formBatch();
      if (!batch) return;
      const bl = await this.backlog();
      let answer;
      try {
        answer = await this.api.push(batch, bl);
      } catch (e) {
        if (e instanceof Problem && !retryable(e) && e.status !== 401) {
          // Only a batch too large goes again in this sync, change by
          // change: any other refusal waits for the next sync, or the
          // same batch went up, refused, in a loop.
          if (await this.setAside(batch, e)) continue;
        }
        throw e;
      }
      await this.settle(batch, answer);
      report.pushed += batch.seqs.length;
    }
  }

  // formBatch stores the next batch — key, exact bytes, entries — in the
  // same transaction that reads them, before anything is sent.
  async formBatch() {
    return tx(this.db, ["outbox", "inflight", "records"], "readwrite", async (s) => {
      const entries = await req(s.outbox.getAll());
      if (entries.length === 0) return null;
      const versions = new Map();
      for (const e of entries) {
        const r = await req(s.records.get(key(e.entity, e.id)));
        if (r && r.version) versions.set(key(e.entity, e.id), r.version);
      }
      const batch = formBatch(entries, {
        deviceId: deviceId(), deviceTime: rfc3339(new Date()), key: crypto.randomUUID(),
        versionOf: (entity, id) => versions.get(key(entity, id)),
      });
      for (const seq of batch.seqs) s.outbox.delete(seq);
      s.inflight.put(batch, "batch");
      return batch;
    });
  }

  // settle applies a 2xx in one transaction (rule 4): versions and edits
  // acknowledged, rejected changes and conflicts to the attention list,
  // the in-flight batch cleared.
  async settle(batch, answer) {
    await tx(this.db, ["inflight", "records", "attention"], "readwrite", async (s) => {
      for (const o of settle(batch, answer)) {
        const k = key(o.entry.entity, o.entry.id);
        if (o.stored) {
          const rec = await req(s.records.get(k));
          const next = acknowledge(rec, o.entry, o.result);
          if (next) s.records.put({ ...next, key: k });
          else s.records.delete(k);
        }
        if (o.attention) {
          s.attention.put({ id: crypto.randomUUID(), at: new Date().toISOString(), key: k, batch_key: batch.key, status: o.result.status, ...o.attention });
        }
      }
      s.inflight.delete("batch");
    });
  }

  // setAside handles a batch the server refused whole and for good (400,
  // 413, 422) under a new key (a refused key, key_reused, is never sent
  // again). Too large (413: a proxy's body limit may be smaller than the
  // server's): its changes go back to go up one by one (alone), and a
  // change too large by itself is refused as the server refuses a change,
  // for the cadre to shorten or give up. Otherwise its changes go back as
  // they were. It reports whether to push again in this sync. The notice
  // of a whole batch is one, replaced each time, not one more a try.
  async setAside(batch, problem) {
    const tooLarge = problem.status === 413;
    if (tooLarge && batch.entries.length === 1) {
      const entries = batch.entries.map(({ alone, ...e }) => e);
      await this.settle({ ...batch, entries }, { results: [{ index: 0, status: "rejected", errors: [{ field: "/changes/0", reason: "too_large",
        message_zh: "这条记录超出服务器的接收上限，无法上传：请删减民情日记等内容后点“修改”重新保存" }] }] });
      return true;
    }
    await tx(this.db, ["inflight", "outbox", "attention"], "readwrite", async (s) => {
      s.inflight.delete("batch");
      for (const e of batch.entries) {
        const { seq, ...entry } = e;
        s.outbox.add(tooLarge ? { ...entry, alone: true } : entry);
      }
      s.attention.put({ id: "batch", at: new Date().toISOString(), kind: "batch", status: problem.status,
        errors: problem.body.errors || [], message: problem.message, request_id: problem.body.request_id || "" });
    });
    return tooLarge;
  }

  // pullAll pulls until has_more is false, each page applied with its
  // cursor in one transaction. A fresh phone asks for the snapshot first;
  // a cursor the server no longer knows starts over (rule 11).
  async pullAll(report) {
    let cursor = await kvGet(this.db, "cursor");
    if (cursor && (await this.unnamedPairings())) cursor = null;
    if (!cursor) {
      const walk = crypto.randomUUID();
      let page;
      try {
        page = await this.api.pull("/sync/snapshot?limit=" + PULL_LIMIT, await this.backlog());
      } catch (e) {
        if (!(e instanceof Problem && e.status === 422)) throw e;
        page = null; // scope too large for one answer: page it
      }
      if (page) {
        await this.applyPage(page, walk);
        report.pulled += page.changes.length;
        cursor = page.cursor;
        if (!page.has_more) return this.endWalk(walk);
      } else {
        cursor = "";
      }
      await this.pullFrom(cursor, walk, report);
      return this.endWalk(walk);
    }
    try {
      await this.pullFrom(cursor, null, report);
    } catch (e) {
      if (e instanceof Problem && e.status === 422 && e.reason("cursor") === "invalid") {
        await tx(this.db, "kv", "readwrite", (s) => s.kv.delete("cursor"));
        return this.pullAll(report);
      }
      throw e;
    }
  }

  // unnamedPairings: the replica holds pairings pulled before they
  // carried their cadre's name (an older build of the app). The feed
  // sends a pairing again only when it changes, so the scope is walked
  // afresh once (rule 11) to bring the names. Looking reads every pairing
  // of the scope — thousands on a supervisor's phone — so it is done only
  // while the replica lacks the PAIRINGS_NAMED marker: an older build's
  // replica is looked at once, and is marked when the look finds every
  // pairing named or when the walk it asks for ends (endWalk).
  async unnamedPairings() {
    if (await kvGet(this.db, PAIRINGS_NAMED)) return false;
    return tx(this.db, ["kv", "records"], "readwrite", async (s) => {
      const pairings = await req(s.records.getAll(IDBKeyRange.bound("pairing:", "pairing:\uffff")));
      const unnamed = pairings.some((r) => r.data && !("cadre_name" in r.data));
      if (!unnamed) s.kv.put(true, PAIRINGS_NAMED);
      return unnamed;
    });
  }

  async pullFrom(cursor, walk, report) {
    for (;;) {
      const q = "/sync/pull?limit=" + PULL_LIMIT + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      const page = await this.api.pull(q, await this.backlog());
      await this.applyPage(page, walk);
      report.pulled += page.changes.length;
      cursor = page.cursor;
      if (!page.has_more) return;
    }
  }

  async applyPage(page, walk) {
    await tx(this.db, ["records", "kv"], "readwrite", async (s) => {
      for (const c of page.changes) {
        const k = key(c.entity, c.id);
        const rec = await req(s.records.get(k));
        const d = applyPulled(rec, c, walk);
        if (d.put) s.records.put(d.put);
        else if (d.del) s.records.delete(k);
      }
      s.kv.put(page.cursor, "cursor");
      if (!page.has_more) {
        s.kv.put(page.due || [], "due");
        s.kv.put(new Date().toISOString(), "pulled_at");
      }
    });
  }

  // endWalk: a walk from an empty cursor has seen the whole scope, so a
  // server copy it did not bring has left it — unless it carries the
  // cadre's unsent edits (rule 11 keeps the outbox). Every pairing left
  // came with the walk, named: the replica is marked PAIRINGS_NAMED.
  async endWalk(walk) {
    await tx(this.db, ["records", "kv"], "readwrite", async (s) => {
      for (const r of await req(s.records.getAll())) {
        if (r.walk !== walk && r.version && !(r.local && Object.keys(r.local).length)) s.records.delete(r.key);
      }
      s.kv.put(true, PAIRINGS_NAMED);
    });
  }

  // uploadPhotos sends the waiting photos oldest first, each after any
  // record made meanwhile (a record never waits behind photos).
  async uploadPhotos(report) {
    const photos = await tx(this.db, "photos", "readonly", (s) => req(s.photos.getAll()));
    photos.sort((a, b) => (a.failures || 0) - (b.failures || 0) || a.created_at.localeCompare(b.created_at));
    for (const p of photos) {
      if (p.refused) continue;
      if ((await tx(this.db, "outbox", "readonly", (s) => req(s.outbox.count()))) > 0) await this.pushAll(report);
      try {
        await this.uploadPhoto(p);
        report.photos++;
      } catch (e) {
        if (e instanceof Problem && !retryable(e) && e.status !== 401 && e.status !== 413) {
          await this.refuse(p, e);
          continue;
        }
        await this.updatePhoto(p.photo_id, (r) => { r.failures = (r.failures || 0) + 1; });
        throw e;
      }
    }
  }

  async updatePhoto(id, fn) {
    return tx(this.db, "photos", "readwrite", async (s) => {
      const r = await req(s.photos.get(id));
      if (!r) return null;
      fn(r);
      s.photos.put(r);
      return r;
    });
  }

  // uploadPhoto takes a photo up from what the server holds (§15.5): an
  // upload id asks the offset; a photo marked sent asks whether it is
  // stored; otherwise one PUT when it fits a chunk, else a resumable
  // upload whose id and offset are saved as they change.
  async uploadPhoto(p) {
    const api = this.api;
    const base = "/photos/" + p.photo_id;
    if (p.upload_id) {
      const res = await api.call("HEAD", "/photo-uploads/" + p.upload_id);
      if (res.status === 404) {
        p = await this.updatePhoto(p.photo_id, (r) => { r.upload_id = null; r.offset = 0; });
        return this.uploadPhoto(p);
      }
      if (!res.ok) throw new Problem(res.status, null, res.headers);
      return this.sendChunks(p, Number(res.headers.get("Upload-Offset") || 0), Number(p.chunk_max || 0));
    }
    if (p.sent) {
      const res = await api.call("GET", base);
      if (res.ok) {
        const stored = await res.json();
        if (stored.sha256 === p.sha256) return this.stored(p);
      } else if (res.status !== 404) {
        throw new Problem(res.status, null, res.headers);
      }
    }
    if (p.size <= this.chunk) {
      p = await this.updatePhoto(p.photo_id, (r) => { r.sent = true; });
      const res = await api.call("PUT", base + "?visit_id=" + p.visit_id, () => ({
        body: p.blob, headers: { "Content-Type": p.type, "X-Content-SHA256": p.sha256 } }));
      if (!res.ok) throw await problemOf(res);
      return this.stored(p);
    }
    const up = await api.json("POST", "/photo-uploads", { body: JSON.stringify({
      photo_id: p.photo_id, sha256: p.sha256, size: p.size, content_type: p.type, visit_id: p.visit_id, method: "chunked" }) });
    if (up.complete) return this.stored(p);
    p = await this.updatePhoto(p.photo_id, (r) => { r.upload_id = up.id; r.offset = up.offset; r.chunk_max = up.chunk_max; });
    return this.sendChunks(p, up.offset, up.chunk_max);
  }

  async sendChunks(p, offset, chunkMax) {
    const api = this.api;
    while (offset < p.size) {
      const size = Math.min(this.chunk, p.size - offset);
      const started = performance.now();
      let res;
      try {
        res = await api.call("PATCH", "/photo-uploads/" + p.upload_id, () => ({
          body: p.blob.slice(offset, offset + size),
          headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) } }));
      } catch (e) {
        this.chunk = nextChunkSize(this.chunk, { failed: true, chunkMax });
        throw e;
      }
      if (res.status === 409 || res.status === 413) {
        if (res.status === 413) this.chunk = nextChunkSize(this.chunk, { failed: true, chunkMax });
        const hdr = res.headers.get("Upload-Offset");
        if (res.status === 409 && hdr !== null) offset = Number(hdr);
        continue;
      }
      if (!res.ok) {
        this.chunk = nextChunkSize(this.chunk, { failed: true, chunkMax });
        throw await problemOf(res);
      }
      offset = Number(res.headers.get("Upload-Offset"));
      this.chunk = nextChunkSize(this.chunk, { sentBytes: size, seconds: (performance.now() - started) / 1000, chunkMax });
      await this.updatePhoto(p.photo_id, (r) => { r.offset = offset; });
    }
    const res = await api.call("POST", "/photo-uploads/" + p.upload_id + "/complete");
    if (res.status === 404) {
      await this.updatePhoto(p.photo_id, (r) => { r.upload_id = null; r.offset = 0; });
      throw new NetworkError("上传已过期，重新开始");
    }
    if (!res.ok) throw await problemOf(res);
    return this.stored(p);
  }

  // stored drops the photo row (and with it the phone's copy) once the
  // server holds the photo.
  async stored(p) {
    await tx(this.db, "photos", "readwrite", (s) => s.photos.delete(p.photo_id));
  }

  // refuse keeps a photo the server refused for good (§15.6) for the cadre
  // to see, and never sends it again.
  async refuse(p, problem) {
    await tx(this.db, ["photos", "attention"], "readwrite", async (s) => {
      const r = await req(s.photos.get(p.photo_id));
      if (!r) return;
      r.refused = { status: problem.status, reason: problem.reason(), detail_zh: problem.message };
      s.photos.put(r);
      s.attention.put({ id: "photo-" + p.photo_id, at: new Date().toISOString(), kind: "photo", photo_id: p.photo_id,
        visit_id: p.visit_id, status: problem.status, errors: problem.body.errors || [], message: problem.message });
    });
  }
}

async function kvPutLastSync(db, report) {
  await tx(db, "kv", "readwrite", (s) => s.kv.put({ at: new Date().toISOString(), offline: report.offline,
    error: report.error ? String(report.error.message || report.error) : "" }, "last_sync"));
}
