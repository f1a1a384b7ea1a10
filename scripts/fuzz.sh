#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with cargo fuzz (libFuzzer, nightly):
#   certificate, csr, key, pkcs12, pem  the importers (pem: the inspector's entry point)
#   bundle    chain files and .p7b bundles, through import_bundle with the seeds' CA key
#   vault     a saved workspace file: the sealed header up to the key derivation, and the
#             workspace JSON inside
#   handoff   the JSON the page's first module hands the whole app (its workspace restored)
#   codec     the MQTT 3.1.1 codec on any bytes in any split (read, written back, read the same)
#   mqtt, dps bytes from a server into the client session and a device's DPS registration
#   localhub  bytes from a client as localhub frames and reads them (CONNECT user names and SAS
#             passwords, PUBLISH topics and JSON, SUBSCRIBE filters)
#   contract  topics, user names, SAS tokens, ids, device/enrollment/registration JSON
#   iothub    IoT Hub's error texts, batch id ranges, connection strings, service answers
# Seeds live in fuzz/corpus/<target>/ (committed, small); what a run finds beyond them goes to
# fuzz/target/corpus/<target>/ (kept between runs, not committed). An input slower than 5 s or
# using more than 1 GiB counts as a finding, like a crash. Prints executions and findings per
# target; exits non-zero on any finding.
#   scripts/fuzz.sh [seconds per target, default 60] [target...]
#   scripts/fuzz.sh seeds      writes the seeds afresh from OpenSSL and documented packets
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
targets=(certificate csr key pkcs12 pem bundle vault handoff codec mqtt dps localhub contract iothub query)
corpus=fuzz/corpus

