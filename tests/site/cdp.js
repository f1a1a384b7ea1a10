// Opens a URL in headless Chromium over the DevTools protocol (on a pipe: no port, no
// dependencies) and prints the text of `#<id>` once the page has written it, in real time (a
// benchmark needs real time, which --virtual-time-budget is not).
// Usage: node tests/site/cdp.js URL ELEMENT_ID [TIMEOUT_SECONDS]
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [url, id, timeoutArg] = process.argv.slice(2);
if (!url || !id) {
  console.error("usage: node tests/site/cdp.js URL ELEMENT_ID [TIMEOUT_SECONDS]");
  process.exit(2);
}
const timeoutMs = Number(timeoutArg || "120") * 1000;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "hubcert-cdp-"));
const chrome = spawn(
  process.env.CHROMIUM || "chromium",
  [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const finish = (code) => {
  chrome.kill();
  try {
    fs.rmSync(profile, { recursive: true, force: true });
  } catch (_) {
    // Chromium may still be writing its profile as it exits; the temp dir is left.
  }
  process.exit(code);
};

(async () => {
  const created = await send("Target.createTarget", { url });
  const attached = await send("Target.attachToTarget", {
    targetId: created.result.targetId,
    flatten: true,
  });
  const session = attached.result.sessionId;
  if (process.env.CDP_CONSOLE) await send("Runtime.enable", {}, session);
  const started = Date.now();
  for (;;) {
    await sleep(200);
    const r = await send(
      "Runtime.evaluate",
      {
        expression: `(document.getElementById(${JSON.stringify(id)}) || {}).textContent || ""`,
        returnByValue: true,
      },
      session,
    );
    const value = r.result && r.result.result && r.result.result.value;
    if (value) {
      console.log(value);
      return finish(0);
    }
    if (Date.now() - started > timeoutMs) {
      console.error(`#${id} did not appear within ${timeoutMs / 1000} s at ${url}`);
      return finish(1);
    }
  }
})().catch((e) => {
  console.error(String(e));
  finish(1);
});
