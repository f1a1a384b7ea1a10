// hubcert's service worker: keeps the files of one build so the page opens and works with no
// network after one visit. The build (scripts/csp.py, a Trunk hook) fills in the file list and the
// build id; a new deployment is a new build id, so the new files are fetched and the old dropped.
"use strict";
const BUILD = "__HUBCERT_BUILD__";
const FILES = __HUBCERT_FILES__;
const CACHE = `hubcert-${BUILD}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((k) => k.startsWith("hubcert-") && k !== CACHE).map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    // The page itself: the network when it answers (a new deployment), else the kept copy.
    event.respondWith(
      fetch(request).catch(() =>
        caches.match("./", { cacheName: CACHE }).then((r) => r || caches.match("./index.html")),
      ),
    );
    return;
  }
  // The build's files have content-hashed names: the kept copy is the right one. Anything else of
  // this origin is kept once fetched, so it is there offline too.
  event.respondWith(
    caches.match(request).then(
      (kept) =>
        kept ||
        fetch(request).then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        }),
    ),
  );
});
