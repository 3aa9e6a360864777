#!/usr/bin/env bash
# Creates (or refreshes, when interop/requirements.txt changed) the Python venv holding the
# third-party clients of the interop suites, and prints its path. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${TOOLS_DIR:-$HOME/.cache/llm-gateway-toolkit}/venv"
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum interop/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r interop/requirements.txt >&2
  echo "$wanted" > "$stamp"
fi
echo "$venv"
