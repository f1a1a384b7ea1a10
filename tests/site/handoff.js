// The first module hands the page to the whole app: headless Chromium opens the built site with the
// whole app's WebAssembly held back (DevTools Fetch interception), makes a root CA and a device in
// the first module, types a device id it does not submit and leaves the focus in it, opens the
// batch part (only the whole app has it), then lets the whole app load. Checks that the whole app
// took the page over with the same root and device (SHA-256 thumbprints), the typed id, the focus
// and the caret, the batch part open and working, and the files the first module does not make
// (.p7b), and that the page sent nothing anywhere (only GETs of its own files). Then, with the whole app's WebAssembly swapped for other bytes (its Subresource Integrity
// refuses them), the first module says it did not load and its "Try again" loads the real one. Prints a JSON report; exits 1 on a failed check.
// Usage: node tests/site/handoff.js URL
"use strict";
const { launch } = require("./chromium");

const url = process.argv[2];
if (!url) {
  console.error("usage: node tests/site/handoff.js URL");
  process.exit(2);
}

const page = (chrome, session) => {
  const js = (expression) => chrome.evaluate(session, expression);
  const waitFor = (expression, what) => chrome.waitFor(session, expression, what);
  const type = (id, value) =>
    js(`(() => { const e = document.getElementById(${JSON.stringify(id)}); e.value = ${JSON.stringify(value)};
       e.dispatchEvent(new Event("input", { bubbles: true })); return true; })()`);
  const choose = (id, value) =>
    js(`(() => { const e = document.getElementById(${JSON.stringify(id)}); e.value = ${JSON.stringify(value)};
       e.dispatchEvent(new Event("change", { bubbles: true })); return true; })()`);
  const click = (id) => js(`(document.getElementById(${JSON.stringify(id)}).click(), true)`);
  const thumb = (card) => js(`(document.querySelector(${JSON.stringify(card + " .thumb.sha256")}) || {}).textContent || ""`);
  return { js, waitFor, type, choose, click, thumb };
};

