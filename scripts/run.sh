#!/usr/bin/env bash
# Command 1: install what is missing, build, start localhub (the offline IoT Hub) and serve the app
# on http://127.0.0.1:8080. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh
cargo build --locked --release -p localhub
./target/release/localhub --data-dir .localhub &
localhub_pid=$!
trap 'kill $localhub_pid 2>/dev/null || true' EXIT INT TERM
echo "hubcert: building and serving on http://127.0.0.1:8080 (the first release build takes 1-2 minutes)"
trunk serve --release --no-autoreload --address 127.0.0.1 --port "${PORT:-8080}"
