#!/usr/bin/env bash
# Runs every test of the workspace on a machine with the Rust toolchain and Python 3: what else it
# needs (cargo-nextest, cargo-machete, redis-server, Node.js) is installed first when missing
# (scripts/prerequisites.sh), then come the house's own checks (import circles, unused dependencies,
# rustdoc warnings), one shared build, the Rust suites (cargo nextest, or cargo test
# where nextest is missing), doc tests, the example crate outside the workspace
# (examples/rust-gateway, its own build in target/outside), the Python wheel and its pytest plugin
# in a fresh venv (scripts/python-wheel.sh), then the interop suites that drive our
# binaries with real third-party clients (Python venv from scripts/interop-venv.sh, npm packages in
# interop/node).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> prerequisites (installed when missing and possible, else named with their install command)"
scripts/prerequisites.sh
scripts/prerequisites-test.sh

echo "==> the house: no import circle in any crate, no unused dependency, docs without warnings"
python3 scripts/import-circles.py --self-test
python3 scripts/import-circles.py
cargo machete
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

echo "==> build (one build shared by every suite)"
cargo build --workspace --all-targets --locked

echo "==> Rust tests"
cargo nextest run --workspace --locked --no-fail-fast
cargo test --workspace --locked --doc

echo "==> examples/rust-gateway: a crate of its own, outside this workspace, judged by the toolkit"
CARGO_TARGET_DIR=target/outside cargo test --locked --manifest-path examples/rust-gateway/Cargo.toml

echo "==> python/: the wheel (mock-ollama, conformance, pytest plugin) in a fresh venv"
scripts/python-wheel.sh

echo "==> the gateway builds without its embedded mock (a production build)"
cargo check -p gateway --no-default-features --bins --locked

echo "==> interop: real clients against our binaries"
venv=$(scripts/interop-venv.sh)
"$venv/bin/python" -m pytest -q interop/python
(
  cd interop/node
  if [ ! -d node_modules/openai ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  node --test
)
