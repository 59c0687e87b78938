#!/usr/bin/env bash
# The full DR drill on the sandbox (`hivectl drill --sandbox`), reporting: wall time, the share of it
# hivectl spends on its own work (CPU time of the hivectl process) versus waiting on servers, the
# failover RTO against the 30 s target, and how soon the watch noticed the DR Deployments Ready.
# Baseline in the same run: `kubectl scale` 0 -> N + `kubectl rollout status` of the same DR Deployments
# (the floor of a failover's scale-up on this machine).
# Usage: bench/drill/run.sh [--scenario full|failover]     (builds; brings the sandbox up if needed)
# HIVECTL_BENCH_REPO=DIR runs the hivectl of another checkout/copy (bin + dist), e.g. one nobody rebuilds mid-run.
set -euo pipefail
cd "$(dirname "$0")/../.."
SCENARIO="${2:-full}"
[ "${1:-}" = "--scenario" ] || SCENARIO=full
[ -f dist/cli.js ] || npm run build >/dev/null
WORK="$(mktemp -d /tmp/hivectl-bench-drill.XXXXXX)"
export HIVECTL_STATE_DIR="$WORK/state"
trap 'rm -rf "$WORK"' EXIT

REPO="${HIVECTL_BENCH_REPO:-$PWD}"
start=$(date +%s.%N)
( cd "$WORK" && /usr/bin/time -v -o "$WORK/time.txt" node "$REPO/bin/hivectl.js" drill --sandbox --scenario "$SCENARIO" \
    --report "$WORK/report.json" --format json >"$WORK/out.txt" 2>"$WORK/err.txt" ) || {
  code=$?
  if [ "$code" != 3 ]; then echo "drill failed (exit $code):"; tail -20 "$WORK/err.txt"; exit "$code"; fi
}
end=$(date +%s.%N)

eval "$(node bin/hivectl.js sandbox env)"
CFG="$(node -e 'const i=require(process.argv[1]);console.log(i.stateDir+"/drill/hivectl.yaml")' "$(dirname "$KUBECONFIG")/info.json")"
DR="$(grep -m1 drContext "$CFG" | awk '{print $2}')"

# Floor: the same scale-up with kubectl, timed in this run.
floor_start=$(date +%s.%N)
kubectl --context "$DR" -n hive-api scale deploy hive-api --replicas=3 >/dev/null
kubectl --context "$DR" -n hive-agents scale deploy agent-worker --replicas=2 >/dev/null
kubectl --context "$DR" -n hive-api rollout status deploy/hive-api --timeout=60s >/dev/null
kubectl --context "$DR" -n hive-agents rollout status deploy/agent-worker --timeout=60s >/dev/null
floor_end=$(date +%s.%N)
kubectl --context "$DR" -n hive-api scale deploy hive-api --replicas=0 >/dev/null
kubectl --context "$DR" -n hive-agents scale deploy agent-worker --replicas=0 >/dev/null

node - "$WORK/report.json" "$WORK/time.txt" "$start" "$end" "$floor_start" "$floor_end" <<'JS'
const fs = require('node:fs');
const [, , reportFile, timeFile, s, e, fs0, fs1] = process.argv;
const r = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
const t = fs.readFileSync(timeFile, 'utf8');
const num = (re) => Number((re.exec(t) || [])[1] || 0);
const cpuProc = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
const rss = num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024;
const wall = Number(e) - Number(s);
const floor = Number(fs1) - Number(fs0);
const f = (x) => `${x.toFixed(2)} s`;
console.log(`hivectl drill --sandbox --scenario ${r.scenario}: ${r.status} (exit ${r.exitCode})`);
console.log(`  whole command wall ${f(wall)} (sandbox up + setup + drill); hivectl process CPU ${f(cpuProc)}, peak RSS ${rss.toFixed(0)} MiB`);
console.log(`  drill wall ${f(r.durationMs / 1000)}; hivectl CPU during the drill ${f(r.cpuMs / 1000)} = ${((100 * r.cpuMs) / r.durationMs).toFixed(1)}% own work, the rest waiting on servers (target <= 5%)`);
// Each step's own CPU (cpuMs in its journal's apply-done/verify-done record): where the phase's CPU went.
const stepCpu = (journal) => {
  const per = new Map();
  try {
    for (const l of fs.readFileSync(journal, 'utf8').split('\n')) {
      if (!l) continue;
      const x = JSON.parse(l);
      if (x.step && typeof x.cpuMs === 'number') per.set(x.step, x.cpuMs);
    }
  } catch {}
  return [...per].map(([k, v]) => `${k} ${v}`).join(', ');
};
for (const p of r.phases) {
  console.log(`    ${p.phase.padEnd(10)} wall ${f(p.durationMs / 1000)}${p.cpuMs === undefined ? '' : `, hivectl CPU ${f(p.cpuMs / 1000)}`}`);
  const steps = p.journal ? stepCpu(p.journal) : '';
  if (steps) console.log(`               steps (CPU ms): ${steps}`);
}
if (r.failover) {
  console.log(`  failover RTO ${f(r.failover.wallMs / 1000)} vs target 30 s (${r.failover.wallMs <= 30000 ? 'met' : 'MISSED'}); steps: ${r.failover.steps.map((x) => `${x.id} ${(x.ms / 1000).toFixed(2)}`).join(', ')}`);
  console.log(`  DR Ready noticed ${f(r.failover.readyAfterMs / 1000)} after the scale call (watch); kubectl scale + rollout status floor in this run: ${f(floor)} -> ratio ${(r.failover.readyAfterMs / 1000 / floor).toFixed(2)}x`);
}
JS
