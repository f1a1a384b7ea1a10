// Route modules (src/app/routes.rs, `Module`): a deep link to a route another module than the first
// draws loads that module, not the first one, and it hands the page to the whole app as the first
// module does. Headless Chromium, cold cache, no service worker:
// 1. Every route of a route module, opened by a deep link: the route's module draws it (<html
//    data-app="route">) with its heading and a live control (or, with nothing to act on yet, no
//    placeholder), and the first module's WebAssembly is never fetched.
// 2. #/connect with the whole app held back (DevTools Fetch interception): the hub module works; it
//    keeps the page on its own routes once the whole app is loaded, and hands it over when another
//    module's route is shown (loading until then) and no request is under way (a request to
//    localhub held back holds the handover); typed settings (the Azure target, a hub name, a
//    connection string) carry over to the whole app, which opens on the route shown.
// Prints a JSON report; exits 1 on a failed check.
// Usage: node tests/site/route-module.js URL
"use strict";
const fs = require("fs");
const path = require("path");
const { launch } = require("./chromium");

const url = process.argv[2];
if (!url) {
  console.error("usage: node tests/site/route-module.js URL");
  process.exit(2);
}

// The route table: id, first section and module of each route (src/app/routes.rs).
const table = fs.readFileSync(path.join(__dirname, "../../src/app/routes.rs"), "utf8");
const routes = [];
for (const m of table.slice(table.indexOf("pub(crate) const PLACES")).matchAll(/Place\s*\{([\s\S]*?)\n\s*\},/g)) {
  const id = /id:\s*"([^"]*)"/.exec(m[1])[1];
  const section = /sections:\s*&\[\s*"([^"]+)"/.exec(m[1])[1];
  const module = /module:\s*Module::(\w+)/.exec(m[1])[1];
  routes.push({ id, section, module });
}

const live = (section) => `(() => {
  if (document.documentElement.dataset.app !== "route") return 0;
  const s = document.getElementById(${JSON.stringify(section)});
  if (!s || !s.getClientRects().length || !(s.querySelector("h2") || {}).textContent) return 0;
  const placeholder = (c) => c.closest(".rest-status") || [...s.querySelectorAll("details")].some((d) => d.contains(c) && d.querySelector(".rest-status"));
  const control = [...s.querySelectorAll("button, input, select, textarea")].find((c) => !placeholder(c) && c.getClientRects().length && !c.disabled);
  if (control) return control.id || control.tagName;
  return s.querySelector(".rest-status") ? 0 : "nothing to act on yet";
})()`;

