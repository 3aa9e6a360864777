#!/usr/bin/env bash
# Checks what the test command needs besides the Rust toolchain, and installs what is missing
# when it can: cargo-nextest and cargo-machete from crates.io, and, as root with apt, Debian's
# redis-server (the shared rate-limit tests start their own) and Node.js with npm (the interop
# suites). Without root or apt, a missing tool stops the run with one line naming the command
# that installs it. Idempotent: every install is guarded.
#
# PREREQUISITES_INSTALL=never only checks (what a test of this script uses).
set -euo pipefail

install=${PREREQUISITES_INSTALL:-auto}
missing=0

have() { command -v "$1" >/dev/null 2>&1; }

can_apt() {
  [ "$install" != never ] && [ "$(id -u)" = 0 ] && have apt-get
}

# $1: the command that must exist; $2: the Debian packages that provide it.
debian() {
  local tool=$1 packages=$2
  have "$tool" && return 0
  if can_apt; then
    echo "==> installing $packages (for $tool)" >&2
    if ! apt-get install -y -q $packages >&2; then
      apt-get update -q >&2 && apt-get install -y -q $packages >&2
    fi
    have "$tool" && return 0
  fi
  echo "prerequisite missing: $tool — install it with: sudo apt-get install -y $packages" >&2
  missing=1
}

# $1: the cargo subcommand; $2: its crate.
cargo_tool() {
  local subcommand=$1 crate=$2
  cargo "$subcommand" --version >/dev/null 2>&1 && return 0
  if [ "$install" != never ]; then
    echo "==> installing $crate" >&2
    cargo install "$crate" --locked >&2 && return 0
  fi
  echo "prerequisite missing: cargo $subcommand — install it with: cargo install $crate --locked" >&2
  missing=1
}

if ! have cargo; then
  echo "prerequisite missing: cargo — install the Rust toolchain with rustup (https://rustup.rs)" >&2
  exit 1
fi
if ! have python3; then
  echo "prerequisite missing: python3 — install it with: sudo apt-get install -y python3 python3-venv" >&2
  exit 1
fi
cargo_tool nextest cargo-nextest
cargo_tool machete cargo-machete
debian redis-server redis-server
debian node "nodejs npm"
debian npm npm
exit "$missing"
