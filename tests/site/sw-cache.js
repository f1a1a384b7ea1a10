// The service worker keeps to its own cache and never takes the HTTP cache's copy of the page.
// Serves a copy of the built site from a server that lets the HTTP cache keep every file an hour
// (as a CDN might), opens it in headless Chromium (the service worker installs), then:
// 1. deploys a new build (another build id in index.html and sw.js): the next visit gets the new
//    page, not the copy the HTTP cache still holds;
// 2. another app of the same origin (or a planted cache) holds an entry for one of this site's
//    URLs: the page gets the server's file, not that entry;
// 3. a second hubcert at another path of the same origin keeps its own cache when this one
//    activates a new build.
// Prints a JSON report; exits 1 on a failed check.
// Usage: node tests/site/sw-cache.js DIST
"use strict";
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { launch } = require("./chromium");

const dist = process.argv[2];
if (!dist) {
  console.error("usage: node tests/site/sw-cache.js DIST");
  process.exit(2);
}

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json", ".webmanifest": "application/manifest+json", ".txt": "text/plain" };

function copy(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name), b = path.join(to, e.name);
    if (e.isDirectory()) copy(a, b);
    else fs.copyFileSync(a, b);
  }
}

(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hubcert-sw-"));
  copy(dist, path.join(root, "a"));
  copy(dist, path.join(root, "b"));
  fs.writeFileSync(path.join(root, "a", "probe.txt"), "from the server");
  const server = http.createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (p.endsWith("/")) p += "index.html";
    const file = path.join(root, path.normalize(p));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream", "Cache-Control": "max-age=3600" });
    res.end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const chrome = launch();
  const report = { checks: [] };
  const check = (ok, what) => {
    report.checks.push({ ok: !!ok, what });
    if (!ok) throw new Error(what);
  };
  try {
    const { session } = await chrome.open("about:blank");
    const js = (e) => chrome.evaluate(session, e);
    const waitFor = (e, what, ms) => chrome.waitFor(session, e, what, ms);
    const build = () => js(`(document.querySelector('meta[name="hubcert-build"]') || {}).content`);
    const visit = async (url) => {
      await chrome.send("Page.navigate", { url }, session);
      await waitFor(`document.readyState === "complete" && !!document.getElementById("ca-create")`, `the page at ${url}`, 60000);
    };
    const controlled = `navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)`;
    const kept = async () => {
      await chrome.send("Runtime.evaluate", { expression: controlled, awaitPromise: true }, session);
      await waitFor(`!!navigator.serviceWorker.controller`, "the service worker in control", 30000);
    };
    // The second hubcert, at /b/, installs its worker first.
    await visit(`${base}/b/`);
    await kept();
    const otherCaches = await chrome.send("Runtime.evaluate", { expression: "caches.keys()", awaitPromise: true, returnByValue: true }, session);
    const bKeys = otherCaches.result.result.value;
    check(bKeys.length === 1 && bKeys[0].includes("/b/"), `the second hubcert keeps one cache named by its scope (${JSON.stringify(bKeys)})`);

    await visit(`${base}/a/`);
    await kept();
    await visit(`${base}/a/`);
    const first = await build();
    report.firstBuild = first;

    // 2. A planted entry in another cache of the origin, for a URL of this site.
    await chrome.send("Runtime.evaluate", {
      expression: `caches.open("another-app").then((c) => c.put(new URL("probe.txt", location.href).href, new Response("planted")))`,
      awaitPromise: true,
    }, session);
    const got = await chrome.send("Runtime.evaluate", { expression: `fetch("probe.txt").then((r) => r.text())`, awaitPromise: true, returnByValue: true }, session);
    check(got.result.result.value === "from the server", `the page gets the server's file, not another cache's entry (${got.result.result.value})`);

    // 1. A new deployment while the HTTP cache holds the old page for an hour.
    for (const name of ["index.html", "sw.js"]) {
      const f = path.join(root, "a", name);
      fs.writeFileSync(f, fs.readFileSync(f, "utf8").split(first).join("redeployed-build"));
    }
    await visit(`${base}/a/`);
    const second = await build();
    check(second === "redeployed-build", `the next visit gets the new deployment, not the HTTP cache's copy (build ${second})`);

    // 3. The new build activated at /a/: the /b/ hubcert's cache is still there.
    await kept();
    const firstA = `hubcert@${base}/a/@${first}`;
    await waitFor(`(caches.keys().then((k) => { window.__keys = k; }), window.__keys && window.__keys.some((k) => k.endsWith("@redeployed-build")) && !window.__keys.includes(${JSON.stringify(firstA)}))`, "the new build active and the old one's cache dropped", 30000);
    const keys = await chrome.send("Runtime.evaluate", { expression: "caches.keys()", awaitPromise: true, returnByValue: true }, session);
    const all = keys.result.result.value;
    report.caches = all;
    check(all.some((k) => k === bKeys[0]), `the hubcert at /b/ keeps its cache (${JSON.stringify(all)})`);
    check(!all.includes(firstA), `the old build of /a/ is dropped (${JSON.stringify(all)})`);
    report.ok = true;
  } catch (e) {
    report.error = String(e && e.message ? e.message : e);
  } finally {
    chrome.close();
    server.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(JSON.stringify(report));
  process.exit(report.ok ? 0 : 1);
})();
