#!/usr/bin/env bash
# Builds the Python wheel (python/: the mock-ollama and conformance commands and the pytest
# plugin) with maturin, installs it with pytest into a fresh venv, and runs the wheel's own tests
# and examples/fastapi-gateway's there: what `pip install` gives a user, with no Rust toolchain
# needed once the wheel exists. A debug build sharing target/outside with examples/rust-gateway;
# for a wheel to distribute: maturin build --release -m python/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_DIR=${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}
MATURIN_VERSION=1.16.0
maturin="$TOOLS_DIR/maturin/bin/maturin"
if ! "$maturin" --version 2>/dev/null | grep -qx "maturin $MATURIN_VERSION"; then
  rm -rf "$TOOLS_DIR/maturin"
  python3 -m venv "$TOOLS_DIR/maturin"
  "$TOOLS_DIR/maturin/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

rm -rf target/wheels
CARGO_TARGET_DIR=target/outside "$maturin" build --locked --manifest-path python/Cargo.toml \
  --out target/wheels
venv=target/wheel-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check target/wheels/*.whl pytest mypy \
  -r examples/fastapi-gateway/requirements.txt
# The package's types, as a user's type checker reads them, and the example's.
"$venv/bin/python" -m mypy --strict --no-incremental python/llm_gateway_toolkit python/tests
"$venv/bin/python" -m mypy --strict --no-incremental examples/fastapi-gateway
# From the repository's root, so that `llm_gateway_toolkit` is the installed package, not python/.
"$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests examples/fastapi-gateway
