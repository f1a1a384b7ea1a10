// Loaded into a copy of the built page by scripts/check-site.sh (a small batch: it must be issued
// by workers) and scripts/bench.sh (`?n=10000`: the figures). Makes a root CA, issues a batch of
// P-256 devices (`?stop=MS`: pressing Stop after MS milliseconds), and reports how long it took,
// who issued it, and how late a 20 ms timer ran meanwhile (the page's responsiveness).
"use strict";
addEventListener("HubcertFullStarted", async (event) => {
  // The whole app's WebAssembly memory (the first module hands over its exports, as Trunk's loader does).
  const wasmMemory = event.detail && event.detail.wasm && event.detail.wasm.memory;
  const n = Number(new URLSearchParams(location.search).get("n") || "200");
  const stopAfter = Number(new URLSearchParams(location.search).get("stop") || "0");
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const report = { n };
  try {
    await wait(200);
    document.getElementById("ca-create").click();
    await wait(300);
    const ids = document.getElementById("batch-ids");
    const width = String(n).length;
    ids.value = `bench-{${"1".padStart(width, "0")}..${n}}`;
    ids.dispatchEvent(new Event("input", { bubbles: true }));
    await wait(100);
    let worst = 0;
    let last = performance.now();
    const stalls = [];
    const timer = setInterval(() => {
      const now = performance.now();
      const late = now - last - 20;
      worst = Math.max(worst, late);
      if (late > 50) stalls.push([Math.round(now - started), Math.round(late)]);
      last = now;
    }, 20);
    const started = performance.now();
    document.getElementById("batch-create").click();
    if (stopAfter) setTimeout(() => document.getElementById("batch-stop").click(), stopAfter);
    for (;;) {
      await wait(50);
      const done = document.getElementById("batch-result");
      const failed = document.querySelector("#batch .error");
      if (done || failed) {
        report.ms = Math.round(performance.now() - started);
        report.result = (done || failed).textContent;
        break;
      }
      if (performance.now() - started > 120000) {
        report.error = "timed out";
        break;
      }
    }
    clearInterval(timer);
    report.worstTimerLateMs = Math.round(worst);
    // Each time the timer ran more than 50 ms late: [ms since the click, ms late].
    report.stalls = stalls;
    if (performance.memory) report.heapMiB = Math.round(performance.memory.usedJSHeapSize / 1048576);
    if (wasmMemory) report.wasmMiB = Math.round(wasmMemory.buffer.byteLength / 1048576);
    const zipMode = new URLSearchParams(location.search).get("zip");
    // The file the user downloads with the batch's button.
    const download = async () => {
      const blobs = [];
      const real = URL.createObjectURL;
      URL.createObjectURL = (b) => { blobs.push(b); return real.call(URL, b); };
      document.getElementById("batch-save").click();
      await wait(200);
      URL.createObjectURL = real;
      return blobs[0];
    };
    if (zipMode === "count") {
      // How many files the downloaded zip says it holds (its end records, ZIP64 or not).
      const zip = await download();
      const view = async (at, n) => new DataView(await zip.slice(at, at + n).arrayBuffer());
      const end = await view(zip.size - 22, 22);
      if (end.getUint32(0, true) !== 0x06054b50) throw new Error("no end of central directory");
      let count = end.getUint16(10, true);
      if (count === 0xffff) {
        const locator = await view(zip.size - 42, 20);
        if (locator.getUint32(0, true) !== 0x07064b50) throw new Error("no ZIP64 locator");
        const record = await view(Number(locator.getBigUint64(8, true)), 56);
        if (record.getUint32(0, true) !== 0x06064b50) throw new Error("no ZIP64 end record");
        count = Number(record.getBigUint64(32, true));
        report.zip64 = true;
      }
      report.zipEntries = count;
      report.zipBytes = zip.size;
    } else if (zipMode) {
      // The files as the user downloads them, and the root they chain to, for OpenSSL to check.
      const buf = new Uint8Array(await (await download()).arrayBuffer());
      let bin = "";
      for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
      report.zip = btoa(bin);
      report.root = document.querySelector("#ca-result textarea").value;
    }
  } catch (e) {
    report.error = String(e);
  }
  const out = document.createElement("pre");
  out.id = "batch-report";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
