#!/usr/bin/env bash
# Builds the package INSTALLER image offline from Debian packages and prints its tag on stdout.
# The runtime image (scripts/build-runtime-image.sh) has no pip and no npm on purpose; installs run in
# a separate container from this image, the only container that ever gets network access.
#
#   scripts/build-installer-image.sh          build (or reuse) the image, print "pyth-on-installer:<hash>"
#   scripts/build-installer-image.sh --tag    only print the tag the current inputs give, build nothing
#   scripts/build-installer-image.sh --rootfs only make sure the cached debootstrap rootfs exists
#
# The tag is a hash of the inputs (this script, which holds the package list, scripts/lib/offline-image.sh
# and installer/), so an unchanged recipe is never rebuilt. The debootstrap rootfs is cached under
# $PYTH_ON_CACHE (default /var/cache/pyth-on), keyed by suite + package lists. The image is also tagged
# pyth-on-installer:current, the agent's default installer image.
#
#   DEBIAN_MIRROR  apt mirror for debootstrap (default http://deb.debian.org/debian)
#   PYTH_ON_CACHE  cache directory (default /var/cache/pyth-on)
#   PYTH_ON_INSTALLER_REPO  image repository (default pyth-on-installer; scripts/check-cold-image-build.sh uses another)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

IMAGE_NAME=build-installer-image
SUITE=bookworm
# The same python3 (3.11) and nodejs (18) as the runtime image, so wheels and modules match. npm (about 300
# node-* packages) fails inside debootstrap's own configure pass, so it is added afterwards with apt-get.
PACKAGES=python3,python3-pip,nodejs,ca-certificates
APT_PACKAGES=npm
REPO_NAME="${PYTH_ON_INSTALLER_REPO:-pyth-on-installer}"
INPUT_DIR="$ROOT/installer"
SELF="$ROOT/scripts/build-installer-image.sh"
ROOTFS_KEY_INPUT="$SUITE|$PACKAGES|$APT_PACKAGES"
ROOTFS_TAR_PREFIX=installer-rootfs
HASH_HEADER="$(printf 'suite=%s\npackages=%s\napt=%s\n' "$SUITE" "$PACKAGES" "$APT_PACKAGES")"
INPUTS_LABEL=pyth-on.installer-inputs
IMPORT_CHANGES=('WORKDIR /tmp' 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/tmp')

customize_rootfs() {
  local dir="$1" log_file="$2" rc=0
  log "apt-get install $APT_PACKAGES in the rootfs"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $APT_PACKAGES \
    >>"$log_file" 2>&1 || rc=$?
  umount "$dir/proc"
  [ "$rc" -eq 0 ] || { tail -n 30 "$log_file" >&2; die "apt-get install $APT_PACKAGES failed (full log: $log_file)"; }
  chroot "$dir" apt-get clean
  : >"$dir/etc/resolv.conf"
}

assemble_image() {
  local work="$1"
  install_tree "$INPUT_DIR" "$work/opt/pyth-on-installer"
  # pip refuses to touch an "externally managed" interpreter; we only ever install with --target into
  # a separate directory, which pip allows anyway, but remove the marker so no mode trips over it.
  rm -f "$work"/usr/lib/python3*/EXTERNALLY-MANAGED
  mkdir -p "$work/out"
}

source "$ROOT/scripts/lib/offline-image.sh"
offline_image_main "$@"
