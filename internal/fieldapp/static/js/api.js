// The app's HTTP client for /api/v1: Bearer tokens renewed two minutes
// before they expire, refresh-token rotation with its one grace retry, the
// device-report headers on every sync request, gzip for push bodies once
// the server said it takes them (docs/sync-protocol.md §1.1, §5, §17).
import { kvGet, kvPut } from "./db.js";
import { rfc3339 } from "./outbox.js";

// NetworkError is "no answer": the request may or may not have reached
// the server (never read as a failure of the batch, §2 row 2).
export class NetworkError extends Error {}

// SignedOut means the refresh token is dead: the cadre must type the
// password again. The outbox stays (§5).
export class SignedOut extends Error {}

// Problem is an answer other than 2xx, with its problem+json body.
export class Problem extends Error {
  constructor(status, body, headers) {
    super((body && (body.detail_zh || body.title_zh)) || "请求失败（" + status + "）");
    this.status = status;
    this.body = body || {};
    this.headers = headers;
  }
  reason(field) {
    const e = (this.body.errors || []).find((x) => !field || x.field === field);
    return e ? e.reason : "";
  }
}

const REFRESH_AHEAD_MS = 2 * 60 * 1000;

export function deviceId() {
  // A stable id per installation (it survives logout, which wipes the
  // data, so the server's device list stays one row per phone). Never
  // "web-…": that prefix is the console's (§17).
  let id = localStorage.getItem("fieldvisit-device-id");
  if (!id) {
    id = "app-" + crypto.randomUUID();
    localStorage.setItem("fieldvisit-device-id", id);
  }
  return id;
}

export class API {
  constructor(db, { version, now = () => Date.now() } = {}) {
    this.db = db;
    this.version = version;
    this.now = now;
    this.refreshing = null;
  }

  async session() {
    return (await kvGet(this.db, "session")) || null;
  }

  async saveSession(t, user) {
    const s = { access_token: t.access_token, refresh_token: t.refresh_token, expires_at: this.now() + t.expires_in * 1000, user: t.user || user };
    await kvPut(this.db, "session", s); // durably, before the new token is used
    return s;
  }

  async login(username, password) {
    const res = await this.raw("POST", "/auth/login", { body: JSON.stringify({ username, password, device_id: deviceId() }) });
    if (!res.ok) throw await problemOf(res);
    await this.noteGzip(res);
    return res.json();
  }

  async logout() {
    const s = await this.session();
    if (!s) return;
    try {
      await this.raw("POST", "/auth/logout", { body: JSON.stringify({ refresh_token: s.refresh_token }), token: s.access_token });
    } catch { /* offline: the data is wiped all the same */ }
  }

  // accessToken is the token for a request starting now: renewed first
  // when it expires within two minutes; if that renewal cannot get
  // through, the current one is used (a 401 renews again).
  async accessToken() {
    const s = await this.session();
    if (!s || !s.refresh_token) throw new SignedOut("请重新登录");
    if (s.access_token && this.now() < s.expires_at - REFRESH_AHEAD_MS) return s.access_token;
    try {
      return (await this.refresh(s.access_token)).access_token;
    } catch (e) {
      if (e instanceof NetworkError && s.access_token) return s.access_token;
      throw e;
    }
  }

