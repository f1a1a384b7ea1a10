// First-load benchmark: serves a built site gzip-compressed, as static hosts do, and opens it in
// headless Chromium with a cold cache (no HTTP cache, no service worker) on three networks: loopback,
// 9 Mbps / 40 ms and 1.6 Mbps / 150 ms (DevTools throttling). Prints, per network, the median of 3
// times from navigation start to the first paint (the page's own loading message) and until the
// app is interactive (the first module's screen is drawn: the "Create root CA" button exists), until
// the whole app it then loads has taken the page over, and the bytes each file took on the wire
// before interactive and after it (the whole app, fetched once the first screen works). Not a test: nothing here fails on a slow
// machine.
// Usage: node tests/site/load.js DIST [RUNS]
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { launch, sleep } = require("./chromium");

const dist = process.argv[2];
const runs = Number(process.argv[3] || "3");
if (!dist) {
  console.error("usage: node tests/site/load.js DIST [RUNS]");
  process.exit(2);
}
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".webmanifest": "application/manifest+json",
};
const files = new Map();
const add = (dir, prefix) => {
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isDirectory()) {
      add(full, `${prefix}${name}/`);
      continue;
    }
    const body = fs.readFileSync(full);
    files.set(prefix + name, { body: zlib.gzipSync(body, { level: 9 }), raw: body.length, type: types[path.extname(name)] || "application/octet-stream" });
  }
};
add(dist, "/");
files.set("/", files.get("/index.html"));
const server = http.createServer((req, res) => {
  const f = files.get(new URL(req.url, "http://x").pathname);
  if (!f) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { "Content-Type": f.type, "Content-Encoding": "gzip", "Cache-Control": "no-cache" });
  res.end(f.body);
});

const networks = [
  { name: "loopback", conditions: null },
  // Upload as the download for the first; DevTools' "Slow 4G" (1.6 Mbps / 150 ms, 750 kbps up) for the second.
  { name: "9 Mbps / 40 ms", conditions: { latency: 40, downloadThroughput: 9e6 / 8, uploadThroughput: 9e6 / 8 } },
  { name: "1.6 Mbps / 150 ms", conditions: { latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 } },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

(async () => {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const chrome = launch();
  const results = [];
  let parts = null;
  try {
    for (const network of networks) {
      const times = [];
      const paints = [];
      const fulls = [];
      for (let i = 0; i < runs; i++) {
        const { session, targetId } = await chrome.open("about:blank");
        const urls = new Map();
        const wire = new Map();
        let interactiveAt = null;
        chrome.on("Network.responseReceived", (p, s) => {
          if (s === session) urls.set(p.requestId, new URL(p.response.url).pathname);
        });
        chrome.on("Network.loadingFinished", (p, s) => {
          if (s !== session) return;
          const name = urls.get(p.requestId) || "?";
          const when = interactiveAt === null ? "before" : "after";
          const e = wire.get(name) || { before: 0, after: 0 };
          e[when] += p.encodedDataLength;
          wire.set(name, e);
        });
        await chrome.send("Network.enable", {}, session);
        await chrome.send("Network.setCacheDisabled", { cacheDisabled: true }, session);
        await chrome.send("Network.setBypassServiceWorker", { bypass: true }, session);
        if (network.conditions) {
          await chrome.send("Network.emulateNetworkConditions", { offline: false, ...network.conditions }, session);
        }
        await chrome.send("Page.navigate", { url }, session);
        interactiveAt = await chrome.waitFor(
          session,
          `location.href === ${JSON.stringify(url)} && document.getElementById("ca-create") ? performance.now() : 0`,
          `the app to be interactive on ${network.name}`,
          60000,
          5,
        );
        times.push(interactiveAt);
        // The first paint: the page's own "Loading…" message, before the app is there.
        paints.push(
          await chrome.evaluate(
            session,
            `(performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime || 0`,
          ),
        );
        // The first module then loads the whole app and hands the page over to it.
        fulls.push(
          await chrome.waitFor(
            session,
            `document.documentElement.dataset.app === "full" ? performance.now() : 0`,
            `the whole app to take over on ${network.name}`,
            60000,
            20,
          ),
        );
        await sleep(300);
        if (!parts) parts = wire;
        await chrome.send("Target.closeTarget", { targetId });
      }
      results.push({
        network: network.name,
        ms: Math.round(median(times)),
        all: times.map(Math.round),
        paint: Math.round(median(paints)),
        full: Math.round(median(fulls)),
      });
    }
  } finally {
    chrome.close();
    server.close();
  }
  console.log(`first load, cold cache, served gzip (median of ${runs}):`);
  for (const r of results) {
    console.log(`  ${r.network}: first paint ${r.paint ? `(loading message) ${r.paint} ms` : "(the app itself: no paint before it)"}, interactive in ${r.ms} ms (runs: ${r.all.join(", ")} ms), whole app in ${r.full} ms`);
  }
  console.log("on the wire (gzip), before interactive / after:");
  let before = 0;
  for (const [name, e] of [...parts.entries()].sort((a, b) => b[1].before + b[1].after - a[1].before - a[1].after)) {
    before += e.before;
    const raw = files.get(name) ? `, ${kib(files.get(name).raw)} raw` : "";
    console.log(`  ${name}: ${kib(e.before)} / ${kib(e.after)}${raw}`);
  }
  console.log(`  total before interactive: ${kib(before)}`);
})().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
