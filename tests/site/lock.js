// Lock leaves no key in the page's memory. Headless Chromium opens the built site, makes a root CA
// and a device in the first module, lets the whole app take over, makes another device there and
// saves its key file (captured, not written). The private keys' scalars and the key file's text are
// searched for in both WebAssembly memories (the first module's and the whole app's): before Lock
// they are found (so the search works), and a passphrase is typed in the workspace's fields. After
// Lock (asked twice: nothing was kept) the page reloads into new modules: neither memory, nor any
// field of the page, nor its storage holds a key or the passphrase. Prints a JSON report; exits 1
// on a failed check.
// Usage: node tests/site/lock.js URL
"use strict";
const { launch } = require("./chromium");

const url = process.argv[2];
if (!url) {
  console.error("usage: node tests/site/lock.js URL");
  process.exit(2);
}

// Kept by the page before its scripts run: both modules' memories (as Trunk's loader and the
// first module announce them) and the files the page offers for download.
const watch = `
  window.__memories = [];
  window.__files = [];
  addEventListener("TrunkApplicationStarted", (e) => {
    const m = e.detail && e.detail.wasm && e.detail.wasm.memory;
    if (m) window.__memories.push(["first", m]);
  });
  addEventListener("HubcertFullStarted", (e) => {
    const m = e.detail && e.detail.wasm && e.detail.wasm.memory;
    if (m) window.__memories.push(["full", m]);
  });
  const make = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob) => {
    const u = make(blob);
    blob.text().then((t) => window.__files.push({ url: u, text: t }));
    return u;
  };
  HTMLAnchorElement.prototype.click = function () {};
`;

// In the page: which of `needles` (byte arrays as arrays of numbers, or strings) each memory holds.
const search = (needles) => `(() => {
  const needles = ${JSON.stringify(needles)}.map((n) => typeof n === "string" ? new TextEncoder().encode(n) : new Uint8Array(n));
  const found = [];
  for (const [who, memory] of window.__memories) {
    const hay = new Uint8Array(memory.buffer);
    needles.forEach((n, i) => {
      outer: for (let at = hay.indexOf(n[0]); at !== -1 && at <= hay.length - n.length; at = hay.indexOf(n[0], at + 1)) {
        for (let k = 1; k < n.length; k++) if (hay[at + k] !== n[k]) continue outer;
        found.push([who, i]);
        break;
      }
    });
  }
  return found;
})()`;

// The P-256 scalar of a PKCS#8 key file (base64 between the PEM lines).
function scalar(pem) {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  // ECPrivateKey: version 1, then OCTET STRING of 32 bytes.
  const at = der.indexOf(Buffer.from([0x02, 0x01, 0x01, 0x04, 0x20]));
  if (at < 0) throw new Error("no P-256 scalar in the key file");
  return [...der.subarray(at + 5, at + 37)];
}

(async () => {
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
    const type = (id, value) =>
      js(`(() => { const e = document.getElementById(${JSON.stringify(id)}); e.value = ${JSON.stringify(value)};
         e.dispatchEvent(new Event("input", { bubbles: true })); return true; })()`);
    const click = (id) => js(`(document.getElementById(${JSON.stringify(id)}).click(), true)`);
    await chrome.send("Page.enable", {}, session);
    await chrome.send("Page.addScriptToEvaluateOnNewDocument", { source: watch }, session);
    await chrome.send("Page.navigate", { url }, session);
    await waitFor(`document.getElementById("ca-create") && document.documentElement.dataset.app === "first"`, "the first module");
    await type("ca-cn", "Lock Probe Root");
    await click("ca-create");
    await waitFor(`document.querySelector("#ca-result .thumb.sha256")`, "the root CA");
    await type("d-id", "lock-probe-1");
    await click("d-create");
    await waitFor(`document.querySelector("article[id^=device-] .thumb.sha256")`, "the first module's device");
    await waitFor(`document.documentElement.dataset.app === "full" && window.__memories.length === 2`, "the whole app (both memories)", 60000);
    await type("d-id", "lock-probe-2");
    await click("d-create");
    await waitFor(`[...document.querySelectorAll("article[id^=device-]")].some((a) => a.textContent.includes("lock-probe-2"))`, "the whole app's device");
    // Save the key files the page offers (the root's and the devices').
    await js(`[...document.querySelectorAll("article button")].filter((b) => /\\.key$/.test(b.textContent.trim()) && !/encrypted/.test(b.textContent)).forEach((b) => b.click()), true`);
    await waitFor(`window.__files.filter((f) => f.text.includes("PRIVATE KEY")).length >= 2`, "the key files");
    const keys = (await js(`window.__files.map((f) => f.text).filter((t) => t.includes("BEGIN PRIVATE KEY"))`));
    report.keyFiles = keys.length;
    const needles = [];
    for (const pem of keys) {
      needles.push(scalar(pem));
      needles.push(pem.split("\n")[1].slice(0, 48));
    }
    const passphrase = "lock probe passphrase 7";
    needles.push(passphrase);
    await type("ws-pass", passphrase);
    await type("ws-pass2", passphrase);
    const before = await js(search(needles));
    report.before = before;
    check(before.some(([who]) => who === "full"), `before Lock the keys are found in the whole app's memory (${JSON.stringify(before)})`);

    // Lock: asked first (nothing was kept), then the page reloads.
    await click("ws-lock");
    await waitFor(`(document.getElementById("ws-lock-status") || {}).textContent.includes("press Lock again")`, "Lock asking first");
    check(await js(`!!document.querySelector("#ca-result")`), "nothing is dropped before the user agrees");
    await click("ws-lock");
    await waitFor(`window.__memories.length === 0 || !document.getElementById("ws-lock-status")`, "the reload", 30000);
    await waitFor(`document.documentElement.dataset.app === "full" && window.__memories.length === 2`, "both modules again after the reload", 60000);
    await waitFor(`(document.getElementById("ws-lock-status") || {}).textContent.includes("Locked")`, "the page saying it was locked");
    const after = await js(search(needles));
    report.after = after;
    check(after.length === 0, `after Lock neither memory holds a key or the passphrase (${JSON.stringify(after)})`);
    check(!(await js(`!!document.querySelector("#ca-result")`)), "no CA is shown after Lock");
    const fields = await js(`[...document.querySelectorAll("input, textarea")].map((e) => e.value).filter((v) => v.includes("PRIVATE KEY") || v.includes(${JSON.stringify(passphrase)}))`);
    check(fields.length === 0, `no field holds a key or the passphrase after Lock (${fields.length})`);
    const stored = await js(`JSON.stringify(Object.assign({}, sessionStorage)) + JSON.stringify(Object.assign({}, localStorage))`);
    check(!stored.includes("PRIVATE KEY") && !stored.includes(passphrase), "nor the page's storage");
    report.ok = true;
  } catch (e) {
    report.error = String(e && e.message ? e.message : e);
  } finally {
    chrome.close();
  }
  console.log(JSON.stringify(report));
  process.exit(report.ok ? 0 : 1);
})();
