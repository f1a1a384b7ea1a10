#!/usr/bin/env bash
# Serves a built dist/ below a path prefix on loopback with a plain static server, opens it in
# headless Chromium and checks that the app rendered: proves the site uses relative URLs only.
set -euo pipefail
. scripts/site-probe.sh
dist="${1:-dist}"
root=$(mktemp -d)
mkdir -p "$root/some/prefix"
cp -r "$dist" "$root/some/prefix/hubcert"
serve "$root"
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
dom=$(timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir="$root/profile" --virtual-time-budget=10000 --dump-dom \
  "http://127.0.0.1:$port/some/prefix/hubcert/" 2>/dev/null)
for expected in 'id="ca-create"' 'Create a root CA' 'id="d-create"' 'id="v-create"'; do
  if ! grep -q "$expected" <<<"$dom"; then
    echo "the app did not render from a path prefix: '$expected' missing from the page"
    exit 1
  fi
done
if grep -q 'id="loading"' <<<"$dom"; then
  echo "the app rendered but its \"Loading\" message is still on the page"
  exit 1
fi
echo "the app rendered from http://127.0.0.1:$port/some/prefix/hubcert/ (its loading message gone)"

# The first module hands the page to the whole app: what was made and typed carries over; a whole
# app that does not load is said, and loads on "Try again".
node tests/site/handoff.js "http://127.0.0.1:$port/some/prefix/hubcert/" >"$root/handoff.json" || {
  cat "$root/handoff.json"
  echo "the first module did not hand the page over to the whole app as it should"
  exit 1
}
echo "the first module handed the page to the whole app: root CA, device, typed id, focus and the part opened carried over; a refused load said so and loaded on Try again"

# A deep link to a route of a route module loads that module, never the first one; it hands the
# page to the whole app with what was typed.
node tests/site/route-module.js "http://127.0.0.1:$port/some/prefix/hubcert/" >"$root/route-module.json" || {
  cat "$root/route-module.json"
  echo "a route module did not draw its routes, or did not hand the page over as it should"
  exit 1
}
echo "each route module drew its routes from a deep link without the first module, and handed the page to the whole app with the typed settings"

# Lock leaves no key behind: before it the keys are found in the modules' memories; after it (the
# page reloads) neither memory, field nor storage holds a key or the typed passphrase.
node tests/site/lock.js "http://127.0.0.1:$port/some/prefix/hubcert/" >"$root/lock.json" || {
  cat "$root/lock.json"
  echo "Lock left a key or a passphrase in the page"
  exit 1
}
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"Lock: {r['keyFiles']} key files' scalars and text found in the memories before ({len(r['before'])} hits), none in either module's memory, the fields or storage after the reload\")" "$root/lock.json"

# The service worker keeps to its own cache (named by its scope) and fetches past the HTTP cache:
# a new deployment is seen though a CDN-like cache holds the old page, a planted entry in another
# cache of the origin is not served, and a second hubcert at another path keeps its cache.
node tests/site/sw-cache.js "$dist" >"$root/sw-cache.json" || {
  cat "$root/sw-cache.json"
  echo "the service worker served from outside its own cache, or a stale page"
  exit 1
}
echo "service worker: a new deployment seen past a one-hour HTTP cache, no other cache's entry served, a second hubcert's cache kept"

# Files named without a content hash (the whole app, the worker) are asked for with the build id,
# here and in the service worker's list, so no cache gives a new page an old one.
python3 - "$dist" <<'PY'
import os, re, sys
dist = sys.argv[1]
page = open(os.path.join(dist, "index.html")).read()
build = re.search(r'name="hubcert-build" content="([^"]+)"', page).group(1)
sw = open(os.path.join(dist, "sw.js")).read()
loader = open(os.path.join(dist, "batch-worker_loader.js")).read()
for name in ("hubcert-full.js", "hubcert-full_bg.wasm", "batch-worker.js", "batch-worker_bg.wasm", "batch-worker_loader.js"):
    if f'"./{name}?v={build}"' not in sw:
        sys.exit(f"the service worker does not list {name} with the build id {build}")
for name in ("batch-worker.js", "batch-worker_bg.wasm"):
    if f'"./{name}?v={build}"' not in loader:
        sys.exit(f"the worker's loader does not ask for {name} with the build id {build}: {loader}")
if f'content="hubcert-full.js?v={build}"' not in page:
    sys.exit("the page does not ask for the whole app with the build id")
print(f"the whole app and the worker are asked for as build {build}")
PY

# The Content-Security-Policy: written into the page, no violation through a short flow, and a
# call to an address it does not name is refused (by the policy, before any network).
grep -q 'http-equiv="Content-Security-Policy"' "$dist/index.html" || {
  echo "no Content-Security-Policy in $dist/index.html"
  exit 1
}
probe="$root/some/prefix/csp"
with_probe "$dist" "$probe" csp-probe.js
timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir="$root/profile2" --virtual-time-budget=15000 --dump-dom \
  "http://127.0.0.1:$port/some/prefix/csp/" >"$root/csp-dom.html" 2>/dev/null
