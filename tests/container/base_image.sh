#!/usr/bin/env bash
# The images the container test builds on, made from Debian's packages (no registry image can be
# pulled here). Each is cached: it is skipped when `docker image inspect` finds it.
#   fixwurx-test/debian:bookworm   debootstrap minbase + python3, venv, bubblewrap, git, CA, tini
#   fixwurx-test/python:bookworm   the Dockerfile's PYTHON_IMAGE: a venv first on PATH, and this
#                                  machine's CA bundle and pip settings (local image, never pushed)
#   fixwurx-test/services:bookworm PostgreSQL and Redis from Debian, for the test's services
set -euo pipefail
DOCKER=/usr/bin/docker
BASE=fixwurx-test/debian:bookworm
PYTHON=fixwurx-test/python:bookworm
SERVICES=fixwurx-test/services:bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if ! have "$BASE"; then
  root=$(mktemp -d /var/tmp/fixwurx-debootstrap.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "base_image: debootstrap bookworm into $root (about 3 minutes)" >&2
  debootstrap --variant=minbase \
    --include=python3,python3-venv,bubblewrap,git,ca-certificates,tini \
    bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
  rm -f "$root.log"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$DOCKER" import - "$BASE" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

if ! have "$PYTHON"; then
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  # This machine reaches its package indexes through a TLS-inspecting proxy: the build needs its
  # CA bundle. The pip settings are copied without the file:// indexes and find-links folders
  # under /opt, which are not in the image (pip falls back to the index it can reach).
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  {
    echo "[global]"
    echo "cert = /etc/ssl/certs/ca-certificates.crt"
    echo "disable-pip-version-check = true"
    echo "timeout = ${PIP_DEFAULT_TIMEOUT:-180}"
    idx=${PIP_INDEX_URL:-$(pip config get global.index-url 2>/dev/null || true)}
    case "$idx" in ""|file:*) ;; *) echo "index-url = $idx" ;; esac
  } >"$ctx/pip.conf"
  if [ -f /etc/xdg/pip/constraints.txt ]; then
    cp /etc/xdg/pip/constraints.txt "$ctx/constraints.txt"
    echo "constraint = /etc/pip-constraints.txt" >>"$ctx/pip.conf"
  else
    : >"$ctx/constraints.txt"
  fi
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY pip.conf /etc/pip.conf
COPY constraints.txt /etc/pip-constraints.txt
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN pip install -q --upgrade pip
DOCKERFILE
  "$DOCKER" build -q --network host -t "$PYTHON" "$ctx" >/dev/null
  rm -rf "$ctx"
  trap - EXIT
fi

if ! have "$SERVICES"; then
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       postgresql-15 redis-server >/dev/null \
    && rm -rf /var/lib/apt/lists/*
DOCKERFILE
  "$DOCKER" build -q --network host -t "$SERVICES" "$ctx" >/dev/null
  rm -rf "$ctx"
  trap - EXIT
fi
echo "base_image: $BASE $PYTHON $SERVICES ready" >&2
