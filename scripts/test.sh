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
check "clippy (native)" cargo clippy --workspace --all-targets --locked -- -D warnings
check "clippy (wasm32)" cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
tests "native tests (OpenSSL 3, webpki, localhub with rumqttc and the Node.js SDK)" cargo test --workspace --locked
# The hub and device browser tests talk to a localhub of their own on fixed loopback ports, with a
# fresh TLS root that only the test browser trusts: Chromium reads trust from $HOME/.pki/nssdb, so
# the browser tests run with HOME pointed at a scratch directory holding that root.
localhub_dir="$log_dir/localhub"
browser_home="$log_dir/browser-home"
./target/debug/localhub --data-dir "$localhub_dir" --http-port 18081 --https-port 18443 \
  --mqtt-port 18883 --wss-port 18884 >"$log_dir/localhub.log" 2>&1 &
localhub_pid=$!
trap 'kill $localhub_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -f "$localhub_dir/tls/root-ca.pem" ] && (exec 3<>/dev/tcp/127.0.0.1/18081) 2>/dev/null && break; sleep 0.1; done
mkdir -p "$browser_home/.pki/nssdb"
certutil -N -d "sql:$browser_home/.pki/nssdb" --empty-password
certutil -A -d "sql:$browser_home/.pki/nssdb" -n "localhub test root" -t "C,," -i "$localhub_dir/tls/root-ca.pem"
export HUBCERT_LOCALHUB=http://127.0.0.1:18081 HUBCERT_LOCALHUB_WSS=localhost:18884
# An X.509 device in the browser's store: provisioned on that localhub as the app would (CA uploaded
# and verified, device registered CA-signed), exported as .pfx by OpenSSL, imported with pk12util;
# a managed Chromium policy selects it for localhub's WSS port (headless Chromium shows no picker).
x509_device="browser-x509-$$"
rogue_device="browser-rogue-$$"
# Each device goes to its own address of localhub's WSS port; the policy picks by subject CN.
cert_policy() { printf '"{\\"pattern\\":\\"https://%s\\",\\"filter\\":{\\"SUBJECT\\":{\\"CN\\":\\"%s\\"}}}"' "$1" "$2"; }
to_store() {
  openssl pkcs12 -export -inkey "$log_dir/x509/$1.key" -in "$log_dir/x509/$1.pem" \
    -name "$1" -out "$log_dir/x509/$1.pfx" -passout pass:test &&
  pk12util -i "$log_dir/x509/$1.pfx" -d "sql:$browser_home/.pki/nssdb" -W test -K ""
}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
policy_dir=/etc/chromium/policies/managed
policy="$policy_dir/hubcert-test.json"
if cargo run --locked -q -p localhub --example provision -- "$HUBCERT_LOCALHUB" "$log_dir/x509" "$x509_device" &&
  cargo run --locked -q -p localhub --example provision -- "$HUBCERT_LOCALHUB" "$log_dir/x509" "$rogue_device" --rogue &&
  to_store "$x509_device" && to_store "$rogue_device" &&
  $SUDO mkdir -p "$policy_dir" &&
  printf '{"AutoSelectCertificateForUrls": [%s, %s, %s]}\n' "$(cert_policy localhost:18884 "$x509_device")" \
    "$(cert_policy 127.0.0.1:18884 "$rogue_device")" "$(cert_policy localhost:18886 "$x509_device")" |
    $SUDO tee "$policy" >/dev/null; then
  export HUBCERT_X509_DEVICE="$x509_device" HUBCERT_X509_ROGUE="$rogue_device"
  trap 'kill $localhub_pid 2>/dev/null || true; $SUDO rm -f "$policy"' EXIT
else
  echo "could not put an X.509 device in the test browser's store: its test will fail"
fi
# The same page against a real broker: Debian's mosquitto with a TLS websockets listener that
# requires a client certificate from the provisioned device's CA (server certificate from a CA the
# test browser trusts), and a plain listener where mosquitto_sub waits for the page's telemetry.
mosq_dir="$log_dir/mosquitto"
mkdir -p "$mosq_dir"
mosquitto_ready=false
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$mosq_dir/ca.key" \
    -out "$mosq_dir/ca.pem" -subj "/CN=hubcert test broker CA" -days 2 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null &&
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$mosq_dir/server.key" \
    -out "$mosq_dir/server.csr" -subj "/CN=localhost" 2>/dev/null &&
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$mosq_dir/server.ext" &&
  openssl x509 -req -in "$mosq_dir/server.csr" -CA "$mosq_dir/ca.pem" -CAkey "$mosq_dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$mosq_dir/server.ext" -out "$mosq_dir/server.pem" 2>/dev/null &&
  certutil -A -d "sql:$browser_home/.pki/nssdb" -n "broker test CA" -t "C,," -i "$mosq_dir/ca.pem" &&
  [ -f "$log_dir/x509/$x509_device-ca.pem" ]; then
  chmod 644 "$mosq_dir"/*
  # Started as root, mosquitto would drop to its own user, which cannot read this directory.
  cat >"$mosq_dir/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings true
listener 18885 127.0.0.1
allow_anonymous true
listener 18886 127.0.0.1
protocol websockets
allow_anonymous true
cafile $log_dir/x509/$x509_device-ca.pem
certfile $mosq_dir/server.pem
keyfile $mosq_dir/server.key
require_certificate true
CONF
  /usr/sbin/mosquitto -c "$mosq_dir/mosquitto.conf" >"$mosq_dir/mosquitto.log" 2>&1 &
  mosquitto_pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/18886) 2>/dev/null && break; sleep 0.1; done
  mosquitto_sub -h 127.0.0.1 -p 18885 -t 'devices/#' -v -C 1 -W 300 >"$mosq_dir/received.txt" 2>&1 &
  mosquitto_sub_pid=$!
  export HUBCERT_MOSQUITTO_WSS=localhost:18886
  mosquitto_ready=true
  trap 'kill $localhub_pid $mosquitto_pid $mosquitto_sub_pid 2>/dev/null || true; $SUDO rm -f "$policy"' EXIT
else
  echo "could not start mosquitto's TLS websockets listener: the mosquitto browser test will fail"
fi
tests "browser tests (headless Chromium; hub steps and device over WSS against localhub)" \
  env CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" HOME="$browser_home" \
  cargo test --locked --target wasm32-unknown-unknown
kill $localhub_pid 2>/dev/null || true
$SUDO rm -f "$policy"
if $mosquitto_ready; then
  wait "$mosquitto_sub_pid" 2>/dev/null || true
  check "the page's telemetry reached mosquitto_sub through mosquitto's TLS websockets listener" \
    grep -q "{\"from\":\"the page through mosquitto\"}" "$mosq_dir/received.txt"
  kill "$mosquitto_pid" 2>/dev/null || true
fi
check "release build (trunk)" trunk build --release
check "static site from a path prefix (headless Chromium)" bash scripts/check-site.sh dist

printf '\n'
if [ "${#failed_steps[@]}" -gt 0 ]; then printf 'failed: %s\n' "${failed_steps[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
