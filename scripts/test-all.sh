#!/usr/bin/env bash
# The whole test suite, with its own set-up: system packages, npm packages, the build, the sandbox
# (built from the package registries on first use), then lint, types, unit tests on Node 20/22/24,
# and the integration + e2e tests against the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-prereqs.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
echo "== lint"; npx biome check .
echo "== typecheck"; npx tsc --noEmit
echo "== build"; npm run build
reports="$(mktemp -d)"
# Each run also writes a JSON report; the last line of this script sums them.
report() { echo "--reporter=default --reporter=json --outputFile.json=$reports/$1.json"; }
summary() { node scripts/test-summary.mjs "$reports"/*.json; }
trap 'summary || true; rm -rf "$reports"' EXIT
echo "== unit tests (node $(node --version))"; npx vitest run --project unit $(report unit-node20)
for v in 22 24; do
  nodebin="$(bash scripts/node-version.sh "$v")"
  echo "== unit tests (node $("$nodebin" --version))"
  "$nodebin" node_modules/vitest/vitest.mjs run --project unit $(report "unit-node$v")
done
if [ -d test/integration ] && ls test/integration/*.test.ts >/dev/null 2>&1; then
  # The sandbox first, through the CLI (the same code as the tests' globalSetup, which then reuses it):
  # on a fresh machine this builds Kubernetes, etcd and KWOK from their Go modules (8-10 min) and moto.
  echo "== sandbox up"; node bin/hivectl.js sandbox up
  echo "== integration + e2e tests (sandbox)"
  npx vitest run --project integration $(report integration)
fi
