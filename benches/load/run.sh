#!/usr/bin/env bash
# The load benchmark in one command: builds the servers and the generator in release, installs
# LiteLLM (guarded; skip it with NO_LITELLM=1) and crabllm (guarded, ~4 min the first time; skip
# it with NO_CRABLLM=1), and runs `load`, which starts mock-ollama, the gateway and the peers on
# loopback, loads them, stops them, and prints the report (also written to
# target/load-report.md). Extra arguments go to `load` (see `load --help`); crabllm relays only
# OpenAI-compatible upstreams, so it takes part with `--upstream openai`.
# Not part of the test command: benchmarks report, they do not gate.
set -euo pipefail
cd "$(dirname "$0")/../.."

T=${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}
mkdir -p "$T" target
# shellcheck source=../../scripts/litellm.sh
. scripts/litellm.sh
# shellcheck source=../../scripts/crabllm.sh
. scripts/crabllm.sh
LITELLM_ARGS=()
if [ -z "${NO_LITELLM:-}" ]; then
  install_litellm "$T"
  LITELLM_ARGS=(--litellm "$T/litellm/bin/litellm" --litellm-version "$LITELLM_VERSION")
fi

CRABLLM_ARGS=()
if [ -z "${NO_CRABLLM:-}" ]; then
  install_crabllm "$T"
  CRABLLM_ARGS=(--crabllm "$T/crabllm/bin/crabllm" --crabllm-version "$CRABLLM_VERSION")
fi

cargo build --release --quiet -p mock-ollama -p gateway -p benches --bins
exec target/release/load "${LITELLM_ARGS[@]}" "${CRABLLM_ARGS[@]}" --markdown target/load-report.md "$@"
