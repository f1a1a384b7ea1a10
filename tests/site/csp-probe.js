// Loaded (as a file of the page's own origin, which the policy allows) into a copy of the built
// page by scripts/check-site.sh: records every Content-Security-Policy violation while it drives a
// short flow, then calls a loopback address the policy does not name, which must be blocked.
"use strict";
const violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
addEventListener("TrunkApplicationStarted", async () => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const click = (id) => {
    const el = document.getElementById(id);
    if (!el) throw new Error(`no #${id}`);
    el.click();
  };
  const report = { steps: [], violationsDuringFlow: [], blocked: [] };
  try {
    await wait(200);
    click("ca-create");
    await wait(300);
    report.steps.push(document.getElementById("ca-result") ? "root" : "no root");
    click("im-create");
    await wait(300);
    click("d-create");
    await wait(300);
    report.steps.push(document.querySelector("[id^=device-]") ? "device" : "no device");
    report.violationsDuringFlow = violations.slice();
    try {
      await fetch("http://127.0.0.2:9/not-in-the-policy");
    } catch (_) {
      // Refused either way; the violation event says whether the policy refused it.
    }
    await wait(300);
    report.blocked = violations.slice(report.violationsDuringFlow.length);
  } catch (e) {
    report.error = String(e);
  }
  const out = document.createElement("pre");
  out.id = "csp-report";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
