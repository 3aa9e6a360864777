# Sourced, not run: installs crabllm, the Rust LLM gateway we compare against (guarded,
# idempotent), into "$1/crabllm". Used by benches/load/run.sh.
CRABLLM_VERSION=0.0.25

install_crabllm() { # tools dir
  if ! "$1/crabllm/bin/crabllm" --help >/dev/null 2>&1 \
     || [ "$(cat "$1/crabllm/.version" 2>/dev/null)" != "$CRABLLM_VERSION" ]; then
    cargo install crabllm --version "$CRABLLM_VERSION" --locked --root "$1/crabllm" --quiet
    echo "$CRABLLM_VERSION" > "$1/crabllm/.version"
  fi
}
