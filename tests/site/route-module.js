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
// 3. The first module's routes by deep link (whole app held back): the home page at the site's
//    address (its next step a live link), steps 1 and 4 brought into view, the stepper's links
//    routes; with a workspace kept in this browser, the home page lists it and its unlock is the
//    whole app's: opened, it loads it, and the whole app shows the unlock's passphrase field there.
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

const live = (section, app = "route") => `(() => {
  if (document.documentElement.dataset.app !== ${JSON.stringify(app)}) return 0;
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

    // 3. The first module's routes.
    const inView = (id) => `(() => { const e = document.getElementById(${JSON.stringify(id)}); if (!e || !e.getClientRects().length) return false;
      const r = e.getBoundingClientRect(); return r.top > -10 && r.top < innerHeight / 2 && (r.top < 200 || scrollY + innerHeight >= document.documentElement.scrollHeight - 2); })()`;
    for (const r of routes.filter((r) => r.module === "First")) {
      const q = await open();
      await chrome.send("Fetch.enable", { patterns: [{ urlPattern: "*hubcert-full_bg.wasm*", requestStage: "Request" }] }, q.session);
      await chrome.send("Page.navigate", { url: r.id ? `${url}#/${r.id}` : url }, q.session);
      const control = await q.waitFor(live(r.section, "first"), `${r.id ? "#/" + r.id : "the site's address"} drawn by the first module`);
      check(q.requests.some(firstWasm), `${r.id || "home"} loaded the first module`);
      check(!q.requests.some((u) => /hubcert-(hub|upload|test|keep|care|renew|rollover|dps|inspect)_bg\.wasm/.test(u)), `${r.id || "home"} loaded no route module`);
      report.routes[r.id || "home"] = { module: r.module, control };
      if (r.id) {
        await q.waitFor(inView(r.section), `#/${r.id}: its section brought into view`);
        check(await q.js(`document.getElementById("nav-${r.id}").getAttribute("aria-current") === "page"`), `#/${r.id} marked in the stepper`);
      } else {
        check(await q.js(`(() => { const a = document.getElementById("home-go"); return !!a && a.getClientRects().length > 0 && a.getAttribute("href") === "#/root-ca"; })()`),
          "the home page's next step (a first visit: the root CA) is a live link");
        check(!(await q.js(`!!document.getElementById("home-kept")`)), "nothing kept here: no unlock offered");
        // The stepper's links are routes: to step 4 on the same page.
        await q.js(`(document.getElementById("nav-devices").click(), true)`);
        await q.waitFor(`location.hash === "#/devices"`, "the stepper's link to step 4");
        await q.waitFor(inView("step-device"), "step 4 brought into view from the stepper");
        check(await q.js(`document.getElementById("home") === null`), "the home page gives way to the route");
      }
      await chrome.send("Fetch.disable", {}, q.session);
    }
    // A workspace kept in this browser (only its name is read before the unlock).
    const k = await open();
    const keptHeld = [];
    chrome.on("Fetch.requestPaused", (params, s) => { if (s === k.session) keptHeld.push(params.requestId); });
    await chrome.send("Fetch.enable", { patterns: [{ urlPattern: "*hubcert-full_bg.wasm*", requestStage: "Request" }] }, k.session);
    await chrome.send("Page.navigate", { url }, k.session);
    await k.waitFor(live("home", "first"), "the home page");
    await chrome.send("Runtime.evaluate", { awaitPromise: true, returnByValue: true, expression: `new Promise((done, fail) => { const o = indexedDB.open("hubcert", 1);
      o.onupgradeneeded = () => { if (!o.result.objectStoreNames.contains("workspaces")) o.result.createObjectStore("workspaces"); };
      o.onsuccess = () => { const t = o.result.transaction("workspaces", "readwrite"); t.objectStore("workspaces").put("sealed", "plant-7");
        t.oncomplete = () => { o.result.close(); done(true); }; t.onerror = () => fail(String(t.error)); }; o.onerror = () => fail(String(o.error)); })` }, k.session);
    await chrome.send("Page.reload", {}, k.session);
    await k.waitFor(`(() => { const c = document.getElementById("home-kept-first"); return !!c && c.textContent.includes("plant-7") && !!document.querySelector("details#home-kept .rest-status"); })()`,
      "the kept workspace listed on the first module's home page, its unlock loading");
    check(await k.js(`document.documentElement.dataset.app === "first"`), "listed by the first module");
    await k.js(`(document.querySelector("details#home-kept summary").click(), true)`);
    await until(() => keptHeld.length > 0, "the whole app asked for");
    for (const requestId of keptHeld.splice(0)) await chrome.send("Fetch.continueRequest", { requestId }, k.session);
    await chrome.send("Fetch.disable", {}, k.session);
    await k.waitFor(`document.documentElement.dataset.app === "full" && !!document.getElementById("home-unlock-plant-7")`, "the whole app's unlock of the kept workspace");
    await k.waitFor(`document.activeElement && document.activeElement.id === "home-unlock-pass"`, "the passphrase field in focus");
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
