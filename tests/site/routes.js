// Per-route load benchmark: a deep link to each route of the route table (`…/#/<id>`, the ids read
// from src/app/routes.rs, so a new route is measured without a change here), opened in headless
// Chromium with a cold cache (no HTTP cache, no service worker), the site served gzip-compressed as
// static hosts do, on three networks: loopback, 9 Mbps / 40 ms and 1.6 Mbps / 150 ms (DevTools
// throttling, as tests/site/load.js). Prints one line per route per network: the median time from
// navigation start until the route is interactive, and which module drew it.
//
// "Interactive" means, all at once, in the page's current document:
// - the loading notice (#loading) is gone or hidden, and a module has drawn the page
//   (<html data-app="first">, "route" for a route module, or "full");
// - the route's first section (the first id of its `sections` in the table) is rendered (it has a
//   layout box: neither it nor an ancestor is hidden) and its heading (`h2`) has text;
// - the section holds a form control (button, input, select or textarea) that is rendered, not
//   disabled and not inert, outside a placeholder for what the first module cannot draw
//   (`.rest-status`, or a `<details>` holding one): the route's first control, live; or, for a
//   route with nothing to act on yet (no live control on a first visit: home, expiry, rollover,
//   revoke), its own module (the one the route table names, or the whole app) has drawn it (no
//   placeholder in it).
// A deep link loads the module the route table names for the route (the first module, or a route
// module: src/app/routes.rs, `Module`); a route is interactive when that module's page is, or once
// the whole app has taken the page over and shows it. Not a test: nothing here fails on a slow
// machine; a route that never gets there within the
// timeout prints as such.
// Usage: node tests/site/routes.js DIST [RUNS] [ROUTE_ID...]
"use strict";
const fs = require("fs");
const path = require("path");
const { launch, sleep } = require("./chromium");
const { serveGzip, networks, median } = require("./gzip-site");

const [dist, runsArg, ...only] = process.argv.slice(2);
const runs = Number(runsArg || "3");
if (!dist) {
  console.error("usage: node tests/site/routes.js DIST [RUNS] [ROUTE_ID...]");
  process.exit(2);
}

// The route table: each `Place { … id: "…", … sections: &[…] … }` of src/app/routes.rs, in order.
const table = fs.readFileSync(path.join(__dirname, "../../src/app/routes.rs"), "utf8");
const start = table.indexOf("pub(crate) const PLACES");
const routes = [];
for (const m of table.slice(start).matchAll(/Place\s*\{([\s\S]*?)\n\s*\}/g)) {
  const id = /\bid:\s*"([^"]*)"/.exec(m[1]);
  const sections = /\bsections:\s*&\[([^\]]*)\]/.exec(m[1]);
  if (!id || !sections) continue;
  const ids = [...sections[1].matchAll(/"([^"]+)"/g)].map((s) => s[1]);
  const module = /\bmodule:\s*Module::(\w+)/.exec(m[1]);
  if (ids.length) routes.push({ id: id[1], section: ids[0], own: module && module[1] === "First" ? "first" : "route" });
}
if (routes.length < 2) {
  console.error("routes.js: no route table found in src/app/routes.rs");
  process.exit(2);
}
const measured = only.length ? routes.filter((r) => only.includes(r.id)) : routes;

// The time (performance.now()) once the route showing `section` is interactive, as defined above;
// with the module that drew it.
const interactive = (section, own) => `(() => {
  const app = document.documentElement.dataset.app;
  if (!app) return 0;
  const loading = document.getElementById("loading");
  if (loading && loading.getClientRects().length) return 0;
  const section = document.getElementById(${JSON.stringify(section)});
  if (!section || !section.getClientRects().length) return 0;
  const heading = section.querySelector("h2");
  if (!heading || !heading.textContent.trim()) return 0;
  const placeholder = (c) => c.closest(".rest-status") ||
    [...section.querySelectorAll("details")].some((d) => d.contains(c) && d.querySelector(".rest-status"));
  const control = [...section.querySelectorAll("button, input, select, textarea")].find(
    (c) => !placeholder(c) && c.getClientRects().length && !c.disabled && !c.closest("[inert]"));
  if (control) return { at: performance.now(), app, control: control.id || control.tagName.toLowerCase() };
  // No live control: a route with nothing to act on yet (home, expiry, rollover and revoke on a
  // first visit) is there once its own module (the one the route table names, or the whole app)
  // draws it, not while another module holds its place.
  if ((app !== "full" && app !== ${JSON.stringify(own)}) || section.querySelector(".rest-status")) return 0;
  return { at: performance.now(), app, control: "nothing to act on yet" };
})()`;

const TIMEOUT = 60000;

(async () => {
  const { server, base } = await serveGzip(dist);
  const chrome = launch();
  const lines = [];
  try {
    for (const network of networks) {
      lines.push(`  ${network.name}:`);
      for (const route of measured) {
        const times = [];
        let drawn = null;
        for (let i = 0; i < runs; i++) {
          const { session, targetId } = await chrome.open("about:blank");
          await chrome.send("Network.enable", {}, session);
          await chrome.send("Network.setCacheDisabled", { cacheDisabled: true }, session);
          await chrome.send("Network.setBypassServiceWorker", { bypass: true }, session);
          if (network.conditions) {
            await chrome.send("Network.emulateNetworkConditions", { offline: false, ...network.conditions }, session);
          }
          const url = `${base}#/${route.id}`;
          await chrome.send("Page.navigate", { url }, session);
          try {
            const r = await chrome.waitFor(session, interactive(route.section, route.own), `#/${route.id} on ${network.name}`, TIMEOUT, 5);
            times.push(r.at);
            drawn = r;
          } catch (_) {
            times.push(Infinity);
          }
          await chrome.send("Target.closeTarget", { targetId });
          await sleep(100);
        }
        const ms = median(times);
        const by = drawn ? ({ full: "whole app", first: "first module", route: "route module" }[drawn.app] || drawn.app) : "-";
        const shown = Number.isFinite(ms) ? `${Math.round(ms)} ms` : `not within ${TIMEOUT / 1000} s`;
        const all = times.map((t) => (Number.isFinite(t) ? Math.round(t) : "-")).join(", ");
        lines.push(`    #/${route.id}: interactive in ${shown} (${by}, #${route.section} ${drawn ? drawn.control : ""}; runs: ${all} ms)`);
      }
    }
  } finally {
    chrome.close();
    server.close();
  }
  console.log(`deep link to each route, cold cache, served gzip (median of ${runs}):`);
  for (const l of lines) console.log(l);
})().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
