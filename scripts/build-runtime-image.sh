#!/usr/bin/env bash
# Builds the sandbox runtime image offline from Debian packages and prints its tag on stdout.
#
#   scripts/build-runtime-image.sh            build (or reuse) the image, print "pyth-on-runtime:<hash>"
#   scripts/build-runtime-image.sh --tag      only print the tag the current inputs give, build nothing
#   scripts/build-runtime-image.sh --rootfs   only make sure the cached debootstrap rootfs exists
#
# The tag is a hash of the inputs (this script, which holds the package list, and every file under
# runtime/), so an unchanged recipe is never rebuilt. The debootstrap rootfs is cached as a tarball under
# $PYTH_ON_CACHE (default /var/cache/pyth-on), keyed by suite + package list only, so a runner change
# costs an import (seconds) rather than a debootstrap (about a minute).
# The image is also tagged pyth-on-runtime:current, which is the agent's default image.
#
#   DEBIAN_MIRROR  apt mirror for debootstrap (default http://deb.debian.org/debian)
#   PYTH_ON_CACHE  cache directory (default /var/cache/pyth-on)
set -euo pipefail

SUITE=bookworm
PACKAGES=python3,python3-cffi-backend,python3-nacl,python3-argon2,nodejs
REPO_NAME=pyth-on-runtime
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${PYTH_ON_CACHE:-/var/cache/pyth-on}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNTIME_DIR="$ROOT/runtime"
SELF="$ROOT/scripts/build-runtime-image.sh"

log() { printf 'build-runtime-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mode=build
case "${1:-}" in
  "") ;;
  --tag) mode=tag ;;
  --rootfs) mode=rootfs ;;
  *) die "unknown option '$1' (use --tag or --rootfs)" ;;
esac

[ -d "$RUNTIME_DIR" ] || die "runtime/ not found at $RUNTIME_DIR"

# Hash of every input, in a stable order; file names are part of it.
inputs_hash() {
  {
    printf 'suite=%s\npackages=%s\n' "$SUITE" "$PACKAGES"
    sha256sum "$SELF" | cut -d' ' -f1
    (cd "$RUNTIME_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}
ROOTFS_KEY="$(printf '%s|%s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)"
ROOTFS_TAR="$CACHE/rootfs-$SUITE-$ROOTFS_KEY.tar"
TAG="$REPO_NAME:$(inputs_hash)"

if [ "$mode" = tag ]; then
  echo "$TAG"
  exit 0
fi

ensure_rootfs() {
  if [ -s "$ROOTFS_TAR" ]; then
    log "using cached rootfs $ROOTFS_TAR"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/ensure-docker.sh installs it)"
  mkdir -p "$CACHE"
  local dir
  dir="$(mktemp -d "$CACHE/debootstrap.XXXXXX")"
  trap 'rm -rf "$dir"' RETURN
  log "debootstrap $SUITE ($PACKAGES) from $MIRROR; this takes about a minute"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (full log: $CACHE/debootstrap.log)"; }
  # Package caches and docs are dead weight in a sandbox.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
         "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  log "cached rootfs at $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

ensure_rootfs
[ "$mode" = rootfs ] && exit 0

command -v docker >/dev/null || die "docker CLI is missing (run scripts/ensure-docker.sh)"
docker info >/dev/null 2>&1 || die "docker engine does not answer (run scripts/ensure-docker.sh)"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG exists; nothing to build"
else
  [ "$(id -u)" -eq 0 ] || die "assembling the image needs root (file ownership)"
  work="$(mktemp -d "$CACHE/image.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  tar --numeric-owner -C "$work" -xf "$ROOTFS_TAR"
  # Our runner lives outside any user-writable path; the sandbox root is mounted read-only.
  mkdir -p "$work/opt/pyth-on"
  cp -a "$RUNTIME_DIR"/. "$work/opt/pyth-on/"
  chown -R 0:0 "$work/opt/pyth-on"
  chmod -R a+rX,go-w "$work/opt/pyth-on"
  # Precompile the runner: the read-only root stops Python from writing __pycache__ at run time.
  chroot "$work" /usr/bin/python3 -m compileall -q /opt/pyth-on >/dev/null
  # No setuid/setgid binaries: no-new-privileges already neuters them; this is a second lock.
  find "$work" -xdev -type f -perm /6000 -exec chmod ug-s {} +
  # Empty resolver config: sandboxes have no network and must not learn the host's DNS servers.
  : >"$work/etc/resolv.conf"
  mkdir -p "$work/work"
  # Mount point of the agent's package store root (bind-mounted read-only into every sandbox).
  mkdir -p "$work/packages"
  log "importing $TAG"
  tar --numeric-owner -C "$work" -c . | docker import \
      --change 'WORKDIR /work' \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8' \
      --change "LABEL pyth-on.runtime-inputs=${TAG#*:}" \
      - "$TAG" >/dev/null
fi
docker tag "$TAG" "$REPO_NAME:current"
log "image ready: $TAG (also tagged $REPO_NAME:current)"
echo "$TAG"
