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
const { launch, sleep } = require("./chromium");
const { serveGzip, networks, median } = require("./gzip-site");

const dist = process.argv[2];
const runs = Number(process.argv[3] || "3");
if (!dist) {
  console.error("usage: node tests/site/load.js DIST [RUNS]");
  process.exit(2);
}
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

(async () => {
  const { server, files, base: url } = await serveGzip(dist);
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
