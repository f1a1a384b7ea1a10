# Sourced by scripts/check-site.sh and scripts/site-batch.sh: copies of a built site with a probe
# loaded into their page, and the static server they are served from.

# with_probe DIST DEST PROBE: copies DIST to DEST and loads tests/site/PROBE into its page (a file
# of the page's own origin, which its Content-Security-Policy allows).
with_probe() {
  cp -r "$1" "$2"
  cp "tests/site/$3" "$2/$3"
  python3 - "$2/index.html" "$3" <<'PY'
import sys
page, probe = sys.argv[1], sys.argv[2]
s = open(page).read()
open(page, "w").write(s.replace("</body>", f'<script src="./{probe}"></script></body>', 1))
PY
}

# serve ROOT [PORT]: a plain static server for ROOT on 127.0.0.1 (a free port unless PORT is given),
# up before it returns; sets $port and $server (its pid).
serve() {
  port="${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$1" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
}
