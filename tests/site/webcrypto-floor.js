// What the browser's own crypto allows: the WebCrypto calls a batch makes for each P-256 device
// (a key made, its PKCS#8 exported, a certificate-sized message signed by a CA key), chunk by
// chunk as the batch worker makes them, in W dedicated workers, nothing else (no certificate
// built, nothing packed, no zip). scripts/bench-issuance.sh prints it beside the page's batch:
// no page that uses WebCrypto can issue faster on the same machine.
// The page (webcrypto-floor.html?n=N&workers=W) writes `#floor-report`: {"n", "workers", "ms"}.
"use strict";
if (typeof document === "undefined") {
  // In a worker: make `n` devices' worth of WebCrypto calls, `chunk` at a time.
  onmessage = async (e) => {
    const { n, chunk } = e.data;
    const subtle = crypto.subtle;
    const curve = { name: "ECDSA", namedCurve: "P-256" };
    const ecdsa = { name: "ECDSA", hash: "SHA-256" };
    const ca = await subtle.generateKey(curve, false, ["sign"]);
    const tbs = new Uint8Array(330);
    for (let done = 0; done < n; done += chunk) {
      const count = Math.min(chunk, n - done);
      const pairs = await Promise.all(Array.from({ length: count }, () => subtle.generateKey(curve, true, ["sign"])));
      await Promise.all(pairs.map((p) => subtle.exportKey("pkcs8", p.privateKey)));
      await Promise.all(pairs.map(() => subtle.sign(ecdsa, ca.privateKey, tbs)));
    }
    postMessage("done");
  };
} else {
  const q = new URLSearchParams(location.search);
  const n = Number(q.get("n") || "100000");
  const workers = Number(q.get("workers") || "2");
  const pool = Array.from({ length: workers }, () => new Worker("webcrypto-floor.js"));
  const started = performance.now();
  Promise.all(
    pool.map(
      (w, i) =>
        new Promise((resolve) => {
          w.onmessage = resolve;
          const share = Math.floor(n / workers) + (i < n % workers ? 1 : 0);
          w.postMessage({ n: share, chunk: 50 });
        }),
    ),
  ).then(() => {
    const out = document.createElement("pre");
    out.id = "floor-report";
    out.textContent = JSON.stringify({ n, workers, ms: Math.round(performance.now() - started) });
    document.body.append(out);
  });
}
