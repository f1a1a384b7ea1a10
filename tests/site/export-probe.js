// Loaded into a copy of the built page by scripts/check-site.sh: makes a root CA and a device,
// then saves the device's .pfx with the modern preset (600,000 iterations) while a 20 ms timer
// runs, and reports the file (base64), the root, what the page said, and how late the timer ran
// (the page's responsiveness while the key is encrypted).
"use strict";
addEventListener("HubcertFullStarted", async () => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const report = {};
  const type = (el, value) => {
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  };
  try {
    await wait(200);
    document.getElementById("ca-create").click();
    await wait(300);
    document.getElementById("d-create").click();
    await wait(300);
    const pw = document.querySelector("[id^=device-] input[id$='-pfx-password']");
    type(pw, "export-probe-secret");
    await wait(100);
    const blobs = [];
    const real = URL.createObjectURL;
    URL.createObjectURL = (b) => { blobs.push(b); return real.call(URL, b); };
    let worst = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 20);
      last = now;
    }, 20);
    const started = performance.now();
    document.getElementById(pw.id.replace("-password", "-download")).click();
    for (;;) {
      await wait(50);
      const text = (document.getElementById(pw.id.replace("-password", "-status")) || {}).textContent || "";
      if (text.startsWith("Saved") || text.includes("fail") || performance.now() - started > 60000) {
        report.status = text;
        break;
      }
    }
    report.ms = Math.round(performance.now() - started);
    clearInterval(timer);
    URL.createObjectURL = real;
    report.worstTimerLateMs = Math.round(worst);
    const buf = new Uint8Array(await blobs[0].arrayBuffer());
    report.pfx = btoa(String.fromCharCode.apply(null, buf));
    report.root = document.querySelector("#ca-result textarea").value;
  } catch (e) {
    report.error = String(e);
  }
  const out = document.createElement("pre");
  out.id = "export-report";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