python3 - "$root/csp-dom.html" <<'PY'
import html, json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<pre id="csp-report">(.*?)</pre>', dom, re.S)
if not m:
    sys.exit("CSP probe: no report (the page did not start under its policy?)")
r = json.loads(html.unescape(m.group(1)))
if r.get("error"):
    sys.exit(f"CSP probe: {r['error']}")
if r["steps"] != ["root", "device"]:
    sys.exit(f"CSP probe: the flow did not complete under the policy: {r['steps']}")
if r["violationsDuringFlow"]:
    sys.exit(f"CSP probe: violations during the flow: {r['violationsDuringFlow']}")
if not any("connect-src" in v and "127.0.0.2" in v for v in r["blocked"]):
    sys.exit(f"CSP probe: a call to http://127.0.0.2:9 was not refused by the policy: {r['blocked']}")
print("Content-Security-Policy: the flow ran with no violation; a call outside it was refused")
PY

# Offline: one visit installs the service worker, a second goes through it; with the server
# stopped, a third opens the page from what it kept and runs the flow.
offline_run() {
  timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$root/profile3" --virtual-time-budget=15000 --dump-dom \
    "http://127.0.0.1:$port/some/prefix/csp/" 2>/dev/null
}
offline_run >/dev/null
offline_run >/dev/null
kill $server 2>/dev/null; wait $server 2>/dev/null || true
if curl -sf "http://127.0.0.1:$port/" >/dev/null; then echo "the server is still up"; exit 1; fi
offline_run >"$root/offline-dom.html"
python3 - "$root/offline-dom.html" <<'PY'
import html, json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
if 'id="ca-create"' not in dom:
    sys.exit("offline: the page did not open with the server stopped")
status = re.search(r'id="offline-status"[^>]*>(.*?)</p>', dom, re.S)
if not status or "kept in this browser" not in status.group(1):
    sys.exit(f"offline: the page does not say it is kept: {status.group(1) if status else None}")
m = re.search(r'<pre id="csp-report">(.*?)</pre>', dom, re.S)
if not m:
    sys.exit("offline: the flow did not run")
r = json.loads(html.unescape(m.group(1)))
if r["steps"] != ["root", "device"]:
    sys.exit(f"offline: the flow did not complete: {r}")
print("offline: with the server stopped, the page opened from its service worker and made a root CA and a device")
PY
# The whole app too (loaded by the first module in real time, which --dump-dom does not wait for).
CHROMIUM_PROFILE="$root/profile3" node tests/site/whole-app.js "http://127.0.0.1:$port/some/prefix/csp/" || {
  echo "offline: the whole app did not load from what the service worker kept"
  exit 1
}

# A batch runs in the pool of workers (the worker files load beside the page, under the policy);
# OpenSSL checks what the user downloads: every certificate chains to the page's root and carries
# the public key of its key file. 1,000 devices: 3,000 files, so the zip crosses a handover of its
# bytes to the browser (every 2,048 files); Python reads every file's CRC.
bash scripts/site-batch.sh "$dist" 1000 zip >"$root/batch.json"
python3 - "$root/batch.json" "$root/batch" <<'PY'
import base64, io, json, os, subprocess, sys, zipfile
r = json.load(open(sys.argv[1]))
out = sys.argv[2]
if r.get("error") or "1000 device certificates issued" not in r.get("result", ""):
    sys.exit(f"batch in the built site: {r}")
if "worker" not in r["result"]:
    sys.exit(f"batch in the built site: not issued by workers: {r['result']}")
z = zipfile.ZipFile(io.BytesIO(base64.b64decode(r["zip"])))
names = z.namelist()
if len(names) != 3000:
    sys.exit(f"batch zip: {len(names)} files, not 3000 (pem, key, cer for 1,000 devices)")
bad = z.testzip()
if bad is not None:
    sys.exit(f"batch zip: {bad} does not match its CRC")
os.makedirs(out)
z.extractall(out)
root = os.path.join(out, "root.pem")
open(root, "w").write(r["root"])
def run(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"openssl {' '.join(args)}: {p.stderr}")
    return p.stdout
for n in (1, 682, 683, 684, 1000):
    stem = os.path.join(out, f"bench-{n:04d}")
    run("verify", "-CAfile", root, stem + ".pem")
    if run("x509", "-in", stem + ".pem", "-noout", "-pubkey") != run("pkey", "-in", stem + ".key", "-pubout"):
        sys.exit(f"{stem}.key is not the key of {stem}.pem")
    der = open(stem + ".cer", "rb").read()
    if run("x509", "-in", stem + ".cer", "-inform", "DER", "-noout", "-subject").strip() != run("x509", "-in", stem + ".pem", "-noout", "-subject").strip():
        sys.exit(f"{stem}.cer and .pem differ")
