#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, installing and starting it when needed.
# Idempotent: does nothing when `docker info` already answers.
#   DOCKERD_LOG      where a dockerd started here writes its log (default /tmp/dockerd.log)
#   DOCKER_WAIT_SECS how long to wait for the engine to answer (default 60)
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }

DOCKERD_LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
DOCKER_WAIT_SECS="${DOCKER_WAIT_SECS:-60}"

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to install: $*"; exit 1
  fi
  log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# The runtime image build downloads the pinned Node.js build and checks its hash.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# ... and compiles the run sandbox's init (runtime/init.c) against the same Debian release's C library.
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/linux/seccomp.h ] && [ -f /usr/include/stdio.h ] || missing+=(libc6-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

if docker info >/dev/null 2>&1; then
  log "docker engine answers"
  exit 0
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  # No bridge and no iptables: sandboxes run with --network none, and this host may not allow netfilter.
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd --bridge=none --iptables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
else
  log "dockerd is running but not answering yet; waiting"
fi

deadline=$(( $(date +%s) + DOCKER_WAIT_SECS ))
until docker info >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "docker engine did not answer within ${DOCKER_WAIT_SECS}s; see $DOCKERD_LOG"
    tail -n 20 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  sleep 0.5
done
log "docker engine answers"
