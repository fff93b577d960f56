// The console's offline shell (a service worker). A grid worker opens the phone pages in a
// village with no signal: the page itself (index.html, its scripts and styles) comes from
// this cache when the network does not answer. Data is not cached here: the API is never
// intercepted; the pages keep their own offline copies and the outbox of submissions.
//
// This file is a template: the build (web/shell/plugin.ts) writes it to the output as
// /sw.js with BUILD_ID (a hash of every emitted file and of this text) and PRECACHE_URLS
// (every emitted file: the page and all of /assets/*, lazily loaded views included).
//
// - install: the page, /console-config.js and every listed file go into this build's cache
//   (firegrid-shell-<BUILD_ID>), all or nothing. If one file cannot be fetched the install
//   fails and its cache is dropped: the worker already running keeps its complete cache, and
//   the browser tries the new one again at a later visit. A half-filled cache would open the
//   page offline and then break on the first view it lacks.
// - activate: every other firegrid-shell-* cache (older builds) is deleted.
// - /assets/* are immutable (hashed names): served from the cache; one this build does not
//   list (a page of an older build still open) goes to the network and is not kept.
// - a page load (navigation) and /console-config.js: the network first, the cache when it
//   fails; a good answer replaces the cached copy.
const BUILD_ID = __BUILD_ID__;
const PRECACHE_URLS = __PRECACHE_URLS__;

const SHELL_PREFIX = "firegrid-shell-";
const SHELL = SHELL_PREFIX + BUILD_ID;
const SHELL_PAGE = "/";
const CONFIG_SCRIPT = "/console-config.js";

async function precache() {
  const cache = await caches.open(SHELL);
  try {
    await cache.addAll([CONFIG_SCRIPT, ...PRECACHE_URLS]);
  } catch (err) {
    await caches.delete(SHELL);
    throw err;
  }
}

async function dropOlderBuilds() {
  const names = await caches.keys();
  const older = names.filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL);
  await Promise.all(older.map((name) => caches.delete(name)));
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOlderBuilds().then(() => self.clients.claim()));
});

function isApi(path) {
  return path.startsWith("/api/") || path === "/healthz" || path === "/readyz" || path === "/metrics";
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request);
  return hit || fetch(request);
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
  } else if (url.pathname === CONFIG_SCRIPT) {
    event.respondWith(networkFirst(request, CONFIG_SCRIPT));
  }
});
