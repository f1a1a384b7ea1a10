#!/usr/bin/env bash
# Command 1: install what is missing, build the app and serve it on http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh
echo "hubcert: building and serving on http://127.0.0.1:8080 (first release build takes about 1-2 minutes)"
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
