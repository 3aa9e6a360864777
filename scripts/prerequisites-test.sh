#!/usr/bin/env bash
# A test of scripts/prerequisites.sh on a machine made bare by hiding tools from PATH: with
# redis-server, Node.js and npm hidden and installs off, it fails with one line per tool naming
# the command that installs it; with everything on PATH, it passes.
set -euo pipefail
cd "$(dirname "$0")/.."

bare=$(mktemp -d)
trap 'rm -rf "$bare"' EXIT
for tool in cargo python3 id; do
  ln -s "$(command -v "$tool")" "$bare/$tool"
done

if PATH="$bare" PREREQUISITES_INSTALL=never /bin/bash scripts/prerequisites.sh 2>"$bare/said"; then
  echo "FAIL: prerequisites.sh passed with redis-server, node and npm hidden" >&2
  exit 1
fi
for expected in \
  "prerequisite missing: redis-server — install it with: sudo apt-get install -y redis-server" \
  "prerequisite missing: node — install it with: sudo apt-get install -y nodejs npm" \
  "prerequisite missing: npm — install it with: sudo apt-get install -y npm"; do
  if ! grep -qxF "$expected" "$bare/said"; then
    echo "FAIL: expected the line: $expected" >&2
    cat "$bare/said" >&2
    exit 1
  fi
done

PREREQUISITES_INSTALL=never scripts/prerequisites.sh
echo "prerequisites.sh: a bare machine is told what to install; this one has everything"
