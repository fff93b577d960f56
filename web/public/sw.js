// The console's offline shell (a service worker). A grid worker opens the phone pages in a
// village with no signal: the page itself (index.html, its scripts and styles) comes from
// this cache when the network does not answer. Data is not cached here: the API is never
// intercepted; the pages keep their own offline copies and the outbox of submissions.
//
// - /assets/* are immutable (hashed names): served from the cache, fetched and kept once.
// - a page load (navigation) and /console-config.js: the network first, the cache when it
//   fails; a good answer replaces the cached copy.
// - the page posts the assets it already loaded before this worker controlled it.
const SHELL = "firegrid-shell-v1";
const SHELL_PAGE = "/";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll([SHELL_PAGE, "/console-config.js"]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("firegrid-shell-") && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  const mine = data.urls.filter((u) => typeof u === "string" && new URL(u, self.location.href).origin === self.location.origin);
  event.waitUntil(
    caches.open(SHELL).then((cache) =>
      Promise.all(mine.map((u) => cache.match(u).then((hit) => hit || cache.add(u).catch(() => undefined)))),
    ),
  );
});

function isApi(path) {
  return path.startsWith("/api/") || path === "/healthz" || path === "/readyz" || path === "/metrics";
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request, key) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || isApi(url.pathname)) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, SHELL_PAGE));
  } else if (url.pathname === "/console-config.js") {
    event.respondWith(networkFirst(request, "/console-config.js"));
  }
});
