#!/usr/bin/env bash
# Fuzzes every importer with cargo fuzz (libFuzzer, nightly): certificate, csr, key, pkcs12, pem
# (the inspector's entry point), mqtt (bytes from a server into the client session) and dps (a
# device's registration with DPS). Seeds come from OpenSSL and the documented packets. Prints executions and crashes per target; exits non-zero on any crash.
#   scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
rustup toolchain list | grep -q nightly || { echo "cargo fuzz needs a nightly toolchain (rustup toolchain install nightly)"; exit 2; }

corpus=fuzz/corpus
mkdir -p "$corpus"/{certificate,csr,key,pkcs12,pem,mqtt,dps}
seed=$(mktemp -d)
trap 'rm -rf "$seed"' EXIT
o() { openssl "$@" 2>/dev/null; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$seed/ec.key" -out "$seed/ec.pem" \
  -subj "/CN=seed" -days 30 -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "extendedKeyUsage=clientAuth"
o req -x509 -newkey rsa:2048 -nodes -keyout "$seed/rsa.key" -out "$seed/rsa.pem" -subj "/CN=seed-rsa" -days 30
o x509 -in "$seed/ec.pem" -outform DER -out "$seed/ec.der"
o req -new -key "$seed/ec.key" -subj "/CN=seed-device" -out "$seed/ec.csr"
o req -new -key "$seed/rsa.key" -subj "/CN=seed-device" -out "$seed/rsa.csr"
o req -in "$seed/ec.csr" -outform DER -out "$seed/ec.csr.der"
o ec -in "$seed/ec.key" -out "$seed/ec.sec1"
o rsa -traditional -in "$seed/rsa.key" -out "$seed/rsa.pkcs1"
o pkcs8 -topk8 -v2 aes-256-cbc -passout pass:fuzz -in "$seed/ec.key" -out "$seed/ec.enc"
o pkcs8 -topk8 -nocrypt -outform DER -in "$seed/ec.key" -out "$seed/ec.key.der"
o pkcs12 -export -inkey "$seed/ec.key" -in "$seed/ec.pem" -passout pass:fuzz -out "$seed/modern.pfx"
o pkcs12 -export -legacy -inkey "$seed/rsa.key" -in "$seed/rsa.pem" -passout pass:fuzz -out "$seed/legacy.pfx" || true
cp "$seed"/ec.pem "$seed"/rsa.pem "$seed"/ec.der "$corpus/certificate/"
cp "$seed"/ec.csr "$seed"/rsa.csr "$seed"/ec.csr.der "$corpus/csr/"
cp "$seed"/ec.key "$seed"/rsa.key "$seed"/ec.sec1 "$seed"/rsa.pkcs1 "$seed"/ec.enc "$seed"/ec.key.der "$corpus/key/"
cp "$seed"/*.pfx "$corpus/pkcs12/"
cp "$seed"/ec.pem "$seed"/ec.der "$seed"/ec.csr "$seed"/ec.key "$seed"/ec.enc "$seed"/modern.pfx "$corpus/pem/"
# split size, CONNACK accepted, SUBACK, PUBLISH QoS 1 (C2D), PUBACK, PINGRESP
printf '\x05\x20\x02\x00\x00\x90\x03\x00\x01\x01\x32\x0c\x00\x05a/b/c\x00\x07hi!\x40\x02\x00\x02\xd0\x00' > "$corpus/mqtt/seed"
# DPS: CONNACK, then a 202 with retry-after and a 200 assignment, as QoS 0 PUBLISHes.
python3 - "$corpus/dps/seed" <<'PY'
import sys
def publish(topic, body):
    t = topic.encode(); b = body.encode()
    rest = len(t).to_bytes(2, "big") + t + b
    return bytes([0x30, len(rest)]) + rest
data = bytes([0x40, 0x20, 0x02, 0x00, 0x00])
data += publish("$dps/registrations/res/202/?$rid=1&retry-after=1", '{"operationId":"4.a","status":"assigning"}')
data += publish("$dps/registrations/res/200/?$rid=2", '{"operationId":"4.a","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}')
open(sys.argv[1], "wb").write(data)
PY

total_crashes=0
for target in certificate csr key pkcs12 pem mqtt dps; do
  log=$(mktemp)
  set +e
  cargo +nightly fuzz run --fuzz-dir fuzz "$target" "$corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  crashes=$(ls fuzz/artifacts/"$target" 2>/dev/null | wc -l)
  printf '%-12s %10s executions in %ss, exit %s, %s crash files\n' "$target" "$runs" "$seconds" "$rc" "$crashes"
  if [ "$rc" -ne 0 ]; then tail -30 "$log"; total_crashes=$((total_crashes + 1)); fi
  rm -f "$log"
done
[ "$total_crashes" -eq 0 ]
