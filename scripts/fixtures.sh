#!/usr/bin/env bash
# What the browser tests talk to, on loopback ports of their own (18081-18894, never those of
# ./scripts/run.sh): localhub, the test browser's trust and certificate store with its Chromium
# policy, and mosquitto.
#
#   ./scripts/fixtures.sh up     start them; write target/fixtures/env.sh for the tests
#   ./scripts/fixtures.sh down   stop them and remove the Chromium policy
#   ./scripts/fixtures.sh run CMD...   up, run CMD with that environment (Chromium's HOME is the
#                                      test store), down; exits with CMD's status
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. scripts/fixtures/common.sh

up() {
  : >"$FIXTURES/env.sh"
  bash scripts/fixtures/localhub.sh up &&
    bash scripts/fixtures/browser-store.sh up &&
    bash scripts/fixtures/mosquitto.sh up
}

down() {
  bash scripts/fixtures/mosquitto.sh down
  bash scripts/fixtures/browser-store.sh down
  bash scripts/fixtures/localhub.sh down
  rm -f "$FIXTURES/env.sh"
}

case "${1:-}" in
up) up || { down; exit 1; } ;;
down) down ;;
run)
  shift
  [ "$#" -gt 0 ] || { echo "usage: $0 run CMD..."; exit 2; }
  trap down EXIT
  up || exit 1
  . "$FIXTURES/env.sh"
  # Chromium reads trust and client certificates from $HOME/.pki/nssdb; cargo and rustup keep
  # their own homes.
  env CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    HOME="$HUBCERT_BROWSER_HOME" "$@"
  ;;
*) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
