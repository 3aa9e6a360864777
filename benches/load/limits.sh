#!/usr/bin/env bash
# Rate-limit accuracy, side by side (docs/benchmarks.md, "Rate limits"): starts mock-ollama and
# redis-server on free loopback ports, then each target with one key limited to
# REQUESTS_PER_MINUTE requests and another to TOKENS_PER_MINUTE tokens, and runs `load limits`
# against it from a fresh state (new processes, an empty Redis), each measure straddling a UTC
# minute, where per-minute counters reset. TARGETS (default "gateway crabllm litellm") picks them:
# - gateway: this gateway as 1 and 3 replicas, its limits in memory and in Redis;
# - crabllm: crabllm 0.0.25 (installed by scripts/crabllm.sh) with its rate_limit extension,
#   relaying to the mock's OpenAI layer, with its in-memory storage. Its Redis storage cannot be
#   measured: with the `storage-redis` feature 0.0.25 does not compile (E0308 in
#   crabllm-proxy/src/storage/redis.rs:74 against the redis version its lockfile pins).
# - litellm: the LiteLLM proxy 1.108.7 (installed by scripts/litellm.sh) as 1 and 3 replicas,
#   relaying to the mock's OpenAI layer. Its per-key limits live in its Postgres database, which
#   is not run here; what it limits without one is a deployment's `rpm`/`tpm` under the router's
#   usage-based-routing-v2, kept in each process or, with the router's redis_host/redis_port, in
#   Redis. Measured with its default retries and, once, with `num_retries: 0`.
# The limits are low enough for LiteLLM to keep up with 3× them on two cores.
# The table goes to stdout and target/limits-report.md. Needs redis-server.
# Not part of the test command: benchmarks report, they do not gate.
set -euo pipefail
cd "$(dirname "$0")/../.."

REQUESTS_PER_MINUTE=${REQUESTS_PER_MINUTE:-120}
TOKENS_PER_MINUTE=${TOKENS_PER_MINUTE:-1200}
WINDOW_SECONDS=${WINDOW_SECONDS:-20}
TARGETS=${TARGETS:-gateway crabllm litellm}  # which of them to measure
KEY=sk-limits-benchmark
REPORT=target/limits-report.md

cargo build --release --quiet -p mock-ollama -p gateway -p benches --bins
BIN=target/release
WORK=$(mktemp -d)
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap 'stop_all; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # host:port [tries of 50 ms]
  for _ in $(seq "${2:-200}"); do
    if (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  return 1
}

MOCK_PORT=$(free_port)
"$BIN/mock-ollama" --listen "127.0.0.1:$MOCK_PORT" --time-scale 0 >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
wait_for "127.0.0.1:$MOCK_PORT"
wait_for "127.0.0.1:$REDIS_PORT"
trap 'stop_all; kill $MOCK_PID $REDIS_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

# One measure ("requests" or "tokens") of one target through the replicas given as --url args.
measure() {
  local name=$1 what=$2
  shift 2
  local limit=(--requests-per-minute "$REQUESTS_PER_MINUTE")
  if [ "$what" = tokens ]; then limit=(--tokens-per-minute "$TOKENS_PER_MINUTE"); fi
  LOAD_LIMITS_KEY=$KEY-$what "$BIN/load" --markdown "$REPORT" limits "$@" --name "$name" \
    --window-seconds "$WINDOW_SECONDS" --straddle-minute "${limit[@]}"
}

# The gateway's config for a store: "memory" or "redis". Two keys, so that one limit being spent
# does not refuse the other's measure.
config() {
  local redis=""
  [ "$1" = redis ] && redis="redis_url = \"redis://127.0.0.1:$REDIS_PORT\""
  cat <<EOF
[[backends]]
name = "mock"
kind = "ollama"
base_url = "http://127.0.0.1:$MOCK_PORT"
models = ["llama3.2"]
[auth]
$redis
[[auth.keys]]
name = "requests"
key = "env:REQUESTS_KEY"
requests_per_minute = $REQUESTS_PER_MINUTE
[[auth.keys]]
name = "tokens"
key = "env:TOKENS_KEY"
tokens_per_minute = $TOKENS_PER_MINUTE
EOF
}

{
  echo "# Rate-limit accuracy"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs; toolkit $(git rev-parse --short HEAD)"
  echo "- one key limited to $REQUESTS_PER_MINUTE requests/min and $TOKENS_PER_MINUTE tokens/min;"
  echo "  3× each offered within ${WINDOW_SECONDS} s, evenly spread and round-robin over the replicas;"
  echo "  tokens measured with streamed requests, counted from their usage chunks"
  echo
} >"$REPORT"

