// Headless Chromium driven over the DevTools protocol on a pipe: no port, no dependencies.
// `const { send, on, open, evaluate, waitFor, close } = launch()`; `send(method, params, sessionId)`
// resolves with Chromium's answer; `on(method, fn)` hears events; `waitFor(session, expression,
// what)` polls the tab; `close()` ends Chromium and removes its profile.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

function launch() {
  // CHROMIUM_PROFILE: a profile of the caller's (kept), e.g. one whose service worker is installed.
  const own = !process.env.CHROMIUM_PROFILE;
  const profile = process.env.CHROMIUM_PROFILE || fs.mkdtempSync(path.join(os.tmpdir(), "hubcert-cdp-"));
  const chrome = spawn(
    process.env.CHROMIUM || "chromium",
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--enable-precise-memory-info",
      "--remote-debugging-pipe",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
  );
  const toChrome = chrome.stdio[3];
  const fromChrome = chrome.stdio[4];
  let next = 0;
  const pending = new Map();
  const listeners = new Map();
  let buffered = "";
  fromChrome.on("data", (data) => {
    buffered += data.toString();
    let end;
    while ((end = buffered.indexOf("\0")) >= 0) {
      const message = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      if (process.env.CDP_CONSOLE && message.method === "Runtime.consoleAPICalled") {
        console.error(message.params.args.map((a) => a.value).join(" "));
      }
      if (message.method && listeners.has(message.method)) {
        for (const fn of listeners.get(message.method)) fn(message.params, message.sessionId);
      }
      if (message.id && pending.has(message.id)) {
        pending.get(message.id)(message);
        pending.delete(message.id);
      }
    }
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve) => {
      const message = { id: ++next, method, params };
      if (sessionId) message.sessionId = sessionId;
      pending.set(message.id, resolve);
      toChrome.write(JSON.stringify(message) + "\0");
    });
  const on = (method, fn) => {
    if (!listeners.has(method)) listeners.set(method, []);
    listeners.get(method).push(fn);
  };
  const close = () => {
    chrome.kill();
    if (!own) return;
    try {
      fs.rmSync(profile, { recursive: true, force: true });
    } catch (_) {
      // Chromium may still be writing its profile as it exits; the temp dir is left.
    }
  };
  // A new tab at `url`, attached (flat sessions): resolves with its session id.
  const open = async (url) => {
    const created = await send("Target.createTarget", { url });
    const attached = await send("Target.attachToTarget", {
      targetId: created.result.targetId,
      flatten: true,
    });
    return { session: attached.result.sessionId, targetId: created.result.targetId };
  };
  // The value of a JavaScript expression in the tab.
  const evaluate = async (session, expression) => {
    const r = await send("Runtime.evaluate", { expression, returnByValue: true }, session);
    return r.result && r.result.result && r.result.result.value;
  };
  // The first truthy value of `expression` in the tab, asked every `every` ms; throws "timed out
  // after N s waiting for WHAT" after `ms`.
  const waitFor = async (session, expression, what, ms = 30000, every = 25) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await evaluate(session, expression);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
      await sleep(every);
    }
  };
  return { send, on, open, evaluate, waitFor, close };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { launch, sleep };
