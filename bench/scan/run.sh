#!/usr/bin/env bash
# bench/scan: `hivectl scan` of a KWOK cluster with 200 namespaces and 2,000 pods, against the
# listing floor (kubectl, one LIST per kind) measured in the same run with hyperfine, plus
# hivectl's API request count, then Polaris and kubescape built through the Go module proxy
# (timed on the same cluster when they build). Cleans the seeded objects up afterwards.
# Needs: a running sandbox (`node bin/hivectl.js sandbox up`), a built CLI, hyperfine, go.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${BENCH_OUT:-/tmp/hivectl-bench-scan}"
TOOLS="${BENCH_TOOLS:-$HOME/.cache/hivectl/bench/bin}"
RUNS="${BENCH_RUNS:-5}"
mkdir -p "$OUT" "$TOOLS"
eval "$(node bin/hivectl.js sandbox env)"
export NO_COLOR=1
trap 'node bench/scan/seed.mjs --delete >/dev/null 2>&1 || true' EXIT

node bench/scan/seed.mjs --namespaces "${BENCH_NAMESPACES:-200}" --pods "${BENCH_PODS:-10}" || exit 1
echo "pods in the cluster: $(kubectl get pods -A --no-headers | wc -l)"

# Same kinds, same cluster, one hyperfine run: the sequential floor is the baseline.
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
  -n 'kubectl floor (16 kinds, sequential)' 'bash bench/scan/floor.sh' \
  -n 'kubectl floor (16 kinds, parallel)' 'MODE=parallel bash bench/scan/floor.sh' \
  -n 'hivectl scan' 'node bin/hivectl.js scan --scope k8s -o json > /dev/null'
node bench/ratios.mjs "$OUT/hyperfine.json" 1.5 | sed 's/^startup:/scan:/'
node bin/hivectl.js scan --scope k8s -o json | node -e '
  let s=""; process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s).stats;
  console.log(`hivectl: ${j.k8sRequests} API requests for ${j.k8sObjects} objects (${j.workloads} workloads) in ${j.durationMs} ms`)})'
/usr/bin/time -f 'hivectl peak RSS: %M KiB' node bin/hivectl.js scan --scope k8s -o json > /dev/null

# Peers, built from the Go module proxy. A failed build is reported with its reason, not hidden.
peer() { # name module args...
  local name=$1 mod=$2; shift 2
  if [ ! -x "$TOOLS/$name" ]; then
    echo "building $name ($mod) ..."
    if ! GOBIN="$TOOLS" go install "$mod" > "$OUT/$name-build.log" 2>&1; then
      echo "$name: did not build: $(grep -v '^go: downloading' "$OUT/$name-build.log" | tail -3 | tr '\n' ' ')"
      return
    fi
  fi
  hyperfine --runs "${PEER_RUNS:-3}" --export-json "$OUT/$name.json" \
    -n 'hivectl scan' 'node bin/hivectl.js scan --scope k8s -o json > /dev/null' \
    -n "$name" "$TOOLS/$name $* > /dev/null 2>&1 || true"
  node bench/ratios.mjs "$OUT/$name.json" 1.0 | sed 's/^startup:/peer:/'
}
peer polaris github.com/fairwindsops/polaris@latest audit --format json
peer kubescape github.com/kubescape/kubescape/v3@latest scan framework nsa --format json --keep-local