for store in memory redis; do
  for replicas in 1 3; do
    [[ " $TARGETS " == *" gateway "* ]] || continue
    config "$store" >"$WORK/gateway.toml"
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    URLS=()
    for _ in $(seq "$replicas"); do
      port=$(free_port)
      RUST_LOG=warn REQUESTS_KEY=$KEY-requests TOKENS_KEY=$KEY-tokens "$BIN/gateway" --config "$WORK/gateway.toml" \
        --listen "127.0.0.1:$port" >>"$WORK/gateway.log" 2>&1 &
      PIDS+=($!)
      wait_for "127.0.0.1:$port"
      URLS+=(--url "http://127.0.0.1:$port")
    done
    echo "==> gateway, limits in $store, $replicas replica(s)" >&2
    measure "gateway ($store)" requests "${URLS[@]}"
    measure "gateway ($store)" tokens "${URLS[@]}"
    stop_all
  done
done

# crabllm's config: its rate_limit extension applies the same limits to every key, so each
# measure runs with only its own limit set.
crabllm_config() { # port measure
  local limits="requests_per_minute = $REQUESTS_PER_MINUTE"
  if [ "$2" = tokens ]; then
    limits="requests_per_minute = 1000000000, tokens_per_minute = $TOKENS_PER_MINUTE"
  fi
  cat <<CONFIG
listen = "127.0.0.1:$1"
admin_token = "sk-admin-limits"
[[keys]]
name = "requests"
key = "$KEY-requests"
models = ["*"]
[[keys]]
name = "tokens"
key = "$KEY-tokens"
models = ["*"]
[providers.mock]
kind = "openai"
api_key = "sk-upstream"
base_url = "http://127.0.0.1:$MOCK_PORT/v1"
models = ["llama3.2"]
[extensions]
rate_limit = { $limits }
CONFIG
}

if [[ " $TARGETS " == *" crabllm "* ]]; then
  T=${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}
  # shellcheck source=../../scripts/crabllm.sh
  . scripts/crabllm.sh
  install_crabllm "$T"
  for what in requests tokens; do
    port=$(free_port)
    crabllm_config "$port" "$what" >"$WORK/crabllm.toml"
    RUST_LOG=warn "$T/crabllm/bin/crabllm" serve --config "$WORK/crabllm.toml" \
      >>"$WORK/crabllm.log" 2>&1 &
    PIDS+=($!)
    wait_for "127.0.0.1:$port"
    echo "==> crabllm $CRABLLM_VERSION, memory storage, $what" >&2
    measure "crabllm $CRABLLM_VERSION (memory)" "$what" --url "http://127.0.0.1:$port"
    stop_all
  done
fi
# LiteLLM's config: one deployment of the mock with the measure's limit, the router counting
# usage per minute, in Redis for "redis". Its master key is the key measured.
litellm_config() { # store measure [router setting]
  local limit="rpm: $REQUESTS_PER_MINUTE"
  [ "$2" = tokens ] && limit="tpm: $TOKENS_PER_MINUTE"
  cat <<YAML
model_list:
  - model_name: llama3.2
    litellm_params:
      model: openai/llama3.2
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: sk-upstream
      $limit
litellm_settings:
  telemetry: false
  drop_params: true
  request_timeout: 30
router_settings:
  routing_strategy: usage-based-routing-v2
YAML
  if [ "$1" = redis ]; then
    printf '  redis_host: 127.0.0.1\n  redis_port: %s\n' "$REDIS_PORT"
  fi
  [ -n "${3:-}" ] && printf '  %s\n' "$3"
  printf 'general_settings:\n  master_key: %s\n' "$KEY-$2"
}

# One LiteLLM setup: both measures, each through fresh replicas and an empty Redis.
litellm_setup() { # store replicas label [router setting]
  local store=$1 replicas=$2 label=$3 setting=${4:-}
  for what in requests tokens; do
    litellm_config "$store" "$what" "$setting" >"$WORK/litellm-$what.yaml"
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    URLS=()
    for _ in $(seq "$replicas"); do
      port=$(free_port)
      "$T/litellm/bin/litellm" --config "$WORK/litellm-$what.yaml" --host 127.0.0.1 --port "$port" \
        >>"$WORK/litellm.log" 2>&1 &
      PIDS+=($!)
      URLS+=(--url "http://127.0.0.1:$port")
    done
    for url in "${URLS[@]}"; do
      [ "$url" = --url ] || wait_for "${url#http://}" 3600
    done
    echo "==> LiteLLM $LITELLM_VERSION, $label, $replicas replica(s), $what" >&2
    measure "LiteLLM $LITELLM_VERSION ($label)" "$what" "${URLS[@]}"
    stop_all
  done
}

if [[ " $TARGETS " == *" litellm "* ]]; then
  T=${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}
  # shellcheck source=../../scripts/litellm.sh
  . scripts/litellm.sh
  install_litellm "$T"
  for store in memory redis; do
    for replicas in 1 3; do
      litellm_setup "$store" "$replicas" "$store"
    done
  done
  litellm_setup memory 1 "memory, num_retries 0" "num_retries: 0"
fi
echo "report: $REPORT" >&2
