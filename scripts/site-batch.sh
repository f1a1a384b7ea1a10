#!/usr/bin/env bash
# Runs a batch of N P-256 devices (default 200) in the built site (dist dir, default target/site)
# in headless Chromium, in real time, and prints the probe's report as JSON: how long it took,
# who issued it (the worker pool, or the page), how late a 20 ms timer ran meanwhile, the JS heap;
# with a third argument `zip`, also the downloaded zip (base64) and the root CA's PEM; `count`,
# how many files the zip says it holds; a fourth argument MS presses Stop after MS milliseconds.
set -euo pipefail
dist="${1:-target/site}"
n="${2:-200}"
zip="${3:-}"
stop="${4:-0}"
. scripts/site-probe.sh
root=$(mktemp -d)
mkdir -p "$root/p"
with_probe "$dist" "$root/p/site" batch-probe.js
serve "$root"
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
node tests/site/cdp.js "http://127.0.0.1:$port/p/site/?n=$n&zip=$zip&stop=$stop" batch-report 300
