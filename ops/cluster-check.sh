#!/usr/bin/env bash
# `make cluster-check`: the layout of docs/deploy.md on one machine, then the checks in
# ops/cluster_check.py. Needs root (network namespaces), nginx, openssl, redis-server and a
# PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth).
#
#   root namespace  10.77.0.1   PostgreSQL (a forwarder to 127.0.0.1:5432), Redis, SMTP sink
#                   10.77.0.21-24   client addresses (fans behind the proxy)
#   sb-proxy        10.77.0.10  nginx, TLS on 443
#   sb-app-a        10.77.0.11  gunicorn (port 8000) and `flask worker`
#   sb-app-b        10.77.0.12  the same
#
# All on one bridge in a /24 that exists only on this machine; no traffic leaves it. The trap
# removes the namespaces, the bridge, every process started here and the check's database,
# whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

export CLUSTER_BRIDGE=sbbr0
export CLUSTER_SERVICES_ADDR=10.77.0.1
export CLUSTER_CLIENT_ADDRS="10.77.0.21 10.77.0.22 10.77.0.23 10.77.0.24"
export CLUSTER_PROXY="sb-proxy=10.77.0.10"
export CLUSTER_APP_HOSTS="sb-app-a=10.77.0.11 sb-app-b=10.77.0.12"
export CLUSTER_DATABASE=showboard_cluster_check
PREFIX_LEN=24
PYTHON=${PYTHON:-.venv/bin/python}
PSQL=(psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)

if [ "$(id -u)" != 0 ]; then
  echo "cluster-check: needs root (it creates network namespaces)" >&2
  exit 2
fi
for tool in ip nginx openssl redis-server psql pg_dump flock; do
  command -v "$tool" >/dev/null || { echo "cluster-check: $tool is not installed" >&2; exit 2; }
done

# One run at a time: the namespace and database names are fixed so leftovers can be found.
exec 9>/tmp/showboard-cluster-check.lock
flock -n 9 || { echo "cluster-check: another run is in progress" >&2; exit 2; }

CLUSTER_STATE=$(mktemp -d /tmp/showboard-cluster.XXXXXX)
export CLUSTER_STATE
namespaces() { echo "${CLUSTER_PROXY%%=*}"; for h in $CLUSTER_APP_HOSTS; do echo "${h%%=*}"; done; }

remove_everything() {
  # Processes in our namespaces are ours by construction.
  for ns in $(namespaces); do
    if [ -e "/run/netns/$ns" ]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  # Root-namespace processes the driver started carry CLUSTER_STATE in their environment; a
  # recycled pid without it is someone else's and is left alone.
  if [ -f "$CLUSTER_STATE/pids" ]; then
    while read -r pid; do
      [ -r "/proc/$pid/environ" ] || continue
      if tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "CLUSTER_STATE=$CLUSTER_STATE"; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$CLUSTER_STATE/pids"
  fi
  ip link del "$CLUSTER_BRIDGE" 2>/dev/null || true
  for db in "$CLUSTER_DATABASE" "${CLUSTER_DATABASE}_restore"; do
    "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  remove_everything
  rm -rf "$CLUSTER_STATE"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Leftovers of a run that was killed before its trap ran (same fixed names).
remove_everything

ip link add "$CLUSTER_BRIDGE" type bridge
ip addr add "$CLUSTER_SERVICES_ADDR/$PREFIX_LEN" dev "$CLUSTER_BRIDGE"
for address in $CLUSTER_CLIENT_ADDRS; do
  ip addr add "$address/$PREFIX_LEN" dev "$CLUSTER_BRIDGE"
done
ip link set "$CLUSTER_BRIDGE" up
for host in $CLUSTER_PROXY $CLUSTER_APP_HOSTS; do
  ns=${host%%=*}
  address=${host#*=}
  ip netns add "$ns"
  ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  ip link set "v-$ns" master "$CLUSTER_BRIDGE" up
  ip -n "$ns" addr add "$address/$PREFIX_LEN" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

# In the background, so a TERM or Ctrl-C reaches the trap at once (bash runs traps only
# between commands); the driver stops what it started, then the EXIT trap removes the rest.
"$PYTHON" -m ops.cluster_check &
driver=$!
trap 'kill -TERM "$driver" 2>/dev/null; wait "$driver"; exit 130' INT TERM
wait "$driver"
