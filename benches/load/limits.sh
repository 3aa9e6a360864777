#!/usr/bin/env bash
# Rate-limit accuracy, side by side (docs/benchmarks.md, "Rate limits: accuracy"): starts
# mock-ollama and redis-server on free loopback ports, then this gateway with one key limited to
# REQUESTS_PER_MINUTE requests and TOKENS_PER_MINUTE tokens, as 1 and 3 replicas, with its limits
# in memory and in Redis, and runs `load limits` against each from a fresh state (new processes,
# an empty Redis). The table goes to stdout and target/limits-report.md. Needs redis-server.
# Not part of the test command: benchmarks report, they do not gate.
set -euo pipefail
cd "$(dirname "$0")/../.."

REQUESTS_PER_MINUTE=${REQUESTS_PER_MINUTE:-300}
TOKENS_PER_MINUTE=${TOKENS_PER_MINUTE:-6000}
WINDOW_SECONDS=${WINDOW_SECONDS:-20}
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
wait_for() { # host:port
  for _ in $(seq 200); do
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
    LOAD_LIMITS_KEY=$KEY-requests "$BIN/load" --markdown "$REPORT" limits "${URLS[@]}" \
      --name "gateway ($store)" --window-seconds "$WINDOW_SECONDS" \
      --requests-per-minute "$REQUESTS_PER_MINUTE"
    LOAD_LIMITS_KEY=$KEY-tokens "$BIN/load" --markdown "$REPORT" limits "${URLS[@]}" \
      --name "gateway ($store)" --window-seconds "$WINDOW_SECONDS" \
      --tokens-per-minute "$TOKENS_PER_MINUTE"
    stop_all
  done
done
echo "report: $REPORT" >&2
