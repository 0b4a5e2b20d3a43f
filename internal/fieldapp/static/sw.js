// The field app's service worker (scope /app/). It keeps this build's
// files in a cache named by the build, so the app opens with no network at
// all, and answers the app's files from that cache only. A new build
// (new bytes of this file) installs in the background and waits: the app
// activates it on its next start, never while a visit is being recorded.
// API requests (/api/v1/…) are never touched: records live in IndexedDB,
// not in a cache.
const BUILD = "__BUILD__";
const PRECACHE = ["__PRECACHE__"];
const CACHE = "fieldapp-" + BUILD;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: "no-cache" revalidates each file, so an old copy in the HTTP
    // cache never slips into a new build.
    await cache.addAll(PRECACHE.map((u) => new Request(u, { cache: "no-cache" })));
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("fieldapp-") && name !== CACHE) await caches.delete(name);
    }
    // The first install takes the open page at once, so it works offline
    // without a second load; an update is activated only by the app.
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  // waitUntil keeps the worker alive until skipWaiting has taken effect.
  if (event.data && event.data.type === "activate-update") event.waitUntil(self.skipWaiting());
  if (event.data && event.data.type === "build") event.source.postMessage({ type: "build", build: BUILD });
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) return;
  const key = event.request.mode === "navigate" ? "/app/" : url.pathname;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(key);
    if (hit) return hit;
    return fetch(event.request);
  })());
});
