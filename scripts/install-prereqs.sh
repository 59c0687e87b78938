#!/usr/bin/env bash
# System packages the tests and the sandbox need, from Debian's archive. A no-op when present.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v pg_dump >/dev/null || need+=(postgresql-client-15)
command -v hyperfine >/dev/null || need+=(hyperfine)
# The completion tests parse the generated zsh and fish scripts with the real shells.
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
{ command -v runuser && command -v flock; } >/dev/null || need+=(util-linux)
command -v redis-cli >/dev/null || need+=(redis-tools)
# The sandbox builds Kubernetes 1.37 from its Go modules, which needs Go >= 1.26. Debian's golang-go
# is far older, so it is no help: say what is needed instead of installing it.
gover="$(go version 2>/dev/null | sed -n 's/.*go\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')"
if [ -z "$gover" ] || [ "$(echo "$gover" | awk '{print $1*1000+$2}')" -lt 1026 ]; then
  echo "hivectl: the sandbox needs Go >= 1.26 on PATH (found: ${gover:-none}); install it, then rerun" >&2
  exit 2
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "hivectl: missing system packages: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 2
  fi
  echo "== installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Chaos probes of type prometheus are tested against a real Prometheus that the sandbox runs itself.
# --no-install-recommends: its recommends (node-exporter ...) are not used. The package may try to start
# a system service (policy-rc.d refuses it in a container); the sandbox starts its own process, its own
# port and config, and never uses that service.
if ! command -v prometheus >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "hivectl: missing system package: prometheus; install it with: sudo apt-get install -y --no-install-recommends prometheus" >&2
    exit 2
  fi
  echo "== installing prometheus" >&2
  [ ${#need[@]} -gt 0 ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