(async () => {
  const chrome = launch();
  const report = { checks: [] };
  const check = (ok, what) => {
    report.checks.push({ ok: !!ok, what });
    if (!ok) throw new Error(what);
  };
  try {
    // 1. The whole app held back while the first module works.
    const { session } = await chrome.open("about:blank");
    const p = page(chrome, session);
    const held = [];
    chrome.on("Fetch.requestPaused", (params, s) => {
      if (s === session) held.push(params.requestId);
    });
    const firstLog = [];
    chrome.on("Log.entryAdded", (params, s) => {
      if (s === session) firstLog.push(params.entry.text);
    });
    await chrome.send("Log.enable", {}, session);
    const requests = [];
    chrome.on("Network.requestWillBeSent", (params, s) => {
      if (s === session) requests.push({ method: params.request.method, url: params.request.url, body: !!params.request.hasPostData });
    });
    // Every request on the network (not the HTTP cache, not the service worker the first visit installs).
    await chrome.send("Network.enable", {}, session);
    await chrome.send("Network.setCacheDisabled", { cacheDisabled: true }, session);
    await chrome.send("Network.setBypassServiceWorker", { bypass: true }, session);
    await chrome.send("Fetch.enable", { patterns: [{ urlPattern: "*hubcert-full_bg.wasm*", requestStage: "Request" }] }, session);
    // Step 1, as the home page's next step links to it; steps 1 to 4 are one page in the first module.
    await chrome.send("Page.navigate", { url: `${url}#/root-ca` }, session);
    await p.waitFor(`document.getElementById("ca-create") && document.documentElement.dataset.app === "first"`, "the first module's screen");
    await p.type("ca-cn", "Plant 7 Root CA");
    await p.click("ca-create");
    await p.waitFor(`document.querySelector("#ca-result .thumb.sha256")`, "the root CA's card in the first module");
    const rootThumb = await p.thumb("#ca-result");
    check(!(await p.js(`[...document.querySelectorAll("#ca-result button")].some((b) => b.textContent.includes(".p7b"))`)),
      "the first module offers no .p7b (its writer is in the whole app)");
    await p.type("v-code", "48B3A2C9B5F2A1E01FAB6FC2DFBF26F4");
    await p.click("v-create");
    await p.waitFor(`document.querySelector("#v-result .thumb.sha256")`, "the verification certificate in the first module");
    const verificationThumb = await p.thumb("#v-result");
    await p.type("d-id", "line-4-sensor");
    await p.click("d-create");
    await p.waitFor(`document.querySelector("article[id^=device-] .thumb.sha256")`, "the device's card in the first module");
    const deviceThumb = await p.thumb("article[id^=device-]");
    // An RSA key is the whole app's: the first module says so instead of making one.
    await p.choose("d-key", "rsa2048");
    await p.click("d-create");
    const rsaSaid = await p.waitFor(`(document.querySelector("#step-device form .error") || {}).textContent`, "what the first module says to an RSA key");
    check(/come with the rest of hubcert/.test(rsaSaid), `the first module says RSA keys come with the rest (${rsaSaid})`);
    await p.type("d-id", "draft-device-77");
    await p.js(`(() => { const e = document.getElementById("d-id"); e.focus(); e.setSelectionRange(2, 5); return true; })()`);
    await p.js(`(document.getElementById("batch").open = true, true)`);
    await p.waitFor(`document.querySelector("#batch .rest-status")`, "the batch part saying the rest is loading");
    check(held.length > 0, "the whole app's WebAssembly was requested by the first module");
    check(await p.js(`document.documentElement.dataset.app === "first"`), "the first module holds the page while the whole app is held back");
    report.first = { rootThumb, deviceThumb, verificationThumb };

    // 2. Let it load: the whole app takes over.
    for (const requestId of held.splice(0)) await chrome.send("Fetch.continueRequest", { requestId }, session);
    await chrome.send("Fetch.disable", {}, session);
    await p.waitFor(`document.documentElement.dataset.app === "full"`, "the whole app to take the page over");
    check(!(await p.js(`!!document.getElementById("app-first")`)), "the first module's page is gone");
    check((await p.thumb("#ca-result")) === rootThumb, "the whole app shows the same root CA");
    check((await p.js(`document.getElementById("ca-result").textContent.includes("Plant 7 Root CA")`)), "with the name typed in the first module");
    check((await p.thumb("article[id^=device-]")) === deviceThumb, "and the same device certificate");
    check((await p.thumb("#v-result")) === verificationThumb, "and the same verification certificate");
    check((await p.js(`document.getElementById("d-id").value`)) === "draft-device-77", "the device id typed but not submitted carried over");
    check((await p.js(`document.getElementById("d-key").value`)) === "rsa2048", "so did the key chosen");
    check((await p.js(`document.activeElement && document.activeElement.id`)) === "d-id", "the focus is where it was");
    check((await p.js(`[document.activeElement.selectionStart, document.activeElement.selectionEnd].join()`)) === "2,5", "so is the caret");
    check(await p.js(`document.getElementById("batch").open && !!document.getElementById("batch-create")`), "the batch part the user opened is open, with its form");
    check(await p.js(`[...document.querySelectorAll("#ca-result button")].some((b) => b.textContent.includes("root-ca.p7b"))`), "the whole app offers the root's .p7b");
    check(await p.js(`!!document.getElementById("hub-target-localhub")`), "the hub steps are there");
    const refusedByPolicy = firstLog.filter((t) => /Content Security Policy|import map|integrity/i.test(t) && !/preload destinations/.test(t));
    // The keys went from one module to the other in the page's memory: nothing was sent anywhere.
    const origin = new URL(url).origin;
    const sent = requests.filter((r) => r.method !== "GET" || r.body || new URL(r.url).origin !== origin);
    check(requests.length > 0 && sent.length === 0, `the page only fetched its own files, sending nothing (${JSON.stringify(sent)})`);
    check(refusedByPolicy.length === 0, `the handover ran under the page's policy, import map and integrity with nothing refused (${JSON.stringify(refusedByPolicy)})`);
    // The CA still signs: a device made after the handover chains to the same root.
    await p.choose("d-key", "p256");
    await p.type("d-id", "after-handover");
    await p.click("d-create");
    await p.waitFor(`[...document.querySelectorAll("article[id^=device-] h3")].some((h) => h.textContent.includes("after-handover"))`, "a device made by the whole app");
    check(await p.js(`[...document.querySelectorAll("article[id^=device-]")].find((a) => a.querySelector("h3").textContent.includes("after-handover")).textContent.includes("Plant 7 Root CA")`),
      "a device made after the handover is signed by the same root");

    // 3. The whole app refused: said, and tried again.
    const second = await chrome.open("about:blank");
    const q = page(chrome, second.session);
    const refused = [];
    chrome.on("Fetch.requestPaused", (params, s) => {
      if (s === second.session) refused.push(params.requestId);
      // Not the build's WebAssembly: its Subresource Integrity refuses it.
      const body = Buffer.from("not the whole app").toString("base64");
      if (s === second.session)
        chrome.send("Fetch.fulfillRequest", { requestId: params.requestId, responseCode: 200, responseHeaders: [{ name: "Content-Type", value: "application/wasm" }], body }, s);
    });
    const logged = [];
    chrome.on("Log.entryAdded", (params, s) => {
      if (s === second.session) logged.push(params.entry.text);
    });
    await chrome.send("Log.enable", {}, second.session);
    await chrome.send("Network.enable", {}, second.session);
    await chrome.send("Network.setCacheDisabled", { cacheDisabled: true }, second.session);
    await chrome.send("Network.setBypassServiceWorker", { bypass: true }, second.session);
    await chrome.send("Fetch.enable", { patterns: [{ urlPattern: "*hubcert-full_bg.wasm*", requestStage: "Request" }] }, second.session);
    await chrome.send("Page.navigate", { url }, second.session);
    await q.waitFor(`document.getElementById("rest-retry")`, "the first module to say the rest did not load");
    const said = await q.js(`document.querySelector(".rest-status[role=alert] p").textContent`);
    check(/did not load/.test(said) && /What this page shows still works/.test(said), "it says what failed and what still works");
    check(await q.js(`document.documentElement.dataset.app === "first" && !!document.getElementById("ca-create")`), "and steps 1 to 4 are still there");
    await chrome.send("Fetch.disable", {}, second.session);
    await q.click("rest-retry");
    await q.waitFor(`document.documentElement.dataset.app === "full"`, "the whole app after Try again");
    check(refused.length > 0, "the bytes refused were the whole app's WebAssembly");
    check(logged.some((t) => /valid digest in the .integrity. attribute/.test(t) && /hubcert-full_bg/.test(t)), `the browser refused them for their integrity (${JSON.stringify(logged)})`);
    report.integrity = logged.find((t) => /valid digest/.test(t));
    report.retry = said.trim();
    report.ok = true;
  } catch (e) {
    report.ok = false;
    report.error = String(e && e.message ? e.message : e);
  } finally {
    chrome.close();
  }
  console.log(JSON.stringify(report, null, 1));
  process.exit(report.ok ? 0 : 1);
})();
