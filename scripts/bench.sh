#!/usr/bin/env bash
# Prints the benchmark figures: P-256 identities per second natively and in headless Chromium,
# the release wasm size raw and gzipped, and localhub under load (500 X.509 devices over TLS). Not a test: nothing here fails on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh >/dev/null
cargo bench --locked --bench identities 2>/dev/null | grep '^native:'
cargo test --locked --release --target wasm32-unknown-unknown --features bench --test browser_bench -- --nocapture 2>&1 \
  | grep -o 'BENCH.*' | sed 's/^BENCH //'
trunk build --release >/dev/null 2>&1
for f in dist/*.wasm; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  printf 'release wasm: %s raw = %d KiB, gzip -9 = %d KiB\n' "$(basename "$f")" $((raw / 1024)) $((gz / 1024))
done
js=$(cat dist/*.js | gzip -9 | wc -c); css=$(cat dist/*.css | gzip -9 | wc -c)
printf 'release js + css gzip: %d KiB + %d KiB\n' $((js / 1024)) $((css / 1024))
cargo bench --locked -p localhub --bench load 2>/dev/null | grep -E '^(localhub load|  )'
