#!/usr/bin/env bash
# Command 1: install what is missing, build, start localhub (the offline IoT Hub) and serve the app
# on http://127.0.0.1:8080. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh
port="${PORT:-8080}"
# The `localhub` profile is `release` with panic = "unwind": a panic ends one connection, not the
# server (the app's release build keeps panic = "abort").
cargo build --locked --profile localhub -p localhub
# localhub answers CORS for the app at http://127.0.0.1:8080 and http://localhost:8080 only (its
# /localhub/info holds the owner keys); on another port, that port's origins are added.
origins=()
if [ "$port" != 8080 ]; then
  origins=(--allow-origin "http://127.0.0.1:$port" --allow-origin "http://localhost:$port")
fi
./target/localhub/localhub --data-dir .localhub "${origins[@]}" &
localhub_pid=$!
trap 'kill $localhub_pid 2>/dev/null || true' EXIT INT TERM
echo "hubcert: building and serving on http://127.0.0.1:$port (the first release build takes 1-2 minutes)"
trunk serve --release --no-autoreload --address 127.0.0.1 --port "$port"