signer = r["result"].split("keys and signatures by ")[-1].split(".")[0]
print(f"a batch of 1,000 P-256 devices ran in the worker pool ({r['ms']} ms, keys and signatures by {signer}); OpenSSL verifies its zip")
PY

# A batch past the 10,000 the page keeps as cards and past the 65,535 files of a plain zip: all
# in the zip (ZIP64), the first 10,000 listed.
bash scripts/site-batch.sh "$dist" 22000 count >"$root/big-batch.json"
python3 - "$root/big-batch.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("error") or "22000 device certificates issued" not in r.get("result", ""):
    sys.exit(f"batch of 22,000 in the built site: {r}")
if "the first 10000 are also listed" not in r["result"]:
    sys.exit(f"batch of 22,000: the page does not say which devices it lists: {r['result']}")
if r.get("zipEntries") != 66000 or not r.get("zip64"):
    sys.exit(f"batch of 22,000: the zip holds {r.get('zipEntries')} files (ZIP64: {r.get('zip64')}), not 66,000 with ZIP64 end records")
print(f"a batch of 22,000 devices: {r['zipEntries']} files in a ZIP64 zip of {r['zipBytes'] // 1048576} MiB, the first 10,000 listed ({r['ms']} ms, timer at most {r['worstTimerLateMs']} ms late)")
PY

# Stop in the middle of a pooled batch keeps what was made, in order, and zips just that.
bash scripts/site-batch.sh "$dist" 20000 count 1500 >"$root/stopped-batch.json"
python3 - "$root/stopped-batch.json" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
m = re.match(r"(\d+) device certificates issued \(stopped early\): bench-00001 … bench-(\d+)\.", r.get("result", ""))
if r.get("error") or not m:
    sys.exit(f"a stopped batch: {r.get('error') or r.get('result')}")
made, last = int(m.group(1)), int(m.group(2))
if not 0 < made < 20000 or last != made:
    sys.exit(f"a stopped batch kept {made} devices ending at bench-{last}: not the first {made} in order")
if r.get("zipEntries") != 3 * made:
    sys.exit(f"a stopped batch of {made} devices: its zip holds {r.get('zipEntries')} files, not {3 * made}")
print(f"Stop in a pooled batch kept the first {made} of 20,000 devices, in order, and zipped their {r['zipEntries']} files")
PY

# A .pfx with 600,000 iterations is encrypted in a worker; OpenSSL opens it with the password.
with_probe "$dist" "$root/some/prefix/export" export-probe.js
serve "$root" "$port"
node tests/site/cdp.js "http://127.0.0.1:$port/some/prefix/export/" export-report 120 >"$root/export.json"
kill $server 2>/dev/null; wait $server 2>/dev/null || true
python3 - "$root/export.json" "$root" <<'PY'
import base64, json, os, subprocess, sys
r = json.load(open(sys.argv[1]))
if r.get("error") or not r.get("status", "").startswith("Saved"):
    sys.exit(f".pfx in the built site: {r.get('error') or r.get('status')}")
if "in a worker" not in r["status"]:
    sys.exit(f".pfx in the built site: not encrypted in a worker: {r['status']}")
path = os.path.join(sys.argv[2], "probe.pfx")
open(path, "wb").write(base64.b64decode(r["pfx"]))
p = subprocess.run(["openssl", "pkcs12", "-in", path, "-passin", "pass:export-probe-secret", "-info", "-noout"], capture_output=True, text=True)
if p.returncode != 0 or "Iteration 600000" not in p.stderr + p.stdout:
    sys.exit(f"openssl pkcs12 -info: {p.stderr}")
print(f"a .pfx (600,000 iterations) encrypted in a worker in {r['ms']} ms, a 20 ms timer at most {r['worstTimerLateMs']} ms late; OpenSSL opens it")
PY

# A new deployment (another build id) is picked up on the next visit and its build shown.
sed -i 's/const BUILD = "[^"]*"/const BUILD = "next-deployment"/' "$probe/sw.js"
sed -i 's/name="hubcert-build" content="[^"]*"/name="hubcert-build" content="next-deployment"/' "$probe/index.html"
serve "$root" "$port"
offline_run >"$root/update-dom.html"
grep -q 'id="offline-status"[^>]*>[^<]*next-deployment' "$root/update-dom.html" || {
  echo "a new deployment was not picked up: $(grep -o 'id="offline-status"[^<]*' "$root/update-dom.html")"
  exit 1
}
echo "offline: a new deployment was picked up on the next visit (build next-deployment shown)"
