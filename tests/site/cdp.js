// Opens a URL in headless Chromium over the DevTools protocol and prints the text of `#<id>` once
// the page has written it, in real time (a benchmark needs real time, which
// --virtual-time-budget is not).
// Usage: node tests/site/cdp.js URL ELEMENT_ID [TIMEOUT_SECONDS]
"use strict";
const { launch, sleep } = require("./chromium");

const [url, id, timeoutArg] = process.argv.slice(2);
if (!url || !id) {
  console.error("usage: node tests/site/cdp.js URL ELEMENT_ID [TIMEOUT_SECONDS]");
  process.exit(2);
}
const timeoutMs = Number(timeoutArg || "120") * 1000;
const chrome = launch();
const finish = (code) => {
  chrome.close();
  process.exit(code);
};

(async () => {
  const { session } = await chrome.open(url);
  if (process.env.CDP_CONSOLE) await chrome.send("Runtime.enable", {}, session);
  const started = Date.now();
  for (;;) {
    await sleep(200);
    const value = await chrome.evaluate(
      session,
      `(document.getElementById(${JSON.stringify(id)}) || {}).textContent || ""`,
    );
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
