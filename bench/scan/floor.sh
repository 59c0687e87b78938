#!/usr/bin/env bash
# The listing floor: one `kubectl get KIND -A -o json` per kind that `hivectl scan` reads
# (src/adapters/k8s-list.ts SCAN_KINDS). MODE=parallel runs them concurrently, as hivectl does.
set -euo pipefail
KINDS="namespaces pods services serviceaccounts deployments.apps statefulsets.apps daemonsets.apps replicasets.apps jobs.batch cronjobs.batch networkpolicies.networking.k8s.io poddisruptionbudgets.policy roles.rbac.authorization.k8s.io rolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io clusterrolebindings.rbac.authorization.k8s.io"
if [ "${MODE:-sequential}" = parallel ]; then
  for k in $KINDS; do kubectl get "$k" -A -o json >/dev/null & done
  wait
else
  for k in $KINDS; do kubectl get "$k" -A -o json >/dev/null; done
fi