  // refresh swaps the refresh token for a new pair, once at a time. An
  // answer that never arrives is retried at once with the same token: the
  // server's grace gives the lost pair again once within 60 s (§5). A 401
  // ends the session.
  refresh(failedAccess) {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        const s = await this.session();
        if (!s || !s.refresh_token) throw new SignedOut("请重新登录");
        if (s.access_token && s.access_token !== failedAccess && this.now() < s.expires_at - REFRESH_AHEAD_MS) return s; // renewed meanwhile
        const body = JSON.stringify({ refresh_token: s.refresh_token });
        let res;
        try {
          res = await this.raw("POST", "/auth/refresh", { body });
        } catch (e) {
          if (!(e instanceof NetworkError)) throw e;
          res = await this.raw("POST", "/auth/refresh", { body }); // the one grace retry
        }
        if (res.status === 401) {
          await kvPut(this.db, "session", { ...s, access_token: "", refresh_token: "" });
          throw new SignedOut("登录已失效，请重新登录");
        }
        if (!res.ok) throw await problemOf(res);
        return this.saveSession(await res.json(), s.user);
      })().finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  // raw sends one request; a failure to get an answer is a NetworkError.
  async raw(method, path, { body, headers = {}, token, signal } = {}) {
    const h = { ...headers };
    if (body !== undefined && !h["Content-Type"]) h["Content-Type"] = "application/json";
    if (token) h.Authorization = "Bearer " + token;
    try {
      return await fetch("/api/v1" + path, { method, body, headers: h, signal, cache: "no-store" });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new NetworkError("网络不通：" + e.message);
    }
  }

  // call sends an authenticated request; after a 401 it refreshes once and
  // sends the same request again. body may be a function, called per
  // attempt (a push builds its headers and encoding per attempt).
  async call(method, path, opts = {}) {
    let token = await this.accessToken();
    for (let attempt = 0; ; attempt++) {
      const o = typeof opts === "function" ? await opts() : opts;
      const res = await this.raw(method, path, { ...o, token });
      if (res.status !== 401 || attempt > 0) return res;
      token = (await this.refresh(token)).access_token;
    }
  }

  async json(method, path, opts) {
    const res = await this.call(method, path, opts);
    if (!res.ok) throw await problemOf(res);
    return res.json();
  }

  // The server says it takes gzipped bodies on the answer to a request
  // with a body (RFC 7694); a phone starts gzipping only after seeing it.
  async noteGzip(res) {
    if (/\bgzip\b/i.test(res.headers.get("Accept-Encoding") || "")) await kvPut(this.db, "gzip", true);
  }

  reportHeaders(b) {
    return { "X-Outbox-Records": String(b.records), "X-Outbox-Photos": String(b.photos), "X-Outbox-Bytes": String(b.bytes), "X-App-Version": this.version };
  }

  // push sends a stored batch: the same key and the same bytes on every
  // attempt, the phone's clock now in X-Device-Time, gzipped when the
  // server takes it — and plain again at once after a 415 or a
  // corrupt_encoding 400, for good.
  async push(batch, backlog) {
    let gzip = (await kvGet(this.db, "gzip")) === true && batch.body.length >= 1024 && typeof CompressionStream === "function";
    for (;;) {
      const res = await this.call("POST", "/sync/push", async () => {
        const headers = { "Idempotency-Key": batch.key, "X-Device-Time": rfc3339(new Date(this.now())), ...this.reportHeaders(backlog) };
        let body = batch.body;
        if (gzip) {
          headers["Content-Encoding"] = "gzip";
          body = await new Response(new Blob([batch.body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
        }
        return { body, headers };
      });
      if (gzip && (res.status === 415 || res.status === 400)) {
        const p = await problemOf(res);
        if (res.status === 415 || p.reason("body") === "corrupt_encoding") {
          gzip = false;
          await kvPut(this.db, "gzip", false);
          continue;
        }
        throw p;
      }
      if (res.ok) return res.json();
      throw await problemOf(res);
    }
  }

  async pull(path, backlog) {
    return this.json("GET", path, { headers: this.reportHeaders(backlog) });
  }
}

export async function problemOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch { /* not problem+json: a proxy's page */ }
  return new Problem(res.status, body, res.headers);
}

// retryable are the answers after which the same request is sent again
// (§11): no answer, 408, 409, 429, 5xx.
export function retryable(e) {
  if (e instanceof NetworkError) return true;
  if (e instanceof Problem) return [408, 409, 429, 500, 502, 503, 504].includes(e.status);
  return false;
}