# The seeds: written when asked, or for a target that has none (a new target).
seeds() {
  local seed
  seed=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$seed'" RETURN
  o() { openssl "$@" 2>/dev/null; }
  for t in "${targets[@]}"; do rm -rf "${corpus:?}/$t"; mkdir -p "$corpus/$t"; done
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
  # Without a MAC, a mutation is not refused by the integrity check first: it reaches the bags
  # (encrypted as usual, and in the clear).
  o pkcs12 -export -nomac -inkey "$seed/ec.key" -in "$seed/ec.pem" -passout pass:fuzz -out "$seed/nomac.pfx"
  o pkcs12 -export -nomac -keypbe NONE -certpbe NONE -inkey "$seed/ec.key" -in "$seed/ec.pem" \
    -passout pass:fuzz -out "$seed/clear.pfx"
  cp "$seed"/ec.pem "$seed"/rsa.pem "$seed"/ec.der "$corpus/certificate/"
  cp "$seed"/ec.csr "$seed"/rsa.csr "$seed"/ec.csr.der "$corpus/csr/"
  cp "$seed"/ec.key "$seed"/rsa.key "$seed"/ec.sec1 "$seed"/rsa.pkcs1 "$seed"/ec.enc "$seed"/ec.key.der "$corpus/key/"
  cp "$seed"/*.pfx "$corpus/pkcs12/"
  cp "$seed"/ec.pem "$seed"/ec.der "$seed"/ec.csr "$seed"/ec.key "$seed"/ec.enc "$seed"/modern.pfx "$corpus/pem/"

  # A root and an intermediate CA whose key is fuzz/seeds/ca.key (the bundle target imports with
  # it), and a device it signed.
  local ca=fuzz/seeds/ca.key
  [ -s "$ca" ] || o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$ca"
  local ext="$seed/ext.cnf"
  printf '[ca]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n[dev]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
  o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$seed/root.key" -out "$seed/root.pem" \
    -subj "/O=Seed/CN=seed-root" -days 3650 -addext "keyUsage=critical,keyCertSign,cRLSign"
  o req -new -key "$ca" -subj "/O=Seed/CN=seed-intermediate" -out "$seed/int.csr"
  o x509 -req -in "$seed/int.csr" -CA "$seed/root.pem" -CAkey "$seed/root.key" -set_serial 2 -days 3650 \
    -extfile "$ext" -extensions ca -out "$seed/int.pem"
  o req -new -key "$seed/ec.key" -subj "/CN=seed-device" -out "$seed/dev.csr"
  o x509 -req -in "$seed/dev.csr" -CA "$seed/int.pem" -CAkey "$ca" -set_serial 3 -days 365 \
    -extfile "$ext" -extensions dev -out "$seed/dev.pem"
  cat "$seed/int.pem" "$seed/root.pem" >"$corpus/bundle/chain.pem"
  cat "$seed/root.pem" "$seed/dev.pem" "$seed/int.pem" >"$corpus/bundle/unordered.pem"
  o x509 -in "$seed/int.pem" -outform DER -out "$corpus/bundle/int.der"
  o crl2pkcs7 -nocrl -certfile "$corpus/bundle/chain.pem" -outform DER -out "$corpus/bundle/chain.p7b"
  o crl2pkcs7 -nocrl -certfile "$corpus/bundle/unordered.pem" -out "$corpus/bundle/unordered.p7b.pem"
  o pkcs8 -topk8 -nocrypt -in "$ca" -out "$seed/ca.pkcs8"

  # vault: 0 then a workspace's JSON, 1 then a sealed file (its ciphertext random: the target
  # stops before the key derivation).
  python3 - "$seed" "$corpus/vault" <<'PY'
import base64, json, os, sys
seed, out = sys.argv[1], sys.argv[2]
read = lambda n: open(os.path.join(seed, n)).read()
def put(name, first, text):
    open(os.path.join(out, name), "wb").write(bytes([first]) + text.encode())
put("empty", 0, json.dumps({"version": 1, "cas": [], "activeCa": 0, "devices": [], "settings": None}))
put("ca-and-device", 0, json.dumps({
    "version": 1,
    "cas": [{"title": "Intermediate CA 1", "certificate": read("int.pem"), "key": read("ca.pkcs8"),
             "issuers": [read("root.pem")]}],
    "activeCa": 0,
    "devices": [{"title": "seed-device", "certificate": read("dev.pem")}],
    "settings": {"hub": {"name": "seed", "sas": "SharedAccessSignature sr=x&sig=y&se=1"}}}))
# handoff: what the first module passes to the whole app, with and without a workspace.
handoff = os.path.join(os.path.dirname(out), "handoff")
os.makedirs(handoff, exist_ok=True)
def put_handoff(name, value):
    open(os.path.join(handoff, name), "w").write(json.dumps(value))
put_handoff("forms-only", {"workspace": None, "drafts": {"d-id": "line-4-sensor", "d-key": "rsa2048"},
                           "focus": {"id": "d-id", "start": 2, "end": 5}, "scrollY": 412.5, "open": "batch"})
put_handoff("with-workspace", {"workspace": {
    "version": 1,
    "cas": [{"title": "Intermediate CA 1", "certificate": read("int.pem"), "key": read("ca.pkcs8"),
             "issuers": [read("root.pem")]}],
    "activeCa": 0,
    "devices": [{"title": "seed-device", "certificate": read("dev.pem")}],
    "settings": None}, "verification": read("dev.pem"), "drafts": {}, "scrollY": 0})
b64 = lambda n: base64.b64encode(os.urandom(n)).decode()
for name, memory in (("sealed", 19456), ("weak", 4096)):
    put(name, 1, json.dumps({
        "format": "hubcert-workspace", "version": 1,
        "kdf": {"name": "argon2id", "memoryKib": memory, "iterations": 2, "parallelism": 1, "salt": b64(16)},
        "cipher": {"name": "aes-256-gcm", "nonce": b64(12)},
        "ciphertext": b64(64)}, indent=2))
PY

  # split size, CONNACK accepted, SUBACK, PUBLISH QoS 1 (C2D), PUBACK, PINGRESP
  printf '\x05\x20\x02\x00\x00\x90\x03\x00\x01\x01\x32\x0c\x00\x05a/b/c\x00\x07hi!\x40\x02\x00\x02\xd0\x00' > "$corpus/mqtt/seed"
  # DPS: CONNACK, then a 202 with retry-after and a 200 assignment, as QoS 0 PUBLISHes.
  # localhub: what a hub device and a DPS device send, each in one split.
  # contract and iothub: a selector byte, then the input.
  python3 - "$corpus" <<'PY'
import os, sys
corpus = sys.argv[1]
def put(target, name, data):
    open(os.path.join(corpus, target, name), "wb").write(data)
def s(text):
    b = text.encode()
    return len(b).to_bytes(2, "big") + b
def packet(kind, body):
    n, length = len(body), b""
    while True:
        byte, n = n % 128, n // 128
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            return bytes([kind]) + length + body
def publish(topic, body, qos=0, pkid=1):
    return packet(0x30 | (qos << 1), s(topic) + (pkid.to_bytes(2, "big") if qos else b"") + body.encode())
def connect(client, user, password):
    return packet(0x10, s("MQTT") + bytes([4, 0xC2]) + (60).to_bytes(2, "big") + s(client) + s(user) + s(password))

data = bytes([0x40, 0x20, 0x02, 0x00, 0x00])
data += publish("$dps/registrations/res/202/?$rid=1&retry-after=1", '{"operationId":"4.a","status":"assigning"}')
data += publish("$dps/registrations/res/200/?$rid=2", '{"operationId":"4.a","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}')
put("dps", "seed", data)

host = "fuzz.azure-devices.net"
sas = "SharedAccessSignature sr=fuzz.azure-devices.net%2Fdevices%2Fsensor-1&sig=DaHvW0J0YSqsdC1gR3qD9hx%2Fo%2F3OQ7iwpaIfm%2BMEJ3g%3D&se=1900000000"
hub = connect("sensor-1", f"{host}/sensor-1/?api-version=2021-04-12", sas)
hub += packet(0x82, (1).to_bytes(2, "big") + s("devices/sensor-1/messages/devicebound/#") + b"\x01"
              + s("$iothub/twin/res/#") + b"\x00" + s("$iothub/methods/POST/#") + b"\x00")
hub += publish("devices/sensor-1/messages/events/%24.ct=application%2Fjson&temp=21", '{"t":21}', qos=1, pkid=2)
hub += publish("$iothub/twin/PATCH/properties/reported/?$rid=3", '{"firmware":"1.0","n":null}')
hub += publish("$iothub/twin/GET/?$rid=4", "")
hub += publish("$iothub/methods/res/200/?$rid=5", '{"ok":true}')
hub += bytes([0xC0, 0x00, 0xE0, 0x00])
put("localhub", "hub", bytes([0xFF]) + hub)
dps = connect("sensor-2", "0ne00000000/registrations/sensor-2/api-version=2019-03-31", "")
dps += packet(0x82, (1).to_bytes(2, "big") + s("$dps/registrations/res/#") + b"\x01")
dps += publish("$dps/registrations/PUT/iotdps-register/?$rid=1", '{"registrationId":"sensor-2","payload":{"a":1}}')
dps += publish("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.a", "")
put("localhub", "dps", bytes([0x07]) + dps)
# codec: the same client packets, and a server's, split after the first byte's worth.
put("codec", "hub", bytes([0x11]) + hub)
put("codec", "dps", bytes([0x07]) + dps)

device = '{"deviceId":"sensor-1","etag":"AAAA","status":"enabled","connectionState":"Disconnected","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"A9993E364706816ABA3E25717850C26C9CD0D89D","secondaryThumbprint":null}},"capabilities":{"iotEdge":false}}'
group = '{"enrollmentGroupId":"fleet","attestation":{"type":"x509","x509":{"caReferences":{"primary":"root","secondary":null}}},"provisioningStatus":"enabled","etag":"\\"1\\""}'
individual = '{"registrationId":"sensor-2","deviceId":"sensor-2","attestation":{"type":"x509","x509":{"clientCertificates":{"primary":{"certificate":"MIIB"}}}},"provisioningStatus":"enabled"}'
operation = '{"operationId":"4.a","status":"assigned","registrationState":{"registrationId":"sensor-2","assignedHub":"h.azure-devices.net","deviceId":"sensor-2","status":"assigned"}}'
contract = [
    (0, "device", device), (1, "group", group), (2, "individual", individual),
    (3, "registration", '{"registrationId":"sensor-2","payload":{"modelId":"dtmi:x;1"}}'),
    (4, "operation", operation), (5, "device-again", device), (5, "group-again", group),
    (6, "telemetry", "devices/sensor-1/messages/events/%24.ct=application%2Fjson&a=b%20c"),
    (6, "twin", "$iothub/twin/res/200/?$rid=1&$version=4"),
    (6, "method", "$iothub/methods/POST/reboot/?$rid=9"),
    (7, "dps-topic", "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.a"),
    (7, "dps-response", "$dps/registrations/res/202/?$rid=1&retry-after=3"),
    (7, "filter", "devices/sensor-1/messages/devicebound/#"),
    (8, "user", f"{host}/sensor-1/?api-version=2021-04-12&DeviceClientType=x"),
    (8, "dps-user", "0ne00000000/registrations/sensor-2/api-version=2019-03-31"),
    (9, "sas", sas + "&skn=iothubowner"),
    (10, "ids", "sensor-1"), (10, "host", host),
    (11, "thumbprint", "A9993E364706816ABA3E25717850C26C9CD0D89D"),
]
for which, name, text in contract:
    put("contract", name, bytes([which]) + text.encode())
iothub = [
    (0, "401003", '{"Message":"{\\"errorCode\\":401003,\\"message\\":\\"Unauthorized. SHA1Hash=A9993E364706816ABA3E25717850C26C9CD0D89D SHA2Hash=BA7816BF\\"}","ExceptionMessage":""}'),
    (0, "tls", "SSL routines: certificate verify failed: unable to get local issuer certificate; alert unknown ca"),
    (0, "etag", '{"errorCode":412001,"message":"IH412001 etag mismatch","trackingId":"x"}'),
    (1, "ids", "sensor-{001..12}-a, sensor-x\nedge-{1..3}"),
    (2, "connection", "HostName=fuzz.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
    (2, "device-connection", "HostName=fuzz.azure-devices.net;DeviceId=sensor-1;x509=true"),
    (3, "device", device), (3, "groups", "[" + group + "]"),
]
for which, name, text in iothub:
    put("iothub", name, bytes([which]) + text.encode())

# The twin query's text: the fleet page's queries and the docs' examples.
queries = [
    ("all", "SELECT * FROM devices"),
    ("fleet", "SELECT deviceId, status, authenticationType, x509Thumbprint, lastActivityTime, "
     "properties.reported.certificate FROM devices WHERE properties.reported.certificate.validUntil "
     "< '2026-09-21T14:13:20Z' AND STARTSWITH(deviceId, 'it\\'s') AND NOT IS_DEFINED(tags.x)"),
    ("docs", "SELECT TOP 10 DeviceId AS id FROM devices WHERE (tags.location.region IN ['US', 'EU'] "
     "OR properties.reported.telemetryConfig.sendFrequencyInSecs >= 60) AND status <> 'disabled'"),
]
for name, text in queries:
    put("query", name, text.encode())
PY
}

if [ "${1:-}" = "seeds" ]; then
  seeds
  du -sh "$corpus"
  exit 0
fi
seconds="${1:-60}"
[ "$#" -gt 1 ] && targets=("${@:2}")
rustup toolchain list | grep -q nightly || { echo "cargo fuzz needs a nightly toolchain (scripts/setup.sh installs it)"; exit 2; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
for t in "${targets[@]}"; do
  [ -n "$(ls -A "$corpus/$t" 2>/dev/null)" ] || { echo "no seeds for $t: scripts/fuzz.sh seeds"; exit 2; }
done

# Every target in one build (they share the instrumented crate), then each binary in turn as
# `cargo fuzz run` would run it, so the runs test what was built even while the sources change.
cargo +nightly fuzz build --fuzz-dir fuzz
bin="fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

findings=0
for target in "${targets[@]}"; do
  found="fuzz/target/corpus/$target"
  mkdir -p "$found" "fuzz/artifacts/$target"
  before=$(ls "fuzz/artifacts/$target" | wc -l)
  log=$(mktemp)
  set +e
  ASAN_OPTIONS="detect_odr_violation=0" "$bin/$target" -artifact_prefix="fuzz/artifacts/$target/" \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=5 -rss_limit_mb=1024 \
    "$found" "$corpus/$target" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  new=$(( $(ls "fuzz/artifacts/$target" | wc -l) - before ))
  printf '%-12s %10s executions in %ss, exit %s, %s new findings in fuzz/artifacts/%s\n' \
    "$target" "$runs" "$seconds" "$rc" "$new" "$target"
  if [ "$rc" -ne 0 ]; then tail -40 "$log"; findings=$((findings + 1)); fi
  rm -f "$log"
done
[ "$findings" -eq 0 ]
