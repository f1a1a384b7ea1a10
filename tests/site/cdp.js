// Opens a URL in headless Chromium over the DevTools protocol and prints the text of `#<id>` once
// the page has written it, in real time (a benchmark needs real time, which
// --virtual-time-budget is not).
// Usage: node tests/site/cdp.js URL ELEMENT_ID [TIMEOUT_SECONDS]
"use strict";
const { launch } = require("./chromium");

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
  const value = await chrome.waitFor(
    session,
    `(document.getElementById(${JSON.stringify(id)}) || {}).textContent || ""`,
    `#${id} at ${url}`,
    timeoutMs,
    200,
  );
  console.log(value);
  finish(0);
})().catch((e) => {
  console.error(String(e));
  finish(1);
});
