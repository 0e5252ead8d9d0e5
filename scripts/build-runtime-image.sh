#!/usr/bin/env bash
# Builds the sandbox runtime image offline from Debian packages and prints its tag on stdout.
#
#   scripts/build-runtime-image.sh            build (or reuse) the image, print "pyth-on-runtime:<hash>"
#   scripts/build-runtime-image.sh --tag      only print the tag the current inputs give, build nothing
#   scripts/build-runtime-image.sh --rootfs   only make sure the cached debootstrap rootfs exists
#
# The tag is a hash of the inputs (this script, which holds the package list, scripts/lib/offline-image.sh
# and every file under runtime/), so an unchanged recipe is never rebuilt. The debootstrap rootfs is cached
# as a tarball under $PYTH_ON_CACHE (default /var/cache/pyth-on), keyed by suite + package list only, so a
# runner change costs an import (seconds) rather than a debootstrap (about a minute).
# The image is also tagged pyth-on-runtime:current, which is the agent's default image.
#
#   DEBIAN_MIRROR  apt mirror for debootstrap (default http://deb.debian.org/debian)
#   PYTH_ON_CACHE  cache directory (default /var/cache/pyth-on)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

IMAGE_NAME=build-runtime-image
SUITE=bookworm
PACKAGES=python3,python3-cffi-backend,python3-nacl,python3-argon2,nodejs
REPO_NAME=pyth-on-runtime
INPUT_DIR="$ROOT/runtime"
SELF="$ROOT/scripts/build-runtime-image.sh"
ROOTFS_KEY_INPUT="$SUITE|$PACKAGES"
ROOTFS_TAR_PREFIX=rootfs
HASH_HEADER="$(printf 'suite=%s\npackages=%s\n' "$SUITE" "$PACKAGES")"
INPUTS_LABEL=pyth-on.runtime-inputs
IMPORT_CHANGES=('WORKDIR /work' 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8')

customize_rootfs() { :; }

assemble_image() {
  local work="$1"
  # Our runner lives outside any user-writable path; the sandbox root is mounted read-only.
  install_tree "$INPUT_DIR" "$work/opt/pyth-on"
  # Precompile the runner: the read-only root stops Python from writing __pycache__ at run time.
  chroot "$work" /usr/bin/python3 -m compileall -q /opt/pyth-on >/dev/null
  # Empty resolver config: sandboxes have no network and must not learn the host's DNS servers.
  : >"$work/etc/resolv.conf"
  mkdir -p "$work/work"
  # Mount point of the agent's package store root (bind-mounted read-only into every sandbox).
  mkdir -p "$work/packages"
}

source "$ROOT/scripts/lib/offline-image.sh"
offline_image_main "$@"
