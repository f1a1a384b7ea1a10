#!/usr/bin/env bash
# Prints the benchmark figures: P-256 identities per second natively, and a .p7b of 3,000 chained
# certificates put in order natively (as the inspector opens it, and imported as a CA); in headless Chromium P-256,
# P-384 and RSA-2048 identities per second and RSA-4096 key generation against `openssl genrsa 4096`;
# the release wasm size raw and gzipped, batches of 10,000 and 100,000 devices in the page (the latter beside a Python
# `cryptography` loop on one core: scripts/bench-issuance.sh), the first load (interactive on three networks, bytes per
# file) and a deep link to each route (tests/site/routes.js), localhub under load (500 X.509 devices over TLS), and 1,000
# devices registered through localhub's DPS (registrations per second, p50/p99 register-to-assigned), and 10,000
# devices through the registry one by one and in bulk, unthrottled and throttled as one S1 unit, and the fleet
# query over 100,000 twins on localhub (time to the last page). Not a test: nothing here fails on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh >/dev/null
cargo bench --locked --bench identities 2>/dev/null | grep '^native:'
# RSA-4096 key generation: OpenSSL 3 here, then WebCrypto in headless Chromium, in the same run.
openssl_ms=$(python3 - <<'PY'
import subprocess, time
times = []
for _ in range(5):
    t = time.perf_counter()
    subprocess.run(["openssl", "genrsa", "-out", "/dev/null", "4096"], check=True, capture_output=True)
    times.append((time.perf_counter() - t) * 1000)
print(round(sum(times) / len(times)))
PY
)
echo "openssl genrsa 4096: ${openssl_ms} ms (mean of 5)"
browser=$(cargo test --locked --release --target wasm32-unknown-unknown --features bench --test browser_bench -- --nocapture 2>&1 \
  | grep -o 'BENCH.*' | sed 's/^BENCH //')
echo "$browser" | grep -v '^webcrypto-rsa4096-ms'
webcrypto_ms=$(echo "$browser" | sed -n 's/^webcrypto-rsa4096-ms: \([0-9]*\).*/\1/p')
echo "WebCrypto RSA-4096 in headless Chromium: ${webcrypto_ms} ms (mean of 5)"
python3 -c "print(f'RSA-4096 key generation, WebCrypto / openssl genrsa: {${webcrypto_ms:-0} / max(${openssl_ms:-1}, 1):.2f}x')"
trunk build --release >/dev/null 2>&1
for f in dist/*.wasm; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  printf 'release wasm: %s raw = %d KiB, gzip -9 = %d KiB\n' "$(basename "$f")" $((raw / 1024)) $((gz / 1024))
done
js=$(cat dist/*.js | gzip -9 | wc -c); css=$(cat dist/*.css | gzip -9 | wc -c)
printf 'release js + css gzip: %d KiB + %d KiB\n' $((js / 1024)) $((css / 1024))
# First load with a cold cache, served gzip: loopback, 9 Mbps / 40 ms, 1.6 Mbps / 150 ms.
node tests/site/load.js dist 3
# A deep link to each route of the route table, on the same three networks: when it is interactive, and
# which module drew it.
node tests/site/routes.js dist 3
# A batch of 10,000 P-256 devices with their files zipped, in the built page (worker pool), in
# real time: elapsed, the worst delay of a 20 ms timer meanwhile, the JS heap and the page's
# WebAssembly memory at the end (flat when the zip streams). 100,000 follow, beside the Python
# loop a user would write instead (cryptography, one core), in the same run.
for n in 10000; do
  report=$(bash scripts/site-batch.sh dist $n)
  python3 -c "import json,re,sys; r=json.loads(sys.argv[1]); print(f\"batch of {r['n']:,} P-256 devices in the page: {r['ms']} ms; 20 ms timer at most {r['worstTimerLateMs']} ms late; JS heap {r.get('heapMiB','?')} MiB, WebAssembly memory {r.get('wasmMiB','?')} MiB; {re.search(r'Issued in [^;]*', r['result']).group(0)}\")" "$report"
done
bash scripts/bench-issuance.sh dist 100000
cargo bench --locked -p localhub --bench load 2>/dev/null | grep -E '^(localhub load|  )'
cargo bench --locked -p localhub --bench dps 2>/dev/null | grep -E '^(localhub DPS|  )'
# 10,000 devices through the registry one by one and in bulk, unthrottled and as one S1 unit (its
# clock scaled): devices per second, calls, and the measured rate next to the published limit.
cargo bench --locked -p localhub --bench registry 2>/dev/null | grep -E '^(localhub registry|  )'
# The fleet query over 100,000 twins registered in bulk: time to the last of its pages of 1,000.
cargo bench --locked -p localhub --bench query 2>/dev/null | grep -E '^(localhub query|  )'
