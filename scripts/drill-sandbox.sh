#!/usr/bin/env bash
# The newcomer's "run the main job": with its own set-up (system packages, npm packages, the build),
# then `hivectl drill --sandbox`, which brings the sandbox up (building it on first use), bootstraps
# both clusters, seeds data and runs the full DR drill with its report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-prereqs.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run build
exec node bin/hivectl.js drill --sandbox "$@"