(async () => {
  const chrome = launch();
  const report = { checks: [], routes: {} };
  const check = (ok, what) => {
    report.checks.push({ ok: !!ok, what });
    if (!ok) throw new Error(what);
  };
  const open = async () => {
    const { session } = await chrome.open("about:blank");
    const requests = [];
    chrome.on("Network.requestWillBeSent", (params, s) => {
      if (s === session) requests.push(params.request.url);
    });
    await chrome.send("Network.enable", {}, session);
    await chrome.send("Network.setCacheDisabled", { cacheDisabled: true }, session);
    await chrome.send("Network.setBypassServiceWorker", { bypass: true }, session);
    return { session, requests, js: (e) => chrome.evaluate(session, e), waitFor: (e, what) => chrome.waitFor(session, e, what) };
  };
  const firstWasm = (u) => /\/hubcert-[0-9a-f]{16}_bg\.wasm/.test(u);
  try {
    // 1. Each route module's routes, by deep link.
    const moduled = routes.filter((r) => r.module !== "First");
    check(moduled.length >= 8, `the route table names route modules (${moduled.length} routes)`);
    for (const r of moduled) {
      const p = await open();
      // The whole app held back: what is measured is the route module's own page.
      await chrome.send("Fetch.enable", { patterns: [{ urlPattern: "*hubcert-full_bg.wasm*", requestStage: "Request" }] }, p.session);
      await chrome.send("Page.navigate", { url: `${url}#/${r.id}` }, p.session);
      const control = await p.waitFor(live(r.section), `#/${r.id} drawn by its module (${r.module})`);
      const bin = `hubcert-${r.module.toLowerCase()}_bg.wasm`;
      check(p.requests.some((u) => u.includes(bin)), `#/${r.id} loaded ${bin}`);
      check(!p.requests.some(firstWasm), `#/${r.id} did not fetch the first module's WebAssembly`);
      report.routes[r.id] = { module: r.module, control };
      await chrome.send("Fetch.disable", {}, p.session);
    }

    // 2. The hub module, then the whole app.
    const p = await open();
    const held = [], asked = [];
    chrome.on("Fetch.requestPaused", (params, s) => {
      if (s !== p.session) return;
      (params.request.url.includes("/localhub/info") ? asked : held).push(params.requestId);
    });
    await chrome.send("Fetch.enable", { patterns: [
      { urlPattern: "*hubcert-full_bg.wasm*", requestStage: "Request" },
      { urlPattern: "*/localhub/info*", requestStage: "Request" },
    ] }, p.session);
    const pause = (ms) => new Promise((r) => setTimeout(r, ms));
    const until = async (f, what) => {
      for (let i = 0; i < 400; i++) { if (f()) return; await pause(25); }
      throw new Error(`timed out waiting for ${what}`);
    };
    await chrome.send("Page.navigate", { url: `${url}#/connect` }, p.session);
    await p.waitFor(live("step-hub"), "the hub module's Connect route");
    // A request under way (localhub's settings asked for; the answer held back by DevTools).
    await p.js(`(document.getElementById("hub-read-localhub").click(), true)`);
    await until(() => asked.length > 0, "the request to localhub");
    const set = (id, value, event) =>
      p.js(`(() => { const e = document.getElementById(${JSON.stringify(id)}); e.value = ${JSON.stringify(value)}; e.checked = true;
        e.dispatchEvent(new Event(${JSON.stringify(event)}, { bubbles: true })); return true; })()`);
    await set("hub-target-azure", "on", "change");
    await p.waitFor(`!!document.getElementById("hub-name")`, "the Azure fields");
    await set("hub-name", "plant7-hub", "input");
    const cs = "HostName=plant7-hub.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey=" + Buffer.alloc(32, 7).toString("base64");
    await set("hub-connection-string", cs, "input");
    await until(() => held.length > 0, "the hub module to ask for the whole app");
    for (const requestId of held.splice(0)) await chrome.send("Fetch.continueRequest", { requestId }, p.session);
    await pause(1500);
    check(await p.js(`document.documentElement.dataset.app === "route"`), "on its own routes the hub module keeps the page once the whole app is loaded");
    // Another module's route: it is asked for, but a request is under way.
    await p.js(`(location.hash = "#/inspect", true)`);
    await p.waitFor(`(() => { const s = document.getElementById("step-inspect"); return s && s.getClientRects().length && !!s.querySelector(".rest-status"); })()`,
      "the inspector as loading in the hub module");
    await pause(2000);
    check(await p.js(`document.documentElement.dataset.app === "route"`), "with a request under way the page is not handed over");
    // The answer comes (localhub is not there): the request ends, and the whole app takes over.
    for (const requestId of asked.splice(0)) await chrome.send("Fetch.failRequest", { requestId, errorReason: "ConnectionRefused" }, p.session);
    await chrome.send("Fetch.disable", {}, p.session);
    await p.waitFor(`document.documentElement.dataset.app === "full"`, "the whole app to take the page over once the request ended");
    check(!(await p.js(`!!document.getElementById("app-first")`)), "the route module's page is gone");
    await p.waitFor(`(() => { const s = document.getElementById("step-inspect"); return s && s.getClientRects().length && !s.querySelector(".rest-status") && !!s.querySelector("textarea, input"); })()`,
      "the inspector, drawn by the whole app where the user was");
    await p.js(`(location.hash = "#/connect", true)`);
    await p.waitFor(`!document.querySelector('[data-route="connect"]').hidden`, "the Connect route in the whole app");
    check(await p.js(`document.getElementById("hub-target-azure").checked`), "the target chosen carried over");
    check((await p.js(`document.getElementById("hub-name").value`)) === "plant7-hub", "the hub name typed carried over");
    check((await p.js(`document.getElementById("hub-connection-string").value`)) === cs, "the connection string carried over");
    check(!p.requests.some(firstWasm), "the first module was never fetched");
    report.ok = true;
  } catch (e) {
    report.ok = false;
    report.error = String(e && e.message || e);
  } finally {
    chrome.close();
  }
  console.log(JSON.stringify(report, null, 1));
  process.exit(report.ok ? 0 : 1);
})();
