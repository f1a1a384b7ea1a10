#!/usr/bin/env bash
# Command 2: every check and test. Ends with "N passed, N failed"; exits non-zero on any failure.
# Each cargo test run adds its own counts; each other step (fmt, clippy, build, site check) counts
# as one check, so a step that fails to even compile still shows up as failed.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
failed_steps=()
log_dir=$(mktemp -d)

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

# A check that either passes or fails as a whole.
check() {
  local name="$1"; shift
  step "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_steps+=("$name"); fi
}

# A cargo test run: add up its "test result" lines.
tests() {
  local name="$1"; shift
  step "$name"
  local log="$log_dir/$(echo "$name" | tr -c 'a-z0-9' '_').log"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
  f=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    failed_steps+=("$name")
    # A crash or compile error reports no failed test: count the step itself.
    [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
  fi
}

check "Node.js device SDK for the interop test (npm ci)" npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
check "rustfmt" cargo fmt --all --check
check "no import cycles (ARCHITECTURE.md)" python3 scripts/check-cycles.py
check "no function of the app over 120 lines (scripts/fn-length-allow.txt lists what remains)" python3 scripts/check-fn-length.py
check "clippy (native)" cargo clippy --workspace --all-targets --locked -- -D warnings
check "clippy (wasm32)" cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
# The page's first module: the crate without `full` (no RSA, no whole-app parts).
check "clippy (wasm32, the page's first module)" cargo clippy --lib --bin hubcert --locked --target wasm32-unknown-unknown --no-default-features -- -D warnings
check "clippy (wasm32, a route module: every route feature without the whole app)" cargo clippy --lib --bin hubcert-hub --locked --target wasm32-unknown-unknown --no-default-features --features route-connect,route-upload,route-register,route-test,route-dps,route-inspect,route-decode,route-expiry,route-renew,route-rollover,route-revoke,route-workspace -- -D warnings
# Every workspace member's graph (hubcert and localhub); cargo metadata needs all of its packages.
check "cargo deny (licenses, bans, sources)" bash -c \
  'cargo fetch --locked -q && "$HUBCERT_CARGO_DENY" --workspace --offline check bans licenses sources'
# The RustSec database from GitHub where reachable, else its snapshot in tests/advisory-db/.
check "cargo deny (advisories)" bash scripts/advisories.sh
tests "native tests (OpenSSL 3, webpki, localhub with rumqttc and the Node.js SDK)" cargo test --workspace --locked
check "the fuzz targets build the crate versions that ship (fuzz/Cargo.lock)" python3 scripts/check-fuzz-lock.py
check "fuzz targets, 10 s each (scripts/fuzz.sh: a panic, a 5 s input or 1 GiB is a finding)" bash scripts/fuzz.sh 10
# The browser tests talk to fixtures of their own on loopback ports run.sh never takes (18081-18894):
# a localhub with a fresh TLS root, the test browser's store (that root trusted, a provisioned and
# a rogue X.509 device, a Chromium policy choosing between them) and mosquitto.
trap 'bash scripts/fixtures.sh down' EXIT
if bash scripts/fixtures.sh up; then
  . target/fixtures/env.sh
else
  echo "the browser test fixtures did not come up: the browser tests that need them will fail"
fi
tests "browser tests (headless Chromium; hub steps and device over WSS against localhub)" \
  env CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
  HOME="${HUBCERT_BROWSER_HOME:-$HOME}" cargo test --locked --target wasm32-unknown-unknown
if [ -n "${HUBCERT_MOSQUITTO_RECEIVED:-}" ]; then
  kill "$(cat target/fixtures/mosquitto_sub.pid 2>/dev/null)" 2>/dev/null || true
  check "the page's telemetry reached mosquitto_sub through mosquitto's TLS websockets listener" \
    grep -q "{\"from\":\"the page through mosquitto\"}" "$HUBCERT_MOSQUITTO_RECEIVED"
fi
bash scripts/fixtures.sh down
# Built beside, not into, dist/: a `trunk serve` of run.sh may be using dist/ meanwhile.
check "release build (trunk)" trunk build --release --dist target/site
check "static site from a path prefix (headless Chromium)" bash scripts/check-site.sh target/site

printf '\n'
if [ "${#failed_steps[@]}" -gt 0 ]; then printf 'failed: %s\n' "${failed_steps[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
