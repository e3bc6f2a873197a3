#!/usr/bin/env bash
# Make a Docker engine answer on this machine, or fail saying why (CI must not skip the
# container test). Installs docker.io and debootstrap from Debian when missing and starts
# dockerd with no bridge network: every container of the test uses --network host or none,
# so the engine never touches the host's firewall or interfaces.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
DOCKER=/usr/bin/docker
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "docker_up: installing ${missing[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! "$DOCKER" info >/dev/null 2>&1; then
  log=/var/log/fixwurx-dockerd.log
  echo "docker_up: starting dockerd (log: $log)" >&2
  setsid dockerd --bridge=none --iptables=false --ip6tables=false >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 1
  done
fi
if ! "$DOCKER" info >/dev/null 2>&1; then
  echo "docker_up: dockerd does not answer; the last lines of its log:" >&2
  tail -n 20 /var/log/fixwurx-dockerd.log >&2 || true
  exit 1
fi
