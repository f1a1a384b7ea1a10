#!/usr/bin/env bash
# Serves a built dist/ below a path prefix on loopback with a plain static server, opens it in
# headless Chromium and checks that the app rendered: proves the site uses relative URLs only.
set -euo pipefail
dist="${1:-dist}"
root=$(mktemp -d)
mkdir -p "$root/some/prefix"
cp -r "$dist" "$root/some/prefix/hubcert"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$root"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
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
echo "the app rendered from http://127.0.0.1:$port/some/prefix/hubcert/"
