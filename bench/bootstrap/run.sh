#!/usr/bin/env bash
# Wall time of `hivectl bootstrap --env prod -y` against `kubectl apply --server-side` of the same
# rendered manifests (+ `kubectl rollout status`, since bootstrap waits for the rollout too), on the
# running sandbox, fresh namespaces for every run; then a no-op rerun of each.
# Usage: bench/bootstrap/run.sh [runs]     (needs `hivectl sandbox up`; hyperfine if installed)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-1}"
HIVECTL=(node bin/hivectl.js)
[ -f dist/cli.js ] || npm run build >/dev/null
eval "$("${HIVECTL[@]}" sandbox env)"
KUBECTL="$(command -v kubectl)"   # the sandbox's kubectl: its bin dir is first on PATH
WORK="$(mktemp -d /tmp/hivectl-bench-bootstrap.XXXXXX)"
export HIVECTL_STATE_DIR="$WORK/state"
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

config() { # $1 = file, $2 = instance suffix
  cat >"$1" <<YAML
cluster:
  namespace: bb-$2-sys
platform:
  namespaces: { api: bb-$2-api, agents: bb-$2-agt }
YAML
}

cleanup() { # $1 = suffix
  "$KUBECTL" delete namespace "bb-$1-api" "bb-$1-agt" "bb-$1-sys" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  "$KUBECTL" delete priorityclass "bb-$1-api-priority" "bb-$1-agt-priority" --ignore-not-found >/dev/null 2>&1 || true
}

printf '%-44s %10s\n' "measurement" "seconds"
for run in $(seq 1 "$RUNS"); do
  id="$(date +%s%N | tail -c 7)$run"
  # hivectl: render -> dry-run plan -> apply in tiers -> watch rollout -> prune -> revision.
  config "$WORK/h.yaml" "h$id"
  t0=$(now)
  "${HIVECTL[@]}" --config "$WORK/h.yaml" bootstrap --env prod -y >/dev/null 2>"$WORK/h.err" || { cat "$WORK/h.err"; exit 1; }
  t1=$(now)
  "${HIVECTL[@]}" --config "$WORK/h.yaml" bootstrap --env prod -y >/dev/null 2>"$WORK/h2.err" || { cat "$WORK/h2.err"; exit 1; }
  t2=$(now)
  h_first=$(elapsed "$t0" "$t1"); h_noop=$(elapsed "$t1" "$t2")

  # kubectl: the same manifests (rendered by hivectl, already in dependency order), then rollout status.
  config "$WORK/k.yaml" "k$id"
  "${HIVECTL[@]}" --config "$WORK/k.yaml" bootstrap --render --env prod -o yaml >"$WORK/k.yaml.out" 2>/dev/null
  t0=$(now)
  "$KUBECTL" apply --server-side --field-manager=kubectl-bench -f "$WORK/k.yaml.out" >/dev/null
  "$KUBECTL" -n "bb-k$id-api" rollout status deployment/hive-api --timeout=300s >/dev/null
  "$KUBECTL" -n "bb-k$id-agt" rollout status deployment/agent-worker --timeout=300s >/dev/null
  t1=$(now)
  "$KUBECTL" apply --server-side --field-manager=kubectl-bench -f "$WORK/k.yaml.out" >/dev/null
  t2=$(now)
  k_first=$(elapsed "$t0" "$t1"); k_noop=$(elapsed "$t1" "$t2")

  printf '%-44s %10.2f\n' "run $run: hivectl bootstrap (first, with rollout)" "$h_first"
  printf '%-44s %10.2f\n' "run $run: kubectl apply --server-side + rollout" "$k_first"
  printf '%-44s %10.2f\n' "run $run: ratio hivectl / kubectl (first)" "$(echo "$h_first / $k_first" | bc -l)"
  printf '%-44s %10.2f\n' "run $run: hivectl bootstrap no-op rerun" "$h_noop"
  printf '%-44s %10.2f\n' "run $run: kubectl apply --server-side no-op" "$k_noop"
  printf '%-44s %10.2f\n' "run $run: ratio hivectl / kubectl (no-op)" "$(echo "$h_noop / $k_noop" | bc -l)"
  cleanup "h$id"; cleanup "k$id"
done

# The no-op rerun again, with hyperfine when it is installed (warm-up + 5 runs), on a fresh instance.
id="n$(date +%s%N | tail -c 7)"
config "$WORK/n.yaml" "$id"
"${HIVECTL[@]}" --config "$WORK/n.yaml" bootstrap --env prod -y >/dev/null 2>&1
"${HIVECTL[@]}" --config "$WORK/n.yaml" bootstrap --render --env prod -o yaml >"$WORK/n.out" 2>/dev/null
"$KUBECTL" apply --server-side --field-manager=kubectl-bench -f "$WORK/n.out" >/dev/null 2>&1 || true
if command -v hyperfine >/dev/null; then
  hyperfine -i --warmup 1 --runs 5 --style basic \
    -n 'hivectl bootstrap (no-op)' "node bin/hivectl.js --config $WORK/n.yaml bootstrap --env prod -y" \
    -n 'kubectl apply --server-side (no-op)' "$KUBECTL apply --server-side --field-manager=kubectl-bench -f $WORK/n.out" 2>&1 |
    grep -E 'Time|±|faster|hivectl|kubectl' || true
fi
cleanup "$id"
