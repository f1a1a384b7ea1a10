// CPU profile of a batch, the page and each batch worker apart (DevTools Profiler on every target
// the page starts, attached before they run): self time by function, the WebAssembly's by name
// when its name section is kept (scripts/profile-batch.sh builds such a copy of the site). Not a
// test: it prints where the time goes.
// Usage: node tests/site/batch-profile.js URL_WITH_BATCH_PROBE [PROFILE_MS] [TOP]
"use strict";
const { launch } = require("./chromium");

const [url, msArg, topArg] = process.argv.slice(2);
if (!url) {
  console.error("usage: node tests/site/batch-profile.js URL [PROFILE_MS] [TOP]");
  process.exit(2);
}
const profileMs = Number(msArg || "2000");
const top = Number(topArg || "40");

(async () => {
  const chrome = launch();
  const { session } = await chrome.open("about:blank");
  const targets = [];
  const profile = async (s) => {
    await chrome.send("Profiler.enable", {}, s);
    await chrome.send("Profiler.setSamplingInterval", { interval: 100 }, s);
    await chrome.send("Profiler.start", {}, s);
  };
  // Workers (and the service worker) attach paused: profiled from their first instruction.
  chrome.on("Target.attachedToTarget", async (params) => {
    const s = params.sessionId;
    targets.push({ s, type: params.targetInfo.type });
    await profile(s);
    await chrome.send("Runtime.runIfWaitingForDebugger", {}, s);
  });
  await chrome.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }, session);
  await chrome.send("Page.navigate", { url }, session);
  await chrome.waitFor(session, `document.documentElement.dataset.app === "full"`, "the whole app", 60000);
  await profile(session);
  await chrome.waitFor(session, `!!document.getElementById("batch-stop")`, "the batch to start", 60000, 5);
  await new Promise((r) => setTimeout(r, profileMs));
  // Stopped together while the workers still run (the pool ends them with the batch).
  const workers = targets.filter((t) => t.type === "worker");
  const timeout = () => new Promise((r) => setTimeout(() => r({}), 5000));
  const stopped = await Promise.all([session, ...workers.map((w) => w.s)].map((s) =>
    Promise.race([chrome.send("Profiler.stop", {}, s), timeout()])));
  // An anonymous function of wasm-bindgen's glue is named by the import it wraps (its line).
  const sources = new Map();
  const glue = async (u, line) => {
    if (!u.endsWith(".js") && !u.includes(".js?")) return "";
    if (!sources.has(u)) sources.set(u, await fetch(u).then((r) => r.text()).then((t) => t.split("\n"), () => []));
    const m = /(__wbg_[A-Za-z0-9]+?)_[0-9a-f]{16}\b/.exec(sources.get(u)[line] || "");
    return m ? ` [${m[1]}]` : "";
  };
  const self = new Map();
  const totals = { page: 0, workers: 0 };
  const frames = [];
  stopped.forEach((r, i) => {
    if (!r.result) return;
    const who = i === 0 ? "page" : "workers";
    const { nodes, samples, timeDeltas } = r.result.profile;
    const byId = new Map(nodes.map((n) => [n.id, n]));
    samples.forEach((id, k) => {
      const f = byId.get(id).callFrame;
      if (f.functionName === "(idle)") return;
      frames.push({ who, f, us: timeDeltas[k] || 0 });
      totals[who] += timeDeltas[k] || 0;
    });
  });
  for (const { who, f, us } of frames) {
    const named = f.functionName || `(anonymous)${await glue(f.url || "", f.lineNumber)}`;
    const name = `${who.padEnd(7)} ${named} ${(f.url || "").split("/").pop().split("?")[0]}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    self.set(name, (self.get(name) || 0) + us);
  }
  const report = await chrome.waitFor(session, `(document.getElementById("batch-report") || {}).textContent || ""`, "the batch's report", 300000, 200);
  const { n, ms } = JSON.parse(report);
  console.log(`batch of ${n}: ${ms} ms; profiled ${profileMs} ms of it: page busy ${Math.round(totals.page / 1000)} ms, ${workers.length} workers busy ${Math.round(totals.workers / 1000)} ms`);
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${name}`);
  }
  chrome.close();
  process.exit(0);
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
