#!/usr/bin/env bash
# Issuance speed against the script a user would write instead, in one run: a Python loop with
# `cryptography` (OpenSSL underneath) making P-256 device identities the page's way (key, a
# certificate with the page's fields signed by a P-256 root, both PEM and the DER, into a stored
# zip), single process on one core; then the built page issuing a batch of N (default 100,000) in
# headless Chromium, per core = N / seconds / workers; then the WebCrypto calls alone for N devices
# in as many workers (tests/site/webcrypto-floor.js: what the browser's crypto allows here); then
# the Python loop again. This machine's speed drifts within minutes, so the loop runs before and
# after the page and the ratio is taken against the faster of the two. Prints figures; asserts
# nothing.
# Usage: scripts/bench-issuance.sh [DIST (default target/site)] [N] [PYTHON_N (default 20000)]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
dist="${1:-target/site}"
n="${2:-100000}"
py_n="${3:-20000}"
python="$HUBCERT_PYTHON"
"$python" -c "import cryptography" 2>/dev/null || python="python3"
loop=$(mktemp)
floor_root=$(mktemp -d)
server=""
trap 'rm -f "$loop"; rm -rf "$floor_root"; [ -z "$server" ] || kill "$server" 2>/dev/null' EXIT
cat >"$loop" <<'PY'
import datetime, io, os, sys, time, zipfile
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID

n = int(sys.argv[1])
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MyOrg"),
    x509.NameAttribute(NameOID.COMMON_NAME, "IoT Root CA"),
])
ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
client = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=365)
width = len(str(n))
out = io.BytesIO()
start = time.perf_counter()
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    for i in range(1, n + 1):
        device = f"bench-{i:0{width}}"
        key = ec.generate_private_key(ec.SECP256R1())
        serial = bytearray(os.urandom(16))
        serial[0] = (serial[0] & 0x7F) | 0x40
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device)]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(int.from_bytes(serial, "big"))
                .not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(aki, critical=False)
                .add_extension(usage, critical=True)
                .add_extension(client, critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(ca_key, hashes.SHA256()))
        z.writestr(f"{device}.pem", cert.public_bytes(serialization.Encoding.PEM))
        z.writestr(f"{device}.key", key.private_bytes(serialization.Encoding.PEM,
                   serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        z.writestr(f"{device}.cer", cert.public_bytes(serialization.Encoding.DER))
secs = time.perf_counter() - start
print(f"{n} {secs:.3f} {out.tell()}")
PY
read -r made py_secs py_bytes < <(taskset -c 0 "$python" "$loop" "$py_n")
report=$(bash scripts/site-batch.sh "$dist" "$n" count)
# The page's worker count, read once: the WebCrypto-alone run uses as many.
workers=$(python3 - "$report" <<'PY'
import json, re, sys
r = json.loads(sys.argv[1])
if "ms" not in r or "error" in r:
    sys.exit(f"the page's batch did not finish: {r}")
print((re.search(r"by (\d+) workers?", r["result"]) or [None, 1])[1])
PY
)
. scripts/site-probe.sh
cp tests/site/webcrypto-floor.html tests/site/webcrypto-floor.js "$floor_root/"
serve "$floor_root"
floor=$(node tests/site/cdp.js "http://127.0.0.1:$port/webcrypto-floor.html?n=$n&workers=$workers" floor-report 300)
read -r _ py_secs_after _ < <(taskset -c 0 "$python" "$loop" "$py_n")
python3 - "$made" "$py_secs" "$py_bytes" "$report" "$floor" "$py_secs_after" "$workers" <<'PY'
import json, sys
made, zip_bytes = int(sys.argv[1]), int(sys.argv[3])
before, after = float(sys.argv[2]), float(sys.argv[6])
secs = min(before, after)
r = json.loads(sys.argv[4])
floor = json.loads(sys.argv[5])
workers = int(sys.argv[7])
py_rate = made / secs
page_s = r["ms"] / 1000
page_core = r["n"] / page_s / workers
print(f"python cryptography loop, one core: {made:,} P-256 identities in {before:.2f} s before the page, "
      f"{after:.2f} s after: the faster, {py_rate:,.0f} per second (zip {zip_bytes / made:,.0f} bytes a device)")
print(f"page, release build: {r['n']:,} in {r['ms']:,} ms on {workers} workers = {r['n'] / page_s:,.0f} per second, "
      f"{page_core:,.0f} per core (zip {r.get('zipBytes', 0) / r['n']:,.0f} bytes a device, {r.get('zipEntries', '?')} files); "
      f"20 ms timer at most {r['worstTimerLateMs']} ms late; JS heap {r.get('heapMiB', '?')} MiB, "
      f"WebAssembly memory {r.get('wasmMiB', '?')} MiB")
print(f"WebCrypto alone (key, PKCS#8 export, signature; nothing built): {floor['n']:,} in {floor['ms']:,} ms on "
      f"{floor['workers']} workers = {floor['n'] / floor['ms'] * 1000 / floor['workers']:,.0f} per core; "
      f"the page takes {r['ms'] / floor['ms']:.2f}x that")
print(f"page per core / python loop: {page_core / py_rate:.2f}x "
      f"(as fast as the loop: {r['n']:,} in {r['n'] / py_rate / workers:.1f} s on {workers} workers)")
PY
