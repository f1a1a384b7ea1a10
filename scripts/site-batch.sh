#!/usr/bin/env bash
# Runs a batch of N P-256 devices (default 200) in the built site (dist dir, default target/site)
# in headless Chromium, in real time, and prints the probe's report as JSON: how long it took,
# who issued it (the worker pool, or the page), how late a 20 ms timer ran meanwhile, the JS heap;
# with a third argument `zip`, also the downloaded zip (base64) and the root CA's PEM.
set -euo pipefail
dist="${1:-target/site}"
n="${2:-200}"
zip="${3:-}"
root=$(mktemp -d)
mkdir -p "$root/p"
cp -r "$dist" "$root/p/site"
cp tests/site/batch-probe.js "$root/p/site/batch-probe.js"
python3 - "$root/p/site/index.html" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s.replace("</body>", '<script src="./batch-probe.js"></script></body>', 1))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
node tests/site/cdp.js "http://127.0.0.1:$port/p/site/?n=$n&zip=$zip" batch-report 300
