#!/usr/bin/env bash
# Where a batch's time goes: a copy of the built site (DIST, default target/site) whose whole app
# and batch worker keep their function names (the same cargo output, `wasm-opt -Oz -g`; the whole
# app's integrity in the page updated), a batch of N devices (default 40000) run in headless
# Chromium, and tests/site/batch-profile.js's table of self time for the page and the workers.
# TOP (default 40) rows are printed.
# Needs the cargo output of the build DIST came from (CARGO_TARGET_DIR, default target).
set -euo pipefail
dist="${1:-target/site}"
n="${2:-40000}"
ms="${3:-2000}"
top="${4:-40}"
release="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release"
. scripts/env.sh
. scripts/site-probe.sh
root=$(mktemp -d)
mkdir -p "$root/p" "$root/named"
with_probe "$dist" "$root/p/site" batch-probe.js
opt() {
  "$HUBCERT_TOOLS/node_modules/binaryen/bin/wasm-opt" -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types "$1" -o "$2"
}
wasm-bindgen --target web --no-typescript --out-dir "$root/named" "$release/hubcert-full.wasm"
cmp -s "$root/named/hubcert-full.js" "$dist/hubcert-full.js" \
  || { echo "profile-batch.sh: $release is not the build of $dist (its hubcert-full.js differs)" >&2; exit 1; }
opt "$root/named/hubcert-full_bg.wasm" "$root/p/site/hubcert-full_bg.wasm"
wasm-bindgen --target no-modules --no-typescript --out-dir "$root/named" "$release/batch-worker.wasm"
opt "$root/named/batch-worker_bg.wasm" "$root/p/site/batch-worker_bg.wasm"
cp "$root/named/batch-worker.js" "$root/p/site/batch-worker.js"
python3 - "$root/p/site" <<'PY'
import base64, hashlib, re, sys
site = sys.argv[1]
wasm = open(f"{site}/hubcert-full_bg.wasm", "rb").read()
sri = "sha384-" + base64.b64encode(hashlib.sha384(wasm).digest()).decode()
page = open(f"{site}/index.html").read()
open(f"{site}/index.html", "w").write(re.sub(r'data-wasm-integrity="[^"]+"', f'data-wasm-integrity="{sri}"', page))
PY
serve "$root"
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
node tests/site/batch-profile.js "http://127.0.0.1:$port/p/site/?n=$n" "$ms" "$top"
