// Opens URL in headless Chromium and waits until the whole app has taken the page over from the
// first module; says how long it took, or what the page says instead. Exits 1 if it did not.
// Usage: [CHROMIUM_PROFILE=DIR] node tests/site/whole-app.js URL [TIMEOUT_S]
"use strict";
const { launch } = require("./chromium");

const [url, timeout = "60"] = process.argv.slice(2);
(async () => {
  const chrome = launch();
  let ok = false;
  let session;
  try {
    ({ session } = await chrome.open(url));
    const started = Date.now();
    await chrome.waitFor(session, `document.documentElement.dataset.app === "full"`, "the whole app", Number(timeout) * 1000, 100);
    console.log(`the whole app took the page over ${Date.now() - started} ms after it opened`);
    ok = true;
  } catch (e) {
    const said = session && (await chrome.evaluate(session, `(document.querySelector(".rest-status") || document.body || {}).textContent`));
    console.log(`${e.message || e}; the page says: ${said}`);
  } finally {
    chrome.close();
  }
  process.exit(ok ? 0 : 1);
})();
