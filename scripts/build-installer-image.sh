#!/usr/bin/env bash
# Builds the package INSTALLER image offline from Debian packages and prints its tag on stdout.
# The runtime image (scripts/build-runtime-image.sh) has no pip and no npm on purpose; installs run in
# a separate container from this image, the only container that ever gets network access.
#
#   scripts/build-installer-image.sh          build (or reuse) the image, print "pyth-on-installer:<hash>"
#   scripts/build-installer-image.sh --tag    only print the tag the current inputs give, build nothing
#
# The tag is a hash of the inputs (this script, which holds the package list, and installer/), so an
# unchanged recipe is never rebuilt. The debootstrap rootfs is cached under $PYTH_ON_CACHE
# (default /var/cache/pyth-on), keyed by suite + package list. The image is also tagged
# pyth-on-installer:current, the agent's default installer image.
#
#   DEBIAN_MIRROR  apt mirror for debootstrap (default http://deb.debian.org/debian)
#   PYTH_ON_CACHE  cache directory (default /var/cache/pyth-on)
set -euo pipefail

SUITE=bookworm
# The same python3 (3.11) and nodejs (18) as the runtime image, so wheels and modules match. npm (about 300
# node-* packages) fails inside debootstrap's own configure pass, so it is added afterwards with apt-get.
PACKAGES=python3,python3-pip,nodejs,ca-certificates
APT_PACKAGES=npm
REPO_NAME=pyth-on-installer
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${PYTH_ON_CACHE:-/var/cache/pyth-on}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALLER_DIR="$ROOT/installer"
SELF="$ROOT/scripts/build-installer-image.sh"

log() { printf 'build-installer-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mode=build
case "${1:-}" in
  "") ;;
  --tag) mode=tag ;;
  *) die "unknown option '$1' (use --tag)" ;;
esac

[ -d "$INSTALLER_DIR" ] || die "installer/ not found at $INSTALLER_DIR"

inputs_hash() {
  {
    printf 'suite=%s\npackages=%s\napt=%s\n' "$SUITE" "$PACKAGES" "$APT_PACKAGES"
    sha256sum "$SELF" | cut -d' ' -f1
    (cd "$INSTALLER_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}
ROOTFS_KEY="$(printf '%s|%s|%s' "$SUITE" "$PACKAGES" "$APT_PACKAGES" | sha256sum | cut -c1-16)"
ROOTFS_TAR="$CACHE/installer-rootfs-$SUITE-$ROOTFS_KEY.tar"
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
  dir="$(mktemp -d "$CACHE/debootstrap-installer.XXXXXX")"
  trap 'rm -rf "$dir"' RETURN
  log "debootstrap $SUITE ($PACKAGES) from $MIRROR; this takes a few minutes"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap-installer.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap-installer.log" >&2; die "debootstrap failed (full log: $CACHE/debootstrap-installer.log)"; }
  log "apt-get install $APT_PACKAGES in the rootfs"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  local rc=0
  chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $APT_PACKAGES \
    >>"$CACHE/debootstrap-installer.log" 2>&1 || rc=$?
  umount "$dir/proc"
  [ "$rc" -eq 0 ] || { tail -n 30 "$CACHE/debootstrap-installer.log" >&2; die "apt-get install $APT_PACKAGES failed (full log: $CACHE/debootstrap-installer.log)"; }
  chroot "$dir" apt-get clean
  : >"$dir/etc/resolv.conf"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
         "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  log "cached rootfs at $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

ensure_rootfs

command -v docker >/dev/null || die "docker CLI is missing (run scripts/ensure-docker.sh)"
docker info >/dev/null 2>&1 || die "docker engine does not answer (run scripts/ensure-docker.sh)"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG exists; nothing to build"
else
  [ "$(id -u)" -eq 0 ] || die "assembling the image needs root (file ownership)"
  work="$(mktemp -d "$CACHE/installer-image.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  tar --numeric-owner -C "$work" -xf "$ROOTFS_TAR"
  mkdir -p "$work/opt/pyth-on-installer"
  cp -a "$INSTALLER_DIR"/. "$work/opt/pyth-on-installer/"
  chown -R 0:0 "$work/opt/pyth-on-installer"
  chmod -R a+rX,go-w "$work/opt/pyth-on-installer"
  # pip refuses to touch an "externally managed" interpreter; we only ever install with --target into
  # a separate directory, which pip allows anyway, but remove the marker so no mode trips over it.
  rm -f "$work"/usr/lib/python3*/EXTERNALLY-MANAGED
  find "$work" -xdev -type f -perm /6000 -exec chmod ug-s {} +
  mkdir -p "$work/out"
  log "importing $TAG"
  tar --numeric-owner -C "$work" -c . | docker import \
      --change 'WORKDIR /tmp' \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/tmp' \
      --change "LABEL pyth-on.installer-inputs=${TAG#*:}" \
      - "$TAG" >/dev/null
fi
docker tag "$TAG" "$REPO_NAME:current"
log "image ready: $TAG (also tagged $REPO_NAME:current)"
echo "$TAG"
