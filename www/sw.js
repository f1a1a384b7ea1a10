// hubcert's service worker: keeps the files of one build so the page opens and works with no
// network after one visit. The build (scripts/csp.py, a Trunk hook) fills in the file list and the
// build id; a new deployment is a new build id, so the new files are fetched and the old dropped.
// It reads and writes its own cache only (named by its scope, so a hubcert deployed at another path
// of the same origin keeps its own), and fetches past the browser's HTTP cache, so a stale copy
// of the page never becomes the offline one.
"use strict";
const BUILD = "__HUBCERT_BUILD__";
const FILES = __HUBCERT_FILES__;
const PREFIX = `hubcert@${self.registration.scope}@`;
const CACHE = `${PREFIX}${BUILD}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES.map((f) => new Request(f, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            // This scope's earlier builds, and the unscoped caches of builds before scoped names.
            .filter((k) => (k.startsWith(PREFIX) || /^hubcert-[^@]*$/.test(k)) && k !== CACHE)
            .map((k) => caches.delete(k)),
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
    // The page itself: the network when it answers (a new deployment; never the HTTP cache's
    // copy), else the kept copy of this build.
    event.respondWith(
      fetch(new Request(request, { cache: "no-store" })).catch(() =>
        caches
          .open(CACHE)
          .then((cache) => cache.match("./").then((r) => r || cache.match("./index.html"))),
      ),
    );
    return;
  }
  // The build's files have content-hashed names (or the build id): the kept copy is the right one.
  // Anything else of this origin is kept once fetched, so it is there offline too.
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request).then(
        (kept) =>
          kept ||
          fetch(request).then((response) => {
            if (response.ok) cache.put(request, response.clone());
            return response;
          }),
      ),
    ),
  );
});
